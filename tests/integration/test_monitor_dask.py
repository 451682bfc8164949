"""A monitor's windows computed on a local Dask cluster agree with the in-process run."""

from __future__ import annotations

from pathlib import Path

import pytest

import loopml.monitor as monitor
from loopml.testing.monitoring import HOUR, T0, make_frame, make_project

pytestmark = pytest.mark.slow


def test_dask_and_local_runs_store_the_same_findings(tmp_home: Path) -> None:
    project = make_project()
    monitor.create("local", "churn", window="1h")
    monitor.create("dask", "churn", window="1h")
    for hour, shift in enumerate((0.0, 0.0, 1.5)):
        frame = make_frame(hour, 800, shift=shift)
        ids = project.log(frame, T0 + hour * HOUR, step_ms=1_000)
        project.label(ids, frame.churned)
    here = monitor.run("local")
    there = monitor.run("dask", executor="dask-local")
    assert [w.key for w in there] == [w.key for w in here]
    for a, b in zip(here, there, strict=True):
        assert a.signals == b.signals
        assert a.drifted_columns == b.drifted_columns
    assert "income" in there[-1].drifted_columns
