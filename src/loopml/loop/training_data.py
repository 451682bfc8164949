"""The training and held-out data of one iteration, each recorded as a data version.

Training data = the base dataset + the labelled production predictions (their inputs and the
feedback label as the target). Held-out data = the most recent labelled production rows when
there are enough of them (they are what the model faces now), else a seeded share of the base.
Both become versions of ``<model>-training`` and ``<model>-holdout`` with their profiles, so
the challenger's lineage points at exactly the rows it learned from and was judged on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml import data as datasets
from loopml.errors import InvalidInput
from loopml.loop.project import LoopProject
from loopml.predictions.log import INPUT_PREFIX, read_predictions
from loopml.workspace import Workspace


@dataclass(frozen=True)
class TrainingData:
    """The data versions an iteration trains and judges on, and where their rows came from."""

    base: str
    training: str
    holdout: str
    training_rows: int
    holdout_rows: int
    production_rows: int
    holdout_source: str
    base_rows: int = 0
    production_training_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "training": self.training,
            "holdout": self.holdout,
            "training_rows": self.training_rows,
            "holdout_rows": self.holdout_rows,
            "production_rows": self.production_rows,
            "holdout_source": self.holdout_source,
            "base_rows": self.base_rows,
            "production_training_rows": self.production_training_rows,
        }


def labelled_production_rows(
    model: str, columns: list[str], target: str, limit: int, workspace: Workspace
) -> pd.DataFrame:
    """Logged predictions that got a label, as rows of the training table (newest ``limit``)."""
    frame = read_predictions(model, with_feedback=True, workspace=workspace)
    if frame.empty or "label" not in frame.columns:
        return pd.DataFrame(columns=[*columns, target])
    labelled = frame[frame["label"].notna()].drop_duplicates("prediction_id", keep="last")
    labelled = labelled.tail(limit)
    rows = pd.DataFrame(index=labelled.index)
    for name in columns:
        source = f"{INPUT_PREFIX}{name}"
        rows[name] = labelled[source] if source in labelled.columns else np.nan
    rows[target] = labelled["label"]
    rows["__time"] = labelled["time_ms"]
    return rows.reset_index(drop=True)


def build_training_data(
    project: LoopProject, iteration_id: str, workspace: Workspace
) -> TrainingData:
    """Assemble, split and record the iteration's training and held-out data versions."""
    spec, target = project.data, project.evaluation.target
    base_version = datasets.show(spec.dataset, workspace=workspace)
    base = datasets.get(base_version, workspace=workspace)
    if not isinstance(base, pd.DataFrame):
        raise InvalidInput(f"{base_version.ref} is not a table", field="data.dataset")
    if target not in base.columns:
        raise InvalidInput(
            f"the base data {base_version.ref} has no target column {target!r}",
            field="evaluation.target",
            hint="name the label column of the base dataset in evaluation.target",
        )
    features = [c for c in base.columns if c != target]
    production = pd.DataFrame(columns=[*features, target])
    if spec.production_data:
        production = labelled_production_rows(
            project.model.name, features, target, spec.max_production_rows, workspace
        )
        production[target] = _like(production[target], base[target])
    if spec.max_base_rows is not None and len(production):
        base = base.tail(spec.max_base_rows)  # production data joined: keep the newest base rows
    evaluation = project.evaluation
    recent = int(len(production) * evaluation.holdout_share)
    if recent >= evaluation.min_holdout_rows:
        ordered = production.sort_values("__time", kind="stable")
        holdout = ordered.tail(recent)
        train = pd.concat([base, ordered.head(len(ordered) - recent)], ignore_index=True)
        base_rows, production_training = len(base), len(ordered) - recent
        source = f"the {recent} most recent labelled production predictions"
    else:
        rng = np.random.default_rng(0)
        picked = rng.random(len(base)) < evaluation.holdout_share
        holdout = base[picked]
        train = pd.concat([base[~picked], production], ignore_index=True)
        base_rows, production_training = int((~picked).sum()), len(production)
        source = (
            f"a {evaluation.holdout_share:.0%} share of {base_version.ref} "
            f"(only {len(production)} labelled production rows)"
        )
    train = train.drop(columns=["__time"], errors="ignore")[[*features, target]]
    holdout = holdout.drop(columns=["__time"], errors="ignore")[[*features, target]]
    tags = {"loop_iteration": iteration_id, "base": base_version.ref}
    training_version = datasets.add(
        f"{project.model.name}-training",
        train.reset_index(drop=True),
        tags=tags,
        workspace=workspace,
    )
    holdout_version = datasets.add(
        f"{project.model.name}-holdout",
        holdout.reset_index(drop=True),
        tags=tags,
        workspace=workspace,
    )
    return TrainingData(
        base=base_version.ref,
        training=training_version.ref,
        holdout=holdout_version.ref,
        training_rows=len(train),
        holdout_rows=len(holdout),
        production_rows=len(production),
        holdout_source=source,
        base_rows=base_rows,
        production_training_rows=production_training,
    )


def _like(labels: pd.Series, reference: pd.Series) -> pd.Series:
    """Feedback labels in the base target's type (JSON gives 1 for 1, "yes" for "yes")."""
    if reference.dtype.kind in "iub":
        converted = pd.to_numeric(labels, errors="coerce")
        if converted.notna().all():
            return converted.astype(reference.dtype)
    if reference.dtype.kind == "f":
        return pd.to_numeric(labels, errors="coerce")
    return labels.astype(str) if reference.dtype == object else labels
