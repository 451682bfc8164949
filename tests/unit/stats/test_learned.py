"""Thresholds learned from the reference stay quiet on its own distribution and fire on shifts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from loopml.errors import InvalidInput
from loopml.stats.drift import column_drift
from loopml.stats.learned import LearnedThreshold, learn_thresholds
from loopml.stats.profile import profile_column

COLOURS = np.array(["red", "green", "blue", "violet"], dtype=object)


def _table(
    seed: int, n: int, shift: float = 0.0, p: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)
) -> dict[str, np.ndarray]:
    """A normal column, a heavy-tailed one and a categorical one."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(shift, 1.0, n),
        "tail": rng.standard_t(3, n),
        "colour": rng.choice(COLOURS, n, p=list(p)),
    }


def _fires(
    learned: dict[str, LearnedThreshold],
    reference: dict[str, np.ndarray],
    current: dict[str, np.ndarray],
) -> dict[str, bool]:
    """Each column's verdict as a monitor gives it: the learned test and threshold."""
    return {
        name: column_drift(
            name,
            profile_column(reference[name]),
            profile_column(current[name]),
            test=rule.test,
            threshold=rule.threshold,
        ).drifted
        for name, rule in learned.items()
    }


def test_learned_thresholds_stay_quiet_on_the_reference_distribution() -> None:
    alarms = {"x": 0, "colour": 0}
    for seed in range(50):
        reference = {name: _table(seed, 2_000)[name] for name in alarms}
        learned = learn_thresholds(reference, 100, seed=seed)
        for name, fired in _fires(learned, reference, _table(seed + 1_000, 100)).items():
            alarms[name] += fired
    rates = {name: count / 50 for name, count in alarms.items()}
    assert max(rates.values()) <= 0.1, f"false alarm rates over 50 seeds: {rates}"


def test_learned_thresholds_fire_on_a_half_sd_shift() -> None:
    reference = _table(1, 4_000)
    learned = learn_thresholds(reference, 500)
    shifted = _table(2, 500, shift=0.5, p=(0.25, 0.25, 0.25, 0.25))
    assert _fires(learned, reference, shifted) == {"x": True, "tail": False, "colour": True}
    assert learned["x"].test == "wasserstein"
    assert learned["colour"].test == "jensen_shannon"
    assert 0.1 < learned["x"].threshold < 0.25  # the default 0.1 alarms on 500 clean rows


def test_smaller_windows_learn_higher_thresholds() -> None:
    reference = _table(3, 10_000)
    small = learn_thresholds(reference, 100)["x"].threshold
    large = learn_thresholds(reference, 1_000, chunks=10)["x"].threshold
    assert small > 2 * large


def test_threshold_is_mean_plus_three_sd_of_the_chunks() -> None:
    learned = learn_thresholds(_table(4, 3_000), 300, chunks=8)["x"]
    assert learned.chunks == 8 and learned.chunk_rows == 300
    assert learned.threshold == pytest.approx(learned.mean + 3 * learned.sd)
    assert learned.sd > 0


def test_named_tests_are_used_and_p_value_tests_left_out() -> None:
    learned = learn_thresholds(
        _table(5, 2_000), 200, tests={"x": "psi", "tail": "ks", "colour": "chi_square"}
    )
    assert set(learned) == {"x"}
    assert learned["x"].test == "psi"


def test_a_constant_column_gets_the_floor() -> None:
    learned = learn_thresholds({"flat": np.ones(1_000)}, 100)
    assert learned["flat"].threshold == 1e-6


def test_a_reference_too_small_for_five_chunks_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match="too small for learned thresholds with chunk_rows=300"
    ) as info:
        learn_thresholds(_table(6, 1_000), 300)
    assert info.value.field == "reference"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"chunk_rows": 0}, "chunk_rows must be an integer of at least 1"),
        ({"chunk_rows": 10, "chunks": 4}, "chunks must be an integer of at least 5"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        learn_thresholds(_table(7, 100), **kwargs)  # type: ignore[arg-type]


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(InvalidInput, match="1-D arrays of one length"):
        learn_thresholds({"a": np.zeros(10), "b": np.zeros(11)}, 2)


def test_round_trip_through_json() -> None:
    learned = learn_thresholds(_table(8, 1_000), 100)
    for rule in learned.values():
        assert LearnedThreshold.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule
    with pytest.raises(InvalidInput, match="not a learned threshold record"):
        LearnedThreshold.from_dict({"test": "psi"})
