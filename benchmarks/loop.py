"""Training-loop benchmark: the controller's own cost per tick with nothing to do (one JSON line).

    .venv/bin/python benchmarks/loop.py [--quick]

A project like the quickstart's (churn classifier, a monitor of 500-row windows, drift, accuracy,
estimated-accuracy and new-label triggers) is bootstrapped, 20 windows of traffic are logged and
monitored, then ``tick`` is timed ``--ticks`` times with no new predictions or labels: the monitor
run (nothing new), the trigger checks over the windows, the state and the recorded check. Target:
median under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_worker, segment_table

TARGET_MS = 200.0


def worker_tick(ticks: int, windows: int) -> dict[str, Any]:
    import numpy as np

    from loopml.datasets import CHURN_FEATURES, make_churn
    from loopml.loop import load_project, tick
    from loopml.predictions.log import store_segment
    from loopml.registry import load_model
    from loopml.testing.loop import add_base_data, write_project
    from loopml.workspace import default_workspace

    folder = write_project(Path.cwd())
    yaml = (folder / "loopml.yaml").read_text()
    yaml = (
        yaml.replace(
            "triggers:\n  accuracy_drop: {metric: f1, drop: 0.05}",
            "triggers:\n  data_drift: {drift_share: 0.5}\n"
            "  accuracy_drop: {metric: f1, drop: 0.05}\n"
            "  estimated_accuracy_drop: {metric: f1, drop: 0.05}\n"
            "  new_labels: {rows: 100000}",
        )
        .replace("cooldown: 0s", "cooldown: 1h")
        .replace("window: 300rows", "window: 500rows")
    )
    (folder / "loopml.yaml").write_text(yaml)
    add_base_data(3_000)
    project = load_project(folder)
    tick(project)  # bootstrap: version 1
    tick(project)  # creates the monitor
    model = load_model("models:/churn@champion")
    ws = default_workspace()
    start = int(time.time() * 1000) + 1_000  # after the bootstrap promotion: they count
    for w in range(windows):
        frame = make_churn(500, seed=100 + w)[list(CHURN_FEATURES)]
        proba = model.predict_proba(frame)
        times = start + w * 60_000 + np.arange(500, dtype=np.int64)
        store_segment(segment_table(frame, proba, times), "churn", ws)
    first = tick(project)  # computes the windows
    timings = []
    for _ in range(ticks):
        started = time.perf_counter()
        result = tick(project)
        timings.append((time.perf_counter() - started) * 1000)
        assert result.iteration is None
    return {
        "windows": first.windows,
        "ticks": ticks,
        "median_ms": statistics.median(timings),
        "p95_ms": sorted(timings)[int(0.95 * (len(timings) - 1))],
        "checks": [c.trigger for c in first.checks],
        "pass": statistics.median(timings) < TARGET_MS,
    }


WORKERS = {"tick": worker_tick}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer ticks.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.worker_args))), flush=True)
        return 0
    found = run_worker(__file__, "tick", ticks=5 if args.quick else 30, windows=20)
    print(json.dumps({"benchmark": "loop", "targets": {"tick_median_ms": TARGET_MS}, **found}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
