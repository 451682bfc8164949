"""make_drifting_stream: calm windows, a linear ramp to the maxima, ids and times running on."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from loopml.datasets import CHURN_TARGET, make_churn, make_drifting_stream
from loopml.datasets.churn import generate
from loopml.errors import InvalidInput


def _shares(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> list[tuple[float, float]]:
    """The (covariate, concept) drift each window was generated with."""
    seen: list[tuple[float, float]] = []

    def spy(*args: Any, **inner: Any) -> pd.DataFrame:
        seen.append((inner["covariate_drift"], inner["concept_drift"]))
        return generate(*args, **inner)

    monkeypatch.setattr("loopml.datasets.stream.generate", spy)
    for _ in make_drifting_stream(**kwargs):
        pass
    return seen


def test_stream_ramps_linearly_from_start_drift_at(monkeypatch: pytest.MonkeyPatch) -> None:
    shares = _shares(
        monkeypatch,
        n_windows=6,
        rows_per_window=10,
        start_drift_at=2,
        max_covariate_drift=0.8,
        max_concept_drift=0.4,
    )
    expected = [(0.0, 0.0), (0.0, 0.0), (0.2, 0.1), (0.4, 0.2), (0.6, 0.3), (0.8, 0.4)]
    assert shares == [pytest.approx(pair) for pair in expected]


def test_stream_never_drifts_when_it_starts_after_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    shares = _shares(monkeypatch, n_windows=3, rows_per_window=5, start_drift_at=3)
    assert shares == [(0.0, 0.0)] * 3


def test_stream_windows_are_numbered_sized_and_unique() -> None:
    windows = list(make_drifting_stream(4, 50, seed=1, start_drift_at=1))
    assert [index for index, _ in windows] == [0, 1, 2, 3]
    assert all(len(frame) == 50 for _, frame in windows)
    ids = pd.concat([frame["customer_id"] for _, frame in windows])
    assert ids.is_unique


def test_stream_is_deterministic_and_calm_windows_differ() -> None:
    first = [f for _, f in make_drifting_stream(3, 100, seed=7, start_drift_at=1)]
    again = [f for _, f in make_drifting_stream(3, 100, seed=7, start_drift_at=1)]
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not first[0]["age"].equals(first[1]["age"])


def test_stream_last_window_matches_full_drift_in_distribution() -> None:
    *_, (_, last) = make_drifting_stream(3, 20_000, seed=2, start_drift_at=1)
    (_, calm), *_ = make_drifting_stream(3, 20_000, seed=2, start_drift_at=1)
    drifted = make_churn(20_000, seed=99, covariate_drift=1.0, concept_drift=1.0)
    assert abs(last["age"].mean() - drifted["age"].mean()) < 0.5
    assert abs(last[CHURN_TARGET].mean() - drifted[CHURN_TARGET].mean()) < 0.02
    assert calm["age"].mean() > last["age"].mean() + 3


def test_stream_event_times_run_on_across_windows() -> None:
    frames = [
        f
        for _, f in make_drifting_stream(
            3, 4, start_drift_at=0, start_time="2024-05-01", freq="1h", with_target=False
        )
    ]
    times = pd.concat([f["event_time"] for f in frames], ignore_index=True)
    assert times.iloc[0] == pd.Timestamp("2024-05-01")
    assert (times.diff().dropna() == pd.Timedelta("1h")).all()
    assert all(CHURN_TARGET not in f for f in frames)


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"n_windows": 0}, "n_windows", r"n_windows must be an integer >= 1, got 0"),
        ({"rows_per_window": -5}, "rows_per_window", r"rows_per_window must be an integer >= 1"),
        ({"start_drift_at": -1}, "start_drift_at", r"start_drift_at must be an integer >= 0"),
        ({"start_drift_at": 5}, "start_drift_at", r"start_drift_at must be in \[0, n_windows=4\]"),
        ({"max_covariate_drift": 2.0}, "max_covariate_drift", r"max_covariate_drift .* \[0, 1\]"),
        ({"max_concept_drift": -1.0}, "max_concept_drift", r"max_concept_drift .* \[0, 1\]"),
        ({"start_time": "yesterday-ish"}, "start_time", r"start_time 'yesterday-ish'"),
    ],
)
def test_stream_refuses_bad_arguments_at_the_call(
    kwargs: dict[str, Any], field: str, match: str
) -> None:
    arguments: dict[str, Any] = {"n_windows": 4, "rows_per_window": 10, "start_drift_at": 2}
    with pytest.raises(InvalidInput, match=match) as caught:
        make_drifting_stream(**(arguments | kwargs))  # no next(): checks happen at the call
    assert caught.value.field == field
