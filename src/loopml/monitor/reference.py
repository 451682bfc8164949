"""The reference a monitor judges windows against, built once per served model version.

By default it is the training data version of the version the alias serves: its profile (the
features only), the model's predictions on a sample of it (for prediction drift), a sample of
rows (for the domain classifier), the calibrator confidence-based estimation needs (fitted on
the model's evaluation data when it has one, else on the reference) and the metrics the model
scored when it was admitted (so a window's realised accuracy has something to drop from).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.data.get import get as get_data
from loopml.data.get import show as show_data
from loopml.data.tables import profile_arrow
from loopml.entities import ModelVersion
from loopml.errors import InvalidInput, LoopMLError, NotFound, summary
from loopml.evaluation.evaluate import features_for, infer_task, model_classes
from loopml.monitor.config import MonitorConfig
from loopml.registry.load import load_model
from loopml.stats import TableProfile, column_from_dict, profile_column
from loopml.stats.calibration import Calibrator, choose_calibrator
from loopml.stats.learned import LearnedThreshold, learn_thresholds
from loopml.stats.metrics import classification_metrics, encode_classification, regression_metrics
from loopml.workspace import Workspace

CALIBRATION_VARIANTS = 8  # bootstrap calibrators behind the estimate's interval
PREDICTION_SAMPLE = 20_000  # reference rows the model predicts for the prediction's profile


@dataclass(frozen=True)
class Reference:
    """Everything a window is compared with; JSON-able so the monitor row can keep it."""

    model_name: str
    model_version: int
    data_ref: str
    task: str
    target: str | None
    features: tuple[str, ...]
    profile: TableProfile
    prediction_profile: Mapping[str, Any] | None = None
    classes: tuple[Any, ...] | None = None
    calibrator: Mapping[str, Any] | None = None
    calibration_source: str | None = None
    calibrator_variants: tuple[Mapping[str, Any], ...] = ()
    baseline: Mapping[str, Any] | None = None
    learned: Mapping[str, Mapping[str, Any]] | None = None
    sample_digest: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "data_ref": self.data_ref,
            "task": self.task,
            "target": self.target,
            "features": list(self.features),
            "profile": self.profile.to_dict(),
            "prediction_profile": self.prediction_profile,
            "classes": None if self.classes is None else list(self.classes),
            "calibrator": self.calibrator,
            "calibration_source": self.calibration_source,
            "calibrator_variants": list(self.calibrator_variants),
            "baseline": self.baseline,
            "learned": self.learned,
            "sample_digest": self.sample_digest,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        values = dict(data)
        values["features"] = tuple(values["features"])
        values["profile"] = TableProfile.from_dict(values["profile"])
        values["classes"] = None if values.get("classes") is None else tuple(values["classes"])
        values["notes"] = tuple(values.get("notes") or ())
        values["calibrator_variants"] = tuple(values.get("calibrator_variants") or ())
        return cls(**values)

    def calibrator_object(self) -> Calibrator | None:
        return None if self.calibrator is None else Calibrator.from_dict(self.calibrator)

    def calibrator_variant_objects(self) -> list[Calibrator]:
        return [Calibrator.from_dict(v) for v in self.calibrator_variants]

    def learned_thresholds(self) -> dict[str, LearnedThreshold]:
        return {k: LearnedThreshold.from_dict(v) for k, v in (self.learned or {}).items()}

    def prediction_column(self) -> Any:
        return (
            None if self.prediction_profile is None else column_from_dict(self.prediction_profile)
        )

    def sample(self, workspace: Workspace) -> pd.DataFrame | None:
        """The stored sample of reference rows (features only), for the domain classifier."""
        if self.sample_digest is None:
            return None
        return _read_sample(workspace, self.sample_digest)


_SAMPLES: dict[str, pd.DataFrame] = {}  # by content digest: immutable, so safe to keep


def _read_sample(workspace: Workspace, digest: str) -> pd.DataFrame:
    """A reference sample, read (verified) once per process and digest."""
    if digest not in _SAMPLES:
        data = workspace.blobs.read_bytes(digest, context="monitor reference sample")
        if len(_SAMPLES) >= 16:
            _SAMPLES.pop(next(iter(_SAMPLES)))
        _SAMPLES[digest] = pq.read_table(pa.BufferReader(data)).to_pandas()
    return _SAMPLES[digest]


def served_version(workspace: Workspace, model_name: str, alias: str) -> ModelVersion:
    """The version ``alias`` points at, or an error saying how to get one there."""
    try:
        return workspace.store.models.version(model_name, None, alias)
    except NotFound:
        raise NotFound(
            f"model {model_name!r} has no version at alias {alias!r} to monitor",
            field="model",
            value=model_name,
            hint=f"promote a version first (loopml models promote {model_name} N) "
            "or pass an explicit --reference data version",
        ) from None


def build_reference(
    workspace: Workspace, version: ModelVersion, config: MonitorConfig
) -> Reference:
    """Profile, predictions, sample, calibrator, baseline and learned thresholds of a version."""
    data_ref = config.reference or version.data_version
    if data_ref is None:
        raise InvalidInput(
            f"model {version.name!r} version {version.version} records no training data version",
            field="reference",
            hint="pass the reference data explicitly (--reference name@N), or log the model "
            "with data_version= so the monitor can find it",
        )
    data_version = show_data(data_ref, workspace=workspace)
    frame = get_data(data_version, workspace=workspace)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(
            f"reference {data_ref} is not a table version", field="reference", value=data_ref
        )
    model = load_model(version.uri)
    target = version.target if version.target in frame.columns else None
    features = _feature_names(model, frame, target)
    task = version.task or (infer_task(frame, target) if target else "classification")
    notes: list[str] = []
    profile = data_version.profile
    if profile is None or any(name not in profile.columns for name in features):
        profile = profile_arrow(pa.Table.from_pandas(frame[features], preserve_index=False))
    profile = TableProfile(profile.row_count, {n: profile.columns[n] for n in features})
    rng = np.random.default_rng(0)
    sample = _sample(frame, PREDICTION_SAMPLE, rng)
    prediction_profile = _prediction_profile(model, sample[features], notes)
    classes = model_classes(model) if task == "classification" else None
    calibrator, calibration_source, baseline = None, None, None
    variants: list[Calibrator] = []
    labelled, labelled_source = _labelled_data(workspace, version, frame, data_ref, target)
    if labelled is not None and target is not None:
        if classes is not None and hasattr(model, "predict_proba"):
            calibrator, calibration_source, variants = _calibrate(
                model, labelled, features, target, classes, labelled_source, notes
            )
        baseline = _baseline(workspace, version, model, labelled, features, target, task, classes)
        if baseline is not None and "source" not in baseline:
            baseline = {**baseline, "source": labelled_source}
    learned = None
    if config.thresholds == "learned":
        chunk_rows = config.window.size if config.window.kind == "rows" else 1_000
        columns = {name: frame[name].to_numpy() for name in features}
        found = learn_thresholds(columns, chunk_rows, tests=dict(config.tests) or None)
        learned = {name: item.to_dict() for name, item in found.items()}
    return Reference(
        model_name=version.name,
        model_version=version.version,
        data_ref=data_version.ref,
        task=task,
        target=target,
        features=tuple(features),
        profile=profile,
        prediction_profile=prediction_profile,
        classes=None if classes is None else tuple(classes),
        calibrator=None if calibrator is None else calibrator.to_dict(),
        calibrator_variants=tuple(v.to_dict() for v in variants),
        calibration_source=calibration_source,
        baseline=baseline,
        learned=learned,
        sample_digest=_store_sample(workspace, _sample(frame[features], config.sample_rows, rng)),
        notes=tuple(notes),
    )


def _feature_names(model: Any, frame: pd.DataFrame, target: str | None) -> list[str]:
    probe = frame if target is not None else frame.assign(__target__=0)
    return [str(c) for c in features_for(model, probe, target or "__target__").columns]


def _sample(frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame
    picks = np.sort(rng.choice(len(frame), size=rows, replace=False))
    return frame.iloc[picks]


def prediction_values(predictions: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, str]:
    """Predictions as the prediction log keeps them: numbers as floats, anything else as text."""
    values = np.asarray(predictions)
    if values.ndim > 1:
        values = values.reshape(len(values), -1)[:, 0]
    if values.dtype.kind in "iufb" and values.dtype.kind != "b":
        return values.astype(float), "numeric"
    objects = np.empty(len(values), dtype=object)
    objects[:] = [None if v is None else str(v) for v in values.tolist()]
    return objects, "categorical"


def _prediction_profile(
    model: Any, features: pd.DataFrame, notes: list[str]
) -> dict[str, Any] | None:
    if features.empty:
        return None
    try:
        values, kind = prediction_values(model.predict(features))
    except LoopMLError:
        raise
    except Exception as exc:
        notes.append(
            f"prediction drift off: the model could not predict the reference ({summary(exc)})"
        )
        return None
    return profile_column(values, kind).to_dict()


def _labelled_data(
    workspace: Workspace,
    version: ModelVersion,
    frame: pd.DataFrame,
    data_ref: str,
    target: str | None,
) -> tuple[pd.DataFrame | None, str]:
    """The model's evaluation data when it was admitted with one, else the reference."""
    if version.evaluation_id is not None and target is not None:
        try:
            record = workspace.store.evaluations.get(version.evaluation_id)
        except NotFound:
            record = None
        if record is not None and record.data_version is not None:
            try:
                found = get_data(record.data_version, workspace=workspace)
            except LoopMLError:
                found = None
            if isinstance(found, pd.DataFrame) and target in found.columns:
                return found, f"evaluation data {record.data_version}"
    if target is None:
        return None, ""
    return frame, f"reference data {data_ref}"


def _calibrate(
    model: Any,
    labelled: pd.DataFrame,
    features: list[str],
    target: str,
    classes: Sequence[Any],
    source: str,
    notes: list[str],
) -> tuple[Calibrator | None, str | None, list[Calibrator]]:
    rows = _sample(labelled, 50_000, np.random.default_rng(1))
    variants: list[Calibrator] = []
    try:
        proba = np.asarray(model.predict_proba(rows[features]), dtype=float)
        index = class_index(rows[target].to_numpy(), classes)
        known = index >= 0
        calibrator, method, variants = choose_calibrator(
            proba[known], index[known], variants=CALIBRATION_VARIANTS, seed=2
        )
        if method == "none":
            source = f"{source} (the model's probabilities are already calibrated on it)"
    except LoopMLError as exc:
        notes.append(f"accuracy estimation off: {exc.message}")
        return None, None, []
    except Exception as exc:
        notes.append(f"accuracy estimation off: {summary(exc)}")
        return None, None, []
    return calibrator, source, variants


def class_index(labels: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    """Each label's position in ``classes`` (-1 when unknown), matching 1 with 1.0 and "1"."""
    numeric = np.asarray(labels)
    keys = [_label_key(c) for c in classes]
    if numeric.dtype.kind in "iuf" and all(isinstance(k, float) for k in keys):
        order = np.argsort(keys)
        ordered = np.asarray(keys, dtype=float)[order]
        values = numeric.astype(float)
        at = np.clip(np.searchsorted(ordered, values), 0, len(ordered) - 1)
        found = np.where(ordered[at] == values, order[at], -1)
        return found.astype(np.int64)
    lookup: dict[Any, int] = {}
    for i, value in enumerate(classes):
        lookup[_label_key(value)] = i
    return np.array([lookup.get(_label_key(v), -1) for v in labels.tolist()], dtype=np.int64)


def _label_key(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return str(value)


def _baseline(
    workspace: Workspace,
    version: ModelVersion,
    model: Any,
    labelled: pd.DataFrame,
    features: list[str],
    target: str,
    task: str,
    classes: Sequence[Any] | None,
) -> dict[str, Any] | None:
    """The metrics the version scored when admitted, or on the labelled data now."""
    if version.evaluation_id is not None:
        try:
            record = workspace.store.evaluations.get(version.evaluation_id)
        except NotFound:
            record = None
        if record is not None:
            metrics = {k: v for k, v in (record.result.get("metrics") or {}).items() if _finite(v)}
            if metrics:
                return {
                    "metrics": metrics,
                    "intervals": dict(record.result.get("intervals") or {}),
                    "source": f"evaluation {record.evaluation_id} on "
                    f"{record.data_version or 'rows'}",
                }
    rows = _sample(labelled, 50_000, np.random.default_rng(2))
    try:
        predicted = np.asarray(model.predict(rows[features]))
        truth = rows[target].to_numpy()
        if task == "regression":
            found = regression_metrics(truth.astype(float), predicted.astype(float))
        else:
            proba = None
            if classes is not None and hasattr(model, "predict_proba"):
                proba = np.asarray(model.predict_proba(rows[features]), dtype=float)
            found = classification_metrics(
                encode_classification(
                    truth, predicted, proba, classes if proba is not None else None
                )
            )
    except LoopMLError:
        return None
    except Exception:
        return None
    metrics = {k: float(v) for k, v in found.items() if _finite(v)}
    return {"metrics": metrics, "intervals": {}} if metrics else None


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _store_sample(workspace: Workspace, sample: pd.DataFrame) -> str | None:
    if sample.empty:
        return None
    buffer = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(sample.reset_index(drop=True), preserve_index=False), buffer
    )
    return workspace.blobs.put_bytes(buffer.getvalue()).digest
