"""MLflow's side of ``benchmarks/tracking.py``: one scenario, one JSON line on stdout.

Runs under an interpreter that has MLflow installed (not LoopML's), so it imports nothing from
LoopML. ``tracking.py`` starts it in a fresh temporary folder per scenario; every store it makes
(``mlflow.db`` and the artifact folder) lives in the current folder.

    python _mlflow_peer.py version
    python _mlflow_peer.py log_metric --points 2000
    python _mlflow_peer.py log_batch --points 100000 --per-call 10000 --keys 100
    python _mlflow_peer.py search --runs 10000 --calls 20 --populate bulk --filter "..."

The module-level helpers (``run_records``, ``median``) hold no MLflow import, so ``tracking.py``
uses them too and both sides build the very same runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXPERIMENT = "bench"
PARAMS_PER_RUN = 5
METRICS_PER_RUN = 5
PARAM_CHOICES = 10
SEED = 20240611


def run_records(count: int, seed: int = SEED) -> list[tuple[dict[str, float], dict[str, str]]]:
    """``count`` runs' (metrics, params): m0..m4 uniform in [0, 1), p0..p4 one of v0..v9."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        metrics = {f"m{j}": rng.random() for j in range(METRICS_PER_RUN)}
        params = {f"p{j}": f"v{rng.randrange(PARAM_CHOICES)}" for j in range(PARAMS_PER_RUN)}
        records.append((metrics, params))
    return records


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def timed_calls(call: Callable[[], Any], count: int) -> tuple[list[float], Any]:
    """Seconds taken by each of ``count`` calls (after one untimed warm-up) and the last result."""
    result = call()
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return seconds, result


# MLflow scenarios --------------------------------------------------------------------------------
def _quiet() -> None:
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _tracking_uri() -> str:
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _experiment(client: Any) -> str:
    artifacts = (Path.cwd() / "mlartifacts").as_uri()
    return str(client.create_experiment(EXPERIMENT, artifact_location=artifacts))


def scenario_version(_args: argparse.Namespace) -> dict[str, Any]:
    import mlflow

    return {"mlflow_version": mlflow.__version__, "python": sys.version.split()[0]}


def scenario_log_metric(args: argparse.Namespace) -> dict[str, Any]:
    """Fluent ``mlflow.log_metric`` in a loop inside one run (each call is a synchronous write)."""
    import mlflow

    mlflow.set_tracking_uri(_tracking_uri())
    mlflow.set_experiment(experiment_id=_experiment(mlflow.MlflowClient()))
    with mlflow.start_run():
        mlflow.log_metric("warmup", 0.0, step=0)
        start = time.perf_counter()
        for i in range(args.points):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        seconds = time.perf_counter() - start
    return {"points": args.points, "seconds": seconds, "points_per_s": args.points / seconds}


def scenario_log_batch(args: argparse.Namespace) -> dict[str, Any]:
    """``MlflowClient().log_batch`` of ``per_call`` points a call (steps x keys), synchronous."""
    import mlflow
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(_tracking_uri())
    client = mlflow.MlflowClient()
    run_id = client.create_run(_experiment(client)).info.run_id
    keys = [f"m{j}" for j in range(args.keys)]
    steps_per_call = max(1, args.per_call // args.keys)
    calls = max(1, args.points // (steps_per_call * args.keys))
    client.log_batch(run_id, metrics=[Metric("warmup", 0.0, 0, 0)])
    ts = int(time.time() * 1000)
    batches = [
        [
            Metric(key, float(step), ts, step)
            for step in range(c * steps_per_call, (c + 1) * steps_per_call)
            for key in keys
        ]
        for c in range(calls)
    ]
    points = sum(len(b) for b in batches)
    start = time.perf_counter()
    for batch in batches:
        client.log_batch(run_id, metrics=batch)
    seconds = time.perf_counter() - start
    client.set_terminated(run_id)
    return {
        "points": points,
        "points_per_call": len(batches[0]),
        "seconds": seconds,
        "points_per_s": points / seconds,
    }


def expected_rows(records: Sequence[tuple[dict[str, float], dict[str, str]]]) -> int:
    """How many of ``records`` match ``metrics.m0 > 0.5 and params.p1 = 'v3'`` (a cross-check)."""
    return sum(1 for metrics, params in records if metrics["m0"] > 0.5 and params["p1"] == "v3")


def _populate_api(client: Any, experiment_id: str, records: Sequence[Any], budget_s: float) -> int:
    """MlflowClient create_run + log_batch + set_terminated per run, stopping past the budget."""
    from mlflow.entities import Metric, Param

    ts = int(time.time() * 1000)
    start = time.perf_counter()
    populated = 0
    for metrics, params in records:
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run_id)
        populated += 1
        if time.perf_counter() - start > budget_s:
            break
    return populated


def _populate_bulk(client: Any, experiment_id: str, records: Sequence[Any]) -> int:
    """The same rows ``_populate_api`` writes (runs, the run-name tag, params, metric history and
    latest metrics), inserted into MLflow's own tables in one transaction, then one run is read
    back through ``MlflowClient`` to check it. Uses MLflow internals, hence the API fallback."""
    import uuid

    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.tracking._tracking_service.utils import _get_store

    artifact_root = client.get_experiment(experiment_id).artifact_location.rstrip("/")
    ts = int(time.time() * 1000)
    runs, tags, params_rows, metric_rows = [], [], [], []
    for i, (metrics, params) in enumerate(records):
        run_id, name = uuid.uuid4().hex, f"run-{i}"
        runs.append(
            {
                "run_uuid": run_id,
                "name": name,
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "user_id": "bench",
                "status": "FINISHED",
                "start_time": ts + i,
                "end_time": ts + i + 1,
                "deleted_time": None,
                "source_version": "",
                "lifecycle_stage": "active",
                "artifact_uri": f"{artifact_root}/{run_id}/artifacts",
                "experiment_id": int(experiment_id),
            }
        )
        tags.append({"run_uuid": run_id, "key": "mlflow.runName", "value": name})
        params_rows.extend({"run_uuid": run_id, "key": k, "value": v} for k, v in params.items())
        metric_rows.extend(
            {"run_uuid": run_id, "key": k, "value": v, "timestamp": ts, "step": 0, "is_nan": False}
            for k, v in metrics.items()
        )
    store = _get_store()
    with store.ManagedSessionMaker() as session:
        session.execute(sa.insert(SqlRun.__table__), runs)
        session.execute(sa.insert(SqlTag.__table__), tags)
        session.execute(sa.insert(SqlParam.__table__), params_rows)
        session.execute(sa.insert(SqlMetric.__table__), metric_rows)
        session.execute(sa.insert(SqlLatestMetric.__table__), metric_rows)
    if records:
        first = client.get_run(runs[0]["run_uuid"]).data
        metrics, params = records[0]
        if (
            first.params != params
            or first.metrics != metrics
            or first.tags.get("mlflow.runName") != runs[0]["name"]
        ):
            raise RuntimeError("a bulk-inserted run does not read back as written")
    return len(records)


def scenario_search(args: argparse.Namespace) -> dict[str, Any]:
    """Populate ``runs`` runs, then time ``mlflow.search_runs`` with the filter.

    ``--populate bulk`` (default) writes MLflow's tables directly (seconds; falls back to the API
    when that fails); ``--populate api`` uses MlflowClient per run and stops early past
    ``--populate-budget-s`` (10,000 runs take longer than 4 minutes that way)."""
    import mlflow

    mlflow.set_tracking_uri(_tracking_uri())
    client = mlflow.MlflowClient()
    experiment_id = _experiment(client)
    records = run_records(args.runs)
    start = time.perf_counter()
    method, fallback_reason = args.populate, None
    if method == "bulk":
        try:
            populated = _populate_bulk(client, experiment_id, records)
        except Exception as exc:  # MLflow internals moved: use the public API instead
            fallback_reason = f"{type(exc).__name__}: {exc}"[:300]
            client.delete_experiment(experiment_id)
            experiment_id = str(client.create_experiment(EXPERIMENT + "-api"))
            method = "api"
    if method == "api":
        populated = _populate_api(client, experiment_id, records, args.populate_budget_s)
    populate_s = time.perf_counter() - start
    experiment_name = client.get_experiment(experiment_id).name

    def search() -> Any:
        return mlflow.search_runs(
            experiment_names=[experiment_name], filter_string=args.filter, max_results=100_000
        )

    seconds, frame = timed_calls(search, args.calls)
    result = {
        "runs": populated,
        "runs_requested": args.runs,
        "populate": method,
        "populate_s": populate_s,
        "populate_truncated": populated < args.runs,
        "calls": len(seconds),
        "median_ms": median(seconds) * 1000,
        "min_ms": min(seconds) * 1000,
        "rows": len(frame),
        "rows_expected": expected_rows(records[:populated]),
    }
    if fallback_reason:
        result["bulk_populate_error"] = fallback_reason
    return result


def scenario_load_model(args: argparse.Namespace) -> dict[str, Any]:
    """Register the random forest ``registry.py`` builds and time loading it by alias."""
    import mlflow
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    mlflow.set_tracking_uri(_tracking_uri())
    X, y = make_classification(n_samples=args.rows, n_features=20, random_state=0)
    model = RandomForestClassifier(n_estimators=args.trees, random_state=0).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="bench",
            serialization_format="cloudpickle",  # its skops default refuses to load trees
        )
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("bench", "champion", info.registered_model_version)

    def load() -> Any:
        return mlflow.sklearn.load_model("models:/bench@champion")

    start = time.perf_counter()
    load()
    first = time.perf_counter() - start
    seconds, _ = timed_calls(load, args.calls)
    return {"first_ms": first * 1000, "median_ms": median(seconds) * 1000, "calls": len(seconds)}


SCENARIOS = {
    "load_model": scenario_load_model,
    "version": scenario_version,
    "log_metric": scenario_log_metric,
    "log_batch": scenario_log_batch,
    "search": scenario_search,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--points", type=int, default=2_000)
    parser.add_argument("--per-call", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--populate", choices=["bulk", "api"], default="bulk")
    parser.add_argument("--populate-budget-s", type=float, default=240.0)
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--filter", default="metrics.m0 > 0.5 and params.p1 = 'v3'")
    args = parser.parse_args(argv)
    _quiet()
    result = SCENARIOS[args.scenario](args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
