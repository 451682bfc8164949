"""SIGTERM ends a run KILLED after writing what it logged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from loopml.entities import RunStatus
from loopml.tracking.client import LoopMLClient

SCRIPT = textwrap.dedent(
    """
    import time, loopml
    with loopml.start_run() as run:
        for i in range(500):
            loopml.log_metric("m", float(i), step=i)
        print(run.run_id, flush=True)
        time.sleep(60)
    """
)


def test_sigterm_marks_run_killed_and_keeps_points(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(tmp_path / ".loopml"), LOOPML_CAPTURE_GIT="false")
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    client = LoopMLClient(f"sqlite:///{tmp_path / '.loopml' / 'loopml.db'}", str(tmp_path / "a"))
    try:
        assert client.get_run(run_id).info.status is RunStatus.KILLED
        assert len(client.get_metric_history(run_id, "m")) == 500
    finally:
        client.backend.close()


def test_explicit_client_flushes_at_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, loopml
        c = loopml.LoopMLClient(sys.argv[1], sys.argv[2])
        run = c.create_run(c.create_experiment("x"))
        for i in range(100):
            c.log_metric(run.info.run_id, "m", float(i), step=i)
        print(run.info.run_id)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env["LOOPML_CAPTURE_GIT"] = "false"
    uri, artifacts = f"sqlite:///{tmp_path / 'other.db'}", str(tmp_path / "a")
    done = subprocess.run(
        [sys.executable, "-c", script, uri, artifacts], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with LoopMLClient(uri, artifacts) as client:
        assert len(client.get_metric_history(done.stdout.strip(), "m")) == 100
