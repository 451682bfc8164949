"""The training pipeline: read a training data version, fit a scaler + one-hot + logistic model.

The loop runs ``training`` with ``data`` set to the iteration's training data version (for
example ``churn-training@3``: the base data plus labelled production rows) and the ``params``
of ``loopml.yaml``. Each step is cached on its inputs: an iteration whose training rows and
params did not change reuses both steps instead of running them again.
"""

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import loopml

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


@loopml.step
def load(version) -> pd.DataFrame:
    """The rows of a data version (the step's cache key is the version's content)."""
    return loopml.data.get(version)


@loopml.step
def fit(frame: pd.DataFrame, C: float) -> Pipeline:
    """Scale the numbers, one-hot the categories, fit a logistic regression.

    Churners are the minority (about 29%): `class_weight="balanced"` weighs them up, which
    trades some precision for the recall a retention campaign needs.
    """
    model = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), NUMERIC),
                ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        ),
        LogisticRegression(C=C, class_weight="balanced", max_iter=1000),
    )
    return model.fit(frame[NUMERIC + CATEGORICAL], frame[TARGET])


@loopml.pipeline
def training(data: str = "churn@latest", C: float = 1.0):
    """``loopml pipeline run train.py:training`` trains on the newest base data by hand."""
    return fit(load(loopml.data.show(data)), C)
