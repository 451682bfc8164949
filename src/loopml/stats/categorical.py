"""The profile of a categorical column: exact counts (or a frequent-items sketch) plus HLL.

Categories are compared as text: every present value is turned into ``str`` so profiles store
as JSON and a category means the same thing after a round trip (``1`` and ``"1"`` are one).
Missing values are None, float NaN and anything that is not equal to itself (``pd.NA``).
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike

from loopml.errors import InvalidInput
from loopml.stats.frequencies import Frequencies
from loopml.stats.sketches import Distinct


@dataclass(frozen=True, eq=False)
class CategoricalProfile:
    """A mergeable summary of one categorical column."""

    count: int
    missing: int
    frequencies: Frequencies
    distinct_sketch: Distinct

    kind: ClassVar[Literal["categorical"]] = "categorical"

    @property
    def present(self) -> int:
        """Values that are not missing."""
        return self.count - self.missing

    @property
    def distinct(self) -> float:
        """Distinct categories: exact while counts are exact, else the HLL estimate."""
        freqs = self.frequencies
        return float(len(freqs.counts())) if freqs.exact else self.distinct_sketch.estimate

    def counts(self) -> dict[str, int]:
        """Count per category (only the heavy ones once the counts are sketched)."""
        return self.frequencies.counts()

    def top(self, n: int | None = 10) -> list[tuple[str, int]]:
        """The most frequent categories with their counts."""
        return self.frequencies.top(n)

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """The profile of both columns' values together."""
        return CategoricalProfile(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            frequencies=self.frequencies.merge(other.frequencies),
            distinct_sketch=self.distinct_sketch.merge(other.distinct_sketch),
        )

    def with_missing(self, extra: int) -> CategoricalProfile:
        """The same profile with ``extra`` more missing values (a column absent from a part)."""
        return CategoricalProfile(
            self.count + extra, self.missing + extra, self.frequencies, self.distinct_sketch
        )

    def summary(self) -> dict[str, Any]:
        """Plain numbers for reports and diffs."""
        return {
            "count": self.count,
            "missing": self.missing,
            "distinct": self.distinct,
            "exact": self.frequencies.exact,
            "top": [list(pair) for pair in self.top(10)],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; sketches in base64."""
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "frequencies": self.frequencies.to_json(),
            "hll": base64.b64encode(self.distinct_sketch.to_bytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        """Inverse of ``to_dict``."""
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            frequencies=Frequencies.from_json(data["frequencies"]),
            distinct_sketch=Distinct.from_bytes(base64.b64decode(data["hll"])),
        )


def profile_categorical(values: ArrayLike) -> CategoricalProfile:
    """Profile a categorical column: one C-speed counting pass, then work per category only."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"expected a 1-D array, got shape {arr.shape}", field="values")
    raw: Counter[Any] = Counter(arr.tolist())
    counts: dict[str, int] = {}
    missing = 0
    for value, n in raw.items():
        if _is_missing(value):
            missing += n
        else:
            key = str(value)
            counts[key] = counts.get(key, 0) + n
    return CategoricalProfile(
        count=len(arr),
        missing=missing,
        frequencies=Frequencies.of_counts(counts),
        distinct_sketch=Distinct.of_strings(counts),
    )


def _is_missing(value: object) -> bool:
    """None, NaN, or a value not equal to itself (pd.NA answers neither True nor False)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return True
