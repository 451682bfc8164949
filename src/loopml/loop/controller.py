"""The controller: check the triggers, and when one fires (and the cooldown allows) iterate.

``tick`` is one check and at most one iteration (for cron or CI); ``run_forever`` ticks every
``interval`` until SIGTERM or SIGINT, finishing the tick in progress first. Every tick records
its checks as a ``loop.check`` event, whether anything fired or not.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loopml._util.clock import now_ms
from loopml._util.process import hostname, pid_alive
from loopml.entities import LoopIteration
from loopml.errors import Conflict, InvalidInput, NotFound, summary
from loopml.loop.iteration import champion_version, fail_iteration, refresh_monitors, run_iteration
from loopml.loop.lock import STALE_AFTER_S, IterationLock
from loopml.loop.project import LoopProject
from loopml.loop.records import iteration_dict
from loopml.loop.triggers import Check, check_labels, check_schedule, check_windows
from loopml.monitor.window_result import WindowResult
from loopml.store import NewEvent
from loopml.workspace import Workspace, default_workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickResult:
    """What one tick saw and did."""

    time: int
    checks: tuple[Check, ...]
    iteration: LoopIteration | None = None
    note: str = ""
    windows: int = 0
    seconds: float = 0.0
    recovered: tuple[str, ...] = field(default_factory=tuple)

    @property
    def fired(self) -> list[str]:
        return [c.trigger for c in self.checks if c.fired]

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "checks": [c.to_dict() for c in self.checks],
            "fired": self.fired,
            "iteration": None if self.iteration is None else iteration_dict(self.iteration),
            "note": self.note,
            "windows": self.windows,
            "seconds": self.seconds,
            "recovered": list(self.recovered),
        }


def recover(project: LoopProject, ws: Workspace) -> list[str]:
    """Mark failed the running iterations whose controller is gone; return their ids."""
    failed: list[str] = []
    for listed in ws.store.loop.iterations(project.model.name, status="running", limit=20):
        # The lock first, then the status: a live iteration records its end before it lets go
        # of the lock, so "still running and not holding the lock" means its controller died.
        lock = ws.store.loop.lock(project.model.name)
        iteration = ws.store.loop.iteration(listed.iteration_id)
        if iteration.status != "running":
            continue
        held = lock is not None and lock.holder == iteration.iteration_id
        stale = (
            held and lock is not None and lock.heartbeat_time < now_ms() - int(STALE_AFTER_S * 1000)
        )
        dead_here = iteration.host == hostname() and not pid_alive(iteration.pid)
        if not held or stale or dead_here:
            fail_iteration(
                ws,
                iteration,
                f"the controller (pid {iteration.pid} on {iteration.host}) stopped during the "
                "iteration; the champion was not changed",
            )
            failed.append(iteration.iteration_id)
    return failed


def ensure_monitors(project: LoopProject, ws: Workspace) -> None:
    """Create the project's monitors that do not exist yet (once a version serves)."""
    import loopml.monitor as monitor

    existing = {m.name for m in monitor.list(workspace=ws)}
    for spec in project.monitors:
        if spec["name"] in existing:
            continue
        options = {k: v for k, v in spec.items() if k != "name"}
        monitor.create(
            spec["name"], project.model.name, alias=project.model.alias, workspace=ws, **options
        )


def _windows(project: LoopProject, ws: Workspace, champion: int, after: int) -> list[WindowResult]:
    """New windows of the project's monitors that judged the current champion."""
    import loopml.monitor as monitor

    found: list[WindowResult] = []
    for spec in project.monitors:
        monitor.run(spec["name"], workspace=ws)
        for window in monitor.results(spec["name"], since=after, workspace=ws):
            reference = window.result.get("reference") or {}
            if (
                window.status == "ok"
                and reference.get("model_version") == champion
                and window.end_time > after
            ):
                found.append(window)
    return sorted(found, key=lambda w: (w.start_time, w.monitor))


def tick(
    project: LoopProject,
    *,
    workspace: Workspace | None = None,
    manual_reason: str | None = None,
) -> TickResult:
    """One check of every trigger and, when one fires outside the cooldown, one iteration."""
    started = time.perf_counter()
    ws = workspace or default_workspace()
    model, alias = project.model.name, project.model.alias
    recovered = recover(project, ws)
    state = ws.store.loop.state(model)
    now = now_ms()
    champion = champion_version(ws, model, alias)
    checks: list[Check] = []
    latches: dict[str, bool] = dict(state.get("latched") or {})
    windows: list[WindowResult] = []
    if manual_reason is not None:
        checks.append(Check("manual", True, note=manual_reason))
    if champion is None:
        checks.append(Check("bootstrap", True, note=f"no version of {model!r} holds {alias!r} yet"))
    else:
        ensure_monitors(project, ws)
        windows = _windows(project, ws, champion, int(state.get("evidence_after", 0)))
        window_checks, latches = check_windows(project, windows, latches)
        checks.extend(window_checks)
        labels = check_labels(project, int(state.get("labels_after", 0)), ws)
        schedule = check_schedule(project, int(state.get("last_check", now)), now)
        checks.extend(c for c in (labels, schedule) if c is not None)
    fired = [c for c in checks if c.fired]
    iteration: LoopIteration | None = None
    note = "nothing fired"
    if fired:
        last = int(state.get("last_iteration_start", 0))
        cooling = now - last < project.cooldown_s * 1000 and fired[0].trigger not in (
            "manual",
            "bootstrap",
        )
        if cooling:
            until = datetime.fromtimestamp((last + project.cooldown_s * 1000) / 1000, tz=UTC)
            note = (
                f"{', '.join(c.trigger for c in fired)} fired; cooling down until "
                f"{until:%Y-%m-%d %H:%M:%S} UTC"
            )
        else:
            trigger = {
                "kind": fired[0].trigger,
                "fired": [c.trigger for c in fired],
                "reason": manual_reason or fired[0].note,
                "checks": [c.to_dict() for c in checks],
                "time": now,
            }
            try:
                iteration = run_iteration(project, trigger, workspace=ws)
            except Conflict as exc:
                note = f"{fired[0].trigger} fired; {exc.message}"
            else:
                short = iteration.iteration_id[:12]
                note = f"{fired[0].trigger} fired: iteration {short} {iteration.decision}"
                state = ws.store.loop.state(model)
                state["last_iteration_start"] = iteration.start_time
                state["labels_after"] = iteration.start_time
                if iteration.decision == "promoted":
                    latches = {}
                    state["evidence_after"] = iteration.end_time or now_ms()
                else:
                    latches.update(
                        {
                            c.trigger: True
                            for c in fired
                            if c.trigger not in ("manual", "bootstrap", "schedule")
                        }
                    )
    state["latched"] = latches
    state["last_check"] = now
    ws.store.loop.save_state(model, state)
    result = TickResult(
        now,
        tuple(checks),
        iteration,
        note,
        len(windows),
        time.perf_counter() - started,
        tuple(recovered),
    )
    ws.store.events.add(
        NewEvent(
            "loop.check",
            f"model:{model}",
            "loopml loop",
            note,
            {
                "tick_time": now,
                "checks": [c.to_dict() for c in checks],
                "iteration": iteration.iteration_id if iteration else None,
            },
        )
    )
    return result


def run_forever(
    project: LoopProject,
    *,
    interval_s: float | None = None,
    on_tick: Callable[[TickResult], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    stop: threading.Event | None = None,
    workspace: Workspace | None = None,
) -> int:
    """Tick every ``interval_s`` until ``stop`` is set or SIGTERM/SIGINT arrives; return ticks.

    A check that fails (the store or the artifact store unreachable, say) is reported through
    ``on_error`` and logged; the next interval tries again, and the champion keeps serving.
    """
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda *_: stop.set())
    ticks = 0
    try:
        while not stop.is_set():
            try:
                result = tick(project, workspace=workspace)
            except Exception as exc:  # the store or artifact store is out: say so, go on
                logger.warning("loopml loop: the check failed: %s", summary(exc))
                if on_error is not None:
                    on_error(exc)
            else:
                if on_tick is not None:
                    on_tick(result)
            ticks += 1
            stop.wait(project.interval_s if interval_s is None else interval_s)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return ticks


def approve(
    project: LoopProject,
    iteration_id: str,
    *,
    reason: str | None = None,
    workspace: Workspace | None = None,
) -> LoopIteration:
    """Promote the challenger of an iteration waiting for approval (the gates are judged again)."""
    from loopml.registry.promotion import promote

    ws = workspace or default_workspace()
    iteration = _waiting(ws, iteration_id)
    version = int(iteration.model_version or 0)
    holdout = (iteration.record.get("data") or {}).get("holdout")
    with IterationLock(ws, iteration.model_name, iteration.iteration_id, os.getpid()):
        result = promote(
            iteration.model_name,
            version,
            project.model.alias,
            gates=list(project.evaluation.gates) or None,
            data=holdout,
            target=project.evaluation.target,
            task=project.evaluation.task,
            reason=reason or f"approved: loop iteration {iteration.iteration_id[:12]}",
        )
    decision = "approved" if result.promoted else "kept"
    why = (
        f"approved: version {version} promoted"
        if result.promoted
        else f"approval refused by the gates: {result.reason}"
    )
    record = {
        **iteration.record,
        "decision": decision,
        "reason": why,
        "approval": {"reason": reason, "time": now_ms()},
    }
    record["champion_after"] = champion_version(ws, iteration.model_name, project.model.alias)
    if result.promoted:
        refresh_monitors(project, ws)
        state = ws.store.loop.state(iteration.model_name)
        state["latched"], state["evidence_after"] = {}, now_ms()
        ws.store.loop.save_state(iteration.model_name, state)
    return ws.store.loop.update_iteration(
        iteration.iteration_id,
        status="finished",
        decision=decision,
        reason=why,
        record=record,
        end_time=now_ms(),
    )


def reject(iteration_id: str, *, reason: str, workspace: Workspace | None = None) -> LoopIteration:
    """Turn down the challenger of an iteration waiting for approval."""
    ws = workspace or default_workspace()
    iteration = _waiting(ws, iteration_id)
    why = f"rejected: {reason}"
    record = {**iteration.record, "decision": "rejected", "reason": why}
    return ws.store.loop.update_iteration(
        iteration.iteration_id,
        status="finished",
        decision="rejected",
        reason=why,
        record=record,
        end_time=now_ms(),
    )


def _waiting(ws: Workspace, iteration_id: str) -> LoopIteration:
    iteration = ws.store.loop.iteration(iteration_id)
    if iteration.status != "awaiting_approval":
        raise InvalidInput(
            f"iteration {iteration.iteration_id[:12]} is {iteration.status} "
            f"({iteration.decision or 'no decision'}), not awaiting approval",
            field="iteration_id",
            hint="see loopml loop history for the iterations waiting for approval",
        )
    return iteration


def rollback(
    project: LoopProject, *, reason: str, workspace: Workspace | None = None
) -> Mapping[str, Any]:
    """Return the alias to the previous champion, record why, and hold the triggers off."""
    from loopml.registry.promotion import rollback as registry_rollback

    if not reason or not reason.strip():
        raise InvalidInput("a rollback needs a reason", field="reason", hint="pass --reason '...'")
    ws = workspace or default_workspace()
    model, alias = project.model.name, project.model.alias
    before = champion_version(ws, model, alias)
    if before is None:
        raise NotFound(f"model {model!r} has no {alias!r} to roll back", field="model")
    result = registry_rollback(model, alias, reason=reason)
    refresh_monitors(project, ws)
    state = ws.store.loop.state(model)
    state["last_iteration_start"] = now_ms()  # the cooldown starts now: no instant re-training
    state["evidence_after"] = now_ms()
    ws.store.loop.save_state(model, state)
    ws.store.events.add(
        NewEvent(
            "loop.rollback",
            f"model:{model}",
            "loopml loop",
            reason,
            {"from": before, "to": result.version},
        )
    )
    return {
        "model": model,
        "alias": alias,
        "from_version": before,
        "to_version": result.version,
        "reason": reason,
    }
