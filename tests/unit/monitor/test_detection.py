"""Known shifts are found; two samples of one distribution raise no alarm (50 seeds)."""

from __future__ import annotations

import loopml.monitor as monitor

from .conftest import HOUR, T0, Project, make_frame


def test_each_known_shift_is_detected(project: Project) -> None:
    monitor.create("m", "churn", window="1h")
    cases = {
        "mean": make_frame(11, 1_000, shift=1.0),
        "variance": make_frame(12, 1_000, widen=2.0),
        "category": make_frame(13, 1_000, new_plan=0.3),
    }
    for hour, frame in enumerate(cases.values()):
        project.log(frame, T0 + hour * HOUR, step_ms=1_000)
    concept = make_frame(14, 1_000)
    ids = project.log(concept, T0 + 3 * HOUR, step_ms=1_000)
    flipped = concept.churned.where(concept.income > 50, 1 - concept.churned)  # P(y|x) changed
    project.label(ids, flipped)
    mean, variance, category, changed = monitor.run("m")
    assert "income" in mean.drifted_columns
    assert "income" in variance.drifted_columns or variance.signals["multivariate_drift"] == 1
    assert "plan" in category.drifted_columns and category.signals["new_categories"] == 1
    assert changed.signals["dataset_drift"] == 0 and changed.signals["f1_drop"] > 0.05
    for window in (mean, variance, category, changed):
        assert window.alerts, window.key


def test_no_false_alarm_on_fifty_windows_of_the_training_distribution(project: Project) -> None:
    monitor.create("calm", "churn", window="1h")
    for seed in range(50):
        frame = make_frame(1_000 + seed, 1_000)
        ids = project.log(frame, T0 + seed * HOUR, step_ms=1_000)
        project.label(ids, frame.churned)
    windows = monitor.run("calm")
    assert len(windows) == 50
    alarmed = [w.key for w in windows if w.alerts]
    rate = len(alarmed) / len(windows)
    # Each window carries ~9 rules; a per-window false alarm rate of 10% is the ceiling.
    assert rate <= 0.1, f"false alarm rate {rate:.2f}: {[w.alerts for w in windows if w.alerts]}"
    drifted_features = sum(len(w.drifted_columns) for w in windows)
    assert drifted_features / (50 * 3) <= 0.1
