"""What ``data.add`` accepts: pandas/polars DataFrames, Arrow tables, a file, a folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from loopml.errors import InvalidInput


@dataclass(frozen=True)
class TableSource:
    """Tabular data, as Arrow (stored as Parquet, profiled, schema inferred)."""

    table: pa.Table


@dataclass(frozen=True)
class PathSource:
    """A file or a folder on the local disk (stored as a manifest of file digests)."""

    path: Path
    is_folder: bool


def classify(source: Any) -> TableSource | PathSource:
    """Turn a user's source into one of the two kinds, or say clearly what is accepted."""
    if isinstance(source, pa.Table):
        return TableSource(source)
    if isinstance(source, pa.RecordBatch):
        return TableSource(pa.Table.from_batches([source]))
    module = type(source).__module__.split(".")[0]
    if module == "pandas" and type(source).__name__ == "DataFrame":
        return TableSource(_from_pandas(source))
    if module == "polars" and type(source).__name__ == "DataFrame":
        return TableSource(source.to_arrow())
    if isinstance(source, str | os.PathLike):
        return _path_source(Path(source))
    raise InvalidInput(
        f"cannot version a {type(source).__module__}.{type(source).__name__}",
        field="source",
        hint="pass a pandas or polars DataFrame, a pyarrow Table, or the path of a file or folder",
    )


def _from_pandas(frame: Any) -> pa.Table:
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(
            f"the DataFrame cannot be stored as a table: {exc}",
            field="source",
            hint="give each column one type (mixed Python objects cannot be stored as Parquet)",
        ) from None


def _path_source(path: Path) -> PathSource:
    if not path.exists():
        raise InvalidInput(f"no such file or folder: {path}", field="source", value=str(path))
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise InvalidInput(f"cannot read folder {path}", field="source", value=str(path))
        return PathSource(path, is_folder=True)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise InvalidInput(
            f"cannot read {path}: not a readable regular file", field="source", value=str(path)
        )
    return PathSource(path, is_folder=False)
