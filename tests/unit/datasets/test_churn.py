"""make_churn: columns, determinism, the two drift knobs kept apart, speed, argument checks."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.datasets import (
    CHURN_CATEGORICAL,
    CHURN_FEATURES,
    CHURN_NUMERIC,
    CHURN_TARGET,
    make_churn,
)
from loopml.errors import InvalidInput


def test_make_churn_has_the_documented_columns() -> None:
    frame = make_churn(1000)
    assert list(frame.columns) == ["customer_id", *CHURN_FEATURES, CHURN_TARGET]
    assert frame["customer_id"].is_unique
    assert all(pd.api.types.is_integer_dtype(frame[c]) for c in ("age", "tenure_months"))
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in CHURN_NUMERIC)
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in CHURN_CATEGORICAL)
    assert set(frame["contract"]) == {"month-to-month", "one-year", "two-year"}
    assert set(frame["region"]) == {"EU", "US", "APAC"}
    assert set(frame[CHURN_TARGET]) == {0, 1}
    assert frame["age"].between(18, 85).all()
    assert frame["tenure_months"].between(1, 72).all()
    assert (frame[["monthly_charges", "data_usage_gb"]] > 0).all().all()
    assert not frame.isna().any().any()


def test_make_churn_base_rate_is_realistic() -> None:
    rate = make_churn(20_000, seed=5)[CHURN_TARGET].mean()
    assert 0.15 <= rate <= 0.40


def test_make_churn_risk_factors_raise_churn() -> None:
    frame = make_churn(20_000, seed=6)
    by_contract = frame.groupby("contract")[CHURN_TARGET].mean()
    assert by_contract["month-to-month"] > by_contract["one-year"] > by_contract["two-year"]
    churned = frame[frame[CHURN_TARGET] == 1]
    stayed = frame[frame[CHURN_TARGET] == 0]
    assert churned["tenure_months"].mean() < stayed["tenure_months"].mean()
    assert churned["support_calls"].mean() > stayed["support_calls"].mean()
    assert churned["monthly_charges"].mean() > stayed["monthly_charges"].mean()


def test_make_churn_is_deterministic_per_seed() -> None:
    kwargs: dict[str, Any] = {
        "covariate_drift": 0.4,
        "concept_drift": 0.7,
        "start_time": "2024-01-01",
    }
    pd.testing.assert_frame_equal(
        make_churn(500, seed=3, **kwargs), make_churn(500, seed=3, **kwargs)
    )
    assert not make_churn(500, seed=3).equals(make_churn(500, seed=4))


def test_make_churn_adds_event_time_only_with_start_time() -> None:
    assert "event_time" not in make_churn(10)
    frame = make_churn(10, start_time=pd.Timestamp("2024-03-01 12:00"), freq="5min")
    assert list(frame.columns[:2]) == ["customer_id", "event_time"]
    assert frame["event_time"].iloc[0] == pd.Timestamp("2024-03-01 12:00")
    assert (frame["event_time"].diff().dropna() == pd.Timedelta("5min")).all()


def test_make_churn_without_target_drops_only_the_label() -> None:
    labelled, unlabelled = make_churn(200, seed=2), make_churn(200, seed=2, with_target=False)
    pd.testing.assert_frame_equal(labelled.drop(columns=CHURN_TARGET), unlabelled)


def test_concept_drift_keeps_the_inputs() -> None:
    calm, drifted = make_churn(2000, seed=8), make_churn(2000, seed=8, concept_drift=1.0)
    columns = ["customer_id", *CHURN_FEATURES]
    pd.testing.assert_frame_equal(calm[columns], drifted[columns])
    assert not calm[CHURN_TARGET].equals(drifted[CHURN_TARGET])


def test_covariate_drift_moves_the_inputs() -> None:
    calm, drifted = make_churn(20_000, seed=9), make_churn(20_000, seed=9, covariate_drift=1.0)
    assert drifted["age"].mean() < calm["age"].mean() - 3
    assert drifted["monthly_charges"].mean() > calm["monthly_charges"].mean() + 3
    assert drifted["support_calls"].mean() > calm["support_calls"].mean() * 1.2
    share = {
        name: f["contract"].eq("month-to-month").mean() for name, f in [("c", calm), ("d", drifted)]
    }
    assert share["d"] > share["c"] + 0.08
    assert drifted["region"].eq("APAC").mean() > calm["region"].eq("APAC").mean() + 0.15


def test_make_churn_100k_rows_is_fast() -> None:
    make_churn(1000)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        frame = make_churn(100_000, seed=1, covariate_drift=0.5, start_time="2024-01-01")
        best = min(best, time.perf_counter() - start)
    assert len(frame) == 100_000
    assert best < 0.5


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"n_rows": 0}, "n_rows", r"n_rows must be an integer >= 1, got 0"),
        ({"n_rows": 10.0}, "n_rows", r"n_rows must be an integer >= 1"),
        ({"n_rows": True}, "n_rows", r"n_rows must be an integer >= 1"),
        ({"seed": -1}, "seed", r"seed must be an integer >= 0"),
        ({"covariate_drift": 1.5}, "covariate_drift", r"must be a number in \[0, 1\], got 1.5"),
        ({"covariate_drift": -0.1}, "covariate_drift", r"covariate_drift must be .* \[0, 1\]"),
        ({"concept_drift": float("nan")}, "concept_drift", r"concept_drift must be .* \[0, 1\]"),
        ({"concept_drift": "high"}, "concept_drift", r"concept_drift must be .* \[0, 1\]"),
        ({"start_time": "not a date"}, "start_time", r"start_time 'not a date' is not a time"),
        ({"start_time": "2024-01-01", "freq": "fortnightly"}, "freq", r"freq 'fortnightly'"),
    ],
)
def test_make_churn_refuses_bad_arguments(kwargs: dict[str, Any], field: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match) as caught:
        make_churn(**kwargs)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_make_churn_ids_are_plain_strings() -> None:
    ids = make_churn(3)["customer_id"]
    assert list(ids) == ["C00000000", "C00000001", "C00000002"]
    assert np.all([isinstance(i, str) for i in ids])
