"""Monitoring benchmark, windows half: 30 days of hourly windows from stored segments (JSON line).

    .venv/bin/python benchmarks/monitoring_windows.py           # 720 windows x 10,000 predictions
    .venv/bin/python benchmarks/monitoring_windows.py --quick   # 48 windows x 2,000

A churn classifier (``loopml.datasets.make_churn``, scikit-learn logistic regression on 9
features) is registered with its training data; 30 days of hourly traffic are written to its
prediction log as one segment per hour (the last ten days drifting), exactly as the server
writes them (``store_segment``: Parquet blob plus per-segment profile). Setup is not timed.
Then two monitors over the same log, and one more hour:

- ``drift_only``: a monitor with the label-free estimate and the domain classifier off — per
  feature drift, dataset drift, prediction drift and missing values, all from the stored segment
  profiles (no row is read). Target: under 10 s for the 720 windows.
- ``full``: the default monitor — also the confidence-based accuracy estimate per window (reads
  each segment's probability columns) and the domain classifier on a 2,000-row sample.
- ``incremental``: one more hour arrives; the next run's time (what a scheduled run costs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_worker, segment_table

TARGET_S = 10.0
HOUR = 3_600_000
T0 = 1_780_000_000_000 // HOUR * HOUR


def _setup(days: int, rows: int) -> dict[str, Any]:
    """Register the model and write the log; returns what the timed runs need."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import loopml
    from loopml.datasets import CHURN_CATEGORICAL, CHURN_FEATURES, CHURN_NUMERIC, make_churn
    from loopml.predictions.log import store_segment
    from loopml.registry import set_alias
    from loopml.workspace import default_workspace

    train = make_churn(20_000, seed=0)
    version = loopml.data.add("churn", train)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), list(CHURN_NUMERIC)),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(CHURN_CATEGORICAL)),
            ]
        ),
        LogisticRegression(max_iter=1_000),
    ).fit(train[list(CHURN_FEATURES)], train.churned)
    info = loopml.registry.log_model(
        model,
        input_example=train[list(CHURN_FEATURES)].head(),
        registered_model_name="churn",
        target="churned",
        data_version=version.ref,
    )
    set_alias("churn", "champion", info.version or 1)
    ws = default_workspace()
    hours = days * 24
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for hour in range(hours):
        drift = max(0.0, (hour - (hours - 240)) / 240) if hours > 240 else 0.0
        frame = make_churn(rows, seed=100 + hour, covariate_drift=drift, with_target=False)
        features = frame[list(CHURN_FEATURES)]
        proba = model.predict_proba(features)
        start = T0 + hour * HOUR
        times = start + np.sort(rng.integers(0, HOUR, rows))
        store_segment(segment_table(features, proba, times), "churn", ws)
    return {"write_s": time.perf_counter() - started}


def worker_windows(days: int, rows: int) -> dict[str, Any]:
    """Set up once, then time each monitor on its own copy of the store."""
    import loopml.monitor as monitor

    setup = _setup(days, rows)
    out: dict[str, Any] = {"windows": days * 24, "rows_per_window": rows, **setup}
    monitor.create("drift-only", "churn", window="1h", estimate=False, multivariate=False)
    monitor.create("full", "churn", window="1h")
    for name, key in (("drift-only", "drift_only"), ("full", "full")):
        started = time.perf_counter()
        found = monitor.run(name)
        seconds = time.perf_counter() - started
        drifted = sum(1 for w in found if w.alerts)
        out[key] = {"seconds": seconds, "windows": len(found), "windows_with_alerts": drifted}
    # One more hour arrives: what a scheduled run costs.
    _extra_hour(days, rows)
    started = time.perf_counter()
    found = monitor.run("full")
    out["incremental"] = {"seconds": time.perf_counter() - started, "windows": len(found)}
    out["pass"] = out["drift_only"]["seconds"] < TARGET_S
    return out


def _extra_hour(days: int, rows: int) -> None:

    from loopml.datasets import CHURN_FEATURES, make_churn
    from loopml.predictions.log import store_segment
    from loopml.registry import load_model
    from loopml.workspace import default_workspace

    model = load_model("models:/churn@champion")
    frame = make_churn(rows, seed=99_999)[list(CHURN_FEATURES)]
    proba = model.predict_proba(frame)
    start = T0 + days * 24 * HOUR
    times = start + np.arange(rows, dtype=np.int64)
    store_segment(segment_table(frame, proba, times), "churn", default_workspace())


WORKERS = {"windows": worker_windows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="48 windows of 2,000 rows.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.worker_args))), flush=True)
        return 0
    days, rows = (2, 2_000) if args.quick else (30, 10_000)
    found = run_worker(__file__, "windows", days=days, rows=rows)
    result = {
        "benchmark": "monitoring_windows",
        "quick": args.quick,
        "targets": {"drift_only_s": TARGET_S},
        **found,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
