"""The profile of a numeric column: exact moments plus KLL quantiles and an HLL distinct count.

``count`` is every value seen, ``missing`` the NaN/None among them, ``infinities`` the +-inf.
Moments, min, max and quantiles describe the finite values only, so one infinity cannot turn the
mean into inf. Merges are exact for the counts, min, max, mean and variance (Chan et al.'s
parallel formula) and within the sketches' bounds (``loopml.stats.sketches``) for the rest.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loopml.errors import InvalidInput
from loopml.stats.sketches import KLL_K, Distinct, DistinctBuilder, Quantiles, QuantilesBuilder

SORT_CHUNK = 1 << 17  # values sorted at a time: 1 MiB working copies


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """A mergeable summary of one numeric column."""

    count: int
    missing: int
    zeros: int
    infinities: int
    min: float
    max: float
    mean: float
    m2: float  # sum of squared deviations from the mean, over finite values
    quantiles: Quantiles
    distinct_sketch: Distinct

    kind: ClassVar[Literal["numeric"]] = "numeric"

    @property
    def present(self) -> int:
        """Values that are not missing (infinities included)."""
        return self.count - self.missing

    @property
    def finite(self) -> int:
        """Values behind the moments and the quantile sketch."""
        return self.present - self.infinities

    @property
    def variance(self) -> float:
        """Population variance of the finite values (NaN when there are none)."""
        return self.m2 / self.finite if self.finite else math.nan

    @property
    def sample_variance(self) -> float:
        """Sample (n - 1) variance of the finite values (NaN below two values)."""
        return self.m2 / (self.finite - 1) if self.finite > 1 else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation, the scale drift tests normalise by."""
        return math.sqrt(self.variance) if self.finite else math.nan

    @property
    def distinct(self) -> float:
        """Estimated distinct present values (HLL, about 1.6% relative standard error)."""
        return self.distinct_sketch.estimate

    def quantile(self, q: ArrayLike) -> NDArray[np.float64]:
        """Quantiles from the KLL sketch (rank error about 1.33% once it has compacted)."""
        return self.quantiles.quantiles(q)

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        """Share of finite values <= x, from the KLL sketch."""
        return self.quantiles.ranks(x)

    def histogram(self, edges: ArrayLike) -> NDArray[np.float64]:
        """Estimated counts per bin ``[e_i, e_i+1)``, the last bin closed, like numpy.histogram."""
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) < 0):
            raise InvalidInput("histogram edges must be an increasing 1-D array", field="edges")
        if self.finite == 0:
            return np.zeros(len(e) - 1)
        below = self.quantiles.ranks(e, inclusive=False)
        below[-1] = self.quantiles.ranks(e[-1:])[0]
        return np.asarray(np.diff(below) * self.finite, dtype=np.float64)

    def merge(self, other: NumericProfile) -> NumericProfile:
        """The profile of both columns' values together."""
        mean, m2 = _combine(self.finite, self.mean, self.m2, other.finite, other.mean, other.m2)
        return NumericProfile(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            zeros=self.zeros + other.zeros,
            infinities=self.infinities + other.infinities,
            min=float(np.fmin(self.min, other.min)),
            max=float(np.fmax(self.max, other.max)),
            mean=mean,
            m2=m2,
            quantiles=self.quantiles.merge(other.quantiles),
            distinct_sketch=self.distinct_sketch.merge(other.distinct_sketch),
        )

    def with_missing(self, extra: int) -> NumericProfile:
        """The same profile with ``extra`` more missing values (a column absent from a part)."""
        return self.merge(profile_numeric(np.full(extra, np.nan)))

    def summary(self) -> dict[str, float | int | None]:
        """Plain numbers for reports and diffs."""
        p25, p50, p75 = (float(v) for v in self.quantile([0.25, 0.5, 0.75]))
        numbers = {
            "count": self.count,
            "missing": self.missing,
            "distinct": self.distinct,
            "zeros": self.zeros,
            "infinities": self.infinities,
            "min": self.min,
            "p25": p25,
            "p50": p50,
            "p75": p75,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
        }
        return {k: _json_number(v) for k, v in numbers.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; sketches in base64 (``from_dict`` restores them bit for bit)."""
        return {
            "kind": self.kind,
            **{k: getattr(self, k) for k in ("count", "missing", "zeros", "infinities")},
            **{k: _json_number(getattr(self, k)) for k in ("min", "max", "mean", "m2")},
            "kll": base64.b64encode(self.quantiles.to_bytes()).decode("ascii"),
            "hll": base64.b64encode(self.distinct_sketch.to_bytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericProfile:
        """Inverse of ``to_dict``."""
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            zeros=int(data["zeros"]),
            infinities=int(data["infinities"]),
            min=_float(data["min"]),
            max=_float(data["max"]),
            mean=_float(data["mean"]),
            m2=_float(data["m2"]),
            quantiles=Quantiles.from_bytes(base64.b64decode(data["kll"])),
            distinct_sketch=Distinct.from_bytes(base64.b64decode(data["hll"])),
        )


def profile_numeric(values: ArrayLike, *, k: int = KLL_K) -> NumericProfile:
    """Profile a numeric column in one call, sorting a slice of ``SORT_CHUNK`` values at a time.

    Sorting puts -inf first, then the finite values, +inf and NaN last, so the counts, the
    extremes and the KLL sketch of a slice come from positions in its sorted copy; the moments
    and the HLL hashes are the only other passes. Slices keep the working copies small (about
    1 MiB, whatever the column's size) and are combined exactly as profiles merge.
    """
    x = _as_floats(values)
    quantiles, distinct = QuantilesBuilder(k), DistinctBuilder()
    missing = zeros = infinities = finite = 0
    low = high = mean = math.nan
    m2 = 0.0
    buffer = np.empty(min(len(x), SORT_CHUNK), dtype=np.float64)  # reused: one allocation
    for start in range(0, len(x), SORT_CHUNK):
        part = buffer[: min(SORT_CHUNK, len(x) - start)]
        np.copyto(part, x[start : start + SORT_CHUNK])
        part.sort()
        nan_start = int(np.searchsorted(part, np.nan)) if np.isnan(part[-1]) else len(part)
        present = part[:nan_start]
        part_finite = present[
            np.searchsorted(present, -np.inf, side="right") : np.searchsorted(present, np.inf)
        ]
        n = len(part_finite)
        missing += len(part) - nan_start
        infinities += nan_start - n
        quantiles.add_sorted(part_finite)
        distinct.add_sorted(present)
        if n:
            zeros += int(np.searchsorted(part_finite, 0.0, side="right"))
            zeros -= int(np.searchsorted(part_finite, 0.0))
            low = float(np.fmin(low, part_finite[0]))
            high = float(np.fmax(high, part_finite[-1]))
            part_mean = float(part_finite.mean())
            part_m2 = _sum_of_squares_in_place(part_finite, part_mean)  # the part is done with
            mean, m2 = _combine(finite, mean, m2, n, part_mean, part_m2)
            finite += n
    return NumericProfile(
        count=len(x),
        missing=missing,
        zeros=zeros,
        infinities=infinities,
        min=low,
        max=high,
        mean=mean,
        m2=m2,
        quantiles=quantiles.build(),
        distinct_sketch=distinct.build(),
    )


def _combine(
    n_a: int, mean_a: float, m2_a: float, n_b: int, mean_b: float, m2_b: float
) -> tuple[float, float]:
    """Mean and sum of squared deviations of two parts together (Chan et al.)."""
    if n_a == 0 or n_b == 0:
        return (mean_a, m2_a) if n_b == 0 else (mean_b, m2_b)
    n = n_a + n_b
    delta = mean_b - mean_a
    return mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n


def _sum_of_squares_in_place(x: NDArray[np.float64], mean: float) -> float:
    """Sum of squared deviations from ``mean``; overwrites ``x``.

    Not ``np.dot``: BLAS may start threads of its own, which stall on a busy machine (and
    columns may already be profiled side by side).
    """
    np.subtract(x, mean, out=x)
    np.square(x, out=x)
    return float(x.sum())  # pairwise summation


def _as_floats(values: ArrayLike) -> NDArray[np.float64]:
    """A 1-D float64 view or copy; None becomes NaN; text is refused."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"expected a 1-D array, got shape {arr.shape}", field="values")
    if arr.dtype.kind in "biuf":
        return np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "O":
        try:
            return np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                "a numeric column holds values that are not numbers",
                field="values",
                hint="profile it with profile_categorical",
            ) from exc
    raise InvalidInput(
        f"cannot profile dtype {arr.dtype} as numeric",
        field="values",
        value=str(arr.dtype),
        hint="convert datetimes to numbers first; profile text with profile_categorical",
    )


def _json_number(value: float | int) -> float | int | None:
    """NaN becomes None so the dict stays strict JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _float(value: float | None) -> float:
    """Inverse of ``_json_number`` for floats."""
    return math.nan if value is None else float(value)
