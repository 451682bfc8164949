"""The training function: ``train(data, params)`` gets the iteration's training rows as a
DataFrame and the ``params`` of ``loopml.yaml``, and returns the fitted model.

The model is a scikit-learn pipeline ending in a ``lightgbm.LGBMClassifier``: the one-hot step
travels with the model, so the server, the monitors and the gates all send it the raw columns
(``contract="one-year"``), exactly as they arrive in production. The encoder outputs a
DataFrame, so LightGBM sees the same feature names when it is fitted and when it predicts.
"""

from typing import Any

import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.compose import make_column_transformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

TARGET = "churned"
NUMERIC = [
    "age",
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "data_usage_gb",
    "late_payments",
]
CATEGORICAL = ["contract", "payment_method", "region"]


def train(data: pd.DataFrame, params: dict[str, Any]) -> Pipeline:
    """One-hot the categories, pass the numbers through, fit gradient-boosted trees."""
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
        ("passthrough", NUMERIC),
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    trees = LGBMClassifier(
        n_estimators=int(params.get("n_estimators", 200)),
        learning_rate=float(params.get("learning_rate", 0.05)),
        num_leaves=int(params.get("num_leaves", 15)),
        class_weight="balanced",  # churners are the minority (about 29%)
        random_state=0,
        verbose=-1,  # no training log on stdout
    )
    model = make_pipeline(encode, trees)
    return model.fit(data[NUMERIC + CATEGORICAL], data[TARGET])
