"""The prediction log: every served prediction, buffered in memory and written as Parquet segments.

Serving must never wait on the log, so :meth:`PredictionLog.log` only appends to a bounded buffer
under a lock (rows that do not fit are dropped and counted) and a background thread writes the
buffer out every ``flush_rows`` rows or ``flush_interval_s`` seconds. Each write is one Parquet file
(a *segment*): stored as a blob first, then registered in the store with its time range, model
versions and mergeable profile, so a registered segment always has its blob and a row counts as
acknowledged once its segment is registered. A failed write keeps its rows for the next attempt.

:func:`read_predictions` reads a model's segments back, joined with feedback labels, for monitoring.
"""

from __future__ import annotations

import contextlib
import json
import logging
import numbers
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import PredictionSegment
from loopml.stats.profile import ColumnProfile, TableProfile, profile_column
from loopml.workspace import Workspace, default_workspace

__all__ = [
    "CLASSES_METADATA_KEY",
    "LoggedPrediction",
    "PredictionLog",
    "read_predictions",
    "store_segment",
]

logger = logging.getLogger(__name__)

INPUT_PREFIX = "input."
PROBA_PREFIX = "proba."
# Parquet schema metadata key holding the class labels (a JSON list), index i naming proba.<i>.
CLASSES_METADATA_KEY = b"loopml.classes"
BASE_COLUMNS = (
    "prediction_id",
    "time_ms",
    "model_name",
    "model_version",
    "role",
    "latency_ms",
    "prediction",
)
_ARROW_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    OverflowError,
    TypeError,
    ValueError,
)


@dataclass(frozen=True)
class LoggedPrediction:
    """One served prediction: which model version made it, for which role, from which inputs."""

    prediction_id: str
    time_ms: int
    model_name: str
    model_version: int
    role: str
    latency_ms: float
    inputs: Mapping[str, Any]
    prediction: Any
    probabilities: Sequence[float] | None = None


class PredictionLog:
    """The buffered, never-blocking prediction log of one model (all its versions and roles)."""

    def __init__(
        self,
        model_name: str,
        *,
        max_buffer: int = 100_000,
        flush_rows: int = 10_000,
        flush_interval_s: float = 5.0,
        workspace: Workspace | None = None,
        classes: Sequence[Any] | None = None,
    ) -> None:
        self.model_name = model_name
        self.max_buffer = max(1, int(max_buffer))
        self.flush_rows = max(1, int(flush_rows))
        self.flush_interval_s = float(flush_interval_s)
        self.classes = None if classes is None else list(classes)
        self._workspace = workspace
        self._lock = threading.Lock()  # guards the buffer and the counters; held only briefly
        self._flush_lock = threading.Lock()  # one write at a time
        self._buffer: list[LoggedPrediction] = []
        self._counts = dict.fromkeys(
            ("logged", "dropped", "written", "segments", "write_errors"), 0
        )
        self._closed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"PredictionLog({self.model_name!r}, buffered={len(self._buffer)})"

    @property
    def stats(self) -> dict[str, int]:
        """Rows logged, dropped, written; segments written; rows buffered; failed writes."""
        with self._lock:
            return {**self._counts, "buffered": len(self._buffer)}

    def log(self, rows: Sequence[LoggedPrediction]) -> int:
        """Buffer rows without blocking or raising; return how many fit (the rest are dropped)."""
        try:
            batch = list(rows)
        except Exception:
            return 0
        with self._lock:
            if self._closed:
                self._counts["dropped"] += len(batch)
                return 0
            room = max(0, self.max_buffer - len(self._buffer))
            accepted = batch[:room]
            self._buffer.extend(accepted)
            self._counts["logged"] += len(accepted)
            self._counts["dropped"] += len(batch) - len(accepted)
            full = len(self._buffer) >= self.flush_rows
        if full:
            self._wake.set()
        return len(accepted)

    def start(self) -> None:
        """Start the background writer (a daemon thread); calling it again does nothing."""
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"loopml-predlog-{self.model_name}", daemon=True
            )
        self._thread.start()

    def flush(self) -> int:
        """Write everything buffered now as one segment; return the rows written (0 on failure)."""
        return self._flush()[0]

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new rows, write what is buffered and stop the writer (graceful shutdown)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                logger.warning(
                    "loopml serve: the prediction log of %s did not finish writing in %.0f s",
                    self.model_name,
                    timeout,
                )
                return
        self.flush()
        left = self.stats["buffered"]
        if left:
            logger.warning(
                "loopml serve: %d logged predictions of %s could not be written",
                left,
                self.model_name,
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            _written, failed = self._flush()
            if failed:
                # Back off instead of retrying on every full buffer while the sink is down.
                self._stop.wait(self.flush_interval_s)
        self._flush()

    def _flush(self) -> tuple[int, bool]:
        """Write the buffer; return (rows written, whether the write failed)."""
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return 0, False
            try:
                self._write(batch)
            except Exception as exc:
                with self._lock:
                    kept = batch + self._buffer
                    self._buffer = kept[: self.max_buffer]
                    self._counts["dropped"] += len(kept) - len(self._buffer)
                    self._counts["write_errors"] += 1
                logger.warning(
                    "loopml serve: writing %d logged predictions of %s failed (kept for the next "
                    "attempt): %s: %s",
                    len(batch),
                    self.model_name,
                    type(exc).__name__,
                    exc,
                )
                return 0, True
            with self._lock:
                self._counts["written"] += len(batch)
                self._counts["segments"] += 1
            return len(batch), False

    def _write(self, batch: list[LoggedPrediction]) -> PredictionSegment:
        """Store one segment: its Parquet blob first, then its row in the store."""
        workspace = self._workspace or default_workspace()
        return store_segment(build_table(batch, self.classes), self.model_name, workspace)


def store_segment(table: pa.Table, model_name: str, workspace: Workspace) -> PredictionSegment:
    """Write a segment table (see :func:`build_table`) as a blob, then register it with its profile.

    The blob comes first, so a registered segment always has its rows.
    """
    path = os.path.join(workspace.tmp_dir, f"predlog-{new_id()}.parquet")
    try:
        pq.write_table(table, path, compression="zstd")
        ref = workspace.blobs.put_file(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    times = table.column("time_ms")
    segment = PredictionSegment(
        segment_id=new_id(),
        model_name=model_name,
        model_versions=tuple(
            sorted({int(v) for v in pc.unique(table.column("model_version")).to_pylist()})
        ),
        start_time=int(pc.min(times).as_py()),
        end_time=int(pc.max(times).as_py()),
        rows=table.num_rows,
        blob_digest=ref.digest,
        size_bytes=ref.size,
        profile=profile_segment(table).to_dict(),
        creation_time=now_ms(),
    )
    workspace.store.predictions.add_segment(segment)
    return segment


def build_table(rows: Sequence[LoggedPrediction], classes: Sequence[Any] | None = None) -> pa.Table:
    """The Parquet table of one segment (see the module docstring for its columns)."""
    columns: dict[str, pa.Array] = {
        "prediction_id": pa.array([r.prediction_id for r in rows], pa.string()),
        "time_ms": pa.array([r.time_ms for r in rows], pa.int64()),
        "model_name": pa.array([r.model_name for r in rows], pa.string()),
        "model_version": pa.array([r.model_version for r in rows], pa.int64()),
        "role": pa.array([r.role for r in rows], pa.string()),
        "latency_ms": pa.array([r.latency_ms for r in rows], pa.float64()),
    }
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.inputs))
    for name in names:
        columns[f"{INPUT_PREFIX}{name}"] = _infer([r.inputs.get(name) for r in rows])
    columns["prediction"] = _prediction_array([r.prediction for r in rows])
    width = max((len(r.probabilities) for r in rows if r.probabilities is not None), default=0)
    for i in range(width):
        columns[f"{PROBA_PREFIX}{i}"] = pa.array(
            [_proba(r.probabilities, i) for r in rows], pa.float64()
        )
    metadata = None
    if classes is not None:
        metadata = {CLASSES_METADATA_KEY: json.dumps(list(classes), default=str).encode()}
    return pa.table(columns, metadata=metadata)


def profile_segment(table: pa.Table) -> TableProfile:
    """The mergeable profile of a segment's ``input.*`` columns and ``prediction``.

    Numeric columns are profiled as numbers, the rest as categories; a column that cannot be
    profiled (nested values) is left out rather than losing the segment.
    """
    profiles: dict[str, ColumnProfile] = {}
    for name in table.column_names:
        if not (name.startswith(INPUT_PREFIX) or name == "prediction"):
            continue
        column = table.column(name)
        try:
            if _is_numeric(column.type):
                values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
                profiles[name] = profile_column(values, "numeric")
            else:
                objects = np.empty(len(column), dtype=object)
                objects[:] = column.to_pylist()
                profiles[name] = profile_column(objects, "categorical")
        except Exception as exc:
            logger.debug("loopml serve: column %s not profiled: %s", name, exc)
    return TableProfile(table.num_rows, profiles)


def read_predictions(
    model_name: str,
    *,
    since: int | None = None,
    until: int | None = None,
    with_feedback: bool = True,
    workspace: Workspace | None = None,
) -> pd.DataFrame:
    """Every logged prediction of a model (optionally with ``since <= time_ms <= until``).

    Segments are read back verified by the blob store, concatenated (a column whose type
    differs between segments becomes float64 when numeric everywhere, text otherwise) and
    sorted by time (stable, so arrival order breaks ties). With ``with_feedback`` a ``label``
    column holds each prediction's feedback label, None where none arrived. The class labels
    of the newest segment that names them are in ``frame.attrs["classes"]``.
    """
    ws = workspace or default_workspace()
    segments = ws.store.predictions.segments(model_name, since=since, until=until)
    tables: list[pa.Table] = []
    classes: list[Any] | None = None
    for segment in segments:
        data = ws.blobs.read_bytes(
            segment.blob_digest,
            context=f"prediction log segment {segment.segment_id} of {model_name}",
        )
        table = pq.read_table(pa.BufferReader(data))
        meta = table.schema.metadata or {}
        if CLASSES_METADATA_KEY in meta:
            classes = json.loads(meta[CLASSES_METADATA_KEY])
        table = table.replace_schema_metadata(None)
        if since is not None or until is not None:
            times = table.column("time_ms")
            mask = pc.and_(
                pc.greater_equal(times, since if since is not None else -(2**63)),
                pc.less_equal(times, until if until is not None else 2**63 - 1),
            )
            table = table.filter(mask)
        tables.append(table)
    frame: pd.DataFrame
    if tables:
        frame = concat_tables(tables).to_pandas()
        frame = frame.sort_values("time_ms", kind="stable").reset_index(drop=True)
    else:
        frame = pd.DataFrame({name: [] for name in BASE_COLUMNS})
    if with_feedback:
        ids = [str(i) for i in frame["prediction_id"]]
        labels = ws.store.predictions.feedback(ids) if ids else {}
        found = [labels[i].label if i in labels else None for i in ids]
        frame["label"] = pd.Series(found, index=frame.index, dtype=object)
    if classes is not None:
        frame.attrs["classes"] = classes
    return frame


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _is_nested(kind: pa.DataType) -> bool:
    return bool(pa.types.is_nested(kind) or pa.types.is_dictionary(kind))


def _to_text(values: Sequence[Any]) -> pa.Array:
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return str(value)


def _infer(values: Sequence[Any]) -> pa.Array:
    """An input column as pyarrow infers it; mixed or nested values become text."""
    try:
        array = pa.array(values)
    except _ARROW_ERRORS:
        return _to_text(values)
    if _is_nested(array.type):
        return _to_text(values)
    return array


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _prediction_array(values: Sequence[Any]) -> pa.Array:
    """Predictions as float64 when every one is a number (or missing), as text otherwise."""
    present = [v for v in values if v is not None]
    if all(_is_number(v) for v in present):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return _to_text(values)


def _proba(probabilities: Sequence[float] | None, i: int) -> float | None:
    if probabilities is None or i >= len(probabilities):
        return None
    value = probabilities[i]
    return None if value is None else float(value)


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Concatenate segments whose columns may differ in presence or type."""
    names: dict[str, None] = {}
    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            names[field.name] = None
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(field.type)
    target: dict[str, pa.DataType] = {}
    for name in names:
        found = types.get(name, set())
        if not found:
            target[name] = pa.null()
        elif len(found) == 1:
            target[name] = next(iter(found))
        elif all(_is_numeric(t) for t in found):
            target[name] = pa.float64()
        else:
            target[name] = pa.string()
    schema = pa.schema([(name, target[name]) for name in names])
    aligned = []
    for table in tables:
        arrays = []
        for name in names:
            kind = target[name]
            if name not in table.column_names:
                arrays.append(pa.nulls(table.num_rows, kind))
                continue
            column = table.column(name)
            if column.type == kind:
                arrays.append(column)
            elif pa.types.is_string(kind) and not pa.types.is_null(column.type):
                arrays.append(_to_text(column.to_pylist()))
            else:
                arrays.append(pc.cast(column, kind))
        aligned.append(pa.Table.from_arrays(arrays, schema=schema))
    return pa.concat_tables(aligned)
