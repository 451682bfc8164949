"""``loopml.evaluate``: find the model (and by default the champion), score both, store the result.

The result is stored with a run (the active one, else a new ``evaluate`` run): metrics as
``eval/<name>``, the full result in the evaluations table (found later by model digest and data
version, which is what ``promote`` reads), and the HTML report as an artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import InvalidInput, NotFound
from loopml.evaluation.evaluate import evaluate_models
from loopml.evaluation.report import render_report
from loopml.evaluation.result import EvaluationResult
from loopml.registry.load import ResolvedModel, load_model, resolve
from loopml.store import NewEvaluation
from loopml.tracking import artifact_ops, fluent
from loopml.tracking.client import LoopMLClient
from loopml.workspace import default_workspace

# The default baseline: whatever holds `champion` now (a sentinel, since None means "none").
CURRENT_CHAMPION: Any = object()


@dataclass(frozen=True)
class Subject:
    """A model to score: the loaded object and what its URI resolved to (when it had one)."""

    model: Any
    uri: str
    resolved: ResolvedModel | None = None

    @property
    def digest(self) -> str | None:
        return self.resolved.digest if self.resolved else None


def subject_of(model_or_uri: Any) -> Subject:
    if isinstance(model_or_uri, str):
        resolved = resolve(model_or_uri)
        return Subject(load_model(model_or_uri), resolved.uri, resolved)
    if not hasattr(model_or_uri, "predict"):
        raise InvalidInput(
            f"cannot evaluate a {type(model_or_uri).__name__}: it has no predict method",
            field="model",
            hint="pass a fitted model or a model URI such as models:/churn@champion",
        )
    return Subject(model_or_uri, f"<{type(model_or_uri).__name__}>")


_TABLE_FILES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class HeldOut:
    """Rows already loaded, with the data version they came from (so they load once)."""

    frame: pd.DataFrame
    data_version: str | None = None


def load_frame(data: Any) -> tuple[pd.DataFrame, str | None]:
    """A DataFrame from a DataFrame, polars/Arrow table, a data version ``name@3``, or a
    CSV/Parquet file (held-out rows that were never versioned: no data version recorded)."""
    from loopml import data as data_api

    if isinstance(data, HeldOut):
        return data.frame, data.data_version
    if isinstance(data, data_api.DatasetVersion):
        return data_api.get(data), data.ref
    if isinstance(data, str | Path) and Path(data).suffix.lower() in _TABLE_FILES:
        path = Path(data)
        if not path.is_file():
            raise InvalidInput(
                f"data file {str(path)!r} does not exist", field="data", value=str(path)
            )
        if _TABLE_FILES[path.suffix.lower()] == "csv":
            return pd.read_csv(path), None
        return pd.read_parquet(path), None
    if isinstance(data, str):
        version = data_api.show(data)
        frame = data_api.get(version)
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(
                f"data version {version.ref} is a {version.kind.value}, not a table",
                field="data",
                value=data,
                hint="evaluate on a table version (added from a DataFrame, CSV or Parquet)",
            )
        return frame, version.ref
    if isinstance(data, pd.DataFrame):
        return data, None
    if hasattr(data, "to_pandas"):
        return data.to_pandas(), None
    raise InvalidInput(
        f"cannot evaluate on a {type(data).__name__}",
        field="data",
        hint="pass a pandas/polars DataFrame, an Arrow table, a data version like 'test@3' "
        "or a .csv/.parquet file",
    )


def default_baseline(candidate: Subject, alias: str = "champion") -> Subject | None:
    """The current holder of ``alias`` for a registered candidate, unless it is the candidate."""
    resolved = candidate.resolved
    if resolved is None or resolved.version is None:
        return None
    uri = f"models:/{resolved.version.name}@{alias}"
    try:
        holder = subject_of(uri)
    except NotFound:
        return None
    return None if holder.digest == candidate.digest else holder


def evaluate(
    model_or_uri: Any,
    data: Any,
    target: str | None = None,
    task: str | None = None,
    slices: Sequence[str] | None = None,
    baseline: Any = CURRENT_CHAMPION,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    log: bool = True,
    latency: bool = True,
) -> EvaluationResult:
    """Score a model (object or URI) on held-out rows, with a baseline on the same rows.

    ``baseline`` defaults to the current ``champion`` of a registered model (``None``: no
    baseline); ``target`` and ``task`` default to what the model version records.
    """
    candidate = subject_of(model_or_uri)
    if baseline is CURRENT_CHAMPION:
        other = default_baseline(candidate)
    else:
        other = None if baseline is None else subject_of(baseline)
    frame, data_version = load_frame(data)
    resolved = candidate.resolved
    target = target or (resolved.target if resolved else None)
    task = task or (resolved.task if resolved else None)  # None: inferred from the target
    if target is None:
        raise InvalidInput(
            "target is required: the model version does not record its target column",
            field="target",
            hint="pass target='<column with the true values>'",
        )
    result = evaluate_models(
        candidate.model,
        frame,
        target=target,
        task=task,
        slices=slices,
        baseline=None if other is None else other.model,
        model_uri=candidate.uri,
        baseline_uri=None if other is None else other.uri,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        latency=latency,
    )
    result = replace(
        result,
        data_version=data_version,
        model_digest=candidate.digest,
        baseline_digest=None if other is None else other.digest,
    )
    return store_result(result) if log else result


def store_result(result: EvaluationResult) -> EvaluationResult:
    """Store an evaluation with the active run (or a new one) and attach its report."""
    active = fluent.active_run()
    if active is not None:
        return _store(result, active.run_id)
    with fluent.start_run(run_name=f"evaluate {result.model_uri}") as run:
        return _store(result, run.run_id)


def _store(result: EvaluationResult, run_id: str) -> EvaluationResult:
    ws = default_workspace()
    record = ws.store.evaluations.add(
        NewEvaluation(
            model_uri=result.model_uri,
            task=result.task,
            target=result.target,
            n_rows=result.n_rows,
            result=result.to_dict(),
            run_id=run_id,
            model_digest=result.model_digest,
            data_version=result.data_version,
        )
    )
    stored = result.with_ids(record.evaluation_id, run_id)
    LoopMLClient().log_metrics(
        run_id,
        {f"eval/{k}": v for k, v in result.metrics.items() if v == v},  # NaN: undefined
    )
    artifact_ops.log_bytes(
        ws.store,
        ws.blobs,
        run_id,
        render_report(stored).encode(),
        f"evaluations/{record.evaluation_id}/report.html",
    )
    return stored


def stored_evaluation(digest: str, data_version: str | None = None) -> EvaluationResult | None:
    """The newest stored evaluation of a model (by digest), on one data version when given."""
    record = default_workspace().store.evaluations.find(digest, data_version)
    if record is None:
        return None
    return EvaluationResult.from_dict(record.result).with_ids(record.evaluation_id, record.run_id)
