"""One window's verdict: drift, prediction drift, multivariate drift, accuracy, estimated accuracy.

``compute_window`` is a pure function of the window (its merged profile and where its rows are),
the reference and the settings, so it runs the same in-process or on a Dask worker. Every
finding that cannot be computed says why in ``notes`` ("insufficient data: 12 rows", "schema
changed: column x added") rather than raising or firing a false alarm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loopml.monitor.config import MonitorConfig
from loopml.monitor.reference import Reference, class_index
from loopml.predictions.log import INPUT_PREFIX, PROBA_PREFIX, concat_tables
from loopml.stats import ColumnProfile, TableProfile, column_drift, compare
from loopml.stats.bootstrap import bootstrap_intervals
from loopml.stats.domain import domain_classifier_drift
from loopml.stats.estimation import estimate_classification
from loopml.stats.metrics import (
    HIGHER_IS_BETTER,
    classification_metrics,
    encode_classification,
    regression_metrics,
)
from loopml.workspace import Workspace, default_workspace

ESTIMATE_DRAWS = 300  # Monte-Carlo label draws behind an estimate's interval
LABEL_RESAMPLES = 200  # bootstrap resamples behind a realised metric's interval


@dataclass(frozen=True)
class Piece:
    """Rows of one prediction log segment that belong to a window.

    ``time`` keeps the rows predicted in ``[lo, hi]``; ``offsets`` the rows ``[lo, hi)`` in the
    segment's order; neither means the whole segment.
    """

    segment_id: str
    digest: str
    rows: int
    time: tuple[int, int] | None = None
    offsets: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id,
            "digest": self.digest,
            "rows": self.rows,
            "time": None if self.time is None else list(self.time),
            "offsets": None if self.offsets is None else list(self.offsets),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Piece:
        time, offsets = data.get("time"), data.get("offsets")
        return cls(
            data["segment_id"],
            data["digest"],
            int(data["rows"]),
            None if time is None else (int(time[0]), int(time[1])),
            None if offsets is None else (int(offsets[0]), int(offsets[1])),
        )


@dataclass(frozen=True)
class WindowTask:
    """What a window computation needs; picklable, so it can travel to a Dask worker."""

    key: str
    start_time: int
    end_time: int
    rows: int
    model_versions: tuple[int, ...]
    profile: Mapping[str, Any]
    pieces: tuple[Piece, ...]
    labels: Mapping[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] | None = None  # set when only labels arrived: keep the rest


@dataclass(frozen=True)
class JudgedBy:
    """What a window's realised accuracy needs of the reference it was judged against."""

    model_version: int
    task: str
    classes: tuple[Any, ...] | None
    baseline: Mapping[str, Any] | None

    @classmethod
    def of(cls, reference: Reference) -> JudgedBy:
        return cls(reference.model_version, reference.task, reference.classes, reference.baseline)

    @classmethod
    def stored(cls, data: Mapping[str, Any]) -> JudgedBy | None:
        if "task" not in data:
            return None
        classes = data.get("classes")
        return cls(
            int(data["model_version"]),
            str(data["task"]),
            None if classes is None else tuple(classes),
            data.get("baseline"),
        )


def read_rows(
    pieces: Sequence[Piece], columns: Sequence[str] | None, workspace: Workspace
) -> pa.Table:
    """The rows of these pieces (only ``columns`` that exist), in piece order."""
    tables: list[pa.Table] = []
    for piece in pieces:
        data = workspace.blobs.read_bytes(
            piece.digest, context=f"prediction segment {piece.segment_id}"
        )
        source = pq.ParquetFile(pa.BufferReader(data))
        names = source.schema_arrow.names
        wanted = None if columns is None else [c for c in columns if c in names]
        if wanted is not None and piece.time is not None and "time_ms" not in wanted:
            wanted = [*wanted, "time_ms"]
        table = source.read(columns=wanted).replace_schema_metadata(None)
        if piece.offsets is not None:
            table = table.slice(piece.offsets[0], piece.offsets[1] - piece.offsets[0])
        if piece.time is not None:
            times = table.column("time_ms")
            mask = pc.and_(
                pc.greater_equal(times, piece.time[0]), pc.less_equal(times, piece.time[1])
            )
            table = table.filter(mask)
        tables.append(table)
    if not tables:
        return pa.table({})
    return concat_tables(tables)


def compute_window(
    task: WindowTask,
    reference: Reference,
    config: MonitorConfig,
    workspace: Workspace | None = None,
) -> dict[str, Any]:
    """The stored result of one window (see the module docstring)."""
    ws = workspace or default_workspace()
    if task.previous is not None:
        judged = JudgedBy.stored(task.previous.get("reference") or {})
        if judged is not None:
            return _relabel(task, task.previous, judged, config, ws)
    notes: list[str] = []
    signals: dict[str, Any] = {"rows": task.rows}
    result: dict[str, Any] = {
        "status": "ok",
        "rows": task.rows,
        "model_versions": list(task.model_versions),
        "reference": {
            "data": reference.data_ref,
            "model_version": reference.model_version,
            "task": reference.task,
            "classes": None if reference.classes is None else list(reference.classes),
            "baseline": reference.baseline,
        },
        "notes": notes,
        "signals": signals,
    }
    if task.rows == 0:
        result["status"] = "insufficient_data"
        notes.append("insufficient data: the window holds no predictions")
        return result
    window = TableProfile.from_dict(task.profile)
    inputs = {
        name[len(INPUT_PREFIX) :]: col
        for name, col in window.columns.items()
        if name.startswith(INPUT_PREFIX)
    }
    compared = _schema(reference, inputs, notes, signals)
    if task.rows < config.min_rows:
        result["status"] = "insufficient_data"
        notes.append(f"insufficient data: {task.rows} rows (min_rows is {config.min_rows})")
    else:
        result["drift"] = _drift(reference, compared, config, result, signals)
        _missing(reference, compared, result, signals)
        prediction = window.columns.get("prediction")
        if prediction is not None and reference.prediction_profile is not None:
            verdict = column_drift("prediction", reference.prediction_column(), prediction)
            result["prediction_drift"] = verdict.to_dict()
            if verdict.note is None or not verdict.note.startswith("insufficient"):
                signals["prediction_drift"] = int(verdict.drifted)
                if verdict.statistic is not None and math.isfinite(verdict.statistic):
                    signals["prediction_drift_score"] = verdict.statistic
    rows = _rows_needed(task, reference, config, ws, result)
    if rows is not None:
        if config.multivariate and result["status"] == "ok":
            _multivariate(reference, compared, rows, config, ws, result, signals)
        if config.estimate and reference.calibrator is not None and result["status"] == "ok":
            _estimate(reference, rows, result, signals)
        if task.labels:
            _realised(reference, rows, task.labels, config, result, signals)
    return result


def _schema(
    reference: Reference,
    inputs: Mapping[str, ColumnProfile],
    notes: list[str],
    signals: dict[str, Any],
) -> dict[str, ColumnProfile]:
    """The window's feature profiles that can be compared; schema changes become notes."""
    changes = 0
    compared: dict[str, ColumnProfile] = {}
    for name in reference.features:
        mine = inputs.get(name)
        theirs = reference.profile.columns[name]
        if mine is None:
            notes.append(f"schema changed: column {name} missing")
            changes += 1
        elif mine.kind != theirs.kind:
            notes.append(f"schema changed: column {name} is now {mine.kind} (was {theirs.kind})")
            changes += 1
        else:
            compared[name] = mine
    for name in inputs:
        if name not in reference.profile.columns:
            notes.append(f"schema changed: column {name} added")
            changes += 1
    signals["schema_changes"] = changes
    return compared


def _drift(
    reference: Reference,
    compared: Mapping[str, ColumnProfile],
    config: MonitorConfig,
    result: dict[str, Any],
    signals: dict[str, Any],
) -> dict[str, Any]:
    tests = dict(config.tests)
    thresholds: dict[str, float] = {}
    if config.thresholds == "learned":
        for name, learned in reference.learned_thresholds().items():
            tests[name] = learned.test
            thresholds[name] = learned.threshold
        result["threshold_source"] = "learned from the reference (mean + 3 sd over chunks)"
    else:
        thresholds = dict(config.thresholds)
        result["threshold_source"] = "fixed"
    ref = TableProfile(
        reference.profile.row_count, {n: reference.profile.columns[n] for n in compared}
    )
    cur = TableProfile(result["rows"], dict(compared))
    found = compare(
        ref, cur, tests=tests, thresholds=thresholds, share_threshold=config.share_threshold
    )
    drift = found.to_dict()
    judged = [c for c in found.columns.values() if not (c.note or "").startswith("insufficient")]
    # The share of the model's features: a column that could not be judged (missing, changed
    # type) is reported on its own and does not make one chance hit among the rest a majority.
    share = sum(c.drifted for c in judged) / len(reference.features) if judged else 0.0
    drift["drift_share"] = share
    drift["dataset_drift"] = bool(judged) and share >= config.share_threshold
    signals["drift_share"] = share
    signals["drifted_features"] = sum(c.drifted for c in judged)
    signals["dataset_drift"] = int(drift["dataset_drift"])
    signals["new_categories"] = sum(len(c.new_categories) for c in found.columns.values())
    return drift


def _missing(
    reference: Reference,
    compared: Mapping[str, ColumnProfile],
    result: dict[str, Any],
    signals: dict[str, Any],
) -> None:
    shares: dict[str, float] = {}
    increase = 0.0
    for name, profile in compared.items():
        share = profile.missing / profile.count if profile.count else 0.0
        ref = reference.profile.columns[name]
        ref_share = ref.missing / ref.count if ref.count else 0.0
        shares[name] = share
        increase = max(increase, share - ref_share)
        if profile.count and profile.missing == profile.count:
            result["notes"].append(f"column {name} is entirely missing in this window")
    result["missing_share"] = shares
    signals["missing_share"] = max(shares.values(), default=0.0)
    signals["missing_share_increase"] = increase


def _rows_needed(
    task: WindowTask,
    reference: Reference,
    config: MonitorConfig,
    workspace: Workspace,
    result: dict[str, Any],
) -> pd.DataFrame | None:
    """Read the window's rows when a finding needs more than the profile."""
    wants_multivariate = (
        config.multivariate and result["status"] == "ok" and reference.sample_digest
    )
    wants_estimate = (
        config.estimate and reference.calibrator is not None and result["status"] == "ok"
    )
    if not (wants_multivariate or wants_estimate or task.labels):
        return None
    columns = ["prediction_id", "model_version", "prediction"]
    if reference.classes is not None:
        columns += [f"{PROBA_PREFIX}{i}" for i in range(len(reference.classes))]
    if wants_multivariate:
        columns += [f"{INPUT_PREFIX}{name}" for name in reference.features]
    frame: pd.DataFrame = read_rows(task.pieces, columns, workspace).to_pandas()
    return frame


def _multivariate(
    reference: Reference,
    compared: Mapping[str, ColumnProfile],
    rows: pd.DataFrame,
    config: MonitorConfig,
    workspace: Workspace,
    result: dict[str, Any],
    signals: dict[str, Any],
) -> None:
    sample = reference.sample(workspace)
    if sample is None:
        return
    current = (
        rows.sample(n=min(len(rows), config.sample_rows), random_state=0) if len(rows) else rows
    )
    # A column missing altogether in the window is reported as such; the classifier would
    # only relearn that (and call it multivariate drift).
    names = [
        n
        for n in compared
        if f"{INPUT_PREFIX}{n}" in current.columns
        and n in sample.columns
        and compared[n].missing < compared[n].count
    ]
    if not names:
        return
    kinds = {n: compared[n].kind for n in names}
    found = domain_classifier_drift(
        {n: _values(sample[n], kinds[n]) for n in names},
        {n: _values(current[f"{INPUT_PREFIX}{n}"], kinds[n]) for n in names},
        kinds,
        max_rows=config.sample_rows,
    )
    result["multivariate"] = found.to_dict()
    if found.auc is not None:
        signals["multivariate_auc"] = found.auc
        signals["multivariate_drift"] = int(found.drifted)


def _values(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "numeric":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    raw = series.to_numpy(dtype=object)
    missing = pd.isna(raw)
    values: np.ndarray = raw.astype(str).astype(object)
    values[missing] = None
    return values


def _proba_and_prediction(
    reference: Reference | JudgedBy, rows: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the reference's version with probabilities: (mask, proba, predicted index)."""
    assert reference.classes is not None
    names = [f"{PROBA_PREFIX}{i}" for i in range(len(reference.classes))]
    if not all(n in rows.columns for n in names) or rows.empty:
        return np.zeros(len(rows), bool), np.empty((0, len(names))), np.empty(0, np.int64)
    proba = rows[names].to_numpy(dtype=float)
    predicted = class_index(rows["prediction"].to_numpy(), reference.classes)
    mask = (
        (rows["model_version"].to_numpy() == reference.model_version)
        & np.isfinite(proba).all(axis=1)
        & (predicted >= 0)
    )
    return mask, proba[mask], predicted[mask]


def _estimate(
    reference: Reference, rows: pd.DataFrame, result: dict[str, Any], signals: dict[str, Any]
) -> None:
    calibrator = reference.calibrator_object()
    if calibrator is None or reference.classes is None:
        return
    mask, proba, predicted = _proba_and_prediction(reference, rows)
    if not len(proba):
        result["notes"].append(
            f"accuracy not estimated: no rows of version {reference.model_version} "
            "with probabilities"
        )
        return
    order = sorted_class_order(reference.classes)
    estimates = estimate_classification(
        calibrator.apply(proba)[:, order],
        reorder_index(predicted, order),
        scores=proba[:, order],  # ROC AUC ranks by the model's own scores, as it is measured
        draws=ESTIMATE_DRAWS,
        variants=[v.apply(proba)[:, order] for v in reference.calibrator_variant_objects()],
    )
    result["estimate"] = {
        "rows": int(mask.sum()),
        "model_version": reference.model_version,
        "calibration": reference.calibration_source,
        "metrics": {k: v.to_dict() for k, v in estimates.items()},
    }
    baseline = (reference.baseline or {}).get("metrics", {})
    for name, item in estimates.items():
        if math.isfinite(item.value):
            signals[f"estimated_{name}"] = item.value
            if name in baseline:
                signals[f"estimated_{name}_drop"] = _degradation(name, baseline[name], item.value)


def sorted_class_order(classes: Sequence[Any]) -> list[int]:
    """Column order that sorts the classes as the metric code does (the positive class last)."""
    keys = [
        (0, float(c)) if isinstance(c, int | float) and not isinstance(c, bool) else (1, str(c))
        for c in classes
    ]
    return sorted(range(len(classes)), key=lambda i: keys[i])


def reorder_index(index: np.ndarray, order: Sequence[int]) -> np.ndarray:
    position = np.empty(len(order), dtype=np.int64)
    position[list(order)] = np.arange(len(order))
    reordered: np.ndarray = position[index]
    return reordered


def _degradation(name: str, baseline: float, value: float) -> float:
    """How much worse ``value`` is than ``baseline`` (positive = worse) for this metric."""
    higher = HIGHER_IS_BETTER.get(name, True)
    return float(baseline - value) if higher else float(value - baseline)


def _realised(
    reference: Reference | JudgedBy,
    rows: pd.DataFrame,
    labels: Mapping[str, Any],
    config: MonitorConfig,
    result: dict[str, Any],
    signals: dict[str, Any],
) -> None:
    ids = rows["prediction_id"].astype(str).to_numpy()
    has = np.array([i in labels for i in ids], dtype=bool)
    count = int(has.sum())
    signals["labels"] = count
    if count < config.min_labels:
        if count:
            result["notes"].append(
                f"insufficient labels: {count} (min_labels is {config.min_labels})"
            )
        return
    labelled = rows[has]
    truth = np.array([labels[i] for i in ids[has]], dtype=object)
    predicted = labelled["prediction"].to_numpy()
    if reference.task == "regression":
        y_true = pd.to_numeric(pd.Series(truth), errors="coerce").to_numpy(dtype=float)
        y_pred = pd.to_numeric(pd.Series(predicted), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        y_true, y_pred = y_true[ok], y_pred[ok]

        def compute(weights: Any = None) -> Any:
            return regression_metrics(y_true, y_pred, weights)

        n = len(y_true)
    else:
        classes = reference.classes
        mask = np.ones(len(labelled), bool)
        proba = None
        if classes is not None:
            mask, proba_rows, _ = _proba_and_prediction(reference, labelled)
            proba = proba_rows if mask.all() else None
        y_true = _as_labels(truth, classes)
        y_pred = _as_labels(predicted, classes)
        data = encode_classification(
            y_true,
            y_pred,
            proba,
            list(classes) if proba is not None and classes is not None else None,
        )

        def compute(weights: Any = None) -> Any:
            return classification_metrics(data, weights)

        n = len(y_true)
    point = {k: float(v) for k, v in compute().items()}
    intervals = bootstrap_intervals(compute, n, n_resamples=LABEL_RESAMPLES)
    baseline = (reference.baseline or {}).get("metrics", {})
    realised: dict[str, Any] = {
        "labels": count,
        "metrics": {},
        "baseline_source": (reference.baseline or {}).get("source"),
    }
    for name, value in point.items():
        if not math.isfinite(value):
            continue
        interval = intervals.get(name)
        entry: dict[str, Any] = {
            "value": value,
            "low": _clean(interval.low if interval else math.nan),
            "high": _clean(interval.high if interval else math.nan),
        }
        signals[name] = value
        if name in baseline:
            entry["baseline"] = baseline[name]
            entry["drop"] = _degradation(name, baseline[name], value)
            signals[f"{name}_drop"] = entry["drop"]
        realised["metrics"][name] = entry
    result["realised"] = realised
    estimate = result.get("estimate")
    if estimate is not None:
        for name, item in estimate["metrics"].items():
            if name in realised["metrics"]:
                item["realised"] = realised["metrics"][name]["value"]


def _relabel(
    task: WindowTask,
    previous: Mapping[str, Any],
    judged: JudgedBy,
    config: MonitorConfig,
    workspace: Workspace,
) -> dict[str, Any]:
    """Labels arrived for an already judged window: only its realised accuracy changes.

    Drift, the estimate and the reference stay as they were judged, and the accuracy is compared
    with the baseline of the version that made the predictions, whatever serves now.
    """
    result = {k: v for k, v in previous.items() if k not in ("alerts", "computed_at", "realised")}
    old = set((previous.get("realised") or {}).get("metrics") or {})
    signals = {
        k: v
        for k, v in (previous.get("signals") or {}).items()
        if k not in old and k.removesuffix("_drop") not in old and k != "labels"
    }
    result["signals"] = signals
    result["notes"] = [
        n for n in previous.get("notes") or [] if not n.startswith("insufficient labels")
    ]
    estimate = result.get("estimate")
    if estimate is not None:
        result["estimate"] = {
            **estimate,
            "metrics": {
                k: {f: x for f, x in v.items() if f != "realised"}
                for k, v in (estimate.get("metrics") or {}).items()
            },
        }
    columns = ["prediction_id", "model_version", "prediction"]
    if judged.classes is not None:
        columns += [f"{PROBA_PREFIX}{i}" for i in range(len(judged.classes))]
    rows: pd.DataFrame = read_rows(task.pieces, columns, workspace).to_pandas()
    _realised(judged, rows, task.labels, config, result, signals)
    return result


def _as_labels(values: np.ndarray, classes: Sequence[Any] | None) -> np.ndarray:
    """Labels in the classes' own type (1.0 from the log matches class 1), else as given."""
    if classes is None:
        return np.array([str(v) for v in values], dtype=object)
    index = class_index(np.asarray(values, dtype=object), classes)
    out = np.empty(len(values), dtype=object)
    for i, (code, value) in enumerate(zip(index.tolist(), values.tolist(), strict=True)):
        out[i] = classes[code] if code >= 0 else str(value)
    return out


def _clean(value: float) -> float | None:
    return value if math.isfinite(value) else None
