"""Schemas: inferred from a table and its profile, pinnable, and checked row by row.

``validate`` reports every violation (column, kind, count, examples) instead of stopping at the
first, because a data engineer fixing a feed wants the whole list at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loopml.data.tables import CATEGORICAL, NUMERIC, column_kind
from loopml.errors import InvalidInput
from loopml.stats import CategoricalProfile, NumericProfile, TableProfile

MAX_CATEGORIES = 50
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class ColumnSchema:
    """What one column may hold."""

    name: str
    dtype: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Schema:
    """Columns in order; ``to_dict``/``from_dict`` are the stored (and pinned, editable) form."""

    columns: tuple[ColumnSchema, ...]

    def column(self, name: str) -> ColumnSchema | None:
        return next((c for c in self.columns if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [_column_dict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        try:
            columns = tuple(
                ColumnSchema(
                    name=str(c["name"]),
                    dtype=str(c["dtype"]),
                    nullable=bool(c.get("nullable", True)),
                    min=c.get("min"),
                    max=c.get("max"),
                    categories=tuple(c["categories"]) if c.get("categories") is not None else None,
                )
                for c in data["columns"]
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                f"schema is malformed: missing or wrong field {exc}",
                field="schema",
                hint='expected {"columns": [{"name": ..., "dtype": ..., "nullable": ...}, ...]}',
            ) from None
        return cls(columns)


@dataclass(frozen=True)
class Violation:
    """Every row problem of one kind in one column."""

    column: str
    kind: str
    count: int
    examples: list[Any] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _column_dict(column: ColumnSchema) -> dict[str, Any]:
    data = asdict(column)
    data["categories"] = list(column.categories) if column.categories is not None else None
    return {k: v for k, v in data.items() if v is not None}


def infer_schema(table: pa.Table, profile: TableProfile) -> Schema:
    """Types and nulls from the table; ranges and low-cardinality categories from the profile."""
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        stats = profile.columns.get(name)
        nullable = column.null_count > 0 or bool(stats and stats.missing)
        low: float | None = None
        high: float | None = None
        categories: tuple[str, ...] | None = None
        if isinstance(stats, NumericProfile) and stats.present:
            low, high = float(stats.min), float(stats.max)
        elif isinstance(stats, CategoricalProfile) and stats.frequencies.exact:
            counts = stats.counts()
            if 0 < len(counts) <= MAX_CATEGORIES:
                categories = tuple(sorted(counts))
        columns.append(ColumnSchema(name, str(column.type), nullable, low, high, categories))
    return Schema(tuple(columns))


def validate_table(table: pa.Table, schema: Schema) -> list[Violation]:
    """Every way the table breaks the schema."""
    violations: list[Violation] = []
    present = set(table.column_names)
    for expected in schema.columns:
        if expected.name not in present:
            violations.append(
                Violation(expected.name, "missing_column", table.num_rows, [], "column is missing")
            )
    for name in table.column_names:
        wanted = schema.column(name)
        if wanted is None:
            violations.append(Violation(name, "extra_column", table.num_rows, [], "not in schema"))
            continue
        violations.extend(_check_column(table.column(name), wanted))
    return violations


def _check_column(column: pa.ChunkedArray, expected: ColumnSchema) -> list[Violation]:
    found: list[Violation] = []
    name = expected.name
    if not _compatible(str(column.type), expected.dtype, column.type):
        return [
            Violation(
                name,
                "dtype",
                len(column),
                [str(column.type)],
                f"type {column.type} where the schema says {expected.dtype}",
            )
        ]
    if not expected.nullable and column.null_count:
        found.append(Violation(name, "null", column.null_count, [None], "nulls not allowed"))
    kind = column_kind(column.type)
    if kind == NUMERIC and not pa.types.is_temporal(column.type):
        values = pc.cast(column, pa.float64())
        if expected.min is not None:
            found.extend(_outside(name, values, pc.less(values, expected.min), "below_min"))
        if expected.max is not None:
            found.extend(_outside(name, values, pc.greater(values, expected.max), "above_max"))
    elif kind == CATEGORICAL and expected.categories is not None:
        text = pc.cast(column, pa.string())
        allowed = pa.array(list(expected.categories), pa.string())
        unknown = pc.and_(pc.invert(pc.is_in(text, value_set=allowed)), pc.is_valid(text))
        found.extend(_outside(name, text, unknown, "unknown_category"))
    return found


def _outside(name: str, values: Any, mask: Any, kind: str) -> list[Violation]:
    count = pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0
    if not count:
        return []
    bad = pc.filter(values, pc.fill_null(mask, False))
    examples = list(dict.fromkeys(bad.slice(0, 100).to_pylist()))[:MAX_EXAMPLES]
    return [Violation(name, kind, int(count), examples, f"{count} values {kind.replace('_', ' ')}")]


def _compatible(actual: str, expected: str, arrow_type: pa.DataType) -> bool:
    if actual == expected:
        return True
    family = _family(expected)
    if family == "float":
        return bool(pa.types.is_floating(arrow_type) or pa.types.is_integer(arrow_type))
    if family == "int":
        return bool(pa.types.is_integer(arrow_type))
    if family == "string":
        return bool(
            pa.types.is_string(arrow_type)
            or pa.types.is_large_string(arrow_type)
            or (
                pa.types.is_dictionary(arrow_type)
                and _family(str(arrow_type.value_type)) == "string"
            )
        )
    return False


def _family(dtype: str) -> str:
    if dtype.startswith(("int", "uint")):
        return "int"
    if dtype in {"double", "float", "halffloat"} or dtype.startswith("float"):
        return "float"
    if dtype in {"string", "large_string"}:
        return "string"
    return dtype


def summarize(violations: Sequence[Violation], limit: int = 5) -> str:
    """One line naming the first few violations."""
    parts = [f"{v.column}: {v.kind} ({v.count})" for v in violations[:limit]]
    more = f" and {len(violations) - limit} more" if len(violations) > limit else ""
    return "; ".join(parts) + more
