"""The store conformance suite on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.store import Store, open_store
from loopml.testing.store import StoreConformance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield opened
    opened.close()


class TestSqliteStore(StoreConformance):
    pass
