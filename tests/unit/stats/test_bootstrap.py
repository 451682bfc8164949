"""Bootstrap intervals cover the estimate and shrink with n; paired comparisons see real gaps."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from loopml.errors import InvalidInput
from loopml.stats.bootstrap import (
    Comparison,
    Interval,
    bootstrap_intervals,
    paired_bootstrap,
    resample_weights,
)
from loopml.stats.metrics import classification_metrics, encode_classification, regression_metrics


def _binary(n: int, seed: int, signal: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a logistic model's probabilities (never exactly 0 or 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = 1.0 / (1.0 + np.exp(-rng.normal(signal * (2 * y - 1), 1.0)))
    return y, p


def time_bootstrap(n: int = 100_000, n_resamples: int = 1000) -> dict[str, float]:
    """Seconds for ``n_resamples`` resamples of every metric on ``n`` rows (a timing helper;
    the suite only checks that it runs)."""
    y, p = _binary(n, 0)
    data = encode_classification(y, (p >= 0.5).astype(int), p)
    worse = encode_classification(y, (p >= 0.6).astype(int), np.clip(p + 0.1, 0, 1))
    truth = np.random.default_rng(1).normal(size=n)
    guess = truth + np.random.default_rng(2).normal(scale=0.5, size=n)
    runs = {
        "classification": lambda: bootstrap_intervals(
            lambda w: classification_metrics(data, w), n, n_resamples=n_resamples
        ),
        "regression": lambda: bootstrap_intervals(
            lambda w: regression_metrics(truth, guess, w), n, n_resamples=n_resamples
        ),
        "paired_classification": lambda: paired_bootstrap(
            lambda w: classification_metrics(data, w),
            lambda w: classification_metrics(worse, w),
            n,
            n_resamples=n_resamples,
        ),
    }
    seconds = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        seconds[name] = time.perf_counter() - start
    return seconds


def test_weights_count_draws_of_a_full_size_resample() -> None:
    chunks = list(resample_weights(50, 23, seed=4, chunk=10))
    assert [c.shape for c in chunks] == [(10, 50), (10, 50), (3, 50)]
    weights = np.vstack(chunks)
    np.testing.assert_array_equal(weights.sum(axis=1), 50)
    assert np.all(weights == np.round(weights)) and weights.min() >= 0
    assert weights.dtype == np.float64
    again = np.vstack(list(resample_weights(50, 23, seed=4, chunk=7)))
    np.testing.assert_array_equal(again, weights)
    other = np.vstack(list(resample_weights(50, 23, seed=5, chunk=10)))
    assert not np.array_equal(other, weights)
    assert next(resample_weights(10, 3, seed=0)).shape == (3, 10)


def test_counts_average_one_draw_per_row() -> None:
    weights = np.vstack(list(resample_weights(200, 2000, seed=0)))
    per_row = weights.mean(axis=0)
    assert np.abs(per_row - 1).max() < 0.15
    assert weights.var(axis=0).mean() == pytest.approx(1 - 1 / 200, rel=0.05)


def test_intervals_are_percentiles_of_the_resampled_values() -> None:
    x = np.random.default_rng(0).exponential(size=300)

    def mean(weights: np.ndarray) -> dict[str, np.ndarray]:
        return {"mean": weights @ x / weights.sum(axis=1)}

    got = bootstrap_intervals(mean, 300, n_resamples=400, confidence=0.9, seed=3)
    draws = np.concatenate([mean(w)["mean"] for w in resample_weights(300, 400, seed=3)])
    low, high = np.percentile(draws, [5, 95])
    assert got == {"mean": Interval(float(low), float(high))}
    assert low < x.mean() < high


def test_classification_intervals_contain_the_estimate_and_shrink_with_n() -> None:
    widths = {}
    for n in (300, 6000):
        y, p = _binary(n, n)
        data = encode_classification(y, (p >= 0.5).astype(int), p)
        point = classification_metrics(data)
        intervals = bootstrap_intervals(
            lambda w, data=data: classification_metrics(data, w), n, n_resamples=300
        )
        assert set(intervals) == set(point)
        for name, interval in intervals.items():
            assert interval.low <= point[name] <= interval.high, name
        widths[n] = {name: i.high - i.low for name, i in intervals.items()}
    for name, wide in widths[300].items():
        assert widths[6000][name] < wide / 2, name


def test_regression_intervals_contain_the_estimate() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=500)
    guess = y + rng.normal(scale=0.4, size=500)
    point = regression_metrics(y, guess)
    intervals = bootstrap_intervals(lambda w: regression_metrics(y, guess, w), 500, seed=1)
    for name, interval in intervals.items():
        assert interval.low < point[name] < interval.high, name


def test_nan_resamples_are_left_out() -> None:
    def sometimes(weights: np.ndarray) -> dict[str, np.ndarray | float]:
        values = weights[:, 0].copy()  # how often row 0 was drawn
        values[values == 0] = np.nan
        return {"draws": values, "never": math.nan}

    got = bootstrap_intervals(sometimes, 5, n_resamples=200)
    assert 1 <= got["draws"].low <= got["draws"].high <= 5
    assert math.isnan(got["never"].low) and math.isnan(got["never"].high)


def test_auc_undefined_in_some_resamples_still_gets_an_interval() -> None:
    y = np.array([0] * 19 + [1])  # one positive: about a third of resamples miss it
    p = np.linspace(0.0, 1.0, 20)
    data = encode_classification(y, (p > 0.9).astype(int), p)
    got = bootstrap_intervals(lambda w: classification_metrics(data, w), 20, n_resamples=200)
    assert got["roc_auc"] == Interval(1.0, 1.0)


def test_a_model_compared_with_itself_differs_by_nothing() -> None:
    y, p = _binary(400, 7)
    data = encode_classification(y, (p >= 0.5).astype(int), p)
    same = paired_bootstrap(
        lambda w: classification_metrics(data, w),
        lambda w: classification_metrics(data, w),
        400,
        n_resamples=200,
    )
    assert set(same) == set(classification_metrics(data))
    for comparison in same.values():
        assert comparison == Comparison(0.0, 0.0, 0.0, 1.0)


def test_a_clearly_better_model_gets_a_small_p_value() -> None:
    y, p = _binary(1000, 8, signal=2.0)
    noisy = np.clip(p + np.random.default_rng(9).normal(0, 0.3, 1000), 0, 1)
    good = encode_classification(y, (p >= 0.5).astype(int), p)
    bad = encode_classification(y, (noisy >= 0.5).astype(int), noisy)
    got = paired_bootstrap(
        lambda w: classification_metrics(good, w),
        lambda w: classification_metrics(bad, w),
        1000,
        n_resamples=300,
        seed=2,
    )
    good_point, bad_point = classification_metrics(good), classification_metrics(bad)
    for name in ("accuracy", "roc_auc", "log_loss"):
        comparison = got[name]
        want = float(good_point[name]) - float(bad_point[name])
        assert comparison.difference == pytest.approx(want)
        assert comparison.low <= comparison.difference <= comparison.high
        assert comparison.p_value < 0.01
    assert got["accuracy"].low > 0 and got["roc_auc"].low > 0
    assert got["log_loss"].high < 0  # lower is better: the better model's loss is smaller


def test_paired_compares_only_shared_metrics_and_documents_its_p_value() -> None:
    x = np.random.default_rng(3).normal(size=100)

    def a(weights: np.ndarray) -> dict[str, np.ndarray]:
        mean = weights @ x / weights.sum(axis=1)
        return {"mean": mean, "only_a": mean}

    def b(weights: np.ndarray) -> dict[str, np.ndarray]:
        return {"mean": np.zeros(weights.shape[0]), "only_b": np.ones(weights.shape[0])}

    got = paired_bootstrap(a, b, 100, n_resamples=500, seed=1)
    assert set(got) == {"mean"}
    draws = np.concatenate([a(w)["mean"] for w in resample_weights(100, 500, seed=1)])
    share = min(np.mean(draws <= 0), np.mean(draws >= 0))
    assert got["mean"].p_value == pytest.approx(min(1.0, 2 * share))
    assert got["mean"].difference == pytest.approx(x.mean())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be a positive integer"),
        ({"n": 2.5}, "n must be a positive integer"),
        ({"n_resamples": 0}, "n_resamples must be a positive integer"),
        ({"confidence": 1.0}, "confidence must lie strictly between 0 and 1"),
        ({"confidence": 0.0}, "confidence must lie strictly between 0 and 1"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict[str, float], match: str) -> None:
    def compute(weights: np.ndarray) -> dict[str, np.ndarray]:
        return {"sum": weights.sum(axis=1)}

    args = {"n": 10, "n_resamples": 5, "confidence": 0.9, **kwargs}
    n = args.pop("n")
    with pytest.raises(InvalidInput, match=match):
        bootstrap_intervals(compute, n, **args)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=match):
        paired_bootstrap(compute, compute, n, **args)  # type: ignore[arg-type]


def test_bad_chunk_says_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="chunk must be a positive integer"):
        next(resample_weights(10, 5, seed=0, chunk=0))


@pytest.mark.slow
def test_timing_helper_runs_on_small_data() -> None:
    seconds = time_bootstrap(n=20_000, n_resamples=100)
    assert set(seconds) == {"classification", "regression", "paired_classification"}
    assert all(s > 0 for s in seconds.values())
