"""The sketch wrappers agree with the library they wrap, including the HLL register shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from datasketches import frequent_strings_sketch, hll_sketch, hll_union, kll_doubles_sketch

from loopml.errors import InvalidInput
from loopml.stats import HLL_RSE, KLL_RANK_ERROR, Distinct, Frequencies, Quantiles
from loopml.stats import frequencies as freq_module
from loopml.stats._hll_fast import register_representatives


def _fed_out_of_order(values: np.ndarray) -> float:
    """What DataSketches itself estimates after merging two directly fed halves."""
    halves = [hll_sketch(12), hll_sketch(12)]
    for i, value in enumerate(values.tolist()):
        halves[i % 2].update(value)
    union = hll_union(12)
    for half in halves:
        union.update(half)
    return float(union.get_result().get_estimate())


def _awkward_floats(rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=120_000) * 10.0 ** rng.integers(-300, 300, size=120_000)
    extras = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 1.0, 2.0**53, -(2.0**63)]
    return np.concatenate([x, np.array(extras * 100), rng.integers(0, 50_000, 50_000) * 1.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hll_register_shortcut_matches_the_library_bit_for_bit(seed: int) -> None:
    values = _awkward_floats(np.random.default_rng(seed))
    reps, occupied = register_representatives(values, 12)
    assert occupied == len(reps) > 3000
    direct = hll_union(12)
    direct.update(_sketch_of(values))
    shortcut = hll_union(12)
    shortcut.update(_sketch_of(reps))
    # The registers (bytes past the header) are the state; equal registers, equal estimates.
    direct_bytes = direct.get_result().serialize_compact()
    assert direct_bytes[40:] == shortcut.get_result().serialize_compact()[40:]
    assert Distinct.of_floats(values).estimate == _fed_out_of_order(values)


def _sketch_of(values: np.ndarray) -> hll_sketch:
    sketch = hll_sketch(12)
    for value in values.tolist():
        sketch.update(value)
    return sketch


def test_distinct_is_near_exact_for_few_values_even_in_a_big_array() -> None:
    values = np.random.default_rng(3).integers(0, 10, size=200_000).astype(float)
    assert Distinct.of_floats(values).estimate == pytest.approx(10, abs=0.01)


def test_distinct_of_many_floats_is_within_three_standard_errors() -> None:
    values = np.random.default_rng(4).normal(size=300_000)
    assert Distinct.of_floats(values).estimate == pytest.approx(300_000, rel=3 * HLL_RSE)


def test_distinct_counts_the_empty_string() -> None:
    assert Distinct.of_strings(["", "a"]).estimate == pytest.approx(2, abs=0.01)


def test_distinct_merge_and_round_trip() -> None:
    a = Distinct.of_floats(np.arange(1000.0))
    b = Distinct.of_floats(np.arange(500.0, 1500.0))
    merged = a.merge(b)
    assert merged.estimate == pytest.approx(1500, rel=3 * HLL_RSE)
    assert Distinct.from_bytes(merged.to_bytes()).estimate == merged.estimate


@pytest.mark.parametrize("n", [1, 150, 200, 5_000])
@pytest.mark.parametrize("merged", [False, True])
def test_quantiles_agree_with_the_library_queries(n: int, merged: bool) -> None:
    values = np.random.default_rng(n).normal(size=n).round(1)  # ties included
    q = Quantiles.of(values)
    if merged:  # a merge once broke the iterator's weights; the view must not depend on them
        q = Quantiles.of(values[: n // 3]).merge(Quantiles.of(values[n // 3 :]))
    library = kll_doubles_sketch.deserialize(q.to_bytes())
    points = np.concatenate([values[:50], [-10.0, 0.0, 10.0]])
    expected = [library.get_rank(p, True) for p in points]
    assert q.ranks(points).tolist() == pytest.approx(expected, abs=1e-12)
    grid = np.linspace(0, 1, 41)
    assert q.quantiles(grid).tolist() == library.get_quantiles(grid.tolist(), True)


def test_quantiles_are_exact_until_k_items() -> None:
    values = np.random.default_rng(5).normal(size=200)
    q = Quantiles.of(values)
    assert q.is_exact and q.rank_error == 0.0
    grid = np.linspace(0, 1, 101)
    assert np.array_equal(q.quantiles(grid), np.quantile(values, grid, method="inverted_cdf"))
    assert not Quantiles.of(np.arange(201.0)).is_exact
    assert Quantiles.of(np.arange(201.0)).rank_error == pytest.approx(KLL_RANK_ERROR)


def test_quantiles_of_nothing_are_nan_and_bad_ranks_are_refused() -> None:
    empty = Quantiles.of(np.array([]))
    assert np.isnan(empty.quantiles([0.5])).all() and np.isnan(empty.ranks([0.0])).all()
    with pytest.raises(InvalidInput, match=r"quantile ranks must lie in \[0, 1\]"):
        Quantiles.of(np.arange(3.0)).quantiles([1.5])


def test_frequencies_stay_exact_up_to_the_limit_then_sketch() -> None:
    limit = freq_module.MAX_EXACT
    exact = Frequencies.of_counts({f"c{i}": i + 1 for i in range(limit)})
    assert exact.exact and exact.epsilon == 0.0 and exact.other() == 0
    heavy = {f"c{i}": 1 for i in range(limit + 1)} | {"big": 100_000, "": 50_000}
    sketched = Frequencies.of_counts(heavy)
    assert not sketched.exact
    total = sketched.total
    assert total == sum(heavy.values())
    for key in ("big", ""):
        assert abs(sketched.counts()[key] - heavy[key]) <= sketched.epsilon * total
    assert sketched.top(2)[0][0] == "big"


def test_frequencies_merge_crosses_the_limit() -> None:
    a = Frequencies.of_counts({f"a{i}": 2 for i in range(600)})
    b = Frequencies.of_counts({f"b{i}": 1 for i in range(600)} | {"a0": 3})
    merged = a.merge(b)
    assert not merged.exact and merged.total == 1200 + 600 + 3
    round_tripped = Frequencies.from_json(merged.to_json())
    assert round_tripped.counts() == merged.counts()
    small = a.merge(Frequencies.of_counts({"a0": 1}))
    assert small.exact and small.counts()["a0"] == 3


def test_frequencies_sketch_setting_matches_the_documented_epsilon() -> None:
    eps = frequent_strings_sketch.get_epsilon_for_lg_size(freq_module.SKETCH_LG_MAX_K)
    assert eps == pytest.approx(0.0017, abs=0.0001)
