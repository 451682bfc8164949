"""Gates: parsing the declared form, and verdicts with their numbers."""

from __future__ import annotations

import math

import pytest

from loopml.errors import InvalidInput
from loopml.evaluation.gates import check_gate, check_gates, parse_gate, parse_gates

CANDIDATE = {
    "metrics": {"f1": 0.82, "roc_auc": 0.90, "latency_p99_ms": 12.0, "r2": math.nan},
    "slices": {"region=EU": {"f1": 0.70, "n_rows": 40}, "region=North America": {"f1": 0.9}},
}
CHAMPION = {"metrics": {"f1": 0.80, "roc_auc": 0.92}}


@pytest.mark.parametrize(
    ("expression", "passed", "value", "threshold"),
    [
        ("f1 >= 0.80", True, 0.82, 0.80),
        ("f1 > 0.9", False, 0.82, 0.9),
        ("latency_p99_ms <= 20", True, 12.0, 20.0),
        ("roc_auc >= champion - 0.01", False, 0.90, 0.91),
        ("roc_auc >= champion - 0.05", True, 0.90, 0.87),
        ("f1 >= baseline", True, 0.82, 0.80),
        ("roc_auc >= champion * 0.97", True, 0.90, 0.92 * 0.97),
        ("slice:region=EU f1 >= 0.75", False, 0.70, 0.75),
        ('slice:region="North America" f1 >= 0.75', True, 0.9, 0.75),
    ],
)
def test_verdicts_carry_the_numbers(
    expression: str, passed: bool, value: float, threshold: float
) -> None:
    result = check_gate(parse_gate(expression), CANDIDATE, CHAMPION)
    assert (result.passed, result.value) == (passed, value)
    assert result.threshold == pytest.approx(threshold)
    assert result.expression == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("accuracy >= 0.5", "metric 'accuracy' was not computed"),
        ("r2 >= 0.5", "metric 'r2' is undefined"),
        ("slice:region=US f1 >= 0.5", "slice 'region=US' was not evaluated"),
        ("f1 >= champion", ""),
        ("latency_p99_ms <= champion", "cannot be computed for champion"),
    ],
)
def test_a_gate_that_cannot_be_computed_fails_and_says_why(expression: str, reason: str) -> None:
    result = check_gate(parse_gate(expression), CANDIDATE, CHAMPION)
    if not reason:  # the control case: computable, so it is judged on its numbers
        assert result.passed
        return
    assert not result.passed
    assert reason in result.reason


def test_without_a_current_model_a_comparison_passes_and_says_so() -> None:
    result = check_gate(parse_gate("roc_auc >= champion - 0.01"), CANDIDATE, None)
    assert result.passed and result.reason == "no current model to compare with"


def test_all_gates_are_judged() -> None:
    results = check_gates(parse_gates(["f1 >= 0.9", "roc_auc >= 0.5"]), CANDIDATE, None)
    assert [r.passed for r in results] == [False, True]
    assert results[0].to_dict()["threshold"] == 0.9


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("f1 => 0.8", "is not '<metric> <op> <threshold>'"),
        ("f1 >= lots", "threshold 'lots' is neither a number nor 'champion'"),
        ("f1 >= champion / 2", "neither a number nor 'champion'"),
        ("", "a gate must be a non-empty string"),
        ("slice:region f1 >= 1", "is not '<metric> <op> <threshold>'"),
    ],
)
def test_bad_gates_are_refused_with_the_form_expected(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_gate(expression)
