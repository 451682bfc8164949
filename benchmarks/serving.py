"""Benchmark: ``loopml serve`` under a bounded load, beside ``mlflow models serve``.

Prints one JSON line. The model: scikit-learn LogisticRegression on 20 features. The load: 16
concurrent keep-alive HTTP/1.1 connections on 127.0.0.1 each sending single-row requests back to
back (a raw asyncio client, light enough to leave the server its share of the 2 cores), 2 s of
warm-up then ``--seconds`` measured. Reported: requests/s, p50/p99 latency, failures, and the
seconds from process start to ready. Scenarios: LoopML with 1 and 2 workers (prediction logging
on), LoopML with micro-batching on 2 workers, and MLflow with 1 and 2 workers when its
interpreter is found (``LOOPML_BENCH_MLFLOW_PYTHON`` or ``/work/peers/bin/python``).

Targets: throughput ≥ 3× MLflow's with the same workers, p99 < 50 ms, ready < 3 s; with
micro-batching ≥ 1,500 requests/s.
Usage: python benchmarks/serving.py [--seconds 10] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import clean_env  # noqa: E402

CLIENTS = 16
FEATURES = 20
THROUGHPUT_RATIO = 3.0
P99_TARGET_MS = 50.0
READY_TARGET_S = 3.0
BATCHING_TARGET_RPS = 1500.0
DEFAULT_MLFLOW_PYTHON = "/work/peers/bin/python"

TRAIN = textwrap.dedent(
    """
    import numpy as np, pandas as pd
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 20)), columns=[f"f{i}" for i in range(20)])
    y = (X.sum(axis=1) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    """
)

LOOPML_SETUP = TRAIN + textwrap.dedent(
    """
    import loopml
    from loopml.registry import set_alias
    info = loopml.log_model(model, input_example=X.head(), registered_model_name="bench")
    set_alias("bench", "champion", info.version)
    """
)

MLFLOW_SETUP = TRAIN + textwrap.dedent(
    """
    import mlflow
    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name="bench",
            serialization_format="cloudpickle", input_example=X.head(),
        )
    print(info.model_uri)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, started: float, timeout: float = 120.0) -> float:
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} not ready after {timeout} s")


async def _one_client(
    host: str, port: int, request: bytes, stop_at: float, warm_until: float, out: list[Any]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[float] = []
    failures = 0
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            done = time.perf_counter()
            if done >= warm_until:
                latencies.append((done - now) * 1000)
                if status != 200:
                    failures += 1
    finally:
        writer.close()
    out.append((latencies, failures))


def load(port: int, path: str, body: bytes, seconds: float, warmup: float = 2.0) -> dict[str, Any]:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    ).encode() + body

    async def run() -> list[Any]:
        start = time.perf_counter()
        out: list[Any] = []
        await asyncio.gather(
            *(
                _one_client(
                    "127.0.0.1", port, request, start + warmup + seconds, start + warmup, out
                )
                for _ in range(CLIENTS)
            )
        )
        return out

    results = asyncio.run(run())
    latencies = sorted(x for lat, _ in results for x in lat)
    failures = sum(f for _, f in results)
    count = len(latencies)
    return {
        "requests": count,
        "requests_per_s": count / seconds,
        "p50_ms": latencies[count // 2] if count else None,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] if count else None,
        "failures": failures,
    }


def stop(proc: subprocess.Popen[bytes]) -> None:
    with_group = os.getpgid(proc.pid)
    os.killpg(with_group, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(with_group, signal.SIGKILL)
        proc.wait()


def loopml_scenario(folder: Path, workers: int, batch: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    env = clean_env(folder / ".loopml")
    command = [
        sys.executable,
        "-m",
        "loopml",
        "serve",
        "models:/bench@champion",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--max-batch-size",
        str(batch),
        "--max-latency-ms",
        "2",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}/ready", started)
        row = {f"f{i}": 0.1 * i for i in range(FEATURES)}
        body = json.dumps({"instances": [row]}).encode()
        result = load(port, "/predict", body, seconds)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
            metrics = response.read().decode()
        dropped = [ln for ln in metrics.splitlines() if ln.startswith("loopml_predictions_dropped")]
        result["logged_dropped"] = int(float(dropped[0].split()[-1])) if dropped else 0
    finally:
        stop(proc)
    return {"workers": workers, "max_batch_size": batch, "ready_s": ready, **result}


def mlflow_scenario(python: str, folder: Path, workers: int, seconds: float) -> dict[str, Any]:
    env = {**clean_env(drop=("MLFLOW_",)), "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db"}
    # `mlflow models serve` execs `uvicorn` by name: its environment's bin must come first
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    if not (folder / "mlflow.db").exists():
        subprocess.run(
            [python, "-c", MLFLOW_SETUP],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    uri = "models:/bench/1"
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            python,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            uri,
            "--env-manager",
            "local",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--host",
            "127.0.0.1",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}/ping", started)
        columns = [f"f{i}" for i in range(FEATURES)]
        body = json.dumps(
            {"dataframe_split": {"columns": columns, "data": [[0.1 * i for i in range(20)]]}}
        ).encode()
        result = load(port, "/invocations", body, seconds)
    finally:
        stop(proc)
    return {"workers": workers, "ready_s": ready, **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    python = None
    if not args.no_peer:
        for candidate in (os.environ.get("LOOPML_BENCH_MLFLOW_PYTHON"), DEFAULT_MLFLOW_PYTHON):
            if candidate and Path(candidate).is_file():
                python = candidate
                break
    result: dict[str, Any] = {"benchmark": "serving", "clients": CLIENTS, "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as scratch:
        folder = Path(scratch)
        subprocess.run(
            [sys.executable, "-c", LOOPML_SETUP],
            cwd=folder,
            env=clean_env(folder / ".loopml"),
            check=True,
            capture_output=True,
        )
        result["loopml_1_worker"] = loopml_scenario(folder, 1, 1, args.seconds)
        result["loopml_2_workers"] = loopml_scenario(folder, 2, 1, args.seconds)
        result["loopml_2_workers_batching"] = loopml_scenario(folder, 2, 32, args.seconds)
        errors: dict[str, str] = {}
        for workers in (1, 2):
            key = f"mlflow_{workers}_worker{'s' if workers > 1 else ''}"
            if python is None:
                result[key] = None
                continue
            try:
                result[key] = mlflow_scenario(python, folder, workers, args.seconds)
            except Exception as exc:  # the peer is context; its failure is reported, not fatal
                result[key] = None
                errors[key] = f"{type(exc).__name__}: {exc}"
        result["mlflow_errors"] = errors or None
    ratios = {}
    for ours, theirs in (
        ("loopml_1_worker", "mlflow_1_worker"),
        ("loopml_2_workers", "mlflow_2_workers"),
    ):
        if result.get(theirs):
            ratios[ours] = result[ours]["requests_per_s"] / result[theirs]["requests_per_s"]
    result["throughput_ratio_vs_mlflow"] = ratios or None
    one = result["loopml_1_worker"]
    checks = {
        "p99_under_50ms": one["p99_ms"] is not None and one["p99_ms"] < P99_TARGET_MS,
        "ready_under_3s": one["ready_s"] < READY_TARGET_S,
        "no_failures": all(result[k]["failures"] == 0 for k in result if k.startswith("loopml_")),
        "batching_1500_rps": result["loopml_2_workers_batching"]["requests_per_s"]
        >= BATCHING_TARGET_RPS,
        "ratio_3x": None if not ratios else all(r >= THROUGHPUT_RATIO for r in ratios.values()),
    }
    result["checks"] = checks
    result["pass"] = all(v is not False for v in checks.values())
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
