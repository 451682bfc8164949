"""Tracking benchmarks: LoopML's figures against the issue's targets and MLflow's, one JSON line.

    .venv/bin/python benchmarks/tracking.py            # full sizes (several minutes)
    .venv/bin/python benchmarks/tracking.py --quick    # small sizes, a smoke test
    .venv/bin/python benchmarks/tracking.py --quick --no-peer   # no MLflow at all

Every scenario runs in a child process with a fresh temporary folder as its current folder and
``LOOPML_HOME`` (SQLite store + local artifact folder). MLflow's figures come from
``_mlflow_peer.py`` run by the interpreter in ``LOOPML_BENCH_MLFLOW_PYTHON`` (default
``/work/peers/bin/python``) against a SQLite store in another fresh folder; when no such
interpreter can import MLflow, or with ``--no-peer``, every MLflow figure is ``null``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import clean_env, last_json  # noqa: E402
from _mlflow_peer import (  # noqa: E402
    EXPERIMENT,
    expected_rows,
    median,
    run_records,
    timed_calls,
)

PEER_SCRIPT = HERE / "_mlflow_peer.py"
DEFAULT_MLFLOW_PYTHON = "/work/peers/bin/python"
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p1 = 'v3'"
CHILD_TIMEOUT_S = 1800

TARGETS = {
    "log_metric_points_per_s": 200_000,
    "log_metric_ratio": 100,
    "log_metrics_seconds": 5.0,
    "search_median_ms": 50.0,
    "search_ratio": 10,
    "import_ms": 150.0,
}

FULL = {
    "log_metric_points": 100_000,
    "log_metric_repeats": 3,
    "mlflow_log_metric_points": 2_000,
    "log_metrics_calls": 10_000,
    "log_metrics_keys": 100,
    "log_metrics_repeats": 3,
    "log_batch_points": 100_000,
    "log_batch_per_call": 10_000,
    "search_runs": 10_000,
    "search_calls": 20,
    "mlflow_populate_budget_s": 240.0,
    "import_runs": 10,
}
QUICK = {
    "log_metric_points": 5_000,
    "log_metric_repeats": 1,
    "mlflow_log_metric_points": 100,
    "log_metrics_calls": 200,
    "log_metrics_keys": 100,
    "log_metrics_repeats": 1,
    "log_batch_points": 20_000,
    "log_batch_per_call": 10_000,
    "search_runs": 300,
    "search_calls": 5,
    "mlflow_populate_budget_s": 60.0,
    "import_runs": 3,
}


# LoopML workers: each runs in its own child process and fresh store ------------------------------
def worker_log_metric_fluent(points: int, repeats: int) -> dict[str, Any]:
    """Fluent ``log_metric`` in a loop inside one run; the loop alone, then loop + ``flush``."""
    import loopml

    loopml.set_experiment(EXPERIMENT)
    loop_s: list[float] = []
    total_s: list[float] = []
    stored: list[int] = []
    for _ in range(repeats):
        with loopml.start_run() as run:
            loopml.log_metric("warmup", 0.0, step=0)
            loopml.flush()
            start = time.perf_counter()
            for i in range(points):
                loopml.log_metric("loss", 1.0 / (i + 1), step=i)
            loop_s.append(time.perf_counter() - start)
            loopml.flush()
            total_s.append(time.perf_counter() - start)
            client = loopml.LoopMLClient()
            stored.append(len(client.get_metric_history(run.run_id, "loss")))
    return {"loop_s": loop_s, "total_s": total_s, "stored_points": stored}


def worker_log_metrics(calls: int, keys: int, repeats: int) -> dict[str, Any]:
    """``log_metrics`` of ``keys`` metrics a call, ``calls`` calls with ``step=i``, then flush."""
    import loopml

    names = [f"m{j}" for j in range(keys)]
    loopml.set_experiment(EXPERIMENT)
    loop_s: list[float] = []
    total_s: list[float] = []
    stored: list[int] = []
    for _ in range(repeats):
        with loopml.start_run() as run:
            loopml.log_metric("warmup", 0.0, step=0)
            loopml.flush()
            start = time.perf_counter()
            for i in range(calls):
                loopml.log_metrics({name: i + j * 0.001 for j, name in enumerate(names)}, step=i)
            loop_s.append(time.perf_counter() - start)
            loopml.flush()
            total_s.append(time.perf_counter() - start)
            client = loopml.LoopMLClient()
            stored.append(len(client.get_metric_history(run.run_id, names[-1])) * keys)
    return {"loop_s": loop_s, "total_s": total_s, "stored_points": stored}


def worker_log_batch(points: int, per_call: int, keys: int) -> dict[str, Any]:
    """``LoopMLClient().log_batch`` in MLflow's peer shape (steps x keys a call), synchronous."""
    import loopml
    from loopml.entities import MetricPoint

    client = loopml.LoopMLClient()
    run_id = client.create_run(client.create_experiment(EXPERIMENT)).info.run_id
    names = [f"m{j}" for j in range(keys)]
    steps_per_call = max(1, per_call // keys)
    calls = max(1, points // (steps_per_call * keys))
    client.log_batch(run_id, metrics=[MetricPoint("warmup", 0.0, 0, 0)])
    ts = int(time.time() * 1000)
    batches = [
        [
            MetricPoint(name, float(step), ts, step)
            for step in range(c * steps_per_call, (c + 1) * steps_per_call)
            for name in names
        ]
        for c in range(calls)
    ]
    total = sum(len(b) for b in batches)
    start = time.perf_counter()
    for batch in batches:
        client.log_batch(run_id, metrics=batch)
    seconds = time.perf_counter() - start
    client.set_terminated(run_id)
    return {"points": total, "seconds": seconds, "points_per_s": total / seconds}


def worker_search(runs: int, calls: int, filter_string: str) -> dict[str, Any]:
    """Populate ``runs`` runs (5 params, 5 metrics), then time ``loopml.search_runs``."""
    import loopml
    from loopml.entities import MetricPoint

    client = loopml.LoopMLClient()
    experiment_id = client.create_experiment(EXPERIMENT)
    ts = int(time.time() * 1000)
    records = run_records(runs)
    start = time.perf_counter()
    for metrics, params in records:
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[MetricPoint(k, v, ts, 0) for k, v in metrics.items()],
            params=params,
        )
        client.set_terminated(run_id)
    populate_s = time.perf_counter() - start

    def search() -> Any:
        return loopml.search_runs(
            filter_string=filter_string, experiment_names=[EXPERIMENT], max_results=max(runs, 1)
        )

    seconds, frame = timed_calls(search, calls)
    return {
        "runs": runs,
        "populate_s": populate_s,
        "calls": len(seconds),
        "median_ms": median(seconds) * 1000,
        "min_ms": min(seconds) * 1000,
        "rows": len(frame),
        "rows_expected": expected_rows(records),
    }


WORKERS = {
    "log_metric_fluent": worker_log_metric_fluent,
    "log_metrics": worker_log_metrics,
    "log_batch": worker_log_batch,
    "search": worker_search,
}


# Child processes -------------------------------------------------------------------------------


def _child(command: Sequence[str]) -> dict[str, Any]:
    """Run ``command`` in a fresh temporary folder and return its JSON line."""
    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as folder:
        done = subprocess.run(
            list(command),
            cwd=folder,
            env=clean_env(Path(folder) / ".loopml", ("MLFLOW_",)),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        what = " ".join(Path(command[1]).name if i == 0 else a for i, a in enumerate(command[1:4]))
        raise RuntimeError(f"{what} exited {done.returncode}: {tail}")
    return last_json(done.stdout)


def loopml_worker(name: str, **kwargs: Any) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    return _child([sys.executable, script, "--worker", name, json.dumps(kwargs)])


class Peer:
    """MLflow's side, or nothing (every figure then reads ``None``)."""

    def __init__(self, python: str | None) -> None:
        self.python = python
        self.version: str | None = None
        self.errors: dict[str, str] = {}
        if python is not None:
            try:
                self.version = _child([python, str(PEER_SCRIPT), "version"])["mlflow_version"]
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                self.errors["version"] = str(exc)
                self.python = None

    def run(self, scenario: str, *args: str) -> dict[str, Any] | None:
        if self.python is None:
            return None
        try:
            return _child([self.python, str(PEER_SCRIPT), scenario, *args])
        except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
            self.errors[scenario] = str(exc)
            return None


def find_mlflow_python(no_peer: bool) -> str | None:
    if no_peer:
        return None
    for candidate in (os.environ.get("LOOPML_BENCH_MLFLOW_PYTHON"), DEFAULT_MLFLOW_PYTHON):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def import_time_ms(python: str, code: str, runs: int) -> float:
    """Median wall time of ``python -c code`` over ``runs`` runs (after one untimed run)."""
    times = []
    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as folder:
        for i in range(runs + 1):
            start = time.perf_counter()
            subprocess.run(
                [python, "-c", code],
                cwd=folder,
                env=clean_env(drop=("MLFLOW_",)),
                check=True,
                capture_output=True,
                timeout=120,
            )
            if i:
                times.append(time.perf_counter() - start)
    return median(times) * 1000


# Scenarios -------------------------------------------------------------------------------------
def _ratio(mine: float | None, theirs: float | None) -> float | None:
    if mine is None or theirs is None or theirs == 0:
        return None
    return round(mine / theirs, 1)


def _verdict(target_ok: bool, ratio: float | None, target_ratio: float | None) -> dict[str, Any]:
    ratio_ok = None if target_ratio is None or ratio is None else ratio >= target_ratio
    return {
        "checks": {"target": target_ok, "ratio_vs_mlflow": ratio_ok},
        "pass": target_ok and ratio_ok is not False,
    }


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def bench_log_metric(sizes: dict[str, Any], peer: Peer) -> dict[str, Any]:
    points = sizes["log_metric_points"]
    mine = loopml_worker("log_metric_fluent", points=points, repeats=sizes["log_metric_repeats"])
    rate = points / median(mine["loop_s"])
    rate_flush = points / median(mine["total_s"])
    theirs = peer.run("log_metric", "--points", str(sizes["mlflow_log_metric_points"]))
    mlflow_rate = theirs["points_per_s"] if theirs else None
    ratio = _ratio(rate, mlflow_rate)
    return {
        "points": points,
        "repeats": len(mine["loop_s"]),
        "points_per_s": round(rate),
        "points_per_s_with_flush": round(rate_flush),
        "stored_points_ok": all(n == points for n in mine["stored_points"]),
        "target_points_per_s": TARGETS["log_metric_points_per_s"],
        "mlflow_points": theirs["points"] if theirs else None,
        "mlflow_points_per_s": _r(mlflow_rate),
        "ratio_vs_mlflow": ratio,
        "ratio_vs_mlflow_with_flush": _ratio(rate_flush, mlflow_rate),
        "target_ratio": TARGETS["log_metric_ratio"],
        **_verdict(rate >= TARGETS["log_metric_points_per_s"], ratio, TARGETS["log_metric_ratio"]),
    }


def bench_log_metrics(sizes: dict[str, Any], peer: Peer) -> dict[str, Any]:
    calls, keys = sizes["log_metrics_calls"], sizes["log_metrics_keys"]
    points = calls * keys
    mine = loopml_worker(
        "log_metrics", calls=calls, keys=keys, repeats=sizes["log_metrics_repeats"]
    )
    seconds = median(mine["total_s"])
    batch_args = {"points": sizes["log_batch_points"], "per_call": sizes["log_batch_per_call"]}
    my_batch = loopml_worker("log_batch", keys=keys, **batch_args)
    theirs = peer.run(
        "log_batch",
        "--points",
        str(batch_args["points"]),
        "--per-call",
        str(batch_args["per_call"]),
        "--keys",
        str(keys),
    )
    mlflow_rate = theirs["points_per_s"] if theirs else None
    return {
        "points": points,
        "calls": calls,
        "metrics_per_call": keys,
        "repeats": len(mine["total_s"]),
        "seconds": round(seconds, 3),
        "seconds_without_flush": round(median(mine["loop_s"]), 3),
        "points_per_s": round(points / seconds),
        "stored_points_ok": all(n == points for n in mine["stored_points"]),
        "target_seconds": TARGETS["log_metrics_seconds"],
        "log_batch_points": my_batch["points"],
        "log_batch_points_per_call": batch_args["per_call"],
        "log_batch_points_per_s": round(my_batch["points_per_s"]),
        "mlflow_log_batch_points": theirs["points"] if theirs else None,
        "mlflow_log_batch_points_per_s": _r(mlflow_rate),
        "log_batch_ratio_vs_mlflow": _ratio(my_batch["points_per_s"], mlflow_rate),
        "log_metrics_ratio_vs_mlflow_log_batch": _ratio(points / seconds, mlflow_rate),
        **_verdict(seconds < TARGETS["log_metrics_seconds"], None, None),
    }


def bench_search(sizes: dict[str, Any], peer: Peer) -> dict[str, Any]:
    runs, calls = sizes["search_runs"], sizes["search_calls"]
    mine = loopml_worker("search", runs=runs, calls=calls, filter_string=SEARCH_FILTER)
    theirs = peer.run(
        "search",
        "--runs",
        str(runs),
        "--calls",
        str(calls),
        "--populate",
        sizes["mlflow_populate"],
        "--populate-budget-s",
        str(sizes["mlflow_populate_budget_s"]),
        "--filter",
        SEARCH_FILTER,
    )
    if theirs and "bulk_populate_error" in theirs:
        peer.errors["search_bulk_populate"] = theirs["bulk_populate_error"]
    mlflow_ms = theirs["median_ms"] if theirs else None
    # With fewer MLflow runs (populate budget hit) MLflow searches less, so the ratio is a floor.
    ratio = _ratio(mlflow_ms, mine["median_ms"])
    return {
        "runs": runs,
        "params_per_run": 5,
        "metrics_per_run": 5,
        "filter": SEARCH_FILTER,
        "calls": mine["calls"],
        "median_ms": round(mine["median_ms"], 2),
        "min_ms": round(mine["min_ms"], 2),
        "rows": mine["rows"],
        "rows_expected": mine["rows_expected"],
        "populate_s": round(mine["populate_s"], 1),
        "target_median_ms": TARGETS["search_median_ms"],
        "mlflow_runs": theirs["runs"] if theirs else None,
        "mlflow_populate": theirs["populate"] if theirs else None,
        "mlflow_populate_truncated": theirs["populate_truncated"] if theirs else None,
        "mlflow_populate_s": _r(theirs["populate_s"]) if theirs else None,
        "mlflow_median_ms": _r(mlflow_ms, 2),
        "mlflow_rows": theirs["rows"] if theirs else None,
        "mlflow_rows_expected": theirs["rows_expected"] if theirs else None,
        "rows_match": (theirs["rows"] == mine["rows"]) if theirs else None,
        "ratio_vs_mlflow": ratio,
        "ratio_is_lower_bound": bool(theirs and theirs["runs"] < runs) if theirs else None,
        "target_ratio": TARGETS["search_ratio"],
        **_verdict(
            mine["median_ms"] < TARGETS["search_median_ms"]
            and mine["rows"] == mine["rows_expected"],
            ratio,
            TARGETS["search_ratio"],
        ),
    }


def bench_import(sizes: dict[str, Any], peer: Peer) -> dict[str, Any]:
    runs = sizes["import_runs"]
    bare = import_time_ms(sys.executable, "pass", runs)
    mine = import_time_ms(sys.executable, "import loopml", runs)
    # Context, not a target: the first fluent call also imports the store (SQLAlchemy, ...).
    first_use = import_time_ms(sys.executable, "from loopml import log_metric", runs)
    mlflow_ms = mlflow_bare = None
    if peer.python is not None:
        try:
            mlflow_bare = import_time_ms(peer.python, "pass", runs)
            mlflow_ms = import_time_ms(peer.python, "import mlflow", runs)
        except (OSError, subprocess.SubprocessError) as exc:
            peer.errors["import"] = str(exc)
            mlflow_ms = mlflow_bare = None
    ratio = _ratio(mlflow_ms, mine)
    mlflow_net = None if mlflow_ms is None or mlflow_bare is None else mlflow_ms - mlflow_bare
    return {
        "runs": runs,
        "median_ms": round(mine, 1),
        "bare_python_median_ms": round(bare, 1),
        "net_ms": round(mine - bare, 1),
        "fluent_api_import_median_ms": round(first_use, 1),
        "target_ms": TARGETS["import_ms"],
        "mlflow_median_ms": _r(mlflow_ms),
        "mlflow_net_ms": _r(mlflow_net),
        "ratio_vs_mlflow": ratio,
        **_verdict(mine < TARGETS["import_ms"], None, None),
    }


BENCHES = {
    "log_metric_fluent": bench_log_metric,
    "log_metrics_1m": bench_log_metrics,
    "search_runs": bench_search,
    "import_time": bench_import,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LoopML tracking benchmarks (one JSON line).")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--no-peer", action="store_true", help="skip MLflow (figures are null)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these")
    parser.add_argument(
        "--mlflow-populate",
        choices=["bulk", "api"],
        default="bulk",
        help="fill MLflow's search store through its tables (bulk, seconds) or MlflowClient "
        "per run (api: stops after 240 s, fewer runs, the search ratio is then a lower bound)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, kwargs = args.worker
        print(json.dumps(WORKERS[name](**json.loads(kwargs))), flush=True)
        return 0

    sizes = {**(QUICK if args.quick else FULL), "mlflow_populate": args.mlflow_populate}
    peer = Peer(find_mlflow_python(args.no_peer))
    started = time.perf_counter()
    results = {name: BENCHES[name](sizes, peer) for name in (args.only or BENCHES)}
    report = {
        "benchmark": "tracking",
        "quick": args.quick,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "mlflow": peer.version,
        },
        "results": results,
        "pass": all(r["pass"] for r in results.values()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if peer.errors:
        report["mlflow_errors"] = peer.errors
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
