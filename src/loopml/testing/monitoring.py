"""A churn classifier trained on a versioned table, and a way to replay traffic into its log.

Shared by the monitoring tests (unit and integration) and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import loopml
from loopml._util.ids import new_id_at
from loopml.predictions import LoggedPrediction, PredictionLog
from loopml.registry import clear_cache, set_alias

HOUR = 3_600_000
T0 = 1_780_000_000_000 // HOUR * HOUR  # an hour boundary
FEATURES = ["age", "income", "plan"]


def make_frame(
    seed: int, rows: int, *, shift: float = 0.0, widen: float = 1.0, new_plan: float = 0.0
) -> pd.DataFrame:
    """Customers; ``shift``/``widen`` move the income distribution, ``new_plan`` adds a plan."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, rows)
    income = rng.normal(50 + shift * 10, 10 * widen, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    if new_plan:
        plan[rng.random(rows) < new_plan] = "enterprise"
    logit = (age - 40) / 10 - (income - 50) / 10 + np.where(plan == "basic", 0.5, -0.5)
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "income": income, "plan": plan, "churned": label})


@dataclass
class Project:
    """The registered model and helpers to write its prediction log."""

    model: Any
    classes: list[Any]

    def log(
        self, frame: pd.DataFrame, start_ms: int, step_ms: int = 100, version: int = 1
    ) -> list[str]:
        """Write ``frame``'s predictions as one segment, ``step_ms`` apart from ``start_ms``."""
        # The model sees a repaired copy; the log keeps the inputs as they came.
        repaired = frame.reindex(columns=FEATURES).fillna({"age": 40.0, "income": 50.0})
        repaired["plan"] = repaired["plan"].fillna("basic")
        proba = self.model.predict_proba(repaired)
        predictions = self.model.predict(repaired)
        inputs = frame.drop(columns=["churned"], errors="ignore")
        rows: list[LoggedPrediction] = []
        ids: list[str] = []
        for i, record in enumerate(inputs.to_dict("records")):
            ms = start_ms + i * step_ms
            ids.append(new_id_at(ms))
            rows.append(
                LoggedPrediction(
                    ids[-1],
                    ms,
                    "churn",
                    version,
                    "champion",
                    1.0,
                    {str(k): v for k, v in record.items()},
                    int(predictions[i]),
                    [float(p) for p in proba[i]],
                )
            )
        log = PredictionLog("churn", classes=self.classes)
        log.log(rows)
        assert log.flush() == len(rows)
        return ids

    def label(self, ids: Sequence[str], labels: Sequence[Any]) -> None:
        from loopml.entities import FeedbackLabel
        from loopml.workspace import default_workspace

        default_workspace().store.predictions.add_feedback(
            [FeedbackLabel(i, int(v), 1) for i, v in zip(ids, labels, strict=True)]
        )


def make_project() -> Project:
    """``churn`` v1 (a pipeline taking the raw columns) trained on data ``churn@1``, as champion."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    clear_cache()
    train = make_frame(0, 5_000)
    version = loopml.data.add("churn", train)
    model = make_pipeline(
        ColumnTransformer(
            [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])], remainder="passthrough"
        ),
        LogisticRegression(max_iter=500),
    ).fit(train[FEATURES], train.churned)
    info = loopml.registry.log_model(
        model,
        input_example=train[FEATURES].head(),
        registered_model_name="churn",
        target="churned",
        data_version=version.ref,
    )
    set_alias("churn", "champion", info.version or 1)
    return Project(model, [int(c) for c in model.classes_])
