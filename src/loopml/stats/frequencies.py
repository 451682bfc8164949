"""Category counts: exact while there are few categories, a frequent-items sketch beyond.

Up to ``MAX_EXACT`` (1,000) categories every count is kept in a plain dict, so merges and the
chi-square test are exact. Past that the counts move into a DataSketches
``frequent_strings_sketch`` (``lg_max_k=11``): it tracks the heaviest categories with counts
exact to within ``epsilon * total`` (epsilon about 0.17%), and only categories it can vouch for
(no false positives) are reported; the rest of the mass is reported as ``other``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from datasketches import frequent_items_error_type, frequent_strings_sketch

MAX_EXACT = 1000
SKETCH_LG_MAX_K = 11


class Frequencies:
    """Counts per category, exact (a dict) or sketched; immutable once built."""

    __slots__ = ("_counts", "_sketch")

    def __init__(
        self, counts: dict[str, int] | None = None, sketch: frequent_strings_sketch | None = None
    ) -> None:
        self._counts = counts
        self._sketch = sketch

    @classmethod
    def of_counts(cls, counts: Mapping[str, int]) -> Frequencies:
        """Keep the counts exactly, or sketch them when there are more than ``MAX_EXACT``."""
        if len(counts) <= MAX_EXACT:
            return cls(counts={k: int(v) for k, v in counts.items() if v})
        sketch = frequent_strings_sketch(SKETCH_LG_MAX_K)
        for key, count in counts.items():
            sketch.update(key, int(count))
        return cls(sketch=sketch)

    @property
    def exact(self) -> bool:
        """True while every category's count is known exactly."""
        return self._counts is not None

    @property
    def total(self) -> int:
        """The number of values counted."""
        if self._counts is not None:
            return sum(self._counts.values())
        return int(self._sketch.total_weight) if self._sketch is not None else 0

    @property
    def epsilon(self) -> float:
        """The most any reported count may be off by, as a share of ``total`` (0 when exact)."""
        return 0.0 if self._sketch is None else float(self._sketch.epsilon)

    def counts(self) -> dict[str, int]:
        """Every category's count when exact, else the categories the sketch can vouch for."""
        if self._counts is not None:
            return dict(self._counts)
        if self._sketch is None:
            return {}
        rows = self._sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_POSITIVES)
        return {str(row[0]): int(row[1]) for row in rows}

    def top(self, n: int | None = None) -> list[tuple[str, int]]:
        """The most frequent categories, heaviest first (ties by name)."""
        ranked = sorted(self.counts().items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if n is None else ranked[:n]

    def other(self) -> int:
        """Values not attributed to a category in ``counts()`` (0 when exact)."""
        return self.total - sum(self.counts().values())

    def merge(self, other: Frequencies) -> Frequencies:
        """Counts of both streams; becomes a sketch once the union passes ``MAX_EXACT``."""
        if self._counts is not None and other._counts is not None:
            summed = dict(self._counts)
            for key, count in other._counts.items():
                summed[key] = summed.get(key, 0) + count
            return Frequencies.of_counts(summed)
        sketch = frequent_strings_sketch(SKETCH_LG_MAX_K)
        for part in (self, other):
            if part._sketch is not None:
                sketch.merge(part._sketch)
            for key, count in (part._counts or {}).items():
                sketch.update(key, count)
        return Frequencies(sketch=sketch)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form: the dict itself, or the sketch in base64."""
        if self._sketch is not None:
            return {"sketch": base64.b64encode(self._sketch.serialize()).decode("ascii")}
        return {"counts": dict(self._counts or {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Frequencies:
        """Inverse of ``to_json``."""
        if "sketch" in data:
            raw = base64.b64decode(data["sketch"])
            return cls(sketch=frequent_strings_sketch.deserialize(raw))
        return cls(counts={str(k): int(v) for k, v in data["counts"].items()})
