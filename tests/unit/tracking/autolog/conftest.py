"""Autolog patched once per test module (patching every sklearn estimator takes about a second)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import loopml
from loopml.entities import Run


@pytest.fixture(scope="module")
def autologged() -> Iterator[list[str]]:
    """Autolog on for the module, off afterwards; tests that change settings put them back."""
    enabled = loopml.autolog()
    yield enabled
    loopml.autolog(disable=True)


def _only_run() -> Run:
    runs = loopml.LoopMLClient().search_runs()
    assert len(runs) == 1, [r.info.run_name for r in runs]
    return runs[0]


@pytest.fixture
def only_run() -> Callable[[], Run]:
    """Read back the single run in the store: an autologged fit must create exactly one."""
    return _only_run
