"""Edge data is reported as such: never a crash, never a false alarm."""

from __future__ import annotations

import numpy as np

import loopml.monitor as monitor

from .conftest import HOUR, T0, Project, make_frame


def test_too_few_rows_is_insufficient_data_not_an_alarm(project: Project) -> None:
    monitor.create("m", "churn", window="1h")
    project.log(make_frame(1, 10, shift=5.0), T0)
    (window,) = monitor.run("m")
    assert window.status == "insufficient_data"
    assert any(n.startswith("insufficient data: 10 rows") for n in window.notes)
    assert window.alerts == []


def test_all_missing_and_constant_columns_are_named_not_alarmed(project: Project) -> None:
    monitor.create("m", "churn", window="1h", multivariate=False, estimate=False)
    frame = make_frame(2, 500)
    frame["age"] = np.nan
    project.log(frame, T0, step_ms=1_000)
    constant = make_frame(3, 500)
    constant["plan"] = "basic"
    project.log(constant, T0 + HOUR, step_ms=1_000)
    missing, flat = monitor.run("m")
    assert "column age is entirely missing in this window" in missing.notes
    assert missing.result["drift"]["columns"]["age"]["drifted"] is False
    assert missing.signals["missing_share"] == 1.0
    assert "missing_share_increase > 0.2" in {a["rule"] for a in missing.alerts}
    assert flat.status == "ok" and "age" not in flat.drifted_columns


def test_a_new_category_and_a_schema_change_are_reported(project: Project) -> None:
    monitor.create("m", "churn", window="1h", multivariate=False, estimate=False)
    frame = make_frame(4, 600, new_plan=0.02)
    frame["coupon"] = "spring"  # a column the model never had
    project.log(frame, T0, step_ms=1_000)
    (window,) = monitor.run("m")
    assert window.result["drift"]["columns"]["plan"]["new_categories"] == ["enterprise"]
    assert window.signals["new_categories"] == 1
    assert "schema changed: column coupon added" in window.notes
    assert {"new_categories > 0", "schema_changes > 0"} <= {a["rule"] for a in window.alerts}


def test_a_missing_column_is_a_schema_change(project: Project) -> None:
    monitor.create("m", "churn", window="1h", multivariate=False, estimate=False)
    project.log(make_frame(5, 300).drop(columns=["income"]), T0, step_ms=1_000)
    (window,) = monitor.run("m")
    assert "schema changed: column income missing" in window.notes
    assert "income" not in window.result["drift"]["columns"]


def test_an_all_missing_column_is_no_multivariate_or_dataset_drift(project: Project) -> None:
    monitor.create("m", "churn", window="1h", estimate=False)
    frame = make_frame(9, 800)
    frame["plan"] = None
    project.log(frame, T0, step_ms=1_000)
    (window,) = monitor.run("m")
    assert window.signals.get("multivariate_drift", 0) == 0
    assert window.signals["dataset_drift"] == 0 and window.signals["drift_share"] <= 1 / 3
