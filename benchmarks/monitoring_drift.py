"""Monitoring benchmark, drift half: ``loopml.drift`` vs Evidently and bare scipy, one JSON line.

    .venv/bin/python benchmarks/monitoring_drift.py           # 1,000,000 rows (Evidently: minutes)
    .venv/bin/python benchmarks/monitoring_drift.py --quick   # 100,000 rows
    .venv/bin/python benchmarks/monitoring_drift.py --quick --no-peer   # no Evidently at all

A reference and a current DataFrame of ``--rows`` rows x 20 float64 columns (four shapes:
normal, log-normal, uniform, Student t with 3 degrees of freedom; no missing values), the current
one with the mean of columns 0, 5, 10 and 15 shifted by half the reference column's standard
deviation. Every contender runs in its own fresh child process, which imports its library, makes
the same seeded frames (``make_frames``; a digest of both shows they are identical everywhere),
then times the drift computation alone, ``--runs`` times:

- ``loopml``: ``loopml.drift(reference, current)``, the full result (per-column tests by the
  default rule, dataset drift);
- ``evidently``: ``Report([DataDriftPreset()]).run(current_data=..., reference_data=...)`` with
  Evidently 0.7.23, in its own environment (``LOOPML_BENCH_EVIDENTLY_PYTHON``, default
  ``/work/peers-evidently/bin/python``); every Evidently figure is null without it;
- ``scipy_ks_2samp`` and ``scipy_wasserstein``: the bare scipy function over the 20 column pairs.

Peak memory is the child's own high-water mark (``ru_maxrss``): interpreter, imports, both frames
(the same in every child) and the computation. Targets: Evidently's time / LoopML's >= 20,
LoopML's time / ``ks_2samp``'s <= 1, LoopML's peak / Evidently's peak <= 1/3.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import clean_env, last_json  # noqa: E402

SEED = 20240611
COLUMNS = 20
SHIFTED = (0, 5, 10, 15)
SHIFT_STDS = 0.5  # the shift, in reference standard deviations
FULL_ROWS, QUICK_ROWS = 1_000_000, 100_000
DEFAULT_EVIDENTLY_PYTHON = "/work/peers-evidently/bin/python"
CHILD_TIMEOUT_S = 3600
TARGETS = {
    "evidently_over_loopml_time": 20.0,  # at least
    "loopml_over_ks_2samp_time": 1.0,  # at most
    "loopml_over_evidently_peak": 1 / 3,  # at most
}

# Data: the same in every child ------------------------------------------------------------------


def _column(rng: np.random.Generator, rows: int, shape: int, out: np.ndarray) -> None:
    """Fill ``out`` with one of four continuous shapes (no ties, no NaN)."""
    kind = shape % 4
    if kind == 0:
        rng.standard_normal(rows, out=out)
        out *= 1.0 + shape
        out += 10.0 * shape
    elif kind == 1:
        rng.standard_normal(rows, out=out)
        np.exp(out, out=out)
    elif kind == 2:
        rng.random(rows, out=out)
        out *= 100.0
    else:
        out[:] = rng.standard_t(3, rows)


def make_frames(rows: int, cols: int = COLUMNS) -> tuple[Any, Any]:
    """Reference and current frames; current shifts ``SHIFTED`` columns by half a std.

    Each frame is one float64 block in pandas' own layout (a column is contiguous, as
    ``pd.DataFrame(dict_of_columns)`` makes it), filled in place, so making it peaks at the
    data itself in every child.
    """
    import pandas as pd

    rng = np.random.default_rng(SEED)
    names = [f"x{i}" for i in range(cols)]
    blocks = []
    for role in ("reference", "current"):
        block = np.empty((rows, cols), dtype=np.float64, order="F")
        for i in range(cols):
            _column(rng, rows, i, block[:, i])
        if role == "current":
            for i in SHIFTED:
                if i < cols:
                    block[:, i] += SHIFT_STDS * float(np.std(blocks[0][:, i]))
        blocks.append(block)
    frames = [pd.DataFrame(block, columns=names, copy=False) for block in blocks]
    return frames[0], frames[1]


def frames_digest(reference: Any, current: Any) -> str:
    """A digest of every 1,009th value of every column of both frames."""
    digest = hashlib.blake2b(digest_size=12)
    for frame in (reference, current):
        for name in frame.columns:
            digest.update(np.ascontiguousarray(frame[name].to_numpy()[::1009]).tobytes())
    return digest.hexdigest()


# Contenders: each returns (run, summarise) after importing what it needs -------------------------

Runner = Callable[[Any, Any], Any]
Summary = Callable[[Any, Any, Any], dict[str, Any]]


def setup_loopml() -> tuple[Runner, Summary, dict[str, str]]:
    import scipy.stats  # noqa: F401  loopml's drift tests import it on first use: not timed

    import loopml
    from loopml.data.drift import drift

    def summarise(result: Any, reference: Any, current: Any) -> dict[str, Any]:
        return {
            "drifted_columns": len(result.drifted_columns),
            "dataset_drift": result.dataset_drift,
            "tests": sorted({col.test for col in result.columns.values()}),
        }

    return drift, summarise, {"loopml": loopml.__version__}


def setup_evidently() -> tuple[Runner, Summary, dict[str, str]]:
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    def run(reference: Any, current: Any) -> Any:
        return Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)

    def summarise(snapshot: Any, reference: Any, current: Any) -> dict[str, Any]:
        metrics = snapshot.dict()["metrics"]
        count = next(m for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))
        methods = {
            m["config"].get("method") for m in metrics if m["metric_name"].startswith("ValueDrift")
        }
        return {
            "drifted_columns": int(count["value"]["count"]),
            "dataset_drift": bool(count["value"]["share"] >= 0.5),
            "tests": sorted(str(m) for m in methods),
        }

    return run, summarise, {"evidently": evidently.__version__}


def setup_ks() -> tuple[Runner, Summary, dict[str, str]]:
    import scipy
    from scipy import stats

    def run(reference: Any, current: Any) -> Any:
        return [stats.ks_2samp(reference[c].to_numpy(), current[c].to_numpy()) for c in reference]

    def summarise(results: Any, reference: Any, current: Any) -> dict[str, Any]:
        drifted = sum(bool(r.pvalue < 0.05) for r in results)
        return {"drifted_columns": drifted, "tests": ["ks_2samp p < 0.05"]}

    return run, summarise, {"scipy": scipy.__version__}


def setup_wasserstein() -> tuple[Runner, Summary, dict[str, str]]:
    import scipy
    from scipy import stats

    def run(reference: Any, current: Any) -> Any:
        return [
            stats.wasserstein_distance(reference[c].to_numpy(), current[c].to_numpy())
            for c in reference
        ]

    def summarise(results: Any, reference: Any, current: Any) -> dict[str, Any]:
        stds = [float(np.std(reference[c].to_numpy())) for c in reference]  # after the timing
        drifted = sum(bool(d / s >= 0.1) for d, s in zip(results, stds, strict=True))
        return {"drifted_columns": drifted, "tests": ["wasserstein / reference std >= 0.1"]}

    return run, summarise, {"scipy": scipy.__version__}


SETUPS = {
    "loopml": setup_loopml,
    "evidently": setup_evidently,
    "scipy_ks_2samp": setup_ks,
    "scipy_wasserstein": setup_wasserstein,
}


def _rss_mib() -> float:
    """Resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    """This process's resident high-water mark (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(name: str, rows: int, cols: int, runs: int) -> dict[str, Any]:
    """One contender in this (fresh) process: import, make the frames, time ``runs`` runs."""
    import pandas as pd

    start = time.perf_counter()
    run, summarise, versions = SETUPS[name]()
    import_s = time.perf_counter() - start
    after_import = _rss_mib()
    reference, current = make_frames(rows, cols)
    data_mib = float(sum(f.memory_usage(deep=True).sum() for f in (reference, current))) / 2**20
    before = _rss_mib()
    peak_before = _peak_mib()
    seconds, result = [], None
    for _ in range(runs):
        result = None  # the previous result is not kept alive through the next run
        start = time.perf_counter()
        result = run(reference, current)
        seconds.append(time.perf_counter() - start)
    peak = _peak_mib()
    return {
        "seconds": statistics.median(seconds),
        "first_s": seconds[0],
        "runs_s": seconds,
        "import_s": import_s,
        "peak_rss_mib": peak,
        "rss_after_imports_mib": after_import,
        "rss_with_data_mib": before,
        "peak_before_drift_mib": peak_before,
        "peak_extra_mib": peak - before,
        "data_mib": data_mib,
        "data_digest": frames_digest(reference, current),
        **summarise(result, reference, current),
        "versions": {
            **versions,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
        "python": sys.executable,
    }


# Parent ----------------------------------------------------------------------------------------


def find_evidently_python(no_peer: bool) -> str | None:
    """The peer environment's interpreter: the env var, else the default path, else none."""
    if no_peer:
        return None
    for candidate in (os.environ.get("LOOPML_BENCH_EVIDENTLY_PYTHON"), DEFAULT_EVIDENTLY_PYTHON):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_child(python: str, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one contender in a fresh process (fresh folder, no LoopML settings)."""
    script = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="loopml-bench-") as folder:
        done = subprocess.run(
            [python, script, "--worker", name, json.dumps(kwargs)],
            cwd=folder,
            env=clean_env(Path(folder) / ".loopml"),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{name} exited {done.returncode}: {tail}")
    return last_json(done.stdout)


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, digits)


def _round(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float):
            out[key] = round(value, 4 if key.endswith("_s") or key == "seconds" else 1)
        elif isinstance(value, list) and value and isinstance(value[0], float):
            out[key] = [round(v, 4) for v in value]
        else:
            out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drift: LoopML vs Evidently and scipy.")
    parser.add_argument("--rows", type=int, default=None, help="rows per frame (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 rows: a smoke test")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per contender (3)")
    parser.add_argument(
        "--peer-runs", type=int, default=None, help="timed Evidently runs (1, or 3 with --quick)"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip Evidently (figures null)")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, kwargs = args.worker
        print(json.dumps(worker(name, **json.loads(kwargs))), flush=True)
        return 0

    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    peer_runs = args.peer_runs or (3 if args.quick else 1)
    evidently_python = find_evidently_python(args.no_peer)
    started = time.perf_counter()
    results: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    for name in ("loopml", "scipy_ks_2samp", "scipy_wasserstein"):
        results[name] = run_child(sys.executable, name, rows=rows, cols=COLUMNS, runs=args.runs)
    results["evidently"] = None
    if evidently_python is not None:
        try:
            results["evidently"] = run_child(
                evidently_python, "evidently", rows=rows, cols=COLUMNS, runs=peer_runs
            )
        except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
            errors["evidently"] = str(exc)

    loop, ks, ev = results["loopml"], results["scipy_ks_2samp"], results["evidently"]
    assert loop is not None and ks is not None
    ratios = {
        "evidently_over_loopml_time": _ratio(ev and ev["seconds"], loop["seconds"], 1),
        "loopml_over_ks_2samp_time": _ratio(loop["seconds"], ks["seconds"]),
        "loopml_over_evidently_peak": _ratio(loop["peak_rss_mib"], ev and ev["peak_rss_mib"]),
        # context, not targets
        "loopml_over_wasserstein_time": _ratio(
            loop["seconds"], (results["scipy_wasserstein"] or {}).get("seconds")
        ),
        "evidently_over_loopml_peak_extra": _ratio(
            ev and ev["peak_extra_mib"], loop["peak_extra_mib"], 1
        ),
    }
    speed = ratios["evidently_over_loopml_time"]
    memory = ratios["loopml_over_evidently_peak"]
    checks = {
        "evidently_over_loopml_time": None
        if speed is None
        else speed >= TARGETS["evidently_over_loopml_time"],
        "loopml_over_ks_2samp_time": ratios["loopml_over_ks_2samp_time"] is not None
        and ratios["loopml_over_ks_2samp_time"] <= TARGETS["loopml_over_ks_2samp_time"],
        "loopml_over_evidently_peak": None
        if memory is None
        else memory <= TARGETS["loopml_over_evidently_peak"],
    }
    digests = {r["data_digest"] for r in results.values() if r is not None}
    report = {
        "benchmark": "monitoring_drift",
        "quick": args.quick,
        "rows": rows,
        "columns": COLUMNS,
        "shifted_columns": [f"x{i}" for i in SHIFTED],
        "runs": args.runs,
        "evidently_runs": peer_runs if ev is not None else None,
        "same_data": len(digests) == 1,
        "targets": {k: round(v, 4) for k, v in TARGETS.items()},
        "results": {name: _round(r) for name, r in results.items()},
        "ratios": ratios,
        "checks": checks,
        "pass": all(c is not False for c in checks.values()),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "evidently_python": evidently_python,
            "evidently": (ev or {}).get("versions", {}).get("evidently"),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    if errors:
        report["evidently_errors"] = errors
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
