"""``loopml.monitor.estimate``: accuracy before labels, next to the truth when it is known."""

from __future__ import annotations

import pytest

import loopml.monitor as monitor
from loopml.errors import InvalidInput

from .conftest import Project, make_frame


def test_estimate_brackets_the_realised_f1(project: Project) -> None:
    current = make_frame(21, 3_000, shift=0.8)
    found = monitor.estimate("models:/churn@champion", current.drop(columns=["churned"]))
    f1 = found.metrics["f1"]
    assert f1.low <= f1.value <= f1.high
    assert found.realised is None and "training data churn@1" in found.calibration
    with_truth = monitor.estimate(
        "models:/churn@champion", current, reference=make_frame(22, 2_000), target="churned"
    )
    assert with_truth.realised is not None
    assert (
        with_truth.metrics["f1"].low - 0.02
        <= with_truth.realised["f1"]
        <= with_truth.metrics["f1"].high + 0.02
    )
    assert set(found.to_dict()["metrics"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}


def test_estimate_refuses_what_it_cannot_use(project: Project) -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        monitor.estimate("models:/churn@champion", make_frame(1, 10).iloc[:0])
    with pytest.raises(InvalidInput, match="no target column"):
        monitor.estimate(
            "models:/churn@champion", make_frame(1, 100), reference=make_frame(2, 100), target="x"
        )


def test_estimate_scores_the_labels_that_arrived_and_explains_bad_rows(project: Project) -> None:
    current = make_frame(23, 1_000)
    current.loc[current.index[:400], "churned"] = None
    found = monitor.estimate("models:/churn@champion", current, target="churned")
    assert found.realised is not None and 0 < found.realised["f1"] < 1
    broken = make_frame(24, 50).drop(columns=["churned"])
    broken["age"] = float("nan")
    with pytest.raises(InvalidInput, match="could not predict current_df"):
        monitor.estimate("models:/churn@champion", broken)
