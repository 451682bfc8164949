"""Benchmark: profile 1,000,000 rows x 20 float columns, column by column, with profile_numeric.

Prints one JSON line: the wall time and peak extra memory (tracemalloc, in a second run, so its
bookkeeping does not slow the timed one) against the targets (under 3 s; under 2x the data),
the time of each part on one column (moments, KLL, HLL) to show which dominates, and, as
context, pandas' ``describe()`` + ``nunique()`` on the same frame (exact, not mergeable).
Columns mix shapes: normal, 5% NaN, low-cardinality integers, heavy-tailed.
Usage: python benchmarks/profile.py [--rows 1000000] [--cols 20] [--repeat 3] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from loopml.stats import profile_numeric
from loopml.stats.sketches import Distinct, Quantiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import float_column

TARGET_S = 3.0
TARGET_MEMORY_RATIO = 2.0


def _columns(rows: int, cols: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [float_column(rng, rows, i) for i in range(cols)]


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _profile_all(columns: list[np.ndarray]) -> None:
    for col in columns:
        profile_numeric(col)


def _parts(col: np.ndarray) -> dict[str, float]:
    """Seconds per part on one normal column, so the dominant part is visible."""

    def moments() -> None:
        finite = col[np.isfinite(col)]
        deviations = finite - finite.mean()
        float(np.dot(deviations, deviations)), finite.min(), finite.max()

    return {
        "moments_and_counts": _timed(moments),
        "kll": _timed(lambda: Quantiles.of(col)),
        "hll": _timed(lambda: Distinct.of_floats(col)),
    }


def _peer_seconds(columns: list[np.ndarray]) -> float | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    return _timed(lambda: (frame.describe(), frame.nunique()))


def main() -> None:
    parser = argparse.ArgumentParser(description="profile_numeric over a wide float table")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    columns = _columns(args.rows, args.cols)
    data_bytes = sum(c.nbytes for c in columns)
    _profile_all(columns[:1])  # warm imports and caches
    seconds = statistics.median(_timed(lambda: _profile_all(columns)) for _ in range(args.repeat))
    tracemalloc.start()
    _profile_all(columns)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    parts = _parts(columns[0])
    peer = None if args.no_peer else _peer_seconds(columns)
    print(
        json.dumps(
            {
                "benchmark": "stats.profile_numeric",
                "rows": args.rows,
                "cols": args.cols,
                "cpus": os.cpu_count(),
                "data_mib": round(data_bytes / 2**20, 1),
                "seconds": round(seconds, 3),
                "rows_per_s": round(args.rows * args.cols / seconds),
                "peak_extra_mib": round(peak / 2**20, 1),
                "memory_ratio": round((data_bytes + peak) / data_bytes, 3),
                "one_column_parts_s": {k: round(v, 4) for k, v in parts.items()},
                "dominant_part": max(parts, key=parts.__getitem__),
                "peer": "pandas describe() + nunique()",
                "peer_seconds": None if peer is None else round(peer, 3),
                "ratio": None if peer is None else round(peer / seconds, 3),
                "target": f"seconds < {TARGET_S} and memory_ratio < {TARGET_MEMORY_RATIO}",
                "pass": seconds < TARGET_S and (data_bytes + peak) / data_bytes < 2,
            }
        )
    )


if __name__ == "__main__":
    main()
