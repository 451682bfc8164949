"""Benchmark: the overhead of a fully cached pipeline, and two branches in parallel.

Prints one JSON line.

- ``cached_20_steps``: a chain of 20 small steps (each passes a DataFrame on); run once to fill
  the cache, then timed ``--repeat`` times fully cached (median). Target: under 0.5 s a run.
- ``parallel_branches``: two independent steps that sleep 2 s each, ``executor="processes"``
  with ``jobs=2``, cache off; the whole ``run_pipeline`` call timed. Target: under 3 s.

Each scenario runs in a child process with a fresh ``LOOPML_HOME`` in a temporary folder.
Usage: python benchmarks/pipelines.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import run_worker  # noqa: E402

CACHED_TARGET_S = 0.5
PARALLEL_TARGET_S = 3.0

CHAIN = textwrap.dedent(
    """
    import loopml
    import pandas as pd

    @loopml.step
    def start(rows: int) -> pd.DataFrame:
        return pd.DataFrame({"x": range(rows)})

    @loopml.step
    def grow(df: pd.DataFrame, i: int) -> pd.DataFrame:
        return df.assign(x=df.x + i)

    @loopml.pipeline
    def chain(rows: int = 1000, steps: int = 20):
        df = start(rows)
        for i in range(steps - 1):
            df = grow(df, i)
        return df
    """
)

BRANCHES = textwrap.dedent(
    """
    import time
    import loopml

    @loopml.step
    def left(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @loopml.step
    def right(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @loopml.pipeline
    def branches(seconds: float = 2.0):
        return {"left": left(seconds), "right": right(seconds)}
    """
)


def worker_cached(repeat: int) -> dict[str, Any]:
    from loopml.pipelines import load_pipeline, run_pipeline

    Path("chain.py").write_text(CHAIN)
    pipeline = load_pipeline("chain.py:chain")
    start = time.perf_counter()
    first = run_pipeline(pipeline)
    cold = time.perf_counter() - start
    assert all(not s.cached for s in first.steps.values())
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = run_pipeline(pipeline)
        seconds.append(time.perf_counter() - start)
        assert all(s.cached for s in again.steps.values())
    return {
        "steps": len(first.steps),
        "first_run_s": cold,
        "cached_median_s": statistics.median(seconds),
        "cached_min_s": min(seconds),
        "per_step_ms": statistics.median(seconds) / len(first.steps) * 1000,
    }


def worker_parallel(seconds: float) -> dict[str, Any]:
    from loopml.pipelines import load_pipeline, run_pipeline

    Path("branches.py").write_text(BRANCHES)
    pipeline = load_pipeline("branches.py:branches")
    start = time.perf_counter()
    run_pipeline(pipeline, params={"seconds": seconds}, executor="processes", jobs=2, cache=False)
    parallel = time.perf_counter() - start
    start = time.perf_counter()
    run_pipeline(pipeline, params={"seconds": seconds}, cache=False)
    serial = time.perf_counter() - start
    return {"branch_s": seconds, "jobs2_s": parallel, "serial_s": serial}


WORKERS = {"cached": worker_cached, "parallel": worker_parallel}


def child(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one of this script's workers in a child with a fresh home."""
    return run_worker(str(Path(__file__).resolve()), name, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](**json.loads(args.worker_args))
        print(json.dumps(result), flush=True)
        return 0
    cached = child("cached", repeat=args.repeat)
    parallel = child("parallel", seconds=2.0)
    cached["pass"] = cached["cached_median_s"] < CACHED_TARGET_S
    parallel["pass"] = parallel["jobs2_s"] < PARALLEL_TARGET_S
    print(
        json.dumps(
            {
                "benchmark": "pipelines",
                "targets": {"cached_s": CACHED_TARGET_S, "parallel_s": PARALLEL_TARGET_S},
                "cached_20_steps": cached,
                "parallel_branches": parallel,
                "pass": cached["pass"] and parallel["pass"],
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
