"""Promotion: gates decide, the evidence is recorded, a worse model never takes the alias."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import loopml
from loopml.errors import InvalidInput
from loopml.registry import get_version, history, set_gates

from .conftest import good_model, weak_model

GATES = ["f1 >= 0.6", "roc_auc >= champion - 0.01"]


@pytest.fixture
def versions(frames: Any) -> Any:
    """Version 1 weak, version 2 good, registered with their target; the test table added."""
    train, test = frames
    loopml.data.add("test", test)
    loopml.log_model(weak_model(train), registered_model_name="churn", target="label")
    loopml.log_model(good_model(train), registered_model_name="churn", target="label")
    return test


def test_first_promotion_passes_comparisons_with_nothing_to_compare(versions: Any) -> None:
    result = loopml.promote("churn", 1, gates=GATES, data="test@1")
    assert result.promoted and result.previous_version is None
    assert [g.passed for g in result.gates] == [True, True]
    assert result.gates[1].reason == "no current model to compare with"
    assert get_version("churn", alias="champion").version == 1
    assert get_version("churn", 1).evaluation_id == result.evaluation_id


def test_a_better_challenger_is_promoted_with_its_numbers(versions: Any) -> None:
    loopml.promote("churn", 1, gates=GATES, data="test@1")
    result = loopml.promote("churn", 2, gates=GATES, data="test@1")
    assert result.promoted and result.previous_version == 1
    auc = result.gates[1]
    assert auc.value is not None and auc.threshold is not None and auc.value > auc.threshold
    event = history("churn")[0]
    assert (event.kind, event.data["from_version"], event.data["to_version"]) == ("promotion", 1, 2)
    assert event.data["gates"][1]["expression"] == "roc_auc >= champion - 0.01"
    assert event.data["evaluation_id"] == result.evaluation_id


def test_a_worse_challenger_is_never_promoted(versions: Any) -> None:
    loopml.promote("churn", 2, gates=GATES, data="test@1")
    result = loopml.promote("churn", 1, gates=GATES, data="test@1")
    assert not result.promoted
    assert [g.passed for g in result.gates] == [True, False]
    assert "roc_auc" in result.reason
    assert get_version("churn", alias="champion").version == 2
    refused = history("churn")[0]
    assert refused.kind == "promotion_refused" and refused.data["to_version"] == 2


def test_stored_evaluations_on_the_same_data_version_are_the_evidence(versions: Any) -> None:
    loopml.promote("churn", 2, gates=GATES, data="test@1")
    loopml.evaluate("models:/churn/1", "test@1")
    result = loopml.promote("churn", 1, gates=GATES)  # no data: stored evaluations
    assert not result.promoted and result.gates[1].threshold is not None


def test_a_gate_that_cannot_be_computed_fails(versions: Any) -> None:
    loopml.promote("churn", 1, gates=["f1 >= 0.1"], data="test@1")
    result = loopml.promote("churn", 2, gates=GATES)  # version 2 was never evaluated
    assert not result.promoted
    assert all("cannot be computed" in g.reason for g in result.gates)


def test_declared_gates_are_used_when_none_are_given(versions: Any) -> None:
    set_gates("churn", ["f1 >= 0.99"])
    result = loopml.promote("churn", 2, data="test@1")
    assert not result.promoted and result.gates[0].expression == "f1 >= 0.99"
    with pytest.raises(InvalidInput, match="is not '<metric> <op> <threshold>'"):
        set_gates("churn", ["f1 => 0.9"])


def test_force_needs_a_reason_and_records_the_override(versions: Any) -> None:
    with pytest.raises(InvalidInput, match="a forced promotion needs a reason"):
        loopml.promote("churn", 1, gates=["f1 >= 0.99"], data="test@1", force=True)
    result = loopml.promote(
        "churn", 1, gates=["f1 >= 0.99"], data="test@1", force=True, reason="incident 42"
    )
    assert result.promoted and result.forced
    event = history("churn")[0]
    assert (event.kind, event.reason, event.data["forced"]) == (
        "promotion_forced",
        "incident 42",
        True,
    )


def test_rollback_walks_back_through_champions(versions: Any, frames: Any) -> None:
    train, _ = frames
    loopml.log_model(good_model(train.iloc[:1500]), registered_model_name="churn")
    for version in (1, 2, 3):
        loopml.promote("churn", version, gates=[])
    assert loopml.rollback("churn").version == 2
    assert loopml.rollback("churn", reason="still bad").version == 1
    assert get_version("churn", alias="champion").version == 1
    assert history("churn")[0].reason == "still bad"


def test_racing_promotions_leave_the_alias_on_one_and_record_both(versions: Any) -> None:
    loopml.evaluate("models:/churn/1", "test@1")
    loopml.evaluate("models:/churn/2", "test@1")
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def race(version: int) -> None:
        barrier.wait()
        results.append(loopml.promote("churn", version, gates=["f1 >= 0.5"]))

    threads = [threading.Thread(target=race, args=(v,)) for v in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    holder = get_version("churn", alias="champion").version
    assert holder in (1, 2)
    moves = [e for e in history("churn") if e.kind == "promotion"]
    assert len(results) == 2 and len(moves) == 2
    assert moves[0].data["to_version"] == holder  # the last move is where the alias is
    assert moves[1].data["to_version"] == moves[0].data["from_version"]
