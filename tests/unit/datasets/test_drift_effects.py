"""What the drift knobs do to a model: the reason the datasets exist.

A model of the reference world stays calibrated under covariate drift (P(y|x) is unchanged) and
loses F1 under full drift, and retraining on drifted data wins it back.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.datasets import (
    CHURN_CATEGORICAL,
    CHURN_FEATURES,
    CHURN_NUMERIC,
    CHURN_TARGET,
    make_churn,
)

ROWS = 10_000


def _drifted(seed: int) -> pd.DataFrame:
    return make_churn(ROWS, seed=seed, covariate_drift=1.0, concept_drift=1.0)


def _fit(frame: pd.DataFrame) -> Pipeline:
    encode = make_column_transformer(
        (StandardScaler(), list(CHURN_NUMERIC)), (OneHotEncoder(), list(CHURN_CATEGORICAL))
    )
    model = make_pipeline(encode, LogisticRegression())
    return model.fit(frame[list(CHURN_FEATURES)], frame[CHURN_TARGET])


def _f1(model: Pipeline, frame: pd.DataFrame) -> float:
    return float(f1_score(frame[CHURN_TARGET], model.predict(frame[list(CHURN_FEATURES)])))


@pytest.fixture(scope="module")
def old_model() -> Pipeline:
    return _fit(make_churn(ROWS, seed=1))


def test_old_model_loses_f1_under_full_drift(old_model: Pipeline) -> None:
    fresh = _f1(old_model, make_churn(ROWS, seed=2))
    drifted = _f1(old_model, _drifted(4))
    assert drifted <= fresh - 0.05, (fresh, drifted)


def test_retraining_on_drifted_data_wins_f1_back(old_model: Pipeline) -> None:
    new_model = _fit(_drifted(3))
    held_out = _drifted(4)
    old, new = _f1(old_model, held_out), _f1(new_model, held_out)
    assert new >= old + 0.03, (old, new)


def test_covariate_drift_keeps_the_model_calibrated(old_model: Pipeline) -> None:
    # The churn rate moves with the riskier mix, and the old model's mean probability follows it.
    frame = make_churn(ROWS, seed=5, covariate_drift=1.0)
    predicted = old_model.predict_proba(frame[list(CHURN_FEATURES)])[:, 1].mean()
    observed = frame[CHURN_TARGET].mean()
    assert observed > make_churn(ROWS, seed=5)[CHURN_TARGET].mean() + 0.08
    assert abs(predicted - observed) < 0.02, (predicted, observed)


def test_concept_drift_breaks_the_calibration(old_model: Pipeline) -> None:
    frame = make_churn(ROWS, seed=5, concept_drift=1.0)
    predicted = old_model.predict_proba(frame[list(CHURN_FEATURES)])[:, 1].mean()
    assert abs(predicted - frame[CHURN_TARGET].mean()) > 0.1
