"""The prediction log: buffered, never blocking, written as Parquet segments blob-first."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from loopml._util.ids import new_id
from loopml.artifacts import BlobStore
from loopml.entities import FeedbackLabel
from loopml.predictions.log import (
    CLASSES_METADATA_KEY,
    LoggedPrediction,
    PredictionLog,
    read_predictions,
)
from loopml.stats.profile import TableProfile
from loopml.workspace import Workspace, default_workspace


def row(
    t: int = 1_000,
    *,
    version: int = 1,
    role: str = "primary",
    inputs: dict[str, Any] | None = None,
    prediction: Any = 1,
    probabilities: list[float] | None = None,
) -> LoggedPrediction:
    return LoggedPrediction(
        prediction_id=new_id(),
        time_ms=t,
        model_name="churn",
        model_version=version,
        role=role,
        latency_ms=1.5,
        inputs={"age": 40, "plan": "pro"} if inputs is None else inputs,
        prediction=prediction,
        probabilities=probabilities,
    )


@pytest.fixture
def workspace(tmp_home: Path) -> Workspace:
    return default_workspace()


def test_log_flush_and_read_back(workspace: Workspace) -> None:
    log = PredictionLog("churn", classes=["stay", "leave"])
    rows = [
        row(1_000, inputs={"age": 40, "plan": "pro"}, prediction=1, probabilities=[0.2, 0.8]),
        row(2_000, version=2, role="canary", inputs={"age": 31, "plan": "free"}, prediction=0),
        row(1_500, role="shadow", inputs={"age": 50}, prediction=1, probabilities=[0.4, 0.6]),
    ]
    assert log.log(rows) == 3
    assert log.stats["buffered"] == 3
    assert log.flush() == 3
    assert log.flush() == 0
    assert log.stats == {
        "logged": 3,
        "dropped": 0,
        "written": 3,
        "segments": 1,
        "buffered": 0,
        "write_errors": 0,
    }

    (segment,) = workspace.store.predictions.segments("churn")
    assert (segment.rows, segment.model_versions) == (3, (1, 2))
    assert (segment.start_time, segment.end_time) == (1_000, 2_000)
    assert workspace.blobs.exists(segment.blob_digest)
    assert segment.blob_digest in workspace.store.referenced_digests()

    frame = read_predictions("churn")
    assert frame["time_ms"].tolist() == [1_000, 1_500, 2_000]
    assert frame["prediction_id"].tolist() == [
        rows[0].prediction_id,
        rows[2].prediction_id,
        rows[1].prediction_id,
    ]
    assert frame["model_version"].tolist() == [1, 1, 2]
    assert frame["role"].tolist() == ["primary", "shadow", "canary"]
    assert frame["input.age"].tolist() == [40, 50, 31]
    assert frame["input.plan"].tolist()[0] == "pro" and frame["input.plan"].isna().tolist()[1]
    assert frame["prediction"].tolist() == [1.0, 1.0, 0.0]
    assert frame["proba.1"].tolist()[:2] == [0.8, 0.6] and math.isnan(frame["proba.1"].iloc[2])
    assert frame["label"].tolist() == [None, None, None]
    assert frame.attrs["classes"] == ["stay", "leave"]


def test_parquet_schema_types_and_class_metadata(workspace: Workspace, tmp_path: Path) -> None:
    log = PredictionLog("churn", classes=[0, 1])
    log.log(
        [
            row(inputs={"mixed": 1, "x": 1.5}, prediction="yes", probabilities=[0.5, 0.5]),
            row(inputs={"mixed": "a", "x": 2.5}, prediction="no", probabilities=[0.1, 0.9]),
        ]
    )
    log.flush()
    (segment,) = workspace.store.predictions.segments("churn")
    workspace.blobs.get_file(segment.blob_digest, tmp_path / "s.parquet")
    parquet = pq.ParquetFile(tmp_path / "s.parquet")
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    types = {field.name: str(field.type) for field in parquet.schema_arrow}
    assert types == {
        "prediction_id": "string",
        "time_ms": "int64",
        "model_name": "string",
        "model_version": "int64",
        "role": "string",
        "latency_ms": "double",
        "input.mixed": "string",
        "input.x": "double",
        "prediction": "string",
        "proba.0": "double",
        "proba.1": "double",
    }
    assert parquet.schema_arrow.metadata[CLASSES_METADATA_KEY] == b"[0, 1]"


def test_feedback_is_joined_by_prediction_id(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    rows = [row(1_000), row(2_000), row(3_000)]
    log.log(rows)
    log.flush()
    workspace.store.predictions.add_feedback(
        [
            FeedbackLabel(rows[0].prediction_id, 1, 5_000),
            FeedbackLabel(rows[2].prediction_id, 0, 6_000),
        ]
    )
    frame = read_predictions("churn")
    assert frame["label"].tolist() == [1, None, 0]
    assert "label" not in read_predictions("churn", with_feedback=False).columns


def test_time_range_filters_segments_and_rows(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    log.log([row(1_000), row(2_000)])
    log.flush()
    log.log([row(5_000), row(6_000)])
    log.flush()
    assert read_predictions("churn", since=1_500, until=5_500)["time_ms"].tolist() == [2_000, 5_000]
    assert read_predictions("churn", since=7_000).empty
    empty = read_predictions("nobody")
    assert empty.empty and {"prediction_id", "time_ms", "label"} <= set(empty.columns)


def test_segments_with_differing_column_types_concatenate(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    log.log([row(1_000, inputs={"x": 1, "code": 7})])
    log.flush()
    log.log([row(2_000, inputs={"x": 2.5, "code": "B"}, prediction="up")])
    log.flush()
    frame = read_predictions("churn")
    assert frame["input.x"].tolist() == [1.0, 2.5]
    assert frame["input.code"].tolist() == ["7", "B"]
    assert frame["prediction"].tolist() == ["1.0", "up"]


def test_profile_is_stored_and_merges(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    log.log([row(inputs={"age": a, "plan": p}) for a, p in [(20, "pro"), (30, "free")]])
    log.flush()
    log.log([row(inputs={"age": 40, "plan": "pro"}, prediction=0)])
    log.flush()
    first, second = workspace.store.predictions.segments("churn")
    assert first.profile is not None and second.profile is not None
    merged = TableProfile.from_dict(first.profile).merge(TableProfile.from_dict(second.profile))
    assert merged.row_count == 3
    assert set(merged.columns) == {"input.age", "input.plan", "prediction"}
    age = merged.to_dict()["columns"]["input.age"]
    assert age["kind"] == "numeric" and (age["min"], age["max"]) == (20.0, 40.0)
    assert merged.to_dict()["columns"]["input.plan"]["kind"] == "categorical"


def test_full_buffer_drops_and_counts_without_blocking(workspace: Workspace) -> None:
    log = PredictionLog("churn", max_buffer=5, flush_rows=100)
    assert log.log([row() for _ in range(3)]) == 3
    assert log.log([row() for _ in range(4)]) == 2
    started = time.perf_counter()
    assert log.log([row()]) == 0
    assert time.perf_counter() - started < 0.05
    assert log.stats["logged"] == 5 and log.stats["dropped"] == 3 and log.stats["buffered"] == 5


def test_log_does_not_wait_for_a_slow_write(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_put = BlobStore.put_file

    def slow_put(self: BlobStore, path: Any) -> Any:
        entered.set()
        release.wait(10)
        return real_put(self, path)

    monkeypatch.setattr(BlobStore, "put_file", slow_put)
    log = PredictionLog("churn")
    log.log([row()])
    writer = threading.Thread(target=log.flush)
    writer.start()
    try:
        assert entered.wait(10)
        started = time.perf_counter()
        assert log.log([row(), row()]) == 2
        assert time.perf_counter() - started < 0.05
    finally:
        release.set()
        writer.join(10)
    assert log.flush() == 2 and log.stats["written"] == 3


def test_failing_sink_keeps_rows_then_succeeds(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_put = BlobStore.put_file

    def broken(self: BlobStore, path: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(BlobStore, "put_file", broken)
    log = PredictionLog("churn", max_buffer=4)
    log.log([row(1), row(2), row(3)])
    assert log.flush() == 0
    assert log.stats["write_errors"] == 1 and log.stats["buffered"] == 3
    assert workspace.store.predictions.segments("churn") == []
    log.log([row(4), row(5)])  # one fits beside the kept rows
    assert log.stats["buffered"] == 4 and log.stats["dropped"] == 1

    monkeypatch.setattr(BlobStore, "put_file", real_put)
    assert log.flush() == 4
    assert log.stats["write_errors"] == 1 and log.stats["written"] == 4
    assert read_predictions("churn")["time_ms"].tolist() == [1, 2, 3, 4]


def test_failed_registration_keeps_rows(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictions = workspace.store.predictions
    real_add = predictions.add_segment

    def refuse(segment: Any) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(predictions, "add_segment", refuse)
    log = PredictionLog("churn")
    log.log([row()])
    assert log.flush() == 0 and log.stats["buffered"] == 1
    monkeypatch.setattr(predictions, "add_segment", real_add)
    assert log.flush() == 1 and len(predictions.segments("churn")) == 1


def test_segment_is_registered_only_after_its_blob_exists(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictions = workspace.store.predictions
    real_add = predictions.add_segment
    seen: list[bool] = []

    def checked(segment: Any) -> None:
        seen.append(workspace.blobs.exists(segment.blob_digest))
        real_add(segment)

    monkeypatch.setattr(predictions, "add_segment", checked)
    log = PredictionLog("churn")
    log.log([row()])
    log.flush()
    assert seen == [True]


def test_background_writer_flushes_on_rows_and_close_flushes_the_rest(workspace: Workspace) -> None:
    log = PredictionLog("churn", flush_rows=3, flush_interval_s=60)
    log.start()
    log.start()
    log.log([row() for _ in range(3)])
    deadline = time.monotonic() + 10
    while log.stats["segments"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    log.log([row()])
    log.close()
    assert log.stats["written"] == 4 and log.stats["segments"] == 2
    assert log.log([row()]) == 0 and log.stats["dropped"] == 1
    assert len(read_predictions("churn")) == 4


def test_background_writer_flushes_on_interval(workspace: Workspace) -> None:
    log = PredictionLog("churn", flush_interval_s=0.05)
    log.start()
    try:
        log.log([row()])
        deadline = time.monotonic() + 10
        while log.stats["written"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        log.close()


def test_close_without_start_flushes(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    log.log([row(), row()])
    log.close()
    assert log.stats["written"] == 2


def test_segments_after_a_watermark(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    log.log([row(1)])
    log.flush()
    (first,) = workspace.store.predictions.segments("churn")
    log.log([row(2)])
    log.flush()
    log.log([row(3)])
    log.flush()
    after = workspace.store.predictions.segments("churn", after_segment_id=first.segment_id)
    assert [(s.start_time, s.rows) for s in after] == [(2, 1), (3, 1)]


def test_log_never_raises_on_bad_input(workspace: Workspace) -> None:
    log = PredictionLog("churn")
    assert log.log(None) == 0  # type: ignore[arg-type]
    weird = row(inputs={"nested": {"a": [1, 2]}, "obj": object()})
    assert log.log([weird]) == 1
    assert log.flush() == 1
    frame = read_predictions("churn")
    assert frame["input.nested"].tolist() == ['{"a": [1, 2]}']
