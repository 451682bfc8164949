"""Confidence-based estimates score draws as classification_metrics does and cover the truth."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from loopml.errors import InvalidInput
from loopml.stats.calibration import fit_calibrator
from loopml.stats.estimation import (
    ESTIMATED_METRICS,
    EstimatedMetric,
    estimate_classification,
    realised_metrics,
)
from loopml.stats.metrics import classification_metrics, encode_classification


def _draw(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One label per row from its probabilities."""
    u = np.asarray(rng.random(size=proba.shape[0]))
    return np.asarray((u[:, None] > proba.cumsum(axis=1)).sum(axis=1))


def _calibrated_binary(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated model's probabilities and the labels they describe."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 3, n)
    return np.column_stack([1 - p, p]), (rng.random(n) < p).astype(int)


def _realised(y: np.ndarray, predicted: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    k = proba.shape[1]
    data = encode_classification(y, predicted, proba, classes=list(range(k)))
    values = classification_metrics(data)
    return {name: float(values[name]) for name in ESTIMATED_METRICS}


def _coverage(
    windows: list[tuple[dict[str, EstimatedMetric], dict[str, float]]],
) -> dict[str, float]:
    return {
        name: float(
            np.mean([est[name].low <= real[name] <= est[name].high for est, real in windows])
        )
        for name in ESTIMATED_METRICS
    }


@pytest.mark.parametrize("k", [2, 3, 4])
def test_each_draw_scores_as_classification_metrics(k: int) -> None:
    rng = np.random.default_rng(k)
    n = 60
    scores = np.round(rng.dirichlet(np.ones(k), n), 1)  # ties in every score column
    scores /= scores.sum(axis=1, keepdims=True)
    predicted = rng.integers(0, k, n)
    predicted[predicted == k - 1] = 0  # one class never predicted
    labels = np.stack([_draw(scores, rng) for _ in range(30)])
    labels[0] = np.where(labels[0] == 1, 0, labels[0])  # a draw without class 1
    labels[1] = 1  # a draw of one class only
    got = realised_metrics(labels, predicted, scores)
    for row, y in enumerate(labels):
        want = _realised(y, predicted, scores)
        for name in ESTIMATED_METRICS:
            assert got[name][row] == pytest.approx(want[name], abs=1e-12, nan_ok=True), name


def test_point_estimates_are_the_expected_counts() -> None:
    proba, _ = _calibrated_binary(1, 1_000)
    p = proba[:, 1]
    predicted = (p >= 0.5).astype(int)
    got = estimate_classification(proba, predicted)
    tp, fp = p[predicted == 1].sum(), (1 - p)[predicted == 1].sum()
    fn, tn = p[predicted == 0].sum(), (1 - p)[predicted == 0].sum()
    assert got["accuracy"].value == pytest.approx((tp + tn) / 1_000)
    assert got["precision"].value == pytest.approx(tp / (tp + fp))
    assert got["recall"].value == pytest.approx(tp / (tp + fn))
    assert got["f1"].value == pytest.approx(2 * tp / (2 * tp + fp + fn))
    realised = realised_metrics(
        np.stack([_draw(proba, np.random.default_rng(s)) for s in range(2_000)]), predicted, proba
    )
    for name in ESTIMATED_METRICS:  # the ratio of expectations is close to the expected ratio
        assert got[name].value == pytest.approx(realised[name].mean(), abs=2e-3), name
        assert got[name].low < got[name].value < got[name].high


def test_estimates_cover_the_realised_metric_of_a_calibrated_model() -> None:
    """Confidence-based estimates on calibrated models fall within their interval of the
    realised metric in at least 90% of windows over 50 seeds."""
    windows = []
    for seed in range(50):
        proba, y = _calibrated_binary(seed, 2_000)
        predicted = (proba[:, 1] >= 0.5).astype(int)
        estimate = estimate_classification(proba, predicted, seed=seed)
        windows.append((estimate, _realised(y, predicted, proba)))
    coverage = _coverage(windows)
    assert min(coverage.values()) >= 0.9, f"coverage over 50 windows: {coverage}"


def _squared_model(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A mis-calibrated model (it squares the true probability) and labels from the truth."""
    rng = np.random.default_rng(seed)
    truth = rng.beta(2, 2, n)
    return np.column_stack([1 - truth**2, truth**2]), (rng.random(n) < truth).astype(int)


def test_a_calibrator_fitted_on_the_reference_restores_coverage() -> None:
    """The same criterion for a mis-calibrated model, calibrated once on a labelled reference
    (as a monitor does) and applied to 50 windows; ROC AUC ranks by the model's own scores.

    The reference is large next to a window because the calibrator's own error is shared by
    every row of a window: at 10,000 reference rows per 2,000-row window, coverage falls to
    about 92% (measured over 300 seeds)."""
    calibrator = fit_calibrator(*_squared_model(1_000, 100_000))
    windows = []
    for seed in range(50):
        window, labels = _squared_model(seed, 2_000)
        predicted = (window[:, 1] >= 0.5).astype(int)
        estimate = estimate_classification(
            calibrator.apply(window), predicted, scores=window, seed=seed
        )
        windows.append((estimate, _realised(labels, predicted, window)))
    coverage = _coverage(windows)
    assert min(coverage.values()) >= 0.9, f"coverage over 50 windows: {coverage}"


def test_estimates_cover_the_realised_metric_of_three_classes() -> None:
    windows = []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        proba = rng.dirichlet([0.6, 0.6, 0.6], 2_000)
        y = _draw(proba, rng)
        predicted = proba.argmax(axis=1)
        estimate = estimate_classification(proba, predicted, seed=seed)
        windows.append((estimate, _realised(y, predicted, proba)))
    coverage = _coverage(windows)
    assert min(coverage.values()) >= 0.9, f"coverage over 50 windows: {coverage}"


def test_a_rare_class_never_predicted_counts_by_its_chance_to_occur() -> None:
    rng = np.random.default_rng(11)
    proba = rng.dirichlet([5, 5, 0.01], 300)
    predicted = proba[:, :2].argmax(axis=1)
    got = estimate_classification(proba, predicted, draws=2_000)
    labels = np.stack([_draw(proba, np.random.default_rng(s)) for s in range(2_000)])
    realised = realised_metrics(labels, predicted, proba)
    for name in ("precision", "recall", "f1"):
        assert got[name].value == pytest.approx(realised[name].mean(), abs=5e-3), name


def test_undefined_metrics_are_nan_not_errors() -> None:
    p = np.full(50, 0.2)
    got = estimate_classification(np.column_stack([1 - p, p]), np.zeros(50, dtype=int))
    assert math.isnan(got["precision"].value)
    assert math.isnan(got["precision"].low) and math.isnan(got["precision"].high)
    assert got["precision"].to_dict() == {"value": None, "low": None, "high": None}
    assert got["accuracy"].value == pytest.approx(0.8)
    none = estimate_classification(np.column_stack([np.ones(50), np.zeros(50)]), np.ones(50, int))
    for name in ("recall", "roc_auc"):
        assert math.isnan(none[name].value), name
    assert none["precision"].value == 0.0
    json.dumps({name: metric.to_dict() for name, metric in none.items()}, allow_nan=False)


def test_the_same_seed_gives_the_same_interval() -> None:
    proba, _ = _calibrated_binary(12, 500)
    predicted = (proba[:, 1] >= 0.5).astype(int)
    first = estimate_classification(proba, predicted, seed=3)
    assert estimate_classification(proba, predicted, seed=3) == first
    assert estimate_classification(proba, predicted, seed=4) != first


def test_ten_thousand_rows_estimate_quickly() -> None:
    proba, _ = _calibrated_binary(13, 10_000)
    predicted = (proba[:, 1] >= 0.5).astype(int)
    estimate_classification(proba, predicted)
    start = time.perf_counter()
    estimate_classification(proba, predicted)
    seconds = time.perf_counter() - start
    assert seconds < 1.0, f"500 draws of 10,000 rows took {seconds:.3f} s (target 0.15 s)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"proba": np.zeros((0, 2)), "predicted": np.zeros(0, dtype=int)}, "no rows to estimate"),
        ({"predicted": np.full(4, 2)}, r"predicted must lie in 0\.\.1"),
        ({"predicted": np.zeros(3, dtype=int)}, r"predicted has shape \(3,\)"),
        ({"scores": np.full((4, 3), 0.3)}, r"scores have shape \(4, 3\)"),
        ({"draws": 0}, "draws must be a positive integer"),
        ({"confidence": 1.0}, "confidence must lie strictly between 0 and 1"),
        ({"proba": np.full((4, 2), np.nan)}, r"probabilities in \[0, 1\]"),
    ],
)
def test_bad_input_says_what_is_wrong(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"proba": np.full((4, 2), 0.5), "predicted": np.zeros(4, int)}
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=match):
        estimate_classification(**args)  # type: ignore[arg-type]
