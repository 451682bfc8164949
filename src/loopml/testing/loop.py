"""A small training-loop project on disk, for the loop's tests (unit and end to end)."""

from __future__ import annotations

import textwrap
from pathlib import Path

TRAIN_PY = textwrap.dedent(
    """
    import os, time
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    import loopml

    NUMERIC = ["age", "tenure_months", "monthly_charges", "support_calls", "data_usage_gb",
               "late_payments"]
    CATEGORICAL = ["contract", "payment_method", "region"]


    @loopml.step
    def load(version) -> pd.DataFrame:
        return loopml.data.get(version)


    @loopml.step
    def fit(frame: pd.DataFrame, C: float):
        flag = os.environ.get("LOOPML_TEST_SLOW_TRAINING")
        if flag and os.path.exists(flag):  # a test holds training here to kill the controller
            open(flag + ".started", "w").close()
            time.sleep(120)
        if os.environ.get("LOOPML_TEST_BROKEN_TRAINING"):
            raise RuntimeError("training data has no usable rows")
        model = make_pipeline(
            ColumnTransformer([("n", StandardScaler(), NUMERIC),
                               ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)]),
            LogisticRegression(C=C, max_iter=1000),
        )
        return model.fit(frame[NUMERIC + CATEGORICAL], frame["churned"])


    @loopml.pipeline
    def training(data: str = "churn@latest", C: float = 1.0):
        return fit(load(loopml.data.show(data)), C)
    """
)

LOOPML_YAML = textwrap.dedent(
    """
    model: {name: churn, alias: champion}
    data: {dataset: churn}
    training: {pipeline: train.py:training, params: {C: %(C)s}}
    evaluation:
      target: churned
      task: classification
      gates: [%(gates)s]
    monitors: [{name: churn-watch, window: 300rows}]
    triggers:
      accuracy_drop: {metric: f1, drop: 0.05}
    cooldown: 0s
    promotion: %(promotion)s
    interval: 1s
    """
)


def write_project(
    folder: Path, *, gates: str = '"f1 >= 0.2"', promotion: str = "auto", C: float = 1.0
) -> Path:
    """Write ``train.py`` and ``loopml.yaml`` into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN_PY)
    (folder / "loopml.yaml").write_text(
        LOOPML_YAML % {"gates": gates, "promotion": promotion, "C": C}
    )
    return folder


def add_base_data(rows: int = 1_500, seed: int = 0) -> str:
    """Version the base churn table (in the current workspace); return its ref."""
    from loopml import data
    from loopml.datasets import make_churn

    frame = make_churn(rows, seed=seed).drop(columns=["customer_id"])
    return data.add("churn", frame).ref
