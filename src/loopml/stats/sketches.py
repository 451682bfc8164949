"""Typed wrappers over Apache DataSketches: KLL for quantiles, HLL for distinct counts.

Error bounds, as the library states them:

- KLL, ``k=200``: normalised rank error about 1.33% for a rank, CDF or quantile query and about
  1.65% for a PMF/histogram bin (99% confidence, from ``get_normalized_rank_error``). A sketch
  holds every item exactly until it has seen more than ``k`` of them. Values are not streamed
  through the library one by one: a sorted slice's compacted sketch is written directly
  (``_kll_from_sorted``: several times faster, and its rank error is at most half its heaviest
  item's weight, about 0.2%), and the library merges the slices' sketches (a 1,000,000-value
  column of 8 slices measured about 0.3% worst rank error, a streamed sketch about 0.6%).
- HLL, ``lg_k=12``: about 1.6% relative standard error after merges (1.3% for a sketch fed in
  one stream); near exact for small sets, which it keeps as a list of coupons.

Wrapped sketches are never updated after construction; ``merge`` returns a new object.
"""

from __future__ import annotations

import copy
import functools
import struct
from collections.abc import Iterable

import numpy as np
from datasketches import hll_sketch, hll_union, kll_doubles_sketch, tgt_hll_type
from numpy.typing import ArrayLike, NDArray

from loopml.errors import InvalidInput
from loopml.stats._hll_fast import RegisterScan, register_representatives

KLL_K = 200
HLL_LG_K = 12
KLL_RANK_ERROR = float(kll_doubles_sketch.get_normalized_rank_error(KLL_K, False))
HLL_RSE = float(abs(hll_sketch.get_rel_err(True, True, HLL_LG_K, 1)))
_FAST_MIN_VALUES = 1 << 16
_FAST_MIN_SLOTS_SHARE = 0.25  # well past the ~400 coupons at which a sketch leaves list mode
_EMPTY_STRING = "\x00"  # the library ignores "", which is a real category
_KLL_M = 8  # the library's minimum level width
_KLL_FAMILY, _KLL_SERIAL_VERSION, _KLL_PREAMBLE_INTS = 15, 1, 5
_KLL_LEVEL_ZERO_SORTED = 1 << 1
_DUPLICATE_SHARE = 0.1  # deduplicate a sorted column before hashing past this share of repeats


class Quantiles:
    """A KLL quantile sketch of finite floats, queried through a cached sorted view."""

    __slots__ = ("_cum", "_items", "_sketch")

    def __init__(self, sketch: kll_doubles_sketch) -> None:
        self._sketch = sketch
        # The library's CDF at each retained item gives the whole step function. (Its iterator's
        # weights disagree with its own ranks after a merge in 5.2.0, so they are not used.)
        self._items: NDArray[np.float64] = np.unique(np.fromiter((i for i, _ in sketch), float))
        cdf = sketch.get_cdf(self._items.tolist(), True) if len(self._items) else [1.0]
        self._cum: NDArray[np.float64] = np.rint(np.asarray(cdf[:-1]) * sketch.n)

    @classmethod
    def of(cls, values: NDArray[np.float64], k: int = KLL_K) -> Quantiles:
        """Sketch values in one bulk call; NaN is left out, as the library leaves it out."""
        ordered = np.sort(np.asarray(values, dtype=np.float64))
        if len(ordered) and np.isnan(ordered[-1]):  # NaN sorts last
            ordered = ordered[: np.searchsorted(ordered, np.nan)]
        return cls.of_sorted(ordered, k)

    @classmethod
    def of_sorted(cls, values: NDArray[np.float64], k: int = KLL_K) -> Quantiles:
        """Sketch values already sorted ascending (no NaN), without streaming them."""
        builder = QuantilesBuilder(k)
        builder.add_sorted(values)
        return builder.build()

    @property
    def n(self) -> int:
        """How many values the sketch has seen."""
        return int(self._sketch.n)

    @property
    def is_exact(self) -> bool:
        """True while the sketch still holds every value it saw."""
        return not bool(self._sketch.is_estimation_mode())

    @property
    def rank_error(self) -> float:
        """The single-sided normalised rank error (0 while exact)."""
        return 0.0 if self.is_exact else float(self._sketch.normalized_rank_error(False))

    @property
    def items(self) -> NDArray[np.float64]:
        """The retained values, sorted."""
        return self._items

    @property
    def weights(self) -> NDArray[np.float64]:
        """How many input values each retained item stands for."""
        return np.diff(self._cum, prepend=0.0)

    def ranks(self, points: ArrayLike, *, inclusive: bool = True) -> NDArray[np.float64]:
        """Share of values <= each point (< with ``inclusive=False``): the sketch's CDF."""
        at = np.asarray(points, dtype=np.float64)
        if self.n == 0:
            return np.full(at.shape, np.nan)
        idx = np.searchsorted(self._items, at, side="right" if inclusive else "left")
        cum = np.concatenate(([0.0], self._cum))
        return np.asarray(cum[idx] / self.n, dtype=np.float64)

    def quantiles(self, qs: ArrayLike) -> NDArray[np.float64]:
        """The smallest value whose inclusive rank reaches each q (the inverse of ``ranks``)."""
        q = np.asarray(qs, dtype=np.float64)
        if self.n == 0:
            return np.full(q.shape, np.nan)
        if np.any((q < 0) | (q > 1)):
            raise InvalidInput("quantile ranks must lie in [0, 1]", field="q", value=qs)
        # As the library does: the first item whose cumulative weight reaches ceil(q * n).
        idx = np.searchsorted(self._cum, np.ceil(q * self.n), side="left")
        return np.asarray(self._items[np.minimum(idx, len(self._items) - 1)], dtype=np.float64)

    def merge(self, other: Quantiles) -> Quantiles:
        """A new sketch of both streams."""
        merged = copy.copy(self._sketch)
        merged.merge(other._sketch)
        return Quantiles(merged)

    def to_bytes(self) -> bytes:
        """The library's portable serialisation."""
        return bytes(self._sketch.serialize())

    @classmethod
    def from_bytes(cls, data: bytes) -> Quantiles:
        """Inverse of ``to_bytes``."""
        return cls(kll_doubles_sketch.deserialize(data))


class Distinct:
    """An HLL distinct-count sketch over floats or strings."""

    __slots__ = ("_sketch",)

    def __init__(self, sketch: hll_sketch) -> None:
        self._sketch = sketch

    @classmethod
    def of_floats(cls, values: NDArray[np.float64], lg_k: int = HLL_LG_K) -> Distinct:
        """Count distinct floats; big arrays go through the register shortcut in ``_hll_fast``."""
        if len(values) >= _FAST_MIN_VALUES:
            reps, occupied = register_representatives(values, lg_k)
            if occupied >= _FAST_MIN_SLOTS_SHARE * (1 << lg_k):
                return cls._from_registers(reps.tolist(), lg_k)
        return cls._fed(np.unique(values).tolist(), lg_k)

    @classmethod
    def of_sorted_floats(cls, values: NDArray[np.float64], lg_k: int = HLL_LG_K) -> Distinct:
        """``of_floats`` of values sorted ascending (the same sketch): runs are hashed once."""
        builder = DistinctBuilder(lg_k)
        builder.add_sorted(values)
        return builder.build()

    @classmethod
    def of_strings(cls, values: Iterable[str], lg_k: int = HLL_LG_K) -> Distinct:
        """Count distinct strings; pass each once (the caller has the unique values already)."""
        return cls._fed((v or _EMPTY_STRING for v in values), lg_k)

    @classmethod
    def _fed(cls, values: Iterable[float | str], lg_k: int) -> Distinct:
        sketch = hll_sketch(lg_k, tgt_hll_type.HLL_8)
        for value in values:
            sketch.update(value)
        return cls(sketch)

    @classmethod
    def _from_registers(cls, reps: list[float], lg_k: int) -> Distinct:
        # Two halves merged in a union mark the result out of order, so it estimates from its
        # registers (as any merged sketch does) rather than from a history it never saw.
        halves = [hll_sketch(lg_k, tgt_hll_type.HLL_8, True) for _ in range(2)]
        for i, value in enumerate(reps):
            halves[i % 2].update(value)
        union = hll_union(lg_k)
        for half in halves:
            union.update(half)
        return cls(union.get_result(tgt_hll_type.HLL_8))

    @property
    def estimate(self) -> float:
        """The estimated number of distinct values."""
        return float(self._sketch.get_estimate())

    def merge(self, other: Distinct) -> Distinct:
        """A new sketch of both streams."""
        union = hll_union(max(self._sketch.lg_config_k, other._sketch.lg_config_k))
        union.update(self._sketch)
        union.update(other._sketch)
        return Distinct(union.get_result(tgt_hll_type.HLL_8))

    def to_bytes(self) -> bytes:
        """The library's portable serialisation."""
        return bytes(self._sketch.serialize_compact())

    @classmethod
    def from_bytes(cls, data: bytes) -> Distinct:
        """Inverse of ``to_bytes``."""
        return cls(hll_sketch.deserialize(data))


class QuantilesBuilder:
    """A KLL sketch of values that arrive as sorted parts.

    Each part's sketch is written directly (``_kll_from_sorted``) and the library merges the
    parts, so a column sorted a slice at a time never needs a sorted copy of the whole of it.
    One part gives the tightest sketch; several are as accurate as any merged sketch.
    """

    __slots__ = ("_k", "_sketch")

    def __init__(self, k: int = KLL_K) -> None:
        self._k = k
        self._sketch: kll_doubles_sketch | None = None

    def add_sorted(self, values: NDArray[np.float64]) -> None:
        """Add values sorted ascending (no NaN)."""
        if len(values) == 0:
            return
        if len(values) == 1:  # the library's own single-item form, as a bulk update makes it
            part = kll_doubles_sketch(self._k)
            part.update(np.array(values, dtype=np.float64))
        else:
            part = kll_doubles_sketch.deserialize(_kll_from_sorted(values, self._k))
        if self._sketch is None:
            self._sketch = part
        else:
            self._sketch.merge(part)

    def build(self) -> Quantiles:
        """The sketch of every value added."""
        return Quantiles(self._sketch if self._sketch is not None else kll_doubles_sketch(self._k))


class DistinctBuilder:
    """``Distinct.of_floats`` of the values of sorted parts, the same sketch whatever the parts.

    Like ``of_floats``, a sketch of fewer than 2**16 values, or of values that reach too few
    slots, is fed the distinct values one by one (so small sets stay near exact); past that,
    the registers come from ``_hll_fast`` and only one value per register is fed. Values are
    hashed only once 2**16 have arrived; until then (and while they are few) the distinct values
    are kept. A run of one value in a sorted part is hashed once.
    """

    __slots__ = ("_count", "_kept", "_lg_k", "_scan", "_scanning", "_uniques")

    def __init__(self, lg_k: int = HLL_LG_K) -> None:
        self._lg_k = lg_k
        self._count = 0
        self._scan = RegisterScan(lg_k)
        self._scanning = False
        self._uniques: list[NDArray[np.float64]] | None = []
        self._kept = 0

    def add_sorted(self, values: NDArray[np.float64]) -> None:
        """Add values sorted ascending."""
        if len(values) == 0:
            return
        self._count += len(values)
        distinct = _fewer_repeats(values)
        keep = self._uniques is not None and self._kept + len(distinct) <= _FAST_MIN_VALUES
        if not self._scanning and self._count >= _FAST_MIN_VALUES:
            self._scanning = True
            for part in self._uniques or ():  # all kept so far: fewer than 2**16 values came
                self._scan.add(part)
        if self._scanning:
            self._scan.add(distinct)
        if keep and self._uniques is not None:
            self._uniques.append(distinct.copy())
            self._kept += len(distinct)
        else:
            self._uniques = None

    def build(self) -> Distinct:
        """The sketch of every value added."""
        if self._scanning:
            reps, occupied = self._scan.representatives()
            # Without the distinct values (more than 2**16 of them reaching under a quarter of
            # the slots: not seen in practice) the registers are still exact.
            if occupied >= _FAST_MIN_SLOTS_SHARE * (1 << self._lg_k) or self._uniques is None:
                return Distinct._from_registers(reps.tolist(), self._lg_k)
        kept = np.concatenate(self._uniques) if self._uniques else np.empty(0)
        return Distinct._fed(np.unique(kept).tolist(), self._lg_k)


def _fewer_repeats(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sorted values with runs of one value cut to one, when repeats are common enough to pay."""
    if len(values) < 2:
        return values
    repeats = values[1:] == values[:-1]  # -0.0 == 0.0, and they hash alike
    if np.count_nonzero(repeats) <= _DUPLICATE_SHARE * len(values):
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.logical_not(repeats, out=keep[1:])
    return values[keep]


def _kll_level_capacity(k: int, num_levels: int, height: int) -> int:
    """The library's capacity of one level (``kll_helper::level_capacity``): k (2/3)^depth."""
    depth = num_levels - height - 1
    power_of_three: int = 3**depth  # depth >= 0: an int
    return max(_KLL_M, (((2 * k) << depth) // power_of_three + 1) >> 1)


@functools.cache
def _kll_capacities(k: int, num_levels: int) -> tuple[int, ...]:
    """Every level's capacity, from level 0 up."""
    return tuple(_kll_level_capacity(k, num_levels, h) for h in range(num_levels))


def _kll_level_counts(n: int, k: int) -> list[int]:
    """Items per level (weight ``2**h`` at level h) for n values with the fewest levels.

    The fewest levels whose capacities can stand for n values keep the heaviest weight as small
    as the library's layout allows; each level from the top takes as many items as fit.
    """
    num_levels = 1
    while True:
        caps = _kll_capacities(k, num_levels)
        if sum(c << h for h, c in enumerate(caps)) >= n:
            break
        num_levels += 1
    counts = [0] * num_levels
    left = n
    for h in range(num_levels - 1, -1, -1):
        counts[h] = min(caps[h], left >> h)
        left -= counts[h] << h
    if left:  # cannot happen: the capacities were checked above
        raise AssertionError("KLL capacity miscounted")
    return counts


def _kll_from_sorted(values: NDArray[np.float64], k: int) -> bytes:
    """The serialised KLL sketch of sorted finite values, as the library lays it out.

    The sorted values are cut into consecutive blocks of ``2**h`` values, one per retained item
    of level h, and each block keeps its middle value. The rank of any point is then off by at
    most half of the block it falls in (exact between blocks), where a streamed sketch's random
    compactions give about 1.33% at 99% confidence. Light blocks go to both tails, so extreme
    quantiles are the most precise. The result is an ordinary sketch: the library merges,
    queries and serialises it as any other (level 0 is flagged sorted, as it is).
    """
    n = len(values)
    counts = _kll_level_counts(n, k)
    num_levels = len(counts)
    weights = np.repeat(np.left_shift(1, np.arange(num_levels, dtype=np.int64)), counts)
    order = np.concatenate((weights[0::2], weights[1::2][::-1]))  # light at both ends
    starts = np.cumsum(order) - order
    positions = starts + (order - 1) // 2
    # Items of one level, in ascending order, then the next level up: the library's layout.
    by_level = np.argsort(order, kind="stable")
    items = values[positions[by_level]]
    capacity = sum(_kll_capacities(k, num_levels))
    first = capacity - len(items)
    levels = first + np.concatenate(([0], np.cumsum(counts)[:-1]))
    header = struct.pack(
        "<BBBBHBBQHBB",
        _KLL_PREAMBLE_INTS,
        _KLL_SERIAL_VERSION,
        _KLL_FAMILY,
        _KLL_LEVEL_ZERO_SORTED,
        k,
        _KLL_M,
        0,
        n,
        k,
        num_levels,
        0,
    )
    return b"".join(
        (
            header,
            levels.astype("<u4").tobytes(),
            struct.pack("<dd", values[0], values[-1]),
            items.astype("<f8").tobytes(),
        )
    )
