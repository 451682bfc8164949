"""Many processes at once, and processes killed mid-write: nothing lost, nothing locked."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopml.entities import RunStatus
from loopml.store import RunQuery, open_store
from loopml.tracking.client import LoopMLClient

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import sys, loopml
    points = int(sys.argv[1])
    loopml.set_experiment("concurrent")
    with loopml.start_run():
        for i in range(points):
            loopml.log_metric("m", float(i), step=i)
    print("done", flush=True)
    """
)

KILLED = textwrap.dedent(
    """
    import sys, loopml
    loopml.set_experiment("crash")
    with loopml.start_run() as run:
        print("run", run.run_id, flush=True)
        i = 0
        while True:
            for _ in range(2_000):
                loopml.log_metric("m", float(i), step=i)
                i += 1
            loopml.flush()
            print("flushed", i, flush=True)
    """
)

OPENER = "import sys; from loopml.store import open_store; open_store(sys.argv[1]).close()"


def _env(store_uri: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(home),
        LOOPML_STORE_URI=store_uri,
        LOOPML_ARTIFACT_URI=str(home / "artifacts"),
        LOOPML_CAPTURE_GIT="false",
        **extra,
    )
    return env


def _metric_rows(store_uri: str) -> int:
    store = open_store(store_uri)
    try:
        return store.db.read(
            lambda c: c.execute(sa.text("SELECT count(*) FROM metrics")).scalar_one()
        )
    finally:
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'loopml.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def test_four_processes_open_an_empty_store_at_once(store_uri: str, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, store_uri], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    store = open_store(store_uri, upgrade=False)
    try:
        assert store.check() == []
    finally:
        store.close()


def test_eight_processes_log_at_once_lose_nothing(store_uri: str, tmp_path: Path) -> None:
    env = _env(
        store_uri, tmp_path / "home", LOOPML_FLUSH_MAX_POINTS="500", LOOPML_FLUSH_INTERVAL="0.05"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "10000"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
        assert out.strip() == "done"
    assert _metric_rows(store_uri) == 80_000
    store = open_store(store_uri)
    try:
        runs = store.runs.search(RunQuery())
        assert len(runs) == 8
        assert {r.info.status for r in runs} == {RunStatus.FINISHED}
        assert {r.data.metrics["m"] for r in runs} == {9_999.0}
        assert store.check() == []
    finally:
        store.close()


def test_sigkill_at_random_moments_keeps_flushed_points(tmp_path: Path) -> None:
    store_uri = f"sqlite:///{tmp_path / 'crash' / 'loopml.db'}"
    env = _env(store_uri, tmp_path / "home", LOOPML_FLUSH_INTERVAL="0.02")
    rng = random.Random(20261127)
    for attempt in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        header = proc.stdout.readline().split()
        assert header[:1] == ["run"], proc.stderr.read() if proc.stderr else ""
        run_id = header[1]
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        rest, _err = proc.communicate(timeout=30)
        flushed = [int(line.split()[1]) for line in rest.splitlines() if line.startswith("flushed")]
        durable = flushed[-1] if flushed else 0

        # The next open of the store (through the tracking client) marks the dead run FAILED.
        client = LoopMLClient(store_uri, str(tmp_path / "home" / "artifacts"))
        try:
            assert client.backend.store.check() == [], f"attempt {attempt}"
            assert client.get_run(run_id).info.status is RunStatus.FAILED, f"attempt {attempt}"
            steps = {p.step for p in client.get_metric_history(run_id, "m")}
            assert set(range(durable)) <= steps, f"attempt {attempt}: lost flushed points"
        finally:
            client.backend.close()
    cli = subprocess.run(
        [sys.executable, "-m", "loopml", "db", "check"], env=env, capture_output=True, text=True
    )
    assert cli.returncode == 0, cli.stderr
