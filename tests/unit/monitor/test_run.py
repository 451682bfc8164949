"""A monitor run over replayed traffic: windows, drift, labels, estimates, exactly once."""

from __future__ import annotations

import pytest

import loopml.monitor as monitor
from loopml.errors import InvalidInput, NotFound

from .conftest import HOUR, T0, Project, make_frame


def test_windows_find_the_shift_and_only_once(project: Project) -> None:
    monitor.create("churn-drift", "churn", window="1h")
    project.log(make_frame(1, 1_000), T0, step_ms=1_000)  # hour 0: like training
    project.log(make_frame(2, 1_000, shift=1.5), T0 + HOUR, step_ms=1_000)  # hour 1: shifted
    found = monitor.run("churn-drift")
    assert [w.key for w in found] == [f"t:{T0}", f"t:{T0 + HOUR}"]
    calm, shifted = found
    assert calm.status == "ok" and calm.rows == 1_000
    assert "income" not in calm.drifted_columns and not calm.alerts
    assert "income" in shifted.drifted_columns
    assert shifted.signals["prediction_drift"] == 1
    assert {a["rule"] for a in shifted.alerts} >= {"prediction_drift == 1"}
    assert monitor.run("churn-drift") == []  # nothing new: nothing computed again
    assert len(monitor.results("churn-drift")) == 2


def test_unknown_monitor_and_bad_window_are_refused(project: Project) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        monitor.run("nobody")
    with pytest.raises(InvalidInput, match="not a duration or a row count"):
        monitor.create("m", "churn", window="soon")


def test_late_labels_give_realised_accuracy_next_to_the_estimate(project: Project) -> None:
    monitor.create("churn-acc", "churn", window="1h")
    frame = make_frame(3, 2_000)
    ids = project.log(frame, T0, step_ms=1_000)
    (first,) = monitor.run("churn-acc")
    estimate = first.estimated["f1"]
    assert estimate["low"] <= estimate["value"] <= estimate["high"]
    assert "realised" not in first.result  # no labels yet
    project.label(ids, frame.churned)  # the labels arrive late
    (again,) = monitor.run("churn-acc")
    assert again.key == first.key and again.signals["labels"] == 2_000
    realised = again.result["realised"]["metrics"]["f1"]
    assert realised["low"] <= realised["value"] <= realised["high"]
    assert "drop" in realised and abs(realised["drop"]) < 0.1
    assert again.estimated["f1"]["realised"] == pytest.approx(realised["value"])
    assert estimate["low"] - 0.02 <= realised["value"] <= estimate["high"] + 0.02


def test_a_changed_concept_shows_as_an_accuracy_drop_alert(project: Project) -> None:
    monitor.create("churn-concept", "churn", window="1h", multivariate=False)
    frame = make_frame(4, 2_000)
    ids = project.log(frame, T0, step_ms=1_000)
    project.label(ids, 1 - frame.churned)  # the relation between inputs and label flipped
    (window,) = monitor.run("churn-concept")
    assert window.signals["dataset_drift"] == 0  # the inputs did not move
    assert window.signals["f1_drop"] > 0.3
    assert "f1 drop > 0.05" in {a["rule"] for a in window.alerts}
    from loopml.workspace import default_workspace

    events = default_workspace().store.events.list(kind="monitor.alert")
    assert any(
        e.data["rule"] == "f1 drop > 0.05" and e.data["window"] == window.key for e in events
    )
    monitor.run("churn-concept")
    assert len(default_workspace().store.events.list(kind="monitor.alert")) == len(events)


def test_row_windows_fill_across_segments_and_stay_open_until_full(project: Project) -> None:
    monitor.create("churn-rows", "churn", window="300rows")
    project.log(make_frame(5, 500), T0)
    found = monitor.run("churn-rows")
    assert [(w.rows, w.complete) for w in found] == [(300, True), (200, False)]
    project.log(make_frame(6, 250), T0 + HOUR)
    found = monitor.run("churn-rows")
    assert [(w.key, w.rows, w.complete) for w in found] == [
        (found[0].key, 300, True),
        (found[1].key, 150, False),
    ]
    assert [w.rows for w in monitor.results("churn-rows")] == [300, 300, 150]
    project.log(make_frame(7, 150), T0 + 2 * HOUR)  # fills the open window exactly
    assert [(w.rows, w.complete) for w in monitor.run("churn-rows")] == [(300, True)]
    project.log(make_frame(8, 10), T0 + 3 * HOUR)  # a full window last: the next one opens
    (newest,) = monitor.run("churn-rows")
    assert newest.key == "r:000000000003" and (newest.rows, newest.complete) == (10, False)
    assert [w.rows for w in monitor.results("churn-rows")] == [300, 300, 300, 10]


def test_learned_thresholds_are_stated_and_used(project: Project) -> None:
    monitor.create("learned", "churn", window="1000rows", thresholds="learned", estimate=False)
    project.log(make_frame(30, 1_000), T0)
    project.log(make_frame(31, 1_000, shift=1.0), T0 + HOUR)
    calm, shifted = monitor.run("learned")
    assert calm.result["threshold_source"].startswith("learned")
    income = calm.result["drift"]["columns"]["income"]
    assert income["test"] == "wasserstein" and 0 < income["threshold"] < 0.2
    assert income["threshold"] != 0.1  # learned, not the fixed default
    assert not calm.drifted_columns and "income" in shifted.drifted_columns


def test_late_labels_after_a_promotion_keep_the_window_as_it_was_judged(
    project: Project,
) -> None:
    import loopml
    from loopml.registry import set_alias

    monitor.create("m", "churn", window="1h")
    frame = make_frame(40, 1_000, shift=1.0)
    ids = project.log(frame, T0, step_ms=1_000)
    (judged,) = monitor.run("m")
    assert "income" in judged.drifted_columns
    shifted = make_frame(41, 5_000, shift=1.0)  # a version trained on the shifted data
    version = loopml.data.add("churn", shifted)
    info = loopml.registry.log_model(
        project.model,
        input_example=shifted.head(),
        registered_model_name="churn",
        target="churned",
        data_version=version.ref,
    )
    set_alias("churn", "champion", info.version or 2)
    project.label(ids, frame.churned)
    (again,) = monitor.run("m")
    assert again.result["reference"]["model_version"] == 1
    assert again.drifted_columns == judged.drifted_columns
    assert again.estimated["f1"]["value"] == judged.estimated["f1"]["value"]
    assert again.estimated["f1"]["realised"] == again.metrics["f1"]
    assert again.signals["labels"] == 1_000


def test_labels_near_a_row_window_edge_are_not_lost(project: Project) -> None:
    from loopml._util.ids import new_id_at
    from loopml.entities import FeedbackLabel
    from loopml.predictions import LoggedPrediction, PredictionLog
    from loopml.workspace import default_workspace

    monitor.create("rows", "churn", window="200rows", multivariate=False)
    frame = make_frame(42, 600)
    # One request: the server stamps every id first, then the rows' time after predicting.
    ids = [new_id_at(T0 + i // 20) for i in range(600)]
    records = frame.drop(columns=["churned"]).to_dict("records")
    log = PredictionLog("churn", classes=project.classes)
    log.log(
        [
            LoggedPrediction(i, T0 + 40, "churn", 1, "champion", 1.0, dict(r), 0, [0.5, 0.5])
            for i, r in zip(ids, records, strict=True)
        ]
    )
    log.flush()
    monitor.run("rows")
    labels = [FeedbackLabel(i, int(v), 1) for i, v in zip(ids, frame.churned, strict=True)]
    default_workspace().store.predictions.add_feedback(labels[200:400])
    found = monitor.run("rows")
    assert [w.signals.get("labels") for w in found if w.signals.get("labels")] == [200]
