"""The controller end to end in one process: bootstrap, gates, failures, approval, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.errors import InvalidInput
from loopml.loop import approve, history, load_project, rollback, tick
from loopml.loop.iteration import champion_version
from loopml.testing.loop import write_project
from loopml.workspace import default_workspace


def test_bootstrap_trains_and_promotes_the_first_champion(loop_project: Path) -> None:
    result = tick(load_project(loop_project))
    assert result.fired == ["bootstrap"] and result.iteration is not None
    first = result.iteration
    assert (first.decision, first.model_version, first.status) == ("promoted", 1, "finished")
    assert first.data_version == "churn-training@1"
    record = first.record
    assert record["data"]["holdout"] == "churn-holdout@1"
    assert record["training"]["kind"] == "pipeline"
    steps = [s["step"] for s in record["timeline"]]
    assert steps == ["data", "train", "register", "judge", "monitors"]
    assert champion_version(default_workspace(), "churn", "champion") == 1
    quiet = tick(load_project(loop_project))  # creates the monitor; nothing fires
    assert quiet.iteration is None and quiet.fired == []
    assert {c.trigger for c in quiet.checks} == {"accuracy_drop"}


def test_a_failed_gate_registers_but_keeps_the_champion_and_says_by_how_much(
    loop_project: Path,
) -> None:
    tick(load_project(loop_project))
    strict = load_project(write_project(loop_project, gates='"f1 >= 0.99"'))
    result = tick(strict, manual_reason="try a stricter bar")
    assert result.iteration is not None
    kept = result.iteration
    assert kept.decision == "kept" and kept.model_version == 2
    assert "f1 >= 0.99" in str(kept.reason) and "short by" in str(kept.reason)
    (gate,) = kept.record["gates"]
    assert gate["passed"] is False and gate["shortfall"] < 0
    assert champion_version(default_workspace(), "churn", "champion") == 1
    assert default_workspace().store.models.version("churn", 2).version == 2


def test_a_training_failure_leaves_the_champion_serving(
    loop_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick(load_project(loop_project))
    monkeypatch.setenv("LOOPML_TEST_BROKEN_TRAINING", "1")
    changed = load_project(write_project(loop_project, C=0.5))  # not a cached step
    result = tick(changed, manual_reason="retrain now")
    assert result.iteration is not None
    failed = result.iteration
    assert (failed.status, failed.decision) == ("failed", "failed")
    assert failed.record["failure"]["step"] == "train"
    assert "training data has no usable rows" in str(failed.reason)
    assert champion_version(default_workspace(), "churn", "champion") == 1
    monkeypatch.delenv("LOOPML_TEST_BROKEN_TRAINING")
    again = tick(changed, manual_reason="retry")
    assert again.iteration is not None and again.iteration.status == "finished"


def test_manual_promotion_waits_for_approval(loop_project: Path) -> None:
    tick(load_project(loop_project))
    manual = load_project(write_project(loop_project, promotion="manual", gates=""))
    waiting = tick(manual, manual_reason="weekly retrain").iteration
    assert waiting is not None and waiting.status == "awaiting_approval"
    assert champion_version(default_workspace(), "churn", "champion") == 1
    approved = approve(manual, waiting.iteration_id[:12], reason="looks good")
    assert approved.decision == "approved" and approved.record["champion_after"] == 2
    with pytest.raises(InvalidInput, match="not awaiting approval"):
        approve(manual, waiting.iteration_id)


def test_rollback_returns_to_the_previous_champion_and_records_why(loop_project: Path) -> None:
    project = load_project(loop_project)
    tick(project)
    loose = load_project(write_project(loop_project, gates=""))
    assert tick(loose, manual_reason="refresh").iteration is not None
    assert champion_version(default_workspace(), "churn", "champion") == 2
    done = rollback(loose, reason="complaints from the call centre")
    assert (done["from_version"], done["to_version"]) == (2, 1)
    events = default_workspace().store.events.list(kind="loop.rollback")
    assert events[0].reason == "complaints from the call centre"
    with pytest.raises(InvalidInput, match="needs a reason"):
        rollback(loose, reason=" ")
    assert [i.decision for i in history("churn")] == ["promoted", "promoted"]


def test_every_check_is_recorded_with_its_evidence(loop_project: Path) -> None:
    project = load_project(loop_project)
    tick(project)
    tick(project)
    checks = default_workspace().store.events.list(kind="loop.check")
    assert len(checks) == 2
    assert checks[0].data["checks"][0]["trigger"] == "accuracy_drop"
    assert checks[1].data["checks"][0]["trigger"] == "bootstrap"


def test_run_forever_survives_a_failed_check(
    loop_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from loopml.errors import BackendUnavailable
    from loopml.loop import controller

    real_tick = controller.tick
    calls: list[str] = []

    def flaky(project: object, **kwargs: object) -> object:
        calls.append("tick")
        if len(calls) == 1:
            raise BackendUnavailable("the store is down", field="store")
        return real_tick(project, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(controller, "tick", flaky)
    stop = threading.Event()
    errors: list[BaseException] = []

    def on_tick(result: object) -> None:
        stop.set()

    ticks = controller.run_forever(
        load_project(loop_project),
        interval_s=0.01,
        on_tick=on_tick,
        on_error=errors.append,
        stop=stop,
    )
    assert ticks == 2 and len(errors) == 1 and "store is down" in str(errors[0])
    assert champion_version(default_workspace(), "churn", "champion") == 1
