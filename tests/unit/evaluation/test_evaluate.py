"""Evaluating fitted models: metrics equal scikit-learn's on the same predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.linear_model import LinearRegression, LogisticRegression

from loopml.errors import InvalidInput
from loopml.evaluation.evaluate import evaluate_models
from loopml.evaluation.report import render_report
from loopml.evaluation.result import EvaluationResult


@pytest.fixture
def classification() -> tuple[pd.DataFrame, Any, Any]:
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["region"] = np.where(rng.random(n) < 0.3, "EU", "US")
    frame["y"] = ((frame.a - frame.b + rng.normal(size=n)) > 0).astype(int)
    good = LogisticRegression().fit(frame[["a", "b"]], frame.y)
    weak = LogisticRegression().fit(frame[["a"]].assign(b=0.0), frame.y)
    return frame, good, weak


def test_classification_metrics_agree_with_sklearn(classification: Any) -> None:
    frame, good, _ = classification
    result = evaluate_models(good, frame, target="y", n_resamples=50)
    X, y = frame[["a", "b"]], frame.y
    predicted, proba = good.predict(X), good.predict_proba(X)
    expected = {
        "accuracy": metrics.accuracy_score(y, predicted),
        "precision": metrics.precision_score(y, predicted),
        "recall": metrics.recall_score(y, predicted),
        "f1": metrics.f1_score(y, predicted),
        "f1_macro": metrics.f1_score(y, predicted, average="macro"),
        "precision_macro": metrics.precision_score(y, predicted, average="macro"),
        "recall_macro": metrics.recall_score(y, predicted, average="macro"),
        "roc_auc": metrics.roc_auc_score(y, proba[:, 1]),
        "log_loss": metrics.log_loss(y, proba),
        "brier": metrics.brier_score_loss(y, proba[:, 1]),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, abs=1e-12), name
    low, high = result.intervals["f1"]
    assert low <= result.metrics["f1"] <= high
    assert result.metrics["latency_p99_ms"] >= result.metrics["latency_p50_ms"] > 0


def test_multiclass_with_string_labels_agrees_with_sklearn() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=900), "b": rng.normal(size=900)})
    frame["y"] = np.select([frame.a > 0.5, frame.b > 0], ["high", "mid"], "low")
    model = LogisticRegression().fit(frame[["a", "b"]], frame.y)
    result = evaluate_models(model, frame, target="y", n_resamples=20)
    X, y = frame[["a", "b"]], frame.y
    proba = model.predict_proba(X)
    assert result.metrics["f1"] == pytest.approx(
        metrics.f1_score(y, model.predict(X), average="macro")
    )
    assert result.metrics["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
    )
    assert result.metrics["log_loss"] == pytest.approx(metrics.log_loss(y, proba))
    assert result.classes == ("high", "low", "mid")


def test_regression_metrics_agree_with_sklearn() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"a": rng.normal(size=800)})
    frame["y"] = 3 * frame.a + rng.normal(size=800) + 10
    model = LinearRegression().fit(frame[["a"]], frame.y)
    result = evaluate_models(model, frame, target="y", task="regression", n_resamples=50)
    predicted = model.predict(frame[["a"]])
    assert result.metrics["mae"] == pytest.approx(metrics.mean_absolute_error(frame.y, predicted))
    assert result.metrics["rmse"] == pytest.approx(
        metrics.root_mean_squared_error(frame.y, predicted)
    )
    assert result.metrics["r2"] == pytest.approx(metrics.r2_score(frame.y, predicted))
    assert result.metrics["mape"] == pytest.approx(
        metrics.mean_absolute_percentage_error(frame.y, predicted)
    )
    assert len(result.curves["residuals"]) == 800


def test_slices_and_a_paired_comparison(classification: Any) -> None:
    frame, good, weak = classification
    result = evaluate_models(
        good, frame, target="y", slices=["region"], baseline=weak, n_resamples=200
    )
    eu = frame.region == "EU"
    eu_pred = good.predict(frame.loc[eu, ["a", "b"]])
    assert result.slices["region=EU"]["f1"] == pytest.approx(metrics.f1_score(frame.y[eu], eu_pred))
    assert result.slices["region=EU"]["n_rows"] == eu.sum()
    assert result.baseline_metrics is not None and result.comparison is not None
    auc = result.comparison["roc_auc"]
    assert auc.difference == pytest.approx(
        result.metrics["roc_auc"] - result.baseline_metrics["roc_auc"]
    )
    assert auc.difference > 0 and auc.low > 0 and auc.p_value < 0.05


def test_results_round_trip_through_plain_data(classification: Any) -> None:
    frame, good, weak = classification
    result = evaluate_models(good, frame, target="y", baseline=weak, n_resamples=30)
    again = EvaluationResult.from_dict(result.to_dict())
    assert again.metrics == pytest.approx(result.metrics)
    assert again.comparison is not None and result.comparison is not None
    assert again.comparison["f1"] == result.comparison["f1"]
    assert again.scores()["metrics"]["f1"] == result.metrics["f1"]


def test_the_report_has_the_plots_and_escapes_labels(classification: Any) -> None:
    frame, good, weak = classification
    result = evaluate_models(
        good, frame, target="y", baseline=weak, n_resamples=30, model_uri="<script>x</script>"
    )
    page = render_report(result)
    for title in ("Confusion matrix", "ROC curve", "Precision-recall curve", "Calibration"):
        assert title in page
    assert "<script>x" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "missing"}, "target column 'missing' is not in the data"),
        ({"target": "y", "task": "ranking"}, "task must be 'classification' or 'regression'"),
        ({"target": "y", "slices": ["nope"]}, "slice column 'nope' is not in the data"),
    ],
)
def test_bad_arguments_are_named(classification: Any, kwargs: Any, message: str) -> None:
    frame, good, _ = classification
    with pytest.raises(InvalidInput, match=message):
        evaluate_models(good, frame, **kwargs)


def test_missing_labels_are_refused(classification: Any) -> None:
    frame, good, _ = classification
    broken = frame.assign(y=frame.y.astype(float).where(frame.index > 3))
    with pytest.raises(InvalidInput, match="target column 'y' has 4 missing values"):
        evaluate_models(good, broken, target="y")
