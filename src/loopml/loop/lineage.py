"""Lineage: from one production prediction back to everything behind it, and from a data version
forward to everything built from it.

Both walks only follow records the other steps already leave: a logged prediction names its model
version; a version names its run, its training data and its admitting evaluation; the training loop
tags the data versions it builds with ``base`` and ``loop_iteration`` and records each iteration's
data, run and model version. The answers are plain JSON-able dicts (``loopml lineage`` renders
them).

A prediction id is a UUIDv7 whose first 48 bits are the millisecond it was made, so finding one
never scans the log: the store returns the few segments (of any model) whose time range is near
that millisecond, by an index range per model, and only their Parquet files are opened.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loopml import data as datasets
from loopml._util.ids import id_time_ms
from loopml.entities import (
    DatasetVersionRecord,
    LoopIteration,
    ModelVersion,
    PredictionSegment,
    parse_ref,
)
from loopml.errors import InvalidInput, NotFound
from loopml.predictions.log import CLASSES_METADATA_KEY, INPUT_PREFIX, PROBA_PREFIX
from loopml.workspace import Workspace, default_workspace

__all__ = ["data_lineage", "prediction_lineage"]

# How far a row's time may be from its id's millisecond: the server makes both within one request
# (milliseconds apart); the margin also covers a writer whose ids borrowed a few milliseconds.
_SLACK_MS = 60_000
# Iterations read per model when matching them to a model or data version (newest first).
_ITERATIONS = 10_000
_DATA_ROLES = ("base", "training", "holdout")


def prediction_lineage(prediction_id: str, *, workspace: Workspace | None = None) -> dict[str, Any]:
    """Everything behind one logged prediction: the row itself (inputs, output, feedback), the
    model version that made it, its run, the training data version and the loop iteration.

    Parts that were deleted since are ``{"…": id, "missing": True}``; parts that never existed
    (a version registered by hand has no loop iteration) are None.
    """
    ws = workspace or default_workspace()
    wanted = _prediction_id(prediction_id)
    row, segment, classes = _find_prediction(ws, wanted)
    name, number = str(row["model_name"]), int(row["model_version"])
    found: dict[str, Any] = {
        "prediction": _prediction(ws, row, segment, classes),
        "model_version": {"name": name, "version": number, "missing": True},
        "run": None,
        "data": None,
        "loop_iteration": None,
    }
    try:
        version = ws.store.models.version(name, number)
    except NotFound:
        return found
    data_record = _resolve_data(ws, version.data_version)
    found["model_version"] = _model_version(ws, version)
    found["run"] = _run(ws, version.run_id)
    if version.data_version is not None:
        found["data"] = (
            _data_summary(data_record, recorded_as=version.data_version)
            if data_record is not None
            else {"ref": version.data_version, "missing": True}
        )
    iteration = _iteration_of(ws, version, data_record)
    found["loop_iteration"] = None if iteration is None else _iteration_summary(iteration)
    return found


def data_lineage(ref: str, *, workspace: Workspace | None = None) -> dict[str, Any]:
    """Everything built from one data version (``name@N``, an alias or ``name`` for the latest):
    the model versions trained on it, evaluations run on it, runs that logged it as an input, the
    data versions derived from it (with the model versions trained on those) and the loop
    iterations that used it as base, training or held-out data."""
    ws = workspace or default_workspace()
    record = ws.store.datasets.version(parse_ref(ref))
    exact = record.ref
    models = ws.store.models.versions_trained_on(exact)
    derived = ws.store.datasets.tagged("base", exact)
    derived_models = {r.ref: ws.store.models.versions_trained_on(r.ref) for r in derived}
    names = {v.name for v in models} | {v.name for vs in derived_models.values() for v in vs}
    tagged = [r.tags.get("loop_iteration") for r in (record, *derived)]
    return {
        "version": _data_summary(record),
        "models": [_model_summary(v) for v in models],
        "evaluations": [
            {
                "evaluation_id": e.evaluation_id,
                "model_uri": e.model_uri,
                "model_digest": e.model_digest,
                "run_id": e.run_id,
                "n_rows": e.n_rows,
                "creation_time": e.creation_time,
                "metrics": _metrics(e.result),
            }
            for e in ws.store.evaluations.for_data(exact)
        ],
        "runs": datasets.lineage(exact, workspace=ws),
        "derived": [
            {**_data_summary(r), "models": [_model_summary(v) for v in derived_models[r.ref]]}
            for r in derived
        ],
        "loop_iterations": _iterations_using(ws, exact, names, tagged),
    }


# -- the prediction ---------------------------------------------------------------------------


def _prediction_id(value: Any) -> str:
    """A prediction id as stored: 32 lowercase hex characters (the dashed UUID form accepted)."""
    text = value.strip().lower().replace("-", "") if isinstance(value, str) else ""
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text) or text[12] != "7":
        raise InvalidInput(
            f"{value!r:.80} is not a prediction id",
            field="prediction_id",
            value=value,
            hint="use one of the 32-character ids /predict returns in prediction_ids",
        )
    return text


def _find_prediction(
    ws: Workspace, prediction_id: str
) -> tuple[dict[str, Any], PredictionSegment, list[Any] | None]:
    made = id_time_ms(prediction_id)
    segments = ws.store.predictions.segments_at(made, _SLACK_MS)
    # The segments whose range holds the id's millisecond first: almost always the first read.
    segments.sort(key=lambda s: max(s.start_time - made, made - s.end_time, 0))
    for segment in segments:
        found = _read_row(ws, segment, prediction_id)
        if found is not None:
            return found[0], segment, found[1]
    where = "no segment" if not segments else f"none of the {len(segments)} segments"
    raise NotFound(
        f"prediction {prediction_id} is not in the prediction log ({where} logged around "
        f"{_iso(made)} holds it)",
        field="prediction_id",
        value=prediction_id,
        hint="a prediction is found once the server has written its log segment (every few "
        "seconds and at shutdown), and only in the project that served it",
    )


def _read_row(
    ws: Workspace, segment: PredictionSegment, prediction_id: str
) -> tuple[dict[str, Any], list[Any] | None] | None:
    data = ws.blobs.read_bytes(
        segment.blob_digest,
        context=f"prediction log segment {segment.segment_id} of {segment.model_name}",
    )
    source = pq.ParquetFile(pa.BufferReader(data))
    index = pc.index(source.read(columns=["prediction_id"]).column(0), prediction_id).as_py()
    if index is None or index < 0:
        return None
    table = source.read()
    meta = table.schema.metadata or {}
    classes = json.loads(meta[CLASSES_METADATA_KEY]) if CLASSES_METADATA_KEY in meta else None
    row: dict[str, Any] = table.slice(index, 1).to_pylist()[0]
    return row, classes


def _prediction(
    ws: Workspace, row: Mapping[str, Any], segment: PredictionSegment, classes: list[Any] | None
) -> dict[str, Any]:
    prediction_id = str(row["prediction_id"])
    inputs = {
        k[len(INPUT_PREFIX) :]: _plain(v) for k, v in row.items() if k.startswith(INPUT_PREFIX)
    }
    probas = sorted(
        (int(k[len(PROBA_PREFIX) :]), _plain(v))
        for k, v in row.items()
        if k.startswith(PROBA_PREFIX) and k[len(PROBA_PREFIX) :].isdigit()
    )
    probabilities = [p for _, p in probas]
    while probabilities and probabilities[-1] is None:
        probabilities.pop()
    label = ws.store.predictions.feedback([prediction_id]).get(prediction_id)
    return {
        "prediction_id": prediction_id,
        "time_ms": int(row["time_ms"]),
        "model_name": str(row["model_name"]),
        "model_version": int(row["model_version"]),
        "role": row.get("role"),
        "latency_ms": _plain(row.get("latency_ms")),
        "inputs": inputs,
        "prediction": _as_class(_plain(row.get("prediction")), classes),
        "classes": classes,
        "probabilities": probabilities or None,
        "feedback": None if label is None else {"label": label.label, "time_ms": label.time},
        "segment_id": segment.segment_id,
    }


def _as_class(value: Any, classes: list[Any] | None) -> Any:
    """The class label itself where the log stored it as a number (class 1 is logged as 1.0)."""
    if isinstance(value, float) and classes:
        for label in classes:
            if not isinstance(label, bool) and isinstance(label, int | float) and label == value:
                return label
    return value


# -- the model version, its run, its data and its iteration --------------------------------------


def _model_version(ws: Workspace, version: ModelVersion) -> dict[str, Any]:
    evaluation: dict[str, Any] | None = None
    if version.evaluation_id is not None:
        try:
            record = ws.store.evaluations.get(version.evaluation_id)
        except NotFound:
            evaluation = {"evaluation_id": version.evaluation_id, "missing": True}
        else:
            evaluation = {
                "evaluation_id": record.evaluation_id,
                "data_version": record.data_version,
                "n_rows": record.n_rows,
                "metrics": _metrics(record.result),
            }
    return {
        **_model_summary(version),
        "digest": version.digest,
        "flavor": version.flavor,
        "task": version.task,
        "target": version.target,
        "source": version.source,
        "data_version": version.data_version,
        "evaluation": evaluation,
    }


def _model_summary(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "aliases": list(version.aliases),
        "creation_time": version.creation_time,
        "run_id": version.run_id,
        "git_commit": version.git_commit,
        "evaluation_id": version.evaluation_id,
    }


def _run(ws: Workspace, run_id: str) -> dict[str, Any]:
    try:
        run = ws.store.runs.get(run_id)
    except NotFound:
        return {"run_id": run_id, "missing": True}
    info = run.info
    try:
        experiment: str | None = ws.store.experiments.get(info.experiment_id).name
    except NotFound:
        experiment = None
    return {
        "run_id": info.run_id,
        "name": info.run_name,
        "experiment_id": info.experiment_id,
        "experiment": experiment,
        "status": info.status.value,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "git_commit": info.git_commit,
        "git_branch": info.git_branch,
        "git_dirty": info.git_dirty,
        "entry_point": info.entry_point,
        "params": dict(run.data.params),
    }


def _resolve_data(ws: Workspace, ref: str | None) -> DatasetVersionRecord | None:
    if ref is None:
        return None
    try:
        return ws.store.datasets.version(parse_ref(ref))
    except (NotFound, InvalidInput):
        return None


def _data_summary(record: DatasetVersionRecord, recorded_as: str | None = None) -> dict[str, Any]:
    summary = {
        "ref": record.ref,
        "name": record.name,
        "version": record.version,
        "digest": record.digest,
        "kind": record.kind.value,
        "rows": record.rows,
        "size_bytes": record.size_bytes,
        "creation_time": record.creation_time,
        "aliases": list(record.aliases),
        "tags": dict(record.tags),
        "description": record.description,
    }
    if recorded_as is not None and recorded_as != record.ref:
        # Recorded as an alias or "latest": say which version it names now.
        summary["recorded_as"] = recorded_as
    return summary


def _iteration_of(
    ws: Workspace, version: ModelVersion, data: DatasetVersionRecord | None
) -> LoopIteration | None:
    """The iteration that registered ``version``: named by its training data's tag, or found
    among the model's iterations."""
    tagged = data.tags.get("loop_iteration") if data is not None else None
    if tagged:
        iteration = _get_iteration(ws, tagged)
        if iteration is not None and _registered(iteration, version):
            return iteration
    for iteration in ws.store.loop.iterations(version.name, limit=_ITERATIONS):
        if _registered(iteration, version):
            return iteration
    return None


def _registered(iteration: LoopIteration, version: ModelVersion) -> bool:
    return (iteration.model_name, iteration.model_version) == (version.name, version.version)


def _get_iteration(ws: Workspace, iteration_id: str) -> LoopIteration | None:
    try:
        return ws.store.loop.iteration(iteration_id)
    except (NotFound, InvalidInput):
        return None


def _iteration_summary(iteration: LoopIteration) -> dict[str, Any]:
    record = iteration.record
    trigger = record.get("trigger")
    data = record.get("data")
    return {
        "iteration_id": iteration.iteration_id,
        "model_name": iteration.model_name,
        "model_version": iteration.model_version,
        "status": iteration.status,
        "decision": iteration.decision,
        "reason": iteration.reason,
        "trigger": trigger.get("kind") if isinstance(trigger, Mapping) else None,
        "start_time": iteration.start_time,
        "end_time": iteration.end_time,
        "run_id": iteration.run_id,
        "data": dict(data) if isinstance(data, Mapping) else None,
    }


def _iterations_using(
    ws: Workspace, ref: str, model_names: Iterable[str], tagged: Iterable[str | None]
) -> list[dict[str, Any]]:
    """Iterations whose data (base, training or held-out) is ``ref``, oldest first.

    Candidates are the iterations the versions' tags name, plus the iterations of every model
    involved (an iteration that rebuilt identical data got the earlier version back, tags and
    all, so only its own record says it used it).
    """
    candidates: dict[str, LoopIteration] = {}
    for iteration_id in tagged:
        if iteration_id and (iteration := _get_iteration(ws, iteration_id)) is not None:
            candidates[iteration.iteration_id] = iteration
    names = set(model_names) | {i.model_name for i in candidates.values()}
    for name in sorted(names):
        for iteration in ws.store.loop.iterations(name, limit=_ITERATIONS):
            candidates.setdefault(iteration.iteration_id, iteration)
    found = []
    for iteration in sorted(candidates.values(), key=lambda i: (i.start_time, i.iteration_id)):
        data = iteration.record.get("data")
        roles = [r for r in _DATA_ROLES if isinstance(data, Mapping) and data.get(r) == ref]
        if roles:
            found.append({**_iteration_summary(iteration), "used_as": roles})
    return found


# -- plain values -------------------------------------------------------------------------------


def _metrics(result: Mapping[str, Any]) -> dict[str, float | None]:
    metrics = result.get("metrics")
    if not isinstance(metrics, Mapping):
        return {}
    return {
        str(k): _plain(v)
        for k, v in metrics.items()
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool))
    }


def _plain(value: Any) -> Any:
    """JSON-able: NaN and infinities (a missing input, an undefined metric) become None, other
    values JSON has no type for (timestamps, decimals, bytes) their text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
