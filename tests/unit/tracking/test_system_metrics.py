"""Optional system metrics land in the run under system/ keys."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import loopml
from loopml.tracking.system_metrics import sample_system


def test_sample_reports_cpu_and_memory() -> None:
    sample = sample_system()
    assert 0 <= sample["system/cpu_utilization_percentage"] <= 100 * 1024
    assert sample["system/process_rss_megabytes"] > 0


def test_run_with_system_metrics_logs_samples(
    tmp_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPML_SYSTEM_METRICS_INTERVAL", "0.05")
    with loopml.start_run(log_system_metrics=True) as run:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            loopml.flush()
            if loopml.get_run(run.run_id).data.metrics:
                break
            time.sleep(0.05)
    metrics = loopml.get_run(run.run_id).data.metrics
    assert "system/memory_used_megabytes" in metrics
