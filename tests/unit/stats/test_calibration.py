"""Isotonic calibration matches scikit-learn's, fixes a mis-calibrated model and stores as JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from loopml.errors import InvalidInput
from loopml.stats.calibration import Calibrator, fit_calibrator, isotonic_breakpoints


def _binary(seed: int, n: int, *, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A mis-calibrated model (it squares the true probability) and labels from the truth."""
    rng = np.random.default_rng(seed)
    truth = rng.beta(2, 2, n)
    if ties:
        truth = np.round(truth, 2)
    y = (rng.random(n) < truth).astype(int)
    model = truth**2
    return np.column_stack([1 - model, model]), y


def _sklearn(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    fitted = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    return np.asarray(fitted.predict(at))


@pytest.mark.parametrize(("seed", "ties"), [(0, False), (1, True), (2, True)])
def test_binary_fit_agrees_with_sklearn(seed: int, ties: bool) -> None:
    proba, y = _binary(seed, 3_000, ties=ties)
    at = np.random.default_rng(seed + 100).random(500)
    got = fit_calibrator(proba, y).apply(np.column_stack([1 - at, at]))
    want = _sklearn(proba[:, 1], y.astype(float), at)
    np.testing.assert_allclose(got[:, 1], want, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_breakpoints_agree_with_sklearn_on_real_valued_targets() -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.random(400), 1)
    y = x + rng.normal(0, 0.3, 400)
    knots, values = isotonic_breakpoints(x, np.clip(y, 0, 1))
    at = np.linspace(-0.5, 1.5, 300)
    want = _sklearn(x, np.clip(y, 0, 1), at)
    np.testing.assert_allclose(np.interp(at, knots, values), want, atol=1e-12)


def test_decreasing_targets_pool_into_one_block() -> None:
    x = np.arange(10.0)
    knots, values = isotonic_breakpoints(x, 1.0 - x / 10)
    assert knots.tolist() == [0.0, 9.0]
    np.testing.assert_allclose(values, [0.55, 0.55])


def test_multiclass_maps_each_column_then_renormalises() -> None:
    rng = np.random.default_rng(4)
    n, k = 2_000, 3
    truth = rng.dirichlet(np.ones(k), n)
    y = (rng.random(n)[:, None] > truth.cumsum(axis=1)).sum(axis=1)
    model = truth**1.5 / (truth**1.5).sum(axis=1, keepdims=True)
    calibrator = fit_calibrator(model, y)
    got = calibrator.apply(model)
    mapped = np.column_stack([_sklearn(model[:, c], (y == c) * 1.0, model[:, c]) for c in range(k)])
    np.testing.assert_allclose(got, mapped / mapped.sum(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_calibration_fixes_a_squared_model() -> None:
    proba, y = _binary(5, 20_000)
    calibrator = fit_calibrator(proba, y)
    fresh, y_fresh = _binary(6, 20_000)
    raw = _expected_calibration_error(fresh[:, 1], y_fresh)
    fixed = _expected_calibration_error(calibrator.apply(fresh)[:, 1], y_fresh)
    assert raw > 0.08
    assert fixed < 0.015, f"calibration error {fixed:.4f} after calibration, {raw:.4f} before"


def _expected_calibration_error(p: np.ndarray, y: np.ndarray) -> float:
    bins = np.minimum((p * 10).astype(int), 9)
    gaps = [abs(p[bins == b].sum() - y[bins == b].sum()) for b in np.unique(bins)]
    return float(sum(gaps) / p.shape[0])


def test_all_zero_rows_become_uniform() -> None:
    record = {
        "format": 1,
        "method": "isotonic",
        "classes": 3,
        "curves": [{"x": [0.0, 0.5, 1.0], "y": [0.0, 0.0, 1.0]}] * 3,
    }
    calibrator = Calibrator.from_dict(record)
    got = calibrator.apply(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    np.testing.assert_allclose(got[0], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(got[1], [0.0, 0.0, 1.0])


def test_round_trip_through_json_applies_the_same() -> None:
    proba, y = _binary(7, 500, ties=True)
    calibrator = fit_calibrator(proba, y)
    restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    np.testing.assert_array_equal(restored.apply(proba), calibrator.apply(proba))
    assert all(isinstance(v, float) for v in calibrator.to_dict()["curves"][0]["x"])


def test_too_few_reference_rows_is_refused() -> None:
    proba, y = _binary(8, 19)
    y[:2] = [0, 1]
    with pytest.raises(InvalidInput, match="at least 20 labelled reference rows, got 19") as info:
        fit_calibrator(proba, y)
    assert info.value.field == "reference"


def test_a_class_without_examples_is_refused() -> None:
    proba = np.random.default_rng(9).dirichlet(np.ones(3), 50)
    y = np.arange(50) % 2
    with pytest.raises(InvalidInput, match="class 2 has none in the reference") as info:
        fit_calibrator(proba, y)
    assert info.value.field == "reference"


@pytest.mark.parametrize(
    ("proba", "y", "match"),
    [
        (np.full((30, 1), 0.5), np.zeros(30, dtype=int), r"expected \(n, k\) with k >= 2"),
        (np.full((30, 2), 1.5), np.zeros(30, dtype=int), r"probabilities in \[0, 1\]"),
        (np.full((30, 2), 0.5), np.full(30, 2), r"y_index must lie in 0\.\.1"),
        (np.full((30, 2), 0.5), np.full(30, 0.5), "y_index must hold integer class indices"),
        (np.full((30, 2), 0.5), np.zeros(29, dtype=int), r"y_index has shape \(29,\)"),
    ],
)
def test_bad_input_says_what_is_wrong(proba: np.ndarray, y: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        fit_calibrator(proba, y)


def test_apply_refuses_another_number_of_classes() -> None:
    proba, y = _binary(10, 100)
    with pytest.raises(InvalidInput, match="fitted on 2 classes"):
        fit_calibrator(proba, y).apply(np.full((3, 3), 1 / 3))


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"format": 2, "method": "isotonic"}, "not an isotonic calibrator record"),
        ({"format": 1, "method": "isotonic", "classes": 3, "curves": []}, "has 0 curves"),
        (
            {
                "format": 1,
                "method": "isotonic",
                "classes": 2,
                "curves": [{"x": [1, 0], "y": [0, 1]}],
            },
            "x sorted",
        ),
    ],
)
def test_damaged_records_are_refused(record: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        Calibrator.from_dict(record)


def test_choose_calibrator_leaves_a_calibrated_model_alone_and_fixes_a_skewed_one() -> None:
    from loopml.stats.calibration import choose_calibrator

    rng = np.random.default_rng(5)
    p = rng.beta(2, 3, 8_000)
    y = (rng.random(8_000) < p).astype(int)
    calibrated = np.column_stack([1 - p, p])
    chosen, method, variants = choose_calibrator(calibrated, y, variants=4)
    assert method == "none" and len(variants) == 4
    np.testing.assert_allclose(chosen.apply(calibrated), calibrated)
    skewed = np.column_stack([1 - p**2, p**2])
    fixed, method, variants = choose_calibrator(skewed, y, variants=4)
    assert method == "isotonic" and len(variants) == 4
    assert abs(fixed.apply(skewed)[:, 1].mean() - y.mean()) < 0.01
