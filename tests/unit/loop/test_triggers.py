"""Trigger checks: window signals with confirmation and latches, labels per model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loopml._util.ids import new_id_at
from loopml.entities import FeedbackLabel
from loopml.loop.project import LoopProject
from loopml.loop.triggers import check_labels, check_windows
from loopml.monitor.window_result import WindowResult
from loopml.testing.monitoring import T0, make_frame, make_project
from loopml.workspace import default_workspace

BASE: dict[str, Any] = {
    "model": {"name": "churn"},
    "data": {"dataset": "churn"},
    "training": {"pipeline": "train.py:training"},
    "evaluation": {"target": "churned"},
}


def project(**triggers: Any) -> LoopProject:
    return LoopProject.from_dict({**BASE, "triggers": triggers})


def window(index: int, **signals: float) -> WindowResult:
    return WindowResult("m", f"r:{index:012d}", index, index, 100, True, {"signals": signals})


def test_confirmation_needs_the_newest_windows_to_agree() -> None:
    spec = project(data_drift={"drift_share": 0.5}, confirm_windows=2)
    calm_then_drift = [window(0, drift_share=0.0), window(1, drift_share=0.8)]
    (check,), _ = check_windows(spec, calm_then_drift, {})
    assert not check.fired and check.value == 0.8
    (check,), _ = check_windows(spec, [*calm_then_drift, window(2, drift_share=0.6)], {})
    assert check.fired and [w["window"] for w in check.evidence["monitor_windows"]] == [
        "r:000000000001",
        "r:000000000002",
    ]


def test_a_latched_trigger_waits_for_its_signal_to_fall() -> None:
    spec = project(accuracy_drop={"metric": "f1", "drop": 0.05})
    (check,), latches = check_windows(spec, [window(0, f1_drop=0.2)], {"accuracy_drop": True})
    assert not check.fired and "latched" in check.note and latches["accuracy_drop"]
    (check,), latches = check_windows(spec, [window(1, f1_drop=0.01)], latches)
    assert not check.fired and latches["accuracy_drop"] is False  # re-armed below 0.8 x 0.05
    (check,), _ = check_windows(spec, [window(2, f1_drop=0.2)], latches)
    assert check.fired


def test_new_labels_count_only_this_models_predictions(tmp_home: Path) -> None:
    logged = make_project()
    ids = logged.log(make_frame(1, 30), T0)
    logged.label(ids, [0] * 30)
    strangers = [FeedbackLabel(new_id_at(T0 + i), 1, 2) for i in range(50)]  # another model's
    default_workspace().store.predictions.add_feedback(strangers)
    spec = project(new_labels={"rows": 40})
    check = check_labels(spec, 0, default_workspace())
    assert check is not None and check.value == 30 and not check.fired
