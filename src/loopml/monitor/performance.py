"""``loopml.monitor.estimate``: a classifier's accuracy on rows whose labels are not known yet.

Confidence-based performance estimation: calibrate the model's probabilities on labelled data
(its evaluation data by default), then read the expected confusion matrix off the calibrated
probabilities of the new rows. The interval is the spread of the realised metric over label
draws from those probabilities: the range the true value falls in when the calibration holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.data.get import get as get_data
from loopml.errors import InvalidInput, LoopMLError, NotFound, summary
from loopml.evaluation.evaluate import features_for, model_classes
from loopml.monitor.compute import reorder_index, sorted_class_order
from loopml.monitor.reference import class_index
from loopml.registry.load import load_model, resolve
from loopml.stats.calibration import choose_calibrator
from loopml.stats.estimation import EstimatedMetric, estimate_classification
from loopml.stats.metrics import classification_metrics, encode_classification
from loopml.workspace import Workspace, default_workspace


@dataclass(frozen=True)
class PerformanceEstimate:
    """Estimated metrics (``.metrics["f1"].value/.low/.high``) and, given labels, the truth."""

    model_uri: str
    rows: int
    calibration: str
    metrics: Mapping[str, EstimatedMetric]
    realised: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_uri,
            "rows": self.rows,
            "calibration": self.calibration,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "realised": None if self.realised is None else dict(self.realised),
        }


def estimate(
    model_uri: str,
    current_df: pd.DataFrame,
    reference: pd.DataFrame | str | None = None,
    target: str | None = None,
    *,
    draws: int = 500,
    workspace: Workspace | None = None,
) -> PerformanceEstimate:
    """Estimate accuracy, precision, recall, F1 and ROC AUC of ``model_uri`` on ``current_df``.

    ``reference``: labelled rows to calibrate on (a DataFrame with the ``target`` column or a
    data version); by default the model's evaluation data, else its training data. When
    ``current_df`` has the target column too, the realised metrics come back beside the estimate.
    """
    ws = workspace or default_workspace()
    if not isinstance(current_df, pd.DataFrame):
        raise InvalidInput("current_df must be a pandas DataFrame", field="current_df")
    if current_df.empty:
        raise InvalidInput("current_df has no rows to estimate on", field="current_df")
    model = load_model(model_uri)
    classes = model_classes(model)
    if classes is None or not hasattr(model, "predict_proba"):
        raise InvalidInput(
            f"{model_uri} is not a classifier with predict_proba: nothing to estimate from",
            field="model_uri",
            hint="confidence-based estimation needs class probabilities",
        )
    resolved = resolve(model_uri)
    target = target or resolved.target or (resolved.version.target if resolved.version else None)
    labelled, source = _reference_frame(ws, resolved, reference)
    if target is None or target not in labelled.columns:
        raise InvalidInput(
            f"the reference has no target column {target!r} to calibrate on",
            field="target",
            hint="pass target= naming the label column of the reference data",
        )
    ref_features = features_for(model, labelled, target)
    index = class_index(labelled[target].to_numpy(), classes)
    known = index >= 0
    proba_ref = np.asarray(model.predict_proba(ref_features), dtype=float)
    calibrator, _, variants = choose_calibrator(proba_ref[known], index[known])
    frame = current_df if target in current_df.columns else current_df.assign(**{target: 0})
    features = features_for(model, frame, target)
    try:
        proba = np.asarray(model.predict_proba(features), dtype=float)
        labels = np.asarray(model.predict(features))
    except LoopMLError:
        raise
    except Exception as exc:
        raise InvalidInput(
            f"{model_uri} could not predict current_df: {summary(exc)}",
            field="current_df",
            hint="pass rows with the columns and types the model was trained on",
        ) from exc
    predicted = class_index(labels, classes)
    order = sorted_class_order(classes)
    found = estimate_classification(
        calibrator.apply(proba)[:, order],
        reorder_index(predicted, order),
        scores=proba[:, order],
        draws=draws,
        variants=[v.apply(proba)[:, order] for v in variants],
    )
    realised = None
    arrived = current_df[target].notna().to_numpy() if target in current_df.columns else None
    if arrived is not None and arrived.any():  # the labels that did arrive, beside the estimate
        truth = current_df[target].to_numpy()[arrived]
        data = encode_classification(truth, labels[arrived], proba[arrived], list(classes))
        realised = {
            k: float(v)
            for k, v in classification_metrics(data).items()
            if k in found and math.isfinite(float(v))
        }
    return PerformanceEstimate(model_uri, len(current_df), source, found, realised)


def _reference_frame(ws: Workspace, resolved: Any, reference: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(reference, pd.DataFrame):
        return reference, "the given reference rows"
    if isinstance(reference, str):
        return _table(ws, reference), f"data {reference}"
    if reference is not None:
        raise InvalidInput(
            "reference must be a DataFrame or a data version such as churn@3", field="reference"
        )
    version = resolved.version
    if version is not None and version.evaluation_id is not None:
        try:
            record = ws.store.evaluations.get(version.evaluation_id)
        except NotFound:
            record = None
        if record is not None and record.data_version is not None:
            return _table(ws, record.data_version), f"evaluation data {record.data_version}"
    data_version = resolved.data_version or (version.data_version if version is not None else None)
    if data_version is None:
        raise InvalidInput(
            f"{resolved.label} records no evaluation or training data to calibrate on",
            field="reference",
            hint="pass reference= labelled rows (a DataFrame with the target, or name@N)",
        )
    return _table(ws, data_version), f"training data {data_version}"


def _table(ws: Workspace, ref: str) -> pd.DataFrame:
    try:
        found = get_data(ref, workspace=ws)
    except LoopMLError:
        raise
    if not isinstance(found, pd.DataFrame):
        raise InvalidInput(f"{ref} is not a table version", field="reference", value=ref)
    return found
