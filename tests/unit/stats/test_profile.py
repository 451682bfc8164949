"""Profiles: one-pass statistics, merges equal to profiling the union, JSON round trips."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopml.errors import InvalidInput
from loopml.stats import (
    HLL_RSE,
    KLL_RANK_ERROR,
    CategoricalProfile,
    Distinct,
    NumericProfile,
    TableProfile,
    column_from_dict,
    merge,
    numeric,
    profile_categorical,
    profile_numeric,
    profile_table,
)

SIZES = st.integers(0, 2000)
RANKS = np.arange(21) / 20


@st.composite
def float_arrays(draw: st.DrawFn) -> np.ndarray:
    """Normal, heavily tied, constant or wide-ranged floats, sometimes with NaN."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(SIZES)
    shape = draw(st.sampled_from(["normal", "ties", "constant", "wide"]))
    scale = 10.0 ** draw(st.integers(-3, 6))
    x = {
        "normal": lambda: rng.normal(draw(st.floats(-1e3, 1e3)), scale, n),
        "ties": lambda: rng.integers(-5, 5, n) * scale,
        "constant": lambda: np.full(n, scale),
        "wide": lambda: rng.standard_cauchy(n) * scale,
    }[shape]()
    nan_share = draw(st.sampled_from([0.0, 0.0, 0.1, 1.0]))
    x[rng.random(n) < nan_share] = np.nan
    return x.astype(np.float64)


def _close(a: float, b: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(max_examples=60, deadline=None)
@given(float_arrays(), float_arrays())
def test_numeric_merge_equals_profile_of_the_concatenation(a: np.ndarray, b: np.ndarray) -> None:
    merged = merge(profile_numeric(a), profile_numeric(b))
    both = np.concatenate([a, b])
    whole = profile_numeric(both)
    assert (merged.count, merged.missing, merged.zeros, merged.infinities) == (
        whole.count, whole.missing, whole.zeros, whole.infinities,
    )  # fmt: skip
    assert _close(merged.min, whole.min, 0) and _close(merged.max, whole.max, 0)
    finite = both[np.isfinite(both)]
    scale = float(np.abs(finite).max()) if len(finite) else 0.0
    assert _close(merged.mean, whole.mean, scale)
    assert _close(merged.variance, whole.variance, scale**2)
    assert _close(merged.sample_variance, whole.sample_variance, scale**2)
    _assert_quantile_ranks(merged, finite)
    _assert_distinct(merged.distinct, len(np.unique(both[~np.isnan(both)])))


def _assert_quantile_ranks(profile: NumericProfile, finite: np.ndarray) -> None:
    """Each reported quantile's true rank lies within the KLL bound of the asked rank."""
    if len(finite) == 0:
        assert np.isnan(profile.quantile(RANKS)).all()
        return
    # The documented bound holds at 99% confidence per sketch; twice it keeps 60 examples steady.
    tol = (2 * KLL_RANK_ERROR if len(finite) > 200 else 0.0) + 1e-12
    data = np.sort(finite)
    for q, v in zip(RANKS, profile.quantile(RANKS), strict=True):
        below = np.searchsorted(data, v, side="left") / len(data)
        at_or_below = np.searchsorted(data, v, side="right") / len(data)
        assert below - tol <= q <= at_or_below + tol, (q, v, below, at_or_below)


def _assert_distinct(estimate: float, true: int) -> None:
    assert abs(estimate - true) <= max(3 * HLL_RSE * true, 1.0), (estimate, true)


@st.composite
def category_arrays(draw: st.DrawFn) -> np.ndarray:
    """Strings from an alphabet of 1 to 600 (shifted, so unions can pass 1,000), with gaps."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(SIZES)
    size = draw(st.sampled_from([1, 3, 30, 600]))
    shift = draw(st.sampled_from([0, 500]))
    values = np.array([f"c{i + shift}" for i in rng.zipf(1.3, n) % size], dtype=object)
    holes = rng.random(n) < draw(st.sampled_from([0.0, 0.1, 1.0]))
    values[holes] = rng.choice(np.array([None, np.nan], dtype=object), int(holes.sum()))
    if n:
        values[0] = draw(st.sampled_from(["", "c0", None]))
    return values


@settings(max_examples=60, deadline=None)
@given(category_arrays(), category_arrays())
def test_categorical_merge_equals_profile_of_the_concatenation(
    a: np.ndarray, b: np.ndarray
) -> None:
    merged = merge(profile_categorical(a), profile_categorical(b))
    both = np.concatenate([a, b])
    whole = profile_categorical(both)
    true = Counter(v for v in both.tolist() if isinstance(v, str))
    assert (merged.count, merged.missing) == (whole.count, whole.missing) == (
        len(both), len(both) - sum(true.values()),
    )  # fmt: skip
    assert merged.frequencies.total == sum(true.values())
    if merged.frequencies.exact:
        assert merged.counts() == whole.counts() == dict(true)
        assert merged.distinct == len(true)
    else:
        bound = merged.frequencies.epsilon * merged.frequencies.total
        for key, count in merged.counts().items():
            assert abs(count - true[key]) <= bound
    _assert_distinct(merged.distinct_sketch.estimate, len(true))


def test_numeric_profile_counts_each_kind_of_value() -> None:
    p = profile_numeric(np.array([0.0, 1.0, np.nan, np.inf, -np.inf, 3.0, 0.0]))
    assert (p.count, p.missing, p.present, p.infinities, p.finite, p.zeros) == (7, 1, 6, 2, 4, 2)
    assert (p.min, p.max, p.mean) == (0.0, 3.0, 1.0)
    assert p.variance == pytest.approx(np.var([0, 1, 3, 0]))
    assert p.sample_variance == pytest.approx(np.var([0, 1, 3, 0], ddof=1))
    assert p.distinct == pytest.approx(5, abs=0.01)  # 0, 1, 3, inf, -inf


@pytest.mark.parametrize("shape", ["normal", "ties", "mostly_missing"])
def test_a_column_of_many_slices_is_profiled_as_one(shape: str) -> None:
    """Past ``SORT_CHUNK`` values a column is sorted a slice at a time: nothing else changes."""
    rng = np.random.default_rng(12)
    n = 2 * numeric.SORT_CHUNK + 1_234
    values = rng.integers(-50, 50, n) * 0.5 if shape == "ties" else rng.normal(3.0, 2.0, n)
    values[rng.random(n) < (0.9 if shape == "mostly_missing" else 0.01)] = np.nan
    values[rng.integers(0, n, 30)] = rng.choice([np.inf, -np.inf, 0.0, -0.0], 30)
    p = profile_numeric(values)
    present = values[~np.isnan(values)]
    finite = present[np.isfinite(present)]
    assert (p.count, p.missing, p.infinities, p.zeros) == (
        n, n - len(present), len(present) - len(finite), int(np.count_nonzero(finite == 0)),
    )  # fmt: skip
    assert (p.min, p.max) == (finite.min(), finite.max())
    assert p.mean == pytest.approx(finite.mean(), rel=1e-12, abs=1e-12)
    assert p.variance == pytest.approx(finite.var(), rel=1e-9)
    # The same HLL sketch as the whole column gives, whichever path its size takes.
    assert p.distinct_sketch.to_bytes() == Distinct.of_floats(present).to_bytes()
    assert p.quantiles.n == len(finite)
    _assert_quantile_ranks(p, finite)


def test_numeric_profile_accepts_ints_bools_and_none() -> None:
    assert profile_numeric(np.arange(5)).mean == 2.0
    assert profile_numeric(np.array([True, False, True])).mean == pytest.approx(2 / 3)
    objects = profile_numeric(np.array([1, None, 2.5], dtype=object))
    assert (objects.count, objects.missing, objects.max) == (3, 1, 2.5)


def test_numeric_profile_refuses_text_and_tables() -> None:
    with pytest.raises(InvalidInput, match="not numbers"):
        profile_numeric(np.array(["a", 1], dtype=object))
    with pytest.raises(InvalidInput, match="cannot profile dtype <U1"):
        profile_numeric(np.array(["a"]))
    with pytest.raises(InvalidInput, match="expected a 1-D array"):
        profile_numeric(np.zeros((2, 2)))


def test_empty_and_all_missing_numeric_profiles() -> None:
    for values in (np.array([]), np.full(4, np.nan)):
        p = profile_numeric(values)
        assert p.finite == 0 and math.isnan(p.mean) and math.isnan(p.variance)
        assert np.isnan(p.quantile([0.5])).all() and np.isnan(p.cdf([0.0])).all()
        assert p.histogram([0.0, 1.0]).tolist() == [0.0]
        assert p.summary()["mean"] is None


@pytest.mark.parametrize("n", [150, 20_000])
def test_histogram_matches_numpy_within_the_pmf_bound(n: int) -> None:
    values = np.random.default_rng(n).normal(size=n)
    edges = np.linspace(-2, 2, 9)
    estimated = profile_numeric(values).histogram(edges)
    exact, _ = np.histogram(values, edges)
    tol = 0 if n <= 200 else 0.0166 * n
    assert np.abs(estimated - exact).max() <= tol + 1e-9
    with pytest.raises(InvalidInput, match="increasing 1-D array"):
        profile_numeric(values).histogram([1.0, 0.0])


def test_categorical_profile_normalises_values_to_text() -> None:
    values = np.array(["a", "a", 1, None, np.nan, "", "1", float("nan")], dtype=object)
    p = profile_categorical(values)
    assert (p.count, p.missing, p.present) == (8, 3, 5)
    assert p.counts() == {"a": 2, "1": 2, "": 1}
    assert p.top(1) == [("1", 2)] and p.distinct == 3.0  # ties break by name


def test_categorical_profile_sketches_past_a_thousand_categories() -> None:
    values = np.array([f"id{i}" for i in range(5000)] + ["hot"] * 5000, dtype=object)
    p = profile_categorical(values)
    assert not p.frequencies.exact
    assert p.top(1)[0][0] == "hot"
    assert p.distinct == pytest.approx(5001, rel=3 * HLL_RSE)


def _round_trip(
    profile: NumericProfile | CategoricalProfile,
) -> NumericProfile | CategoricalProfile:
    return column_from_dict(json.loads(json.dumps(profile.to_dict(), allow_nan=False)))


@pytest.mark.parametrize("n", [0, 10, 5_000])
def test_numeric_round_trip_keeps_statistics_and_quantiles(n: int) -> None:
    values = np.random.default_rng(n).normal(size=n)
    values[:3] = np.nan
    p = profile_numeric(values)
    back = _round_trip(p)
    assert isinstance(back, NumericProfile)
    assert back.to_dict() == p.to_dict() and back.summary() == p.summary()
    grid = np.linspace(0, 1, 101)
    assert np.array_equal(back.quantile(grid), p.quantile(grid), equal_nan=True)


def test_categorical_round_trip_exact_and_sketched() -> None:
    for values in (["a", "b", None, "a"], [f"x{i}" for i in range(1500)]):
        p = profile_categorical(np.array(values, dtype=object))
        back = _round_trip(p)
        assert isinstance(back, CategoricalProfile)
        assert back.counts() == p.counts() and back.distinct == p.distinct
        assert back.summary() == p.summary()


def test_table_profile_merges_and_round_trips() -> None:
    a = profile_table({"x": np.arange(4.0), "c": np.array(["u", "v", "u", "w"])})
    b = profile_table({"x": np.array([9.0, np.nan]), "z": np.array([1, 2])})
    merged = a.merge(b)
    assert merged.row_count == 6
    assert (merged.columns["x"].count, merged.columns["x"].missing) == (6, 1)
    assert (merged.columns["c"].count, merged.columns["c"].missing) == (6, 2)
    assert (merged.columns["z"].count, merged.columns["z"].missing) == (6, 4)
    back = TableProfile.from_dict(json.loads(json.dumps(merged.to_dict(), allow_nan=False)))
    assert back.to_dict() == merged.to_dict()


def test_table_profile_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput, match="columns differ in length"):
        profile_table({"a": [1, 2], "b": [1]})
    with pytest.raises(InvalidInput, match="cannot merge a numeric profile with a categorical"):
        profile_table({"a": [1.0]}).merge(profile_table({"a": ["x"]}))
    with pytest.raises(InvalidInput, match="unknown column kind 'text'"):
        profile_table({"a": [1.0]}, kinds={"a": "text"})
    with pytest.raises(InvalidInput, match="unknown table profile format"):
        TableProfile.from_dict({"format": 99, "row_count": 0, "columns": {}})
    with pytest.raises(InvalidInput, match="not a column profile"):
        column_from_dict({"kind": "image"})


def test_profile_accepts_read_only_arrays() -> None:
    values = np.arange(100_000, dtype=np.float64)  # large enough for the HLL fast path too
    values.flags.writeable = False  # as Arrow's zero-copy views arrive
    profile = profile_numeric(values)
    assert profile.count == 100_000
    assert profile.quantile(0.5) == pytest.approx(49_999.5, rel=0.03)
