"""The telecom churn table: customers drawn column by column, the label from a logistic model.

The two drift knobs act on separate halves of the story. ``covariate_drift`` only moves the
draws of the inputs (``_draw_inputs``); ``concept_drift`` only moves the label's coefficients
(``_COEFFICIENTS``). Each is a linear blend between the reference world (0) and a drifted one
(1), and both consume the random stream identically, so a seed gives the same customers under
any ``concept_drift``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from loopml.datasets._checks import check_count, check_fraction
from loopml.errors import InvalidInput

CHURN_TARGET = "churned"
CHURN_NUMERIC = (
    "age",
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "data_usage_gb",
    "late_payments",
)
CHURN_CATEGORICAL = ("contract", "payment_method", "region")
CHURN_FEATURES = CHURN_NUMERIC + CHURN_CATEGORICAL

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
REGIONS = ("EU", "US", "APAC")

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Columns = dict[str, npt.NDArray[Any]]
Generator = np.random.Generator

_REGION_MIX = ((0.45, 0.35, 0.20), (0.25, 0.30, 0.45))
_PAYMENT_MIX = ((0.33, 0.17, 0.25, 0.25), (0.50, 0.10, 0.20, 0.20))
_REGION_PRICE = np.array([0.0, 8.0, -6.0])
_CONTRACT_PRICE = np.array([0.0, -5.0, -9.0])
_CONTRACT_TENURE = np.array([14.0, 32.0, 50.0])
_LATENT_NOISE = 0.5
# Concept drift is a competitor's entry: it pays early-termination fees (contracts and loyalty stop
# holding customers, long-standing ones on legacy plans are poached first), undercuts on price
# (price sensitivity more than quadruples) and targets heavy data users in APAC.
_COEFFICIENTS = MappingProxyType(
    {
        "intercept": (-2.5, -2.8),
        "month_to_month": (1.3, 0.0),
        "two_year": (-0.6, 0.0),
        "tenure": (-0.045, 0.015),
        "charges": (0.022, 0.10),
        "support_calls": (0.40, 0.10),
        "late_payments": (0.35, 0.35),
        "electronic_check": (0.30, 0.30),
        "age": (-0.01, -0.01),
        "heavy_apac": (0.0, 2.0),
    }
)


def make_churn(
    n_rows: int = 5000,
    *,
    seed: int = 0,
    covariate_drift: float = 0.0,
    concept_drift: float = 0.0,
    start_time: str | pd.Timestamp | None = None,
    freq: str = "1min",
    with_target: bool = True,
) -> pd.DataFrame:
    """A churn table for demos and tests: the same seed and knobs always give the same rows.

    ``event_time`` is added (one row per ``freq`` from ``start_time``) only when ``start_time``
    is given; ``with_target=False`` drops ``churned``, as unlabelled production traffic would.
    """
    n = check_count("n_rows", n_rows)
    frame = generate(
        np.random.default_rng(check_count("seed", seed, minimum=0)),
        n,
        covariate_drift=check_fraction("covariate_drift", covariate_drift),
        concept_drift=check_fraction("concept_drift", concept_drift),
    )
    if start_time is not None:
        frame.insert(1, "event_time", event_times(*clock(start_time, freq), n))
    return frame if with_target else frame.drop(columns=CHURN_TARGET)


def generate(
    rng: Generator,
    n: int,
    *,
    covariate_drift: float,
    concept_drift: float,
    first_id: int = 0,
) -> pd.DataFrame:
    """The table without checks or times; ``first_id`` keeps ids unique across stream windows."""
    inputs = _draw_inputs(rng, n, covariate_drift)
    logit = _churn_logit(inputs, concept_drift) + rng.normal(0.0, _LATENT_NOISE, n)
    churned = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    ids = pd.Series(np.arange(first_id, first_id + n)).astype("str").str.zfill(8)
    columns: dict[str, Any] = {"customer_id": "C" + ids}
    columns.update({name: inputs[name] for name in CHURN_NUMERIC})
    for name, labels in (
        ("contract", CONTRACTS),
        ("payment_method", PAYMENT_METHODS),
        ("region", REGIONS),
    ):
        columns[name] = pd.array(labels, dtype="str").take(inputs[name])
    columns[CHURN_TARGET] = churned
    return pd.DataFrame(columns)


def clock(start_time: str | pd.Timestamp, freq: str) -> tuple[pd.Timestamp, BaseOffset]:
    """The first timestamp and the step between rows, with errors naming the argument."""
    start = _timestamp(start_time)
    if start is None:
        raise InvalidInput(
            f"start_time {start_time!r} is not a timestamp",
            field="start_time",
            value=start_time,
            hint="pass an ISO date such as '2024-01-01' or a pandas.Timestamp",
        )
    try:
        step = pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            f"freq {freq!r} is not a pandas frequency",
            field="freq",
            value=freq,
            hint="pass an offset alias such as '1min', '1h' or '1D'",
        ) from error
    return start, step


def event_times(start: pd.Timestamp, step: BaseOffset, n: int, skip: int = 0) -> pd.DatetimeIndex:
    """Timestamps for rows ``skip`` to ``skip + n`` of a table that begins at ``start``."""
    return pd.date_range(start=start + step * skip, periods=n, freq=step, name="event_time")


def _timestamp(value: str | pd.Timestamp) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp


def _blend(reference: tuple[float, ...], drifted: tuple[float, ...], d: float) -> Floats:
    return (1.0 - d) * np.asarray(reference) + d * np.asarray(drifted)


def _pick(rng: Generator, probs: Floats, n: int) -> Ints:
    """Category codes drawn by inverse CDF; ``probs`` is one row of shares or one row per draw."""
    cumulative = np.cumsum(np.broadcast_to(probs, (n, probs.shape[-1])), axis=1)
    u = rng.random(n)[:, None] * cumulative[:, -1:]
    codes: Ints = np.count_nonzero(u >= cumulative[:, :-1], axis=1).astype(np.int64)
    return codes


def _draw_inputs(rng: Generator, n: int, d: float) -> Columns:
    """Customers under covariate drift ``d``.

    At ``d=1`` they are five years younger, more often on month-to-month plans (log-odds +0.5),
    use about a fifth more data, pay a little more, call support more (+28%) and pay late more
    often, the region mix moves from EU towards APAC and electronic checks go from 33% to 50%.
    """
    region = _pick(rng, _blend(*_REGION_MIX, d), n)
    age = np.clip(np.rint(rng.normal(44.0 - 5.0 * d, 14.0, n)), 18, 85).astype(np.int64)
    # Older customers sign longer contracts; drift pushes everyone towards month-to-month.
    monthly_share = 1.0 / (1.0 + np.exp(0.03 * (age - 44.0) - 0.5 * d))
    shares = np.column_stack(
        [monthly_share, 0.45 * (1.0 - monthly_share), 0.55 * (1.0 - monthly_share)]
    )
    contract = _pick(rng, shares, n)
    tenure_mean = _CONTRACT_TENURE[contract] * (1.0 - 0.1 * d)
    tenure = np.clip(np.rint(rng.gamma(1.5, tenure_mean / 1.5)), 1, 72).astype(np.int64)
    usage = np.exp(2.2 + 0.015 * (44.0 - age) + 0.2 * d + rng.normal(0.0, 0.5, n))
    payment = _pick(rng, _blend(*_PAYMENT_MIX, d), n)
    charges = np.clip(
        30.0
        + 1.8 * usage
        + _REGION_PRICE[region]
        + _CONTRACT_PRICE[contract]
        + 2.0 * d
        + rng.normal(0.0, 8.0, n),
        15.0,
        160.0,
    )
    calls = rng.poisson(np.exp(-0.3 + 0.25 * d + 0.008 * (charges - 60.0)))
    late = rng.poisson(0.25 + 0.35 * (payment == 0) + 0.1 * d)
    return {
        "age": age,
        "tenure_months": tenure,
        "monthly_charges": np.round(charges, 2),
        "support_calls": calls.astype(np.int64),
        "data_usage_gb": np.round(usage, 2),
        "late_payments": late.astype(np.int64),
        "contract": contract,
        "payment_method": payment,
        "region": region,
    }


def _churn_logit(x: Columns, c: float) -> Floats:
    """The label's log-odds: each coefficient slides from its reference to its drifted value."""
    terms = {
        "intercept": np.ones(len(x["age"])),
        "month_to_month": x["contract"] == 0,
        "two_year": x["contract"] == 2,
        "tenure": x["tenure_months"] - 27.0,
        "charges": x["monthly_charges"] - 50.0,
        "support_calls": x["support_calls"],
        "late_payments": x["late_payments"],
        "electronic_check": x["payment_method"] == 0,
        "age": x["age"] - 44.0,
        "heavy_apac": (x["region"] == 2) & (x["data_usage_gb"] > 15.0),
    }
    logit = np.zeros(len(x["age"]))
    for name, (reference, drifted) in _COEFFICIENTS.items():
        logit += ((1.0 - c) * reference + c * drifted) * terms[name]
    return logit
