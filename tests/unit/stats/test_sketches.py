"""The sketch wrappers agree with the library they wrap, including the HLL register shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from datasketches import frequent_strings_sketch, hll_sketch, hll_union, kll_doubles_sketch

from loopml.errors import InvalidInput
from loopml.stats import HLL_RSE, KLL_K, KLL_RANK_ERROR, Distinct, Frequencies, Quantiles
from loopml.stats import frequencies as freq_module
from loopml.stats._hll_fast import ranks, register_representatives
from loopml.stats.sketches import _kll_level_capacity, _kll_level_counts


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


def test_hll_rank_from_the_exponent_is_exact_at_every_edge() -> None:
    edges = [0, 1, 2, 3, 2047, 2048, 2049, 4095, 2**52 - 1, 2**52, 2**53 - 1, 2**53, 2**53 + 1]
    edges += [2**63 - 1, 2**63, 2**64 - 1]
    rng = np.random.default_rng(6)
    shifted = rng.integers(0, 2**63, 5_000, dtype=np.uint64) >> rng.integers(0, 64, 5_000).astype(
        np.uint64
    )
    hashes = np.concatenate([np.array(edges, dtype=np.uint64), shifted])
    want = [min(65 - int(h).bit_length(), 63) for h in hashes.tolist()]
    assert ranks(hashes, np.empty_like(hashes)).tolist() == want


@pytest.mark.parametrize("kind", ["normal", "ties", "few"])
def test_distinct_of_sorted_floats_is_the_same_sketch_as_of_floats(kind: str) -> None:
    rng = np.random.default_rng(8)
    values = {
        "normal": lambda: rng.normal(size=100_000),
        "ties": lambda: rng.integers(0, 20_000, 150_000) * 0.5,  # deduplicated, then hashed
        "few": lambda: rng.integers(0, 30, 100_000) * 1.0,  # too few slots: fed one by one
    }[kind]()
    values[:10] = -0.0
    expected = Distinct.of_floats(values)
    got = Distinct.of_sorted_floats(np.sort(values))
    assert got.to_bytes() == expected.to_bytes()


@pytest.mark.parametrize("n", [2, 201, 334, 5_000, 65_537, 400_000])
def test_kll_written_from_sorted_values_is_a_valid_and_tight_sketch(n: int) -> None:
    values = np.sort(np.random.default_rng(n).standard_cauchy(n))
    q = Quantiles.of_sorted(values)
    library = kll_doubles_sketch.deserialize(q.to_bytes())
    assert bytes(library.serialize()) == q.to_bytes()  # the library lays it out the same way
    assert (library.n, library.get_min_value(), library.get_max_value()) == (
        n, values[0], values[-1],
    )  # fmt: skip
    assert q.is_exact == (n <= KLL_K)
    # Each rank is off by at most half the heaviest item's weight, well inside the bound.
    points = values[:: max(1, n // 3_000)]
    true = np.searchsorted(values, points, side="right") / n
    bound = 0.0 if q.is_exact else float(q.weights.max()) / 2 / n
    assert np.abs(q.ranks(points) - true).max() <= bound + 1e-12
    assert bound < KLL_RANK_ERROR / 2
    merged = q.merge(Quantiles.of(np.arange(1_000.0))).merge(q)
    assert merged.n == 2 * n + 1_000
    assert Quantiles.from_bytes(merged.to_bytes()).ranks([0.0]) == pytest.approx(
        merged.ranks([0.0])
    )


def test_kll_capacities_are_the_librarys() -> None:
    """The layout written by hand uses the library's level capacities (and so its buffer)."""
    rng = np.random.default_rng(10)
    for n in (150, 201, 1_000, 20_000, 300_000):
        streamed = kll_doubles_sketch(KLL_K)
        streamed.update(rng.normal(size=n))
        data = bytes(streamed.serialize())
        num_levels = data[18]
        first_offset = int.from_bytes(data[20:24], "little")
        capacity = sum(_kll_level_capacity(KLL_K, num_levels, h) for h in range(num_levels))
        assert first_offset + streamed.num_retained == capacity
        counts = _kll_level_counts(
            n, KLL_K
        )  # every level within its capacity (stricter than needed)
        assert all(c <= _kll_level_capacity(KLL_K, len(counts), h) for h, c in enumerate(counts))
        assert sum(c << h for h, c in enumerate(counts)) == n


def test_kll_of_unsorted_values_sorts_them_first() -> None:
    values = np.random.default_rng(9).normal(size=10_000)
    assert Quantiles.of(values).to_bytes() == Quantiles.of_sorted(np.sort(values)).to_bytes()
    assert Quantiles.of(values[:1]).to_bytes() == _streamed(values[:1])
    assert Quantiles.of(values[:0]).to_bytes() == _streamed(values[:0])


def _streamed(values: np.ndarray) -> bytes:
    sketch = kll_doubles_sketch(KLL_K)
    if len(values):
        sketch.update(values.copy())
    return Quantiles(sketch).to_bytes()  # built as before: the bulk update
