"""Tables: Arrow in memory, Parquet at rest, and the profile computed column by column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loopml.stats import TableProfile, profile_column

NUMERIC = "numeric"
CATEGORICAL = "categorical"


def column_kind(arrow_type: pa.DataType) -> str:
    """Numbers and times are profiled as numbers; everything else as categories."""
    if pa.types.is_boolean(arrow_type):
        return CATEGORICAL
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
        or pa.types.is_temporal(arrow_type)
    ):
        return NUMERIC
    return CATEGORICAL


def column_values(column: pa.ChunkedArray, kind: str) -> np.ndarray[Any, Any]:
    """The column as a numpy array the stats layer takes (floats with NaN, or objects with None)."""
    if kind == NUMERIC:
        if pa.types.is_date(column.type):
            column = pc.cast(column, pa.timestamp("s"))
        if pa.types.is_temporal(column.type):
            column = pc.cast(column, pa.int64())
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def profile_arrow(table: pa.Table) -> TableProfile:
    """The mergeable profile of every column, one column at a time to bound memory."""
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column_kind(column.type)
        columns[name] = profile_column(column_values(column, kind), kind)
    return TableProfile(row_count=table.num_rows, columns=columns)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write with fixed options, so equal tables give equal bytes (and equal digests)."""
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True)


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns)
