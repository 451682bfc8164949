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
from loopml.stats.sketches import KLL_K, Distinct, Quantiles


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
        n_a, n_b = self.finite, other.finite
        n = n_a + n_b
        if n_a == 0 or n_b == 0:
            mean, m2 = (self.mean, self.m2) if n_b == 0 else (other.mean, other.m2)
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * n_b / n
            m2 = self.m2 + other.m2 + delta * delta * n_a * n_b / n
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
    """Profile a numeric column in one call: bulk numpy passes, then bulk sketch updates."""
    x = _as_floats(values)
    finite_mask = np.isfinite(x)
    finite, present, missing = x, x, 0
    if not finite_mask.all():
        nan_mask = np.isnan(x)
        missing = int(np.count_nonzero(nan_mask))
        finite = x[finite_mask]
        present = x[~nan_mask] if missing else x
    n = len(finite)
    mean = float(finite.mean()) if n else math.nan
    deviations = finite - mean
    return NumericProfile(
        count=len(x),
        missing=missing,
        zeros=int(np.count_nonzero(finite == 0.0)),
        infinities=len(present) - n,
        min=float(finite.min()) if n else math.nan,
        max=float(finite.max()) if n else math.nan,
        mean=mean,
        m2=float(np.dot(deviations, deviations)) if n else 0.0,
        quantiles=Quantiles.of(finite, k),
        distinct_sketch=Distinct.of_floats(present),
    )


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
