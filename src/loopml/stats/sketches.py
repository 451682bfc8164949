"""Typed wrappers over Apache DataSketches: KLL for quantiles, HLL for distinct counts.

Error bounds, as the library states them:

- KLL, ``k=200``: normalised rank error about 1.33% for a rank, CDF or quantile query and about
  1.65% for a PMF/histogram bin (99% confidence, from ``get_normalized_rank_error``). A sketch
  holds every item exactly until it has seen more than ``k`` of them.
- HLL, ``lg_k=12``: about 1.6% relative standard error after merges (1.3% for a sketch fed in
  one stream); near exact for small sets, which it keeps as a list of coupons.

Wrapped sketches are never updated after construction; ``merge`` returns a new object.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
from datasketches import hll_sketch, hll_union, kll_doubles_sketch, tgt_hll_type
from numpy.typing import ArrayLike, NDArray

from loopml.errors import InvalidInput
from loopml.stats._hll_fast import register_representatives

KLL_K = 200
HLL_LG_K = 12
KLL_RANK_ERROR = float(kll_doubles_sketch.get_normalized_rank_error(KLL_K, False))
HLL_RSE = float(abs(hll_sketch.get_rel_err(True, True, HLL_LG_K, 1)))
_FAST_MIN_VALUES = 1 << 16
_FAST_MIN_SLOTS_SHARE = 0.25  # well past the ~400 coupons at which a sketch leaves list mode
_EMPTY_STRING = "\x00"  # the library ignores "", which is a real category


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
        """Sketch finite values in one bulk call."""
        sketch = kll_doubles_sketch(k)
        if len(values):
            # The binding takes only contiguous, writable float64 arrays; Arrow hands out
            # read-only views, so copy exactly when the array would be refused.
            sketch.update(np.require(values, dtype=np.float64, requirements=["C", "W"]))
        return cls(sketch)

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
