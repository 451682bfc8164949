"""Tables: Arrow in memory, Parquet at rest, and the profile computed column by column."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loopml.stats import ColumnProfile, TableProfile, profile_column

NUMERIC = "numeric"
CATEGORICAL = "categorical"
PARALLEL_MIN_ROWS = 50_000  # below this, threads cost more than they save
MAX_THREADS = 8  # each holds a few MiB of working copies (a slice of one column at a time)


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
        # Unsafe on purpose: nanosecond times exceed 2**53; a float keeps them to ~0.1 us.
        return np.asarray(pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False))
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def profile_arrow(table: pa.Table) -> TableProfile:
    """The mergeable profile of every column, a few columns at a time to bound memory.

    Big tables are profiled on a few threads, one column each: the numeric work (sorts, numpy
    passes, Arrow casts) releases the GIL, so columns go side by side on several cores while
    only one column per thread is ever copied out of the table (and that a slice at a time).
    """
    workers = min(table.num_columns, _threads()) if table.num_rows >= PARALLEL_MIN_ROWS else 1
    profiles = _profile_columns(table.columns, workers)
    return TableProfile(
        row_count=table.num_rows, columns=dict(zip(table.column_names, profiles, strict=True))
    )


def _profile_columns(columns: list[pa.ChunkedArray], workers: int) -> list[ColumnProfile]:
    """Each column's profile, in order; the calling thread works too (one thread fewer)."""
    if workers <= 1:
        return [_profile(column) for column in columns]
    profiles: list[ColumnProfile | None] = [None] * len(columns)
    todo = iter(range(len(columns)))
    lock, failed = threading.Lock(), threading.Event()

    def drain() -> None:
        while not failed.is_set():
            with lock:
                index = next(todo, None)
            if index is None:
                return
            try:
                profiles[index] = _profile(columns[index])
            except BaseException:
                failed.set()  # the others stop after their current column
                raise

    with ThreadPoolExecutor(workers - 1, thread_name_prefix="loopml-profile") as pool:
        helpers = [pool.submit(drain) for _ in range(workers - 1)]
        drain()
        for helper in helpers:
            helper.result()
    return [profile for profile in profiles if profile is not None]


def _profile(column: pa.ChunkedArray) -> ColumnProfile:
    kind = column_kind(column.type)
    return profile_column(column_values(column, kind), kind)


def _threads() -> int:
    """Cores this process may use, at most ``MAX_THREADS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write with fixed options, so equal tables give equal bytes (and equal digests)."""
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True)


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns)
