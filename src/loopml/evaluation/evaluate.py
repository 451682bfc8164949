"""Scoring a model on held-out rows: metrics, bootstrap intervals, slices, a paired comparison.

The models here are already loaded (anything with ``predict``, ``predict_proba`` for
probabilities); finding them by URI and storing the result is the registry's job. The same
bootstrap resamples score the candidate and the baseline, so their difference is paired.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInput, LoopMLError, summary
from loopml.evaluation.result import Comparison, EvaluationResult
from loopml.stats import bootstrap
from loopml.stats.metrics import (
    ClassificationData,
    calibration_points,
    classification_metrics,
    confusion_matrix,
    encode_classification,
    pr_curve_points,
    regression_metrics,
    roc_curve_points,
)

TASKS = ("classification", "regression")
LATENCY_ROWS = 100  # single-row predictions timed for latency_p50_ms / latency_p99_ms
LATENCY_BUDGET_S = 1.0  # ... unless a slow model has used this much time after LATENCY_MIN_ROWS
LATENCY_MIN_ROWS = 20
CURVE_SAMPLE = 2000  # regression points kept for the predicted-vs-actual and residual plots
MAX_SLICE_VALUES = 50  # most frequent values of a slice column that get their own slice
_NUMERIC_SLICE_BINS = 4  # a numeric slice column with many values is cut at its quartiles


@dataclass(frozen=True)
class Scored:
    """One model's predictions on the evaluation rows, encoded for the metric code."""

    classification: ClassificationData | None
    y_true: np.ndarray
    y_pred: np.ndarray
    latency_ms: Mapping[str, float]

    def point(self, rows: np.ndarray | None = None) -> dict[str, float]:
        """Metrics on all rows, or on the rows a boolean mask selects."""
        weights = None if rows is None else rows.astype(float)
        if self.classification is not None:
            found = classification_metrics(self.classification, weights)
        else:
            found = regression_metrics(self.y_true, self.y_pred, weights)
        return {k: float(v) for k, v in found.items()}

    def batch(self, weights: np.ndarray) -> Mapping[str, np.ndarray | float]:
        if self.classification is not None:
            return classification_metrics(self.classification, weights)
        return regression_metrics(self.y_true, self.y_pred, weights)


def check_task(task: Any) -> str:
    if task not in TASKS:
        raise InvalidInput(
            f"task must be 'classification' or 'regression', got {task!r}",
            field="task",
            value=task,
        )
    return str(task)


def check_target(frame: pd.DataFrame, target: Any) -> str:
    if not isinstance(target, str) or not target:
        raise InvalidInput(
            "target must name the column holding the true labels",
            field="target",
            value=target,
            hint="pass target='label' (the column of the data with the true values)",
        )
    if target not in frame.columns:
        known = ", ".join(map(str, list(frame.columns)[:12]))
        raise InvalidInput(
            f"target column {target!r} is not in the data (columns: {known})",
            field="target",
            value=target,
        )
    if frame[target].isna().any():
        missing = int(frame[target].isna().sum())
        raise InvalidInput(
            f"target column {target!r} has {missing} missing values",
            field="target",
            value=target,
            hint="drop the rows without a label before evaluating",
        )
    return target


def features_for(model: Any, frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The columns the model takes: its signature's, else its fitted names, else all but target."""
    signature = getattr(model, "signature", None)
    names: list[str] | None = None
    if signature is not None and getattr(signature, "inputs", None):
        names = [column.name for column in signature.inputs]
    elif getattr(model, "feature_names_in_", None) is not None:
        names = [str(n) for n in model.feature_names_in_]
    if names is None:
        return frame.drop(columns=[target])
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InvalidInput(
            f"the data lacks column(s) the model needs: {', '.join(missing[:10])}",
            field=missing[0],
            hint="evaluate on data with the same feature columns the model was trained on",
        )
    return frame[names]


def model_classes(model: Any) -> tuple[Any, ...] | None:
    classes = getattr(model, "classes", None)
    if classes is None:
        classes = getattr(model, "classes_", None)
    return None if classes is None else tuple(np.asarray(classes).tolist())


def infer_task(frame: pd.DataFrame, target: str) -> str:
    """``regression`` for a float target with fractional values, else ``classification``."""
    values = frame[target]
    if pd.api.types.is_float_dtype(values):
        finite = values.to_numpy(dtype=float)
        if not np.all(np.equal(np.mod(finite, 1), 0)) or values.nunique() > MAX_SLICE_VALUES:
            return "regression"
    return "classification"


def _predict(model: Any, method: str, features: pd.DataFrame, label: str) -> np.ndarray:
    """Call the model, turning its own failure on these rows into an error that names it."""
    try:
        return np.asarray(getattr(model, method)(features))
    except LoopMLError:
        raise
    except Exception as exc:
        raise InvalidInput(
            f"{label} could not {method} on these rows: {summary(exc)}",
            field="data",
            hint="check that the data has the columns and types the model was trained on",
        ) from exc


def score(
    model: Any,
    frame: pd.DataFrame,
    target: str,
    task: str,
    label: str = "",
    *,
    latency: bool = True,
) -> Scored:
    """Predict the rows once (and time single rows) and encode what the metrics need."""
    label = label or "the model"
    try:
        features = features_for(model, frame, target)
    except InvalidInput as exc:
        raise InvalidInput(f"{label}: {exc.message}", field=exc.field, hint=exc.hint) from None
    y_true = frame[target].to_numpy()
    y_pred = _predict(model, "predict", features, label)
    if y_pred.ndim != 1 or y_pred.shape[0] != len(frame):
        y_pred = y_pred.reshape(len(frame), -1)[:, 0] if y_pred.size == len(frame) else y_pred
    timed = _latency(model, features) if latency else {}
    if task == "regression":
        return Scored(None, y_true.astype(float), y_pred.astype(float), timed)
    proba = None
    classes = model_classes(model)
    if hasattr(model, "predict_proba") and classes is not None:
        try:
            proba = np.asarray(model.predict_proba(features), dtype=float)
        except Exception:  # a model whose predict_proba is not usable: score labels only
            proba = None
    encoded = _encode(y_true, y_pred, proba, classes)
    return Scored(encoded, y_true, y_pred, timed)


def _encode(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: Sequence[Any] | None
) -> ClassificationData:
    if proba is None or classes is None or proba.ndim != 2 or proba.shape[1] != len(classes):
        return encode_classification(y_true, y_pred)
    known = list(classes)
    unseen = sorted(set(np.unique(y_true).tolist()) - set(known), key=str)
    if unseen:  # labels the model never saw: it gave them probability 0
        proba = np.hstack([proba, np.zeros((proba.shape[0], len(unseen)))])
        known += unseen
    return encode_classification(y_true, y_pred, proba, known)


def _latency(model: Any, features: pd.DataFrame) -> dict[str, float]:
    """Single-row prediction latency: what one request to a server would wait for the model."""
    rows = min(LATENCY_ROWS, len(features))
    if rows == 0:
        return {}
    picks = np.linspace(0, len(features) - 1, rows).astype(int)
    timings: list[float] = []
    began = time.perf_counter()
    for row in picks:
        one = features.iloc[[row]]
        start = time.perf_counter()
        model.predict(one)
        timings.append((time.perf_counter() - start) * 1000.0)
        if len(timings) >= LATENCY_MIN_ROWS and time.perf_counter() - began > LATENCY_BUDGET_S:
            break  # a slow model: enough rows for the median, the p99 is the slowest seen
    return {
        "latency_p50_ms": float(np.percentile(timings, 50)),
        "latency_p99_ms": float(np.percentile(timings, 99)),
    }


def slice_masks(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """``"column=value"`` → row mask, for each value (or quartile range) of each slice column."""
    masks: dict[str, np.ndarray] = {}
    for column in columns:
        if column not in frame.columns:
            known = ", ".join(map(str, list(frame.columns)[:12]))
            raise InvalidInput(
                f"slice column {column!r} is not in the data (columns: {known})",
                field="slices",
                value=column,
            )
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and values.nunique() > MAX_SLICE_VALUES:
            binned = pd.qcut(values, _NUMERIC_SLICE_BINS, duplicates="drop")
            for interval in binned.cat.categories:
                masks[f"{column}={interval}"] = (binned == interval).to_numpy()
            continue
        for value in values.value_counts(dropna=True).index[:MAX_SLICE_VALUES]:
            masks[f"{column}={value}"] = (values == value).to_numpy()
    return masks


def _slices(scored: Scored, masks: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for key, mask in masks.items():
            if mask.any():
                out[key] = {**scored.point(mask), "n_rows": float(mask.sum())}
    return out


def _curves(scored: Scored) -> dict[str, Any]:
    data = scored.classification
    if data is None:  # a sample of points is enough for the plots and keeps results small
        picks = np.unique(np.linspace(0, len(scored.y_true) - 1, CURVE_SAMPLE).astype(int))
        actual, predicted = scored.y_true[picks], scored.y_pred[picks]
        return {
            "predicted": predicted.tolist(),
            "actual": actual.tolist(),
            "residuals": (actual - predicted).tolist(),
        }
    curves: dict[str, Any] = {
        "confusion": {"labels": [str(c) for c in data.classes], "matrix": confusion_matrix(data)}
    }
    if data.proba is None:
        return curves
    plots: dict[str, Callable[[ClassificationData], dict[str, Any]]] = {
        "calibration": calibration_points
    }
    if len(data.classes) == 2 and len(np.unique(data.y_true)) == 2:
        plots.update(roc=roc_curve_points, pr=pr_curve_points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, plot in plots.items():
            curves[name] = plot(data)
    return curves


def evaluate_models(
    model: Any,
    frame: pd.DataFrame,
    *,
    target: str,
    task: str | None = "classification",
    slices: Sequence[str] | None = None,
    baseline: Any = None,
    model_uri: str = "<model>",
    baseline_uri: str | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    latency: bool = True,
) -> EvaluationResult:
    """Evaluate ``model`` (and ``baseline`` on the same rows and resamples) on ``frame``.

    ``task=None`` infers it from the target column (see :func:`infer_task`). ``latency=False``
    skips timing single-row predictions (no ``latency_*`` metrics) when nothing needs them.
    """
    target = check_target(frame, target)
    task = check_task(infer_task(frame, target) if task is None else task)
    if len(frame) == 0:
        raise InvalidInput("no rows to evaluate", field="data", hint="pass held-out rows")
    masks = slice_masks(frame, list(slices or ()))
    candidate = score(model, frame, target, task, model_uri, latency=latency)
    n = len(frame)
    other = (
        None
        if baseline is None
        else score(baseline, frame, target, task, baseline_uri or "the baseline", latency=latency)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        metrics = {**candidate.point(), **candidate.latency_ms}
        if other is None:
            intervals = bootstrap.bootstrap_intervals(
                candidate.batch, n, n_resamples=n_resamples, confidence=confidence, seed=seed
            )
        else:
            paired = bootstrap.paired_intervals(
                candidate.batch,
                other.batch,
                n,
                n_resamples=n_resamples,
                confidence=confidence,
                seed=seed,
            )
            intervals = paired.a
    result: dict[str, Any] = {
        "model_uri": model_uri,
        "task": task,
        "target": target,
        "n_rows": n,
        "metrics": metrics,
        "intervals": {k: (v.low, v.high) for k, v in intervals.items()},
        "slices": _slices(candidate, masks),
        "curves": _curves(candidate),
        "classes": candidate.classification.classes if candidate.classification else None,
        "confidence": confidence,
        "n_resamples": n_resamples,
    }
    if other is not None:
        result.update(
            baseline_uri=baseline_uri or "<baseline>",
            baseline_metrics={**other.point(), **other.latency_ms},
            baseline_intervals={k: (v.low, v.high) for k, v in paired.b.items()},
            baseline_slices=_slices(other, masks),
            baseline_curves=_curves(other),
            comparison={
                k: Comparison(v.difference, v.low, v.high, v.p_value)
                for k, v in paired.comparisons.items()
            },
        )
    return EvaluationResult(**result)
