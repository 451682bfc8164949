"""Column and table profiles: build, merge and (de)serialise.

A profile of a month of traffic is the merge of hourly profiles, so every part here is
mergeable: ``merge(profile(a), profile(b))`` describes ``a`` and ``b`` together, exactly for
counts and moments and within the sketches' error bounds for quantiles and distinct counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from loopml.errors import InvalidInput
from loopml.stats.categorical import CategoricalProfile, profile_categorical
from loopml.stats.numeric import NumericProfile, profile_numeric

ColumnProfile = NumericProfile | CategoricalProfile
FORMAT_VERSION = 1


@overload
def merge(a: NumericProfile, b: NumericProfile) -> NumericProfile: ...
@overload
def merge(a: CategoricalProfile, b: CategoricalProfile) -> CategoricalProfile: ...
@overload
def merge(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile: ...
def merge(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """The profile of two columns' values together; both must be of one kind."""
    if isinstance(a, NumericProfile) and isinstance(b, NumericProfile):
        return a.merge(b)
    if isinstance(a, CategoricalProfile) and isinstance(b, CategoricalProfile):
        return a.merge(b)
    raise InvalidInput(f"cannot merge a {a.kind} profile with a {b.kind} one", field="kind")


def profile_column(values: ArrayLike, kind: str | None = None) -> ColumnProfile:
    """Profile one column as ``kind``, or as numbers when the dtype is numeric (not bool)."""
    arr = np.asarray(values)
    chosen = kind or ("numeric" if arr.dtype.kind in "iuf" else "categorical")
    if chosen == "numeric":
        return profile_numeric(arr)
    if chosen == "categorical":
        return profile_categorical(arr)
    raise InvalidInput(
        f"unknown column kind {kind!r}",
        field="kind",
        value=kind,
        hint="use 'numeric' or 'categorical'",
    )


def column_from_dict(data: Mapping[str, Any]) -> ColumnProfile:
    """Rebuild a column profile from ``to_dict`` output, dispatching on ``kind``."""
    if data.get("kind") == "numeric":
        return NumericProfile.from_dict(dict(data))
    if data.get("kind") == "categorical":
        return CategoricalProfile.from_dict(dict(data))
    raise InvalidInput("not a column profile", field="kind", value=data.get("kind"))


@dataclass(frozen=True, eq=False)
class TableProfile:
    """Column profiles by name plus the row count they were built from."""

    row_count: int
    columns: Mapping[str, ColumnProfile] = field(default_factory=dict)

    def merge(self, other: TableProfile) -> TableProfile:
        """The profile of both tables' rows; a column absent from one side counts as missing."""
        merged: dict[str, ColumnProfile] = {}
        for name in [*self.columns, *(c for c in other.columns if c not in self.columns)]:
            mine, theirs = self.columns.get(name), other.columns.get(name)
            if mine is not None and theirs is not None:
                merged[name] = merge(mine, theirs)
            elif mine is not None:
                merged[name] = mine.with_missing(other.row_count)
            elif theirs is not None:
                merged[name] = theirs.with_missing(self.row_count)
        return TableProfile(self.row_count + other.row_count, merged)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "format": FORMAT_VERSION,
            "row_count": self.row_count,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableProfile:
        """Inverse of ``to_dict``."""
        if data.get("format") != FORMAT_VERSION:
            raise InvalidInput(
                "unknown table profile format", field="format", value=data.get("format")
            )
        columns = {name: column_from_dict(col) for name, col in data["columns"].items()}
        return cls(int(data["row_count"]), columns)


def profile_table(
    columns: Mapping[str, ArrayLike], kinds: Mapping[str, str] | None = None
) -> TableProfile:
    """Profile equal-length columns, each as its ``kinds`` entry says or by dtype."""
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise InvalidInput(f"columns differ in length: {sorted(lengths)}", field="columns")
    profiles = {name: profile_column(a, (kinds or {}).get(name)) for name, a in arrays.items()}
    return TableProfile(lengths.pop() if lengths else 0, profiles)
