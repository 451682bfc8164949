"""Helpers every benchmark script shares: clean child environments, JSON lines, test columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def clean_env(home: Path | None = None, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This environment without LoopML's (and a peer's) settings; ``home`` gives a fresh store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", *drop))}
    if home is not None:
        env["LOOPML_HOME"] = str(home)
        # Run creation is not what is measured; git capture would add three git calls per run.
        env["LOOPML_CAPTURE_GIT"] = "false"
    return env


def last_json(stdout: str) -> dict[str, Any]:
    """The last JSON line a child printed (its result)."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    raise ValueError("no JSON line in the output")


def float_column(rng: np.random.Generator, rows: int, shape: int) -> np.ndarray:
    """One of four column shapes: normal, normal with 5% NaN, small integers, heavy-tailed."""
    kind = shape % 4
    if kind == 0:
        return rng.normal(size=rows)
    if kind == 1:
        col = rng.normal(size=rows)
        col[rng.random(rows) < 0.05] = np.nan
        return col
    if kind == 2:
        return rng.integers(0, 100, rows).astype(np.float64)
    return rng.standard_cauchy(rows)


def run_worker(script: str, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run ``script --worker name '<kwargs json>'`` in a fresh folder with a fresh LoopML home
    and return the JSON line it printed (each benchmark scenario gets a clean store)."""
    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as folder:
        done = subprocess.run(
            [sys.executable, script, "--worker", name, json.dumps(kwargs)],
            cwd=folder,
            env=clean_env(Path(folder) / ".loopml"),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed: {done.stderr.strip()[-2000:]}")
    return last_json(done.stdout)


def segment_table(features: Any, proba: np.ndarray, times: np.ndarray, model: str = "churn") -> Any:
    """A prediction-log segment as the server writes it (classifier: labels from P >= 0.5),
    built column-wise so months of traffic can be written without a row loop."""
    import json

    import pyarrow as pa

    from loopml.predictions.log import CLASSES_METADATA_KEY

    rows = len(times)
    columns: dict[str, Any] = {
        "prediction_id": pa.array([f"{t:012x}7{i:019x}" for i, t in enumerate(times)]),
        "time_ms": pa.array(np.asarray(times, dtype=np.int64)),
        "model_name": pa.array([model] * rows),
        "model_version": pa.array(np.ones(rows, np.int64)),
        "role": pa.array(["champion"] * rows),
        "latency_ms": pa.array(np.full(rows, 1.0)),
        **{f"input.{name}": pa.array(features[name].to_numpy()) for name in features.columns},
        "prediction": pa.array((proba[:, 1] >= 0.5).astype(float)),
        "proba.0": pa.array(proba[:, 0]),
        "proba.1": pa.array(proba[:, 1]),
    }
    return pa.table(columns, metadata={CLASSES_METADATA_KEY: json.dumps([0, 1]).encode()})
