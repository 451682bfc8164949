"""Monitoring benchmark: both halves of the issue's targets, one JSON line.

    .venv/bin/python benchmarks/monitoring.py            # full sizes (Evidently: minutes)
    .venv/bin/python benchmarks/monitoring.py --quick    # small sizes, a smoke test

Runs ``monitoring_drift.py`` (``loopml.drift`` on 1,000,000 x 20 against Evidently 0.7.23 and
bare scipy, each in its own process) and ``monitoring_windows.py`` (30 days of hourly windows of
10,000 predictions from stored segment profiles) and merges their results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import last_json

HERE = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-2000:]}
    return last_json(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes.")
    parser.add_argument("--no-peer", action="store_true", help="Do not run Evidently.")
    args = parser.parse_args()
    flags = [*(["--quick"] if args.quick else []), *(["--no-peer"] if args.no_peer else [])]
    drift = _run("monitoring_drift.py", *flags)
    windows = _run("monitoring_windows.py", *(["--quick"] if args.quick else []))
    result = {
        "benchmark": "monitoring",
        "quick": args.quick,
        "drift": drift,
        "windows": windows,
        "pass": bool(drift.get("pass")) and bool(windows.get("pass")),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
