"""The monitoring tests' project: a churn classifier on a versioned table, with its log."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.testing.monitoring import FEATURES, HOUR, T0, Project, make_frame, make_project

__all__ = ["FEATURES", "HOUR", "T0", "Project", "make_frame"]


@pytest.fixture
def project(tmp_home: Path) -> Project:
    """``churn`` v1 trained on data ``churn@1``, as champion."""
    return make_project()
