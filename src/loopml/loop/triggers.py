"""Trigger checks: does the evidence call for a retraining now?

Every check is recorded with its evidence whether it fires or not. Drift and accuracy triggers
read the monitors' windows judged against the current champion (windows from before a promotion
describe the old model) and fire when the newest ``confirm_windows`` windows all cross the
threshold. A trigger that fired an iteration which did not change the champion is *latched*: it
fires again only after its signal has fallen back below ``rearm`` x threshold (hysteresis), so
one lasting degradation the challenger cannot fix does not start ten retrainings. A promotion
clears the latches; the cooldown spaces iterations in time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopml.loop.project import LoopProject
from loopml.monitor.window_result import WindowResult
from loopml.workspace import Workspace


@dataclass(frozen=True)
class Check:
    """One trigger's verdict on this tick, with what it looked at."""

    trigger: str
    fired: bool
    value: float | None = None
    threshold: float | None = None
    note: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "fired": self.fired,
            "value": self.value if self.value is None or math.isfinite(self.value) else None,
            "threshold": self.threshold,
            "note": self.note,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class _Signal:
    trigger: str
    signal: str
    threshold: float
    binary: bool = False


def signals_of(project: LoopProject) -> list[_Signal]:
    """The window signals the configured triggers watch."""
    spec = project.triggers
    found: list[_Signal] = []
    if spec.data_drift is not None:
        found.append(_Signal("data_drift", "drift_share", spec.data_drift))
    if spec.prediction_drift:
        found.append(_Signal("prediction_drift", "prediction_drift", 1.0, binary=True))
    if spec.accuracy_drop is not None:
        metric, drop = spec.accuracy_drop
        found.append(_Signal("accuracy_drop", f"{metric}_drop", drop))
    if spec.estimated_accuracy_drop is not None:
        metric, drop = spec.estimated_accuracy_drop
        found.append(_Signal("estimated_accuracy_drop", f"estimated_{metric}_drop", drop))
    return found


def check_windows(
    project: LoopProject,
    windows: Sequence[WindowResult],
    latched: Mapping[str, bool],
) -> tuple[list[Check], dict[str, bool]]:
    """Window-based checks, and the latches after this tick (re-armed where the signal fell)."""
    confirm = project.triggers.confirm_windows
    checks: list[Check] = []
    latches = dict(latched)
    for item in signals_of(project):
        carrying = [w for w in windows if w.signals.get(item.signal) is not None]
        if not carrying:
            checks.append(
                Check(item.trigger, False, None, item.threshold, "no window has this signal yet")
            )
            continue
        newest = carrying[-confirm:]
        values = [float(w.signals[item.signal]) for w in newest]
        crossed = len(newest) == confirm and all(
            (v >= item.threshold)
            if item.trigger == "data_drift" or item.binary
            else (v > item.threshold)
            for v in values
        )
        evidence = {
            "monitor_windows": [
                {"monitor": w.monitor, "window": w.key, "start_time": w.start_time, "value": v}
                for w, v in zip(newest, values, strict=True)
            ]
        }
        rearm_level = 0.0 if item.binary else item.threshold * project.triggers.rearm
        if latches.get(item.trigger) and values[-1] < rearm_level + (0.5 if item.binary else 0.0):
            latches[item.trigger] = False
        if latches.get(item.trigger):
            note = f"latched: waits for {item.signal} below {rearm_level:g} before firing again"
            checks.append(Check(item.trigger, False, values[-1], item.threshold, note, evidence))
            continue
        note = f"{item.signal} {values[-1]:.4g} in the newest window"
        if confirm > 1:
            note += f" ({len(newest)} of {confirm} windows checked)"
        checks.append(Check(item.trigger, crossed, values[-1], item.threshold, note, evidence))
    return checks, latches


def check_labels(project: LoopProject, after_ms: int, workspace: Workspace) -> Check | None:
    """Enough new labelled production data since the last iteration?"""
    rows = project.triggers.new_labels
    if rows is None:
        return None
    found = _labels_of(project.model.name, after_ms, rows, workspace)
    ids = set(found)
    return Check(
        "new_labels",
        len(found) >= rows,
        float(len(found)),
        float(rows),
        f"{len(found)} labels arrived since the last iteration",
        {"sample": sorted(ids)[:5]},
    )


def _labels_of(model: str, after_ms: int, wanted: int, workspace: Workspace) -> list[str]:
    """Ids of labels that arrived after ``after_ms`` for this model's predictions (up to
    ``wanted``, enough to decide): labels are matched to the model's logged prediction ids."""
    from loopml._util.ids import id_time_ms
    from loopml.monitor.compute import Piece, read_rows

    store = workspace.store.predictions
    found: list[str] = []
    cursor = after_ms
    while len(found) < wanted:
        batch = store.feedback_since(cursor, limit=max(1_000, wanted))
        if not batch:
            break
        times = [id_time_ms(label.prediction_id) for label in batch]
        segments = store.segments(model, since=min(times) - 60_000, until=max(times) + 60_000)
        pieces = [Piece(s.segment_id, s.blob_digest, s.rows) for s in segments]
        known: set[str] = set()
        if pieces:
            table = read_rows(pieces, ["prediction_id"], workspace)
            known = set(table.column("prediction_id").to_pylist())
        found.extend(label.prediction_id for label in batch if label.prediction_id in known)
        cursor = batch[-1].time
        if len(batch) < max(1_000, wanted):
            break
    return found


def check_schedule(project: LoopProject, last_check_ms: int, now_ms: int) -> Check | None:
    """Did a scheduled time pass since the last check?"""
    cron = project.triggers.cron()
    if cron is None:
        return None
    due = cron.due_between(last_check_ms, now_ms)
    note = f"schedule {cron.text!r} " + ("was due" if due is not None else "not due")
    return Check("schedule", due is not None, None, None, note, {"due_ms": due})
