"""Benchmark: loading the champion by alias, and evaluating with 1,000 bootstrap resamples.

Prints one JSON line.

- ``load_model``: a scikit-learn random forest whose skops file is about 5 MB, logged, registered
  and made ``champion``; ``loopml.load_model("models:/bench@champion")`` timed once cold and then
  ``--calls`` times (median, p95). Target: under 100 ms after the first load. MLflow's
  ``mlflow.sklearn.load_model`` of the same forest by alias is measured beside it when available.
- ``evaluate``: 100,000 rows, binary classification with probabilities (all metrics, 1,000
  bootstrap resamples); the same with a baseline on the same rows (paired resamples); and
  regression. Target: under 5 s for the single-model evaluation.

Every LoopML scenario runs in a child process with a fresh ``LOOPML_HOME`` in a temporary folder.
Usage: python benchmarks/registry.py [--quick] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import run_worker  # noqa: E402
from tracking import Peer, find_mlflow_python  # noqa: E402

LOAD_TARGET_MS = 100.0
EVALUATE_TARGET_S = 5.0


def worker_load(rows: int, trees: int, calls: int) -> dict[str, Any]:
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import loopml
    from loopml.registry import get_version, set_alias
    from loopml.workspace import default_workspace

    X, y = make_classification(n_samples=rows, n_features=20, random_state=0)
    model = RandomForestClassifier(n_estimators=trees, random_state=0).fit(X, y)
    info = loopml.log_model(model, registered_model_name="bench")
    set_alias("bench", "champion", info.version or 1)
    files = get_version("bench", 1).files
    blobs = default_workspace().blobs
    size = sum((blobs.local_path(d) or Path("/nonexistent")).stat().st_size for d in files.values())
    start = time.perf_counter()
    loaded = loopml.load_model("models:/bench@champion")
    first = time.perf_counter() - start
    assert np.array_equal(loaded.predict(X[:10]), model.predict(X[:10]))
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        loopml.load_model("models:/bench@champion")
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return {
        "model_bytes": size,
        "first_ms": first * 1000,
        "median_ms": statistics.median(seconds) * 1000,
        "p95_ms": seconds[int(0.95 * (len(seconds) - 1))] * 1000,
        "calls": calls,
    }


def worker_evaluate(rows: int, resamples: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from loopml.evaluation.evaluate import evaluate_models

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(8)})
    frame["region"] = rng.choice(["EU", "US", "APAC"], size=rows)
    frame["y"] = ((frame.x0 + frame.x1 - frame.x2 + rng.normal(size=rows)) > 0).astype(int)
    frame["amount"] = 3 * frame.x0 + rng.normal(size=rows)
    features = [f"x{i}" for i in range(8)]
    good = LogisticRegression().fit(frame[features], frame.y)
    blind = frame[features].assign(**{f: 0.0 for f in features[1:]})
    weak = LogisticRegression().fit(blind, frame.y)
    regressor = LinearRegression().fit(frame[features], frame.amount)
    table = frame.drop(columns=["amount"])

    def timed(**kwargs: Any) -> float:
        start = time.perf_counter()
        evaluate_models(n_resamples=resamples, **kwargs)
        return time.perf_counter() - start

    return {
        "rows": rows,
        "resamples": resamples,
        "classification_s": timed(model=good, frame=table, target="y"),
        "classification_with_slices_s": timed(
            model=good, frame=table, target="y", slices=["region"]
        ),
        "paired_vs_baseline_s": timed(model=good, frame=table, target="y", baseline=weak),
        "regression_s": timed(
            model=regressor, frame=frame.drop(columns=["y"]), target="amount", task="regression"
        ),
    }


WORKERS = {"load": worker_load, "evaluate": worker_evaluate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: a smoke test.")
    parser.add_argument("--no-peer", action="store_true", help="Do not run MLflow.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.worker_args))), flush=True)
        return 0
    rows, trees = (500, 5) if args.quick else (2_000, 200)
    calls = 10 if args.quick else 50
    eval_rows = 5_000 if args.quick else 100_000
    resamples = 100 if args.quick else 1_000
    peer = Peer(find_mlflow_python(args.no_peer))
    load = loopml_worker_script("load", rows=rows, trees=trees, calls=calls)
    mlflow = peer.run("load_model", "--rows", str(rows), "--trees", str(trees), "--calls", "20")
    evaluation = loopml_worker_script("evaluate", rows=eval_rows, resamples=resamples)
    load["mlflow_median_ms"] = mlflow["median_ms"] if mlflow else None
    load["mlflow_first_ms"] = mlflow["first_ms"] if mlflow else None
    load["speedup_vs_mlflow"] = (
        mlflow["median_ms"] / load["median_ms"] if mlflow and load["median_ms"] else None
    )
    load["pass"] = load["median_ms"] < LOAD_TARGET_MS
    evaluation["pass"] = evaluation["classification_s"] < EVALUATE_TARGET_S
    result = {
        "benchmark": "registry",
        "quick": args.quick,
        "mlflow_version": peer.version,
        "targets": {"load_median_ms": LOAD_TARGET_MS, "evaluate_s": EVALUATE_TARGET_S},
        "load_model": load,
        "evaluate": evaluation,
        "mlflow_errors": peer.errors or None,
        "pass": load["pass"] and evaluation["pass"],
    }
    print(json.dumps(result), flush=True)
    return 0


def loopml_worker_script(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one of this script's workers in a child with a fresh home."""
    return run_worker(str(Path(__file__).resolve()), name, **kwargs)


if __name__ == "__main__":
    raise SystemExit(main())
