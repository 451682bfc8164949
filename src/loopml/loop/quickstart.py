"""``loopml quickstart``: the whole loop on a laptop in about a minute, needing no network.

It writes a demo project (a churn dataset, a training pipeline, ``loopml.yaml``), versions the
data, lets the controller train and promote a baseline through the gates, starts ``loopml serve``
on 127.0.0.1, replays production traffic that drifts (covariate and concept drift) with late
labels, and keeps the controller ticking while traffic flows: the monitor sees the decay, the
controller retrains on fresh data, judges the challenger against the champion on the most recent
labelled traffic and promotes it; the server follows the alias without failing a request. The
project stays behind for every other command to inspect.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.config import export_to_children
from loopml.errors import BackendUnavailable, InvalidInput

TRAIN_PY = '''"""The demo's training pipeline: read a training data version, fit a classifier."""

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import loopml

NUMERIC = [
    "age", "tenure_months", "monthly_charges", "support_calls", "data_usage_gb", "late_payments"
]
CATEGORICAL = ["contract", "payment_method", "region"]


@loopml.step
def load(version) -> pd.DataFrame:
    return loopml.data.get(version)


@loopml.step
def fit(frame: pd.DataFrame, C: float):
    model = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), NUMERIC),
                ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        ),
        LogisticRegression(C=C, max_iter=1000),
    )
    return model.fit(frame[NUMERIC + CATEGORICAL], frame["churned"])


@loopml.pipeline
def training(data: str = "churn@latest", C: float = 1.0):
    return fit(load(loopml.data.show(data)), C)
'''

LOOPML_YAML = """# The demo project of `loopml quickstart` (docs/continuous-training.md: every key).
model: {name: churn, alias: champion}
data: {dataset: churn, production_data: true, max_production_rows: 1200, max_base_rows: 300}
training: {pipeline: train.py:training, params: {C: 1.0}}
evaluation:
  target: churned
  task: classification
  gates: ["f1 >= 0.3", "f1 >= champion + 0.01"]
  holdout_share: 0.3
  min_holdout_rows: 300
monitors:
  - {name: churn-watch, window: %(window)drows, min_labels: 50}
triggers:
  accuracy_drop: {metric: f1, drop: 0.05}
  confirm_windows: 2
cooldown: 10s
promotion: auto
interval: 1s
"""


@dataclass
class Timeline:
    """What happened, when (seconds since the start): the printed story and the JSON's."""

    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    entries: list[dict[str, Any]] = field(default_factory=list)
    echo: Callable[[str], None] | None = None

    def add(self, what: str, at_ms: int | None = None, **details: Any) -> None:
        """Record an event (now, or at ``at_ms``); events of now are echoed as they happen."""
        when = int(time.time() * 1000) if at_ms is None else int(at_ms)
        entry = {"t": round((when - self.started_ms) / 1000, 2), "event": what, **details}
        self.entries.append(entry)
        if self.echo is not None and at_ms is None:
            self.echo(f"{entry['t']:6.1f}s  {what}")

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda e: e["t"])


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_quickstart(
    folder: Path,
    *,
    windows: int = 14,
    rows_per_window: int = 400,
    drift_from: int = 4,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the demo in ``folder`` (made if missing; must not hold another project)."""
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file", field="dir", hint="pass --dir with a folder")
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / ".loopml"
    if (folder / "loopml.yaml").exists() or home.exists():
        raise InvalidInput(
            f"{folder} already holds a LoopML project",
            field="dir",
            hint="pass --dir with a new or empty folder",
        )
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise BackendUnavailable(
            "the quickstart trains with scikit-learn, which is not installed",
            field="sklearn",
            hint='pip install "loopml[sklearn]"',
        ) from None
    export_to_children("LOOPML_HOME", str(home))  # this process and the server it starts
    os.chdir(folder)
    home.mkdir()
    (home / ".gitignore").write_text("*\n")
    (folder / "train.py").write_text(TRAIN_PY)
    (folder / "loopml.yaml").write_text(LOOPML_YAML % {"window": rows_per_window})
    timeline = Timeline(echo=echo)
    return _story(folder, timeline, windows, rows_per_window, drift_from)


def _story(
    folder: Path, timeline: Timeline, windows: int, rows: int, drift_from: int
) -> dict[str, Any]:
    import loopml.monitor as monitor
    from loopml import data as datasets
    from loopml.datasets import CHURN_FEATURES, CHURN_TARGET, make_churn
    from loopml.loop.controller import run_forever, tick
    from loopml.loop.iteration import champion_version
    from loopml.loop.project import load_project
    from loopml.loop.records import iteration_dict
    from loopml.serve.client import Client
    from loopml.workspace import default_workspace

    ws = default_workspace()
    ws.store.upgrade()
    project = load_project(folder)
    base = make_churn(3_000, seed=0).drop(columns=["customer_id"])
    version = datasets.add("churn", base, description="quickstart: customers before any drift")
    timeline.add(f"versioned the training data as {version.ref} ({len(base)} rows, profiled)")
    first = tick(project)
    baseline = first.iteration
    if baseline is None or baseline.decision != "promoted":
        raise InvalidInput(f"the baseline was not promoted: {first.note}", field="quickstart")
    metrics = (baseline.record.get("evaluation") or {}).get("metrics") or {}
    timeline.add(
        f"trained and promoted the baseline: churn version {baseline.model_version} "
        f"(f1 {metrics.get('f1', float('nan')):.3f} on held-out rows; gates passed)",
        iteration=baseline.iteration_id,
    )
    tick(project)  # creates the monitor against the champion's training data
    port = _port()
    server_log = (folder / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopml",
            "serve",
            "models:/churn@champion",
            "--port",
            str(port),
            "--poll-interval",
            "0.5",
            "--log-flush-interval",
            "0.5",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=server_log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    client = Client(url)
    stop = threading.Event()
    ticks: list[Any] = []
    controller = threading.Thread(
        target=lambda: run_forever(project, interval_s=1.0, on_tick=ticks.append, stop=stop),
        name="loopml-quickstart-controller",
        daemon=True,
    )
    sent = failed = 0
    versions_seen: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60
        while not client.ready():
            if server.poll() is not None or time.monotonic() > deadline:
                raise BackendUnavailable(
                    f"the server did not start: see {folder / 'serve.log'}", field="serve"
                )
            time.sleep(0.1)
        timeline.add(f"serving models:/churn@champion on {url}")
        controller.start()
        before = champion_version(ws, "churn", "champion")
        pending: list[tuple[list[str], list[int]]] = []
        switched_at: int | None = None
        window = -1
        while True:
            window += 1
            # At least ``windows`` windows; after a new champion, three more so the switch
            # shows in the traffic; at most four times as many while the loop works.
            shown = switched_at is not None and window - switched_at > 3
            if window >= windows and (shown or window >= 4 * windows):
                break
            drift = 0.0 if window < drift_from else 1.0
            frame = make_churn(
                rows, seed=1_000 + window, covariate_drift=drift, concept_drift=drift
            )
            if window == drift_from:
                timeline.add(
                    f"traffic window {window}: customers and churn behaviour start to drift"
                )
            for start in range(0, rows, 100):
                chunk = frame.iloc[start : start + 100]
                try:
                    answer = client.predict(chunk[list(CHURN_FEATURES)])
                except Exception:
                    failed += len(chunk)
                    continue
                sent += len(chunk)
                served = (answer.get("model") or {}).get("version")
                if served is not None:
                    versions_seen[int(served)] = versions_seen.get(int(served), 0) + len(chunk)
                pending.append((answer["prediction_ids"], [int(x) for x in chunk[CHURN_TARGET]]))
            # Labels arrive one window late.
            while len(pending) > rows // 100:
                ids, labels = pending.pop(0)
                client.feedback(ids, labels)
            newest = max(versions_seen, default=before or 0)
            if before is not None and newest != before and switched_at is None:
                switched_at = window
                timeline.add(f"traffic window {window}: the server answers with version {newest}")
            time.sleep(0.6)
        for ids, labels in pending:
            client.feedback(ids, labels)
        # Give the controller a moment to finish an iteration in flight.
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until and _running(ws):
            time.sleep(0.5)
    finally:
        stop.set()
        controller.join(timeout=120)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        server_log.close()
    after = champion_version(ws, "churn", "champion")
    iterations = list(reversed(ws.store.loop.iterations("churn", limit=100)))
    detection = _first_detection(ws, timeline)
    first_seen = {w.window_key: w.creation_time for w in ws.store.monitors.windows("churn-watch")}
    _narrate(
        timeline, iterations, monitor.results("churn-watch"), first_seen, detection, drift_from
    )
    report = folder / "monitor.html"
    monitor.report("churn-watch", report)
    promoted = [i for i in iterations[1:] if i.decision == "promoted"]
    reaction = None
    if promoted and detection is not None and promoted[0].end_time is not None:
        reaction = round((promoted[0].end_time - detection) / 1000, 2)
    summary = {
        "model": "churn",
        "champion_before": before,
        "champion_after": after,
        "requests_sent": sent,
        "requests_failed": failed,
        "predictions_by_version": {str(k): v for k, v in sorted(versions_seen.items())},
        "iterations": [_iteration_summary(iteration_dict(i)) for i in iterations],
        "detected_to_promoted_s": reaction,
        "training_s": (promoted[0].record.get("training") or {}).get("seconds")
        if promoted
        else None,
        "reports": {"monitor": str(report)},
        "project": str(folder),
        "timeline": timeline.ordered(),
        "seconds": round((time.time() * 1000 - timeline.started_ms) / 1000, 1),
    }
    return summary


def _narrate(
    timeline: Timeline,
    iterations: list[Any],
    windows: list[Any],
    first_seen: dict[str, int],
    detection: int | None,
    drift_from: int,
) -> None:
    """Add what the controller and the monitor did to the timeline, at the times they did it."""
    first_drift = next((w for w in windows if w.signals.get("dataset_drift") == 1), None)
    if first_drift is not None:
        timeline.add(
            f"monitor: data drift in window {int(first_drift.key[2:])} "
            f"(drift share {first_drift.drift_share:.2f}: "
            f"{', '.join(first_drift.drifted_columns[:4])})",
            at_ms=first_seen.get(first_drift.key, first_drift.end_time),  # its first judgement
        )
    dropped = next(
        (
            w
            for w in windows
            if int(w.key[2:]) >= drift_from and (w.signals.get("f1_drop") or 0) > 0.05
        ),
        None,
    )
    if dropped is not None:
        realised = dropped.signals.get("f1")
        timeline.add(
            f"monitor: late labels show f1 {realised:.3f} in window {int(dropped.key[2:])} "
            f"(drop {dropped.signals['f1_drop']:.3f} from registration)",
            at_ms=detection or dropped.end_time,  # the first check that saw it
        )
    for item in iterations[1:]:
        trigger = item.record.get("trigger") or {}
        timeline.add(
            f"controller: {trigger.get('kind')} fired -> iteration {item.iteration_id[:12]} "
            f"retrains on {item.data_version}",
            at_ms=item.start_time,
        )
        evaluation = item.record.get("evaluation") or {}
        challenger = (evaluation.get("metrics") or {}).get("f1")
        champion = (evaluation.get("champion_metrics") or {}).get("f1")
        scores = ""
        if challenger is not None and champion is not None:
            scores = f": f1 {challenger:.3f} vs champion {champion:.3f} on recent traffic"
        timeline.add(
            f"controller: version {item.model_version} {item.decision}{scores}",
            at_ms=item.end_time or item.start_time,
        )


WATCHED_TRIGGERS = ("accuracy_drop", "data_drift", "estimated_accuracy_drop")


def _first_detection(ws: Any, timeline: Timeline) -> int | None:
    """When a check first saw a trigger's threshold crossed (ms), from the recorded checks."""
    checks = ws.store.events.list(subject="model:churn", kind="loop.check", limit=10_000)
    for event in reversed(checks):  # oldest first
        for check in event.data.get("checks") or []:
            value, threshold = check.get("value"), check.get("threshold")
            watched = check.get("trigger") in WATCHED_TRIGGERS
            if watched and value is not None and threshold is not None and value > threshold:
                return int(event.data.get("tick_time") or event.time)
    return None


def _running(ws: Any) -> bool:
    return bool(ws.store.loop.iterations("churn", status="running", limit=1))


def _iteration_summary(item: dict[str, Any]) -> dict[str, Any]:
    record = item["record"]
    trigger = record.get("trigger") or {}
    return {
        "iteration_id": item["iteration_id"],
        "trigger": trigger.get("kind"),
        "evidence": [c for c in trigger.get("checks") or [] if c.get("fired")],
        "challenger_version": item["model_version"],
        "gate_results": record.get("gates") or [],
        "evaluation": record.get("evaluation"),
        "decision": item["decision"],
        "reason": item["reason"],
        "data_version": item["data_version"],
    }
