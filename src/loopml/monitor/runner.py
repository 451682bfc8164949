"""``loopml.monitor.run``: consume new prediction log segments and labels, store window results.

A run reads from the monitor's watermarks, computes every window that gained segments or labels,
checks the alert rules and commits everything — windows, watermarks, reference, alert events —
in one compare-and-set transaction. If another run committed first, this one starts again from
the new watermark, so a segment is counted once however many runs race. Webhooks are called
after the commit: a receiver that is down delays nothing and loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loopml._util.clock import now_ms
from loopml._util.ids import id_time_ms
from loopml.entities import MonitorRecord, MonitorWindow
from loopml.errors import Conflict, NotFound
from loopml.monitor.alerts import check_rules, post_webhook
from loopml.monitor.compute import WindowTask, compute_window
from loopml.monitor.config import MonitorConfig
from loopml.monitor.reference import Reference, build_reference, served_version
from loopml.monitor.window_result import WindowResult
from loopml.monitor.windows import OpenWindow, Windower
from loopml.store import NewEvent
from loopml.workspace import Workspace, default_workspace

logger = logging.getLogger(__name__)

ATTEMPTS = 5  # runs that lose the compare-and-set start again this many times
FEEDBACK_BATCH = 200_000  # labels taken per run; the next run continues from the watermark
# Segments and labels are re-read this far behind the newest one taken (those already taken are
# remembered by id and skipped): a transaction that commits late, or a writer whose clock lags,
# still lands in the monitor instead of slipping under the watermark.
ARRIVAL_LOOKBACK_MS = 300_000
FEEDBACK_OVERLAP_MS = 60_000
# A prediction's id is stamped a moment after or before its time_ms: labels are looked up with
# this slack around a window and then matched to its rows by id.
ID_SLACK_MS = 60_000
Compute = Callable[[Sequence[WindowTask], Reference, MonitorConfig], list[dict[str, Any]]]


def run(
    name: str,
    *,
    executor: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    workspace: Workspace | None = None,
) -> list[WindowResult]:
    """Process what arrived since the last run; return the windows this run stored.

    ``executor``: None (in this process), ``dask-local`` or ``dask://host:port`` for the
    window computations. ``progress(done, total)`` is called as windows are computed.
    """
    ws = workspace or default_workspace()
    compute: Compute
    if executor in (None, "local"):

        def compute_here(
            tasks: Sequence[WindowTask], reference: Reference, config: MonitorConfig
        ) -> list[dict[str, Any]]:
            out = []
            for task in tasks:
                out.append(compute_window(task, reference, config, ws))
                if progress is not None:
                    progress(len(out), len(tasks))
            return out

        compute = compute_here
    else:
        compute = _dask_compute(str(executor), ws)
    for attempt in range(ATTEMPTS):
        try:
            return _run_once(name, ws, compute)
        except Conflict:
            if attempt + 1 == ATTEMPTS:
                raise
            logger.info("loopml monitor: %s moved on during this run; running again", name)
    raise AssertionError("unreachable")


def current_reference(
    record: MonitorRecord, config: MonitorConfig, ws: Workspace
) -> tuple[Reference, bool]:
    """The reference to judge with, rebuilt when the alias now serves another version."""
    stored = None if record.reference is None else Reference.from_dict(record.reference)
    try:
        version = served_version(ws, record.model_name, record.alias)
    except NotFound:
        if stored is None:
            raise
        return stored, False
    if stored is not None and stored.model_version == version.version:
        return stored, False
    return build_reference(ws, version, config), True


def _run_once(name: str, ws: Workspace, compute: Compute) -> list[WindowResult]:
    store = ws.store
    record = store.monitors.get(name)
    config = MonitorConfig.from_dict(record.config)
    reference, rebuilt = current_reference(record, config, ws)
    state = dict(record.state)
    segments, arrivals = _new_segments(store, record.model_name, state)
    last_row = None
    if config.window.kind == "rows" and state.get("last_row_window"):
        # The newest row window: the next rows fill it, or the one after it when it is full.
        found = store.monitors.windows(name, keys=[state["last_row_window"]])
        last_row = found[0] if found else None
    windower = Windower(
        config.window, lambda keys: store.monitors.windows(name, keys=keys), ws, last_row
    )
    windower.add_segments(segments)
    newest = max([int(state.get("newest_time", 0)), *(s.end_time for s in segments)])
    windower.mark_complete(newest)
    # Labels are re-read a little behind the watermark (one committed late with an earlier
    # time is not lost); those already taken, remembered by id, are skipped.
    seen = set(state.get("recent_labels") or ())
    read = store.predictions.feedback_since(
        max(0, record.feedback_watermark - FEEDBACK_OVERLAP_MS), limit=FEEDBACK_BATCH
    )
    labels = [label for label in read if label.prediction_id not in seen]
    _touch_labelled(windower, labels, name, config, ws)
    feedback_watermark = max([record.feedback_watermark, *(label.time for label in read)])
    tasks = [
        WindowTask(
            key=window.key,
            start_time=window.start_time,
            end_time=window.end_time,
            rows=window.rows,
            model_versions=tuple(sorted(window.model_versions)),
            profile=(
                window.profile.to_dict()
                if window.profile is not None
                else {"format": 1, "row_count": 0, "columns": {}}
            ),
            pieces=tuple(window.pieces),
            labels={
                k: v.label
                for k, v in store.predictions.feedback_between(
                    window.start_time - ID_SLACK_MS, window.end_time + ID_SLACK_MS
                ).items()
            },
            previous=window.previous_result if window.labels_only else None,
        )
        for window in sorted(windower.windows.values(), key=lambda w: (w.start_time, w.key))
    ]
    results = compute(tasks, reference, config) if tasks else []
    stored: list[MonitorWindow] = []
    events: list[NewEvent] = []
    fired_by_key: dict[str, list[dict[str, Any]]] = {}
    for task, result in zip(tasks, results, strict=True):
        window = windower.windows[task.key]
        alerts = [a.to_dict() for a in check_rules(config.alerts, result.get("signals") or {})]
        result["alerts"] = alerts
        result["computed_at"] = now_ms()
        before = {a["rule"] for a in window.previous_result.get("alerts") or []}
        new = [a for a in alerts if a["rule"] not in before]
        if new:
            fired_by_key[task.key] = new
            events.extend(_alert_event(name, record, task, result, alert) for alert in new)
        stored.append(
            MonitorWindow(
                monitor_name=name,
                window_key=task.key,
                start_time=task.start_time,
                end_time=task.end_time,
                rows=task.rows,
                complete=window.complete,
                state=window.state(),
                result=result,
                creation_time=window.creation_time,
            )
        )
    new_state = {
        **state,
        **arrivals,
        "newest_time": newest,
        "recent_labels": [
            label.prediction_id
            for label in read
            if label.time >= feedback_watermark - FEEDBACK_OVERLAP_MS
        ],
    }
    row_keys = [key for key in windower.windows if key.startswith("r:")]
    if row_keys:
        new_state["last_row_window"] = max(row_keys)
    store.monitors.commit(
        name,
        record.revision,
        windows=stored,
        watermark=segments[-1].segment_id if segments else None,
        feedback_watermark=feedback_watermark,
        reference=reference.to_dict() if rebuilt else None,
        state=new_state,
        events=events,
    )
    if config.webhook and fired_by_key:
        _deliver(name, record, config.webhook, fired_by_key, ws)
    return [WindowResult.from_window(w) for w in stored]


def _new_segments(
    store: Any, model: str, state: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Segments registered since the last run, and the arrival state to hand the next run.

    The first run takes every segment; later runs take those registered within the look-back
    of the newest one seen that are not remembered as taken.
    """
    mark = state.get("created_watermark")
    seen: dict[str, int] = dict(state.get("seen_segments") or {})
    since = None if mark is None else int(mark) - ARRIVAL_LOOKBACK_MS
    found = store.predictions.segments(model, created_since=since)
    fresh = [s for s in found if s.segment_id not in seen]
    newest = max([int(mark or 0), *(s.creation_time for s in found)])
    seen.update({s.segment_id: s.creation_time for s in fresh})
    keep = {k: v for k, v in seen.items() if v >= newest - ARRIVAL_LOOKBACK_MS}
    return fresh, {"created_watermark": newest, "seen_segments": keep}


def _touch_labelled(
    windower: Windower,
    labels: Sequence[Any],
    name: str,
    config: MonitorConfig,
    ws: Workspace,
) -> None:
    """Load the windows whose predictions just got labels, so they are computed again."""
    if not labels:
        return
    times = sorted(
        {id_time_ms(label.prediction_id) for label in labels if _is_id(label.prediction_id)}
    )
    if not times:
        return
    # An id is stamped a moment before its row's time_ms: match with the same slack as the
    # label lookup, so a label near a window's edge is never dropped (a recompute is harmless).
    found = ws.store.monitors.windows(
        name, since=times[0] - ID_SLACK_MS, until=times[-1] + ID_SLACK_MS
    )
    for window in found:
        if window.window_key in windower.windows:
            continue
        if _within(times, window.start_time - ID_SLACK_MS, window.end_time + ID_SLACK_MS):
            opened = OpenWindow.from_stored(window)
            opened.labels_only = True
            windower.windows[window.window_key] = opened


def _within(times: Sequence[int], start: int, end: int) -> bool:
    """Whether any of the sorted ``times`` lies in ``[start, end]``."""
    import bisect

    return bisect.bisect_right(times, end) > bisect.bisect_left(times, start)


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _alert_event(
    name: str,
    record: MonitorRecord,
    task: WindowTask,
    result: Mapping[str, Any],
    alert: Mapping[str, Any],
) -> NewEvent:
    drift = result.get("drift") or {}
    evidence = {
        "drift_share": drift.get("drift_share"),
        "drifted_columns": list(drift.get("drifted_columns") or [])[:10],
        "notes": list(result.get("notes") or [])[:10],
        "realised": (result.get("realised") or {}).get("metrics"),
        "estimated": (result.get("estimate") or {}).get("metrics"),
    }
    return NewEvent(
        kind="monitor.alert",
        subject=f"monitor:{name}",
        actor="loopml monitor",
        reason=f"{alert['rule']} (value {alert['value']:.4g})"
        if alert.get("value") is not None
        else alert["rule"],
        data={
            "monitor": name,
            "model": record.model_name,
            "window": task.key,
            "start_time": task.start_time,
            "end_time": task.end_time,
            "rows": task.rows,
            "model_versions": list(task.model_versions),
            **alert,
            "evidence": evidence,
        },
    )


def _deliver(
    name: str,
    record: MonitorRecord,
    url: str,
    fired: Mapping[str, list[dict[str, Any]]],
    ws: Workspace,
) -> None:
    payload = {
        "monitor": name,
        "model": record.model_name,
        "alerts": [{"window": key, **alert} for key, alerts in fired.items() for alert in alerts],
    }
    problem = post_webhook(url, payload)
    if problem is not None:
        ws.store.events.add(
            NewEvent(
                kind="monitor.webhook_failed",
                subject=f"monitor:{name}",
                actor="loopml monitor",
                reason=problem,
                data={"url": url, "alerts": len(payload["alerts"])},
            )
        )


def _dask_compute(executor: str, ws: Workspace) -> Compute:
    """Window computations mapped over a Dask cluster."""
    from loopml.monitor.distributed import dask_compute

    found: Compute = dask_compute(executor, ws)
    return found
