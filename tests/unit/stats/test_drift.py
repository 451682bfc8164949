"""Drift tests agree with scipy, keep quiet on one distribution and fire on real changes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from loopml.errors import InvalidInput
from loopml.stats import (
    DEFAULT_RULE,
    DriftRule,
    choose_test,
    column_drift,
    compare,
    profile_categorical,
    profile_numeric,
    profile_table,
)
from loopml.stats.binning import numeric_shares


def _normal(seed: int, n: int, loc: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, n)


def _categories(seed: int, n: int, p: tuple[float, ...] = (0.5, 0.3, 0.2)) -> np.ndarray:
    names = np.array(["red", "green", "blue", "violet"][: len(p)], dtype=object)
    return np.random.default_rng(seed).choice(names, n, p=p)


@pytest.mark.parametrize(("n", "m"), [(150, 120), (37, 200), (5_000, 3_000)])
def test_ks_agrees_with_scipy(n: int, m: int) -> None:
    a, b = _normal(n, n), _normal(m + 1, m, loc=0.2)
    ref, cur = profile_numeric(a), profile_numeric(b)
    got = column_drift("x", ref, cur, test="ks")
    want = stats.ks_2samp(a, b, method="asymp")
    assert got.statistic is not None and got.p_value is not None
    if ref.quantiles.is_exact and cur.quantiles.is_exact:
        assert got.statistic == pytest.approx(want.statistic, abs=1e-12)
        assert got.p_value == pytest.approx(want.pvalue, rel=1e-9)
    else:
        bound = ref.quantiles.rank_error + cur.quantiles.rank_error
        assert abs(got.statistic - want.statistic) <= bound


def test_chi_square_is_exact_on_counts() -> None:
    a, b = _categories(1, 800), _categories(2, 300, p=(0.4, 0.35, 0.25))
    ref, cur = profile_categorical(a), profile_categorical(b)
    names = ["blue", "green", "red"]
    ref_counts = np.array([np.sum(a == k) for k in names], dtype=float)
    observed = np.array([np.sum(b == k) for k in names], dtype=float)
    gof = column_drift("c", ref, cur, test="chi_square_gof")
    want = stats.chisquare(observed, ref_counts / ref_counts.sum() * observed.sum())
    assert gof.statistic == pytest.approx(want.statistic, rel=1e-12)
    assert gof.p_value == pytest.approx(want.pvalue, rel=1e-9)
    two_sample = column_drift("c", ref, cur, test="chi_square")
    table = stats.chi2_contingency(np.vstack([ref_counts, observed]), correction=False)
    assert two_sample.statistic == pytest.approx(table.statistic, rel=1e-12)
    assert two_sample.p_value == pytest.approx(table.pvalue, rel=1e-9)


@pytest.mark.parametrize(("n", "tol"), [(180, 1e-12), (20_000, 0.02)])
def test_wasserstein_is_scipy_over_the_reference_std(n: int, tol: float) -> None:
    a, b = _normal(n, n), _normal(n + 1, n, loc=0.3, scale=1.5)
    got = column_drift("x", profile_numeric(a), profile_numeric(b), test="wasserstein")
    want = stats.wasserstein_distance(a, b) / np.std(a)
    assert got.statistic == pytest.approx(want, abs=tol)


def test_jensen_shannon_and_psi_on_shared_bins() -> None:
    ref, cur = profile_numeric(_normal(1, 150)), profile_numeric(_normal(2, 150, loc=0.5))
    p, q = numeric_shares(ref, cur)
    assert p.sum() == pytest.approx(1) and q.sum() == pytest.approx(1)
    assert np.allclose(p, 0.1)  # reference deciles: ten equal bins for an exact sketch
    js = column_drift("x", ref, cur, test="jensen_shannon")
    assert js.statistic == pytest.approx(distance.jensenshannon(p, q, base=2), abs=1e-12)
    psi = column_drift("x", ref, cur, test="psi")
    assert psi.statistic == pytest.approx(float(np.sum((p - q) * np.log(p / q))), abs=1e-12)
    same = column_drift("x", ref, ref, test="psi")
    assert same.statistic == pytest.approx(0.0, abs=1e-12) and not same.drifted


@pytest.mark.parametrize(("n", "allowed"), [(5_000, 0), (500, 4)])
def test_one_distribution_raises_few_false_alarms(n: int, allowed: int) -> None:
    # Above 1,000 rows the distance tests should stay quiet; KS and chi-square at p < 0.05 are
    # expected to fire about once in 20 each by design, so the small case allows a handful.
    alarms = []
    for seed in range(20):
        ref = profile_table({"x": _normal(seed, n), "c": _categories(seed, n)})
        cur = profile_table({"x": _normal(seed + 100, n), "c": _categories(seed + 100, n)})
        result = compare(ref, cur)
        alarms += [f"seed {seed}: {col}" for col in result.drifted_columns]
    assert len(alarms) <= allowed, f"{len(alarms)} false alarms in 40 column checks: {alarms}"


@pytest.mark.parametrize("n", [500, 5_000])
def test_real_changes_are_flagged(n: int) -> None:
    ref = profile_table({"x": _normal(1, n), "c": _categories(1, n)})
    shifted = profile_table({"x": _normal(2, n, loc=0.5), "c": _categories(2, n)})
    wider = profile_table({"x": _normal(3, n, scale=2.0), "c": _categories(3, n)})
    new_cat = profile_table({"x": _normal(4, n), "c": _categories(4, n, p=(0.4, 0.25, 0.15, 0.2))})
    assert compare(ref, shifted).drifted_columns == ("x",)
    assert compare(ref, wider).drifted_columns == ("x",)
    result = compare(ref, new_cat)
    assert result.drifted_columns == ("c",)
    assert result.columns["c"].new_categories == ("violet",)


def test_default_rule_follows_evidently() -> None:
    small, big = profile_numeric(np.arange(1000.0)), profile_numeric(np.arange(1001.0))
    assert (choose_test(small), choose_test(big)) == ("ks", "wasserstein")
    small_c = profile_categorical(np.array(["a"] * 1000 + [None] * 50, dtype=object))
    big_c = profile_categorical(np.array(["a"] * 1001, dtype=object))
    assert (choose_test(small_c), choose_test(big_c)) == ("chi_square", "jensen_shannon")
    rule = DriftRule(size_threshold=10, thresholds={"wasserstein": 5.0})
    assert choose_test(small, rule) == "wasserstein"
    assert column_drift("x", small, small, rule=rule).threshold == 5.0
    assert column_drift("x", small, small, test="psi", threshold=0.3).threshold == 0.3
    assert DEFAULT_RULE.thresholds["ks"] == 0.05


@pytest.mark.parametrize("empty", [np.array([]), np.full(10, np.nan)])
def test_an_empty_or_all_missing_side_is_insufficient_data(empty: np.ndarray) -> None:
    full = profile_numeric(_normal(0, 100))
    for ref, cur in ((profile_numeric(empty), full), (full, profile_numeric(empty))):
        got = column_drift("x", ref, cur)
        assert not got.drifted and got.statistic is None
        assert got.note is not None and got.note.startswith("insufficient data")
    missing = profile_categorical(np.array([None, None], dtype=object))
    got = column_drift("c", profile_categorical(np.array(["a"])), missing)
    assert not got.drifted and got.note == "insufficient data: current has no usable values"


def test_a_constant_reference_does_not_divide_by_zero() -> None:
    ref = profile_numeric(np.full(2_000, 3.0))
    same = column_drift("x", ref, profile_numeric(np.full(1_500, 3.0)))
    assert same.test == "wasserstein" and same.statistic == 0.0 and not same.drifted
    moved = column_drift("x", ref, profile_numeric(np.full(1_500, 3.5)))
    assert moved.drifted and moved.note is not None and "constant" in moved.note
    for test in ("ks", "psi", "jensen_shannon"):
        assert not column_drift("x", ref, ref, test=test).drifted


def test_new_category_gives_infinite_goodness_of_fit_as_json_null() -> None:
    ref = profile_categorical(np.array(["a", "b"] * 50))
    cur = profile_categorical(np.array(["a", "b", "z"] * 30))
    assert column_drift("c", ref, cur).new_categories == ("z",)
    got = column_drift("c", ref, cur, test="chi_square_gof")
    assert got.drifted and got.p_value == 0.0 and got.new_categories == ("z",)
    body = json.loads(json.dumps(got.to_dict(), allow_nan=False))
    assert body["statistic"] is None and body["new_categories"] == ["z"]


def test_sketched_categories_still_compare() -> None:
    ids = np.array([f"id{i}" for i in range(3000)], dtype=object)
    ref = profile_categorical(np.concatenate([ids, np.array(["hot"] * 3000, dtype=object)]))
    cur = profile_categorical(np.concatenate([ids, np.array(["hot"] * 9000, dtype=object)]))
    for test in ("chi_square", "chi_square_gof", "psi", "jensen_shannon"):
        assert column_drift("c", ref, cur, test=test).drifted
        assert not column_drift("c", ref, ref, test=test).drifted


def test_bad_requests_are_refused_or_reported() -> None:
    num, cat = profile_numeric(np.arange(5.0)), profile_categorical(np.array(["a"]))
    with pytest.raises(InvalidInput, match="no categorical drift test named 'ks'"):
        column_drift("c", cat, cat, test="ks")
    with pytest.raises(InvalidInput, match="share_threshold must lie in"):
        compare(profile_table({}), profile_table({}), share_threshold=0.0)
    changed = column_drift("x", num, cat)
    assert changed.drifted and changed.note == "kind changed from numeric to categorical"


def test_compare_reports_columns_on_one_side_and_the_dataset_verdict() -> None:
    ref = profile_table({"a": _normal(1, 300), "b": _normal(2, 300), "gone": _normal(3, 300)})
    cur = profile_table({"a": _normal(4, 300, loc=2), "b": _normal(5, 300), "new": np.ones(300)})
    result = compare(ref, cur, tests={"b": "psi"}, thresholds={"b": 0.5}, share_threshold=0.5)
    assert result.missing_columns == ("gone",) and result.new_columns == ("new",)
    assert result.columns["b"].test == "psi" and result.columns["b"].threshold == 0.5
    assert result.drifted_columns == ("a",) and result.drift_share == 0.5
    assert result.dataset_drift
    body = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert body["columns"]["a"]["drifted"] is True and body["dataset_drift"] is True
    nothing = compare(profile_table({}), profile_table({}))
    assert nothing.drift_share == 0.0 and not nothing.dataset_drift


def test_a_small_window_gets_the_p_value_test_even_against_a_big_reference() -> None:
    rng = np.random.default_rng(0)
    big = profile_numeric(rng.normal(size=5_000))
    small_window = profile_numeric(rng.normal(size=300))
    assert choose_test(big) == "wasserstein"
    assert choose_test(big, current=small_window) == "ks"
    assert column_drift("x", big, small_window).test == "ks"
    assert column_drift("x", big, profile_numeric(rng.normal(size=5_000))).test == "wasserstein"


def _zipf_categories(rng: np.random.Generator, rows: int, count: int = 300) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1)
    picks = rng.choice(count, size=rows, p=weights / weights.sum())
    return np.array([f"city-{i}" for i in picks], dtype=object)


@pytest.mark.parametrize("rows", [300, 2_000])
def test_many_categories_raise_no_false_alarms(rows: int) -> None:
    from loopml.stats import profile_categorical

    rng = np.random.default_rng(0)
    ref = profile_categorical(_zipf_categories(rng, 20_000))
    alarms = sum(
        column_drift("city", ref, profile_categorical(_zipf_categories(rng, rows))).drifted
        for _ in range(50)
    )
    assert alarms / 50 <= 0.1, f"false alarm rate {alarms / 50:.2f} at {rows} rows"
    moved = _zipf_categories(rng, rows)
    moved[: rows // 3] = "city-new"
    found = column_drift("city", ref, profile_categorical(moved))
    assert found.drifted and found.new_categories == ("city-new",)
