"""A loop project in a fresh home, with its base data versioned."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.testing.loop import add_base_data, write_project


@pytest.fixture
def loop_project(tmp_home: Path) -> Path:
    folder = write_project(tmp_home.parent)
    add_base_data()
    return folder
