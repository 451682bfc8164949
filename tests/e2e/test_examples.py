"""The projects in ``examples/`` work as their READMEs say, run as a user would in a copy."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from loopml.serve import Client
from loopml.testing.cli import run_cli as loopml
from loopml.testing.cli import user_env

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _project(tmp_path: Path, name: str) -> Path:
    """A copy of the example, initialised and with its base data versioned."""
    folder = tmp_path / name
    shutil.copytree(
        EXAMPLES / name, folder, ignore=shutil.ignore_patterns(".loopml", "__pycache__")
    )
    assert loopml(folder, "init").returncode == 0
    prepared = _python(folder, "prepare.py")
    assert prepared.stdout.strip() == "versioned 3000 customers as churn@1"
    return folder


def _python(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _json(folder: Path, *args: str) -> Any:
    result = loopml(folder, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _champion(folder: Path) -> int | None:
    aliases: dict[str, int] = _json(folder, "models", "show", "churn")["aliases"]
    return aliases.get("champion")


def _story(folder: Path, iteration: dict[str, Any]) -> str:
    shown = loopml(folder, "loop", "show", iteration["iteration_id"][:12])
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_sklearn_example_bootstraps_then_retrains(tmp_path: Path) -> None:
    folder = _project(tmp_path, "churn-sklearn")

    first = _json(folder, "loop", "tick")
    assert first["fired"] == ["bootstrap"]
    bootstrap = first["iteration"]
    assert bootstrap["decision"] == "promoted", bootstrap["reason"]
    assert bootstrap["model_version"] == 1
    assert bootstrap["record"]["training"]["entry"] == "train.py:training"
    assert _champion(folder) == 1

    second = _json(folder, "loop", "trigger", "--reason", "test")
    retrain = second["iteration"]
    assert retrain["record"]["trigger"]["kind"] == "manual"
    assert retrain["model_version"] == 2
    assert retrain["decision"] in ("promoted", "kept"), retrain["reason"]
    assert retrain["record"]["champion_after"] == (2 if retrain["decision"] == "promoted" else 1)
    # the same rows as the bootstrap's (no traffic yet): both steps come from the cache
    assert retrain["record"]["training"]["reused_steps"] == ["fit", "load"]

    story = _story(folder, retrain)
    assert "1. trigger: manual — test" in story
    assert "3. training: pipeline train.py:training" in story
    assert "gate f1 >= champion - 0.01: pass" in story
    assert f"6. decision: {retrain['decision']}" in story


def test_lightgbm_example_waits_for_approval(tmp_path: Path) -> None:
    folder = _project(tmp_path, "churn-lightgbm")

    first = _json(folder, "loop", "tick")
    bootstrap = first["iteration"]
    assert bootstrap["decision"] == "awaiting_approval", bootstrap["reason"]
    assert bootstrap["model_version"] == 1
    assert bootstrap["record"]["training"]["kind"] == "function"
    assert bootstrap["record"]["champion_after"] is None
    approved = loopml(folder, "loop", "approve", bootstrap["iteration_id"][:12])
    assert approved.returncode == 0, approved.stderr
    assert "approved: version 1 promoted" in approved.stdout
    assert _champion(folder) == 1

    second = _json(folder, "loop", "trigger", "--reason", "test")
    retrain = second["iteration"]
    assert retrain["model_version"] == 2
    assert retrain["decision"] in ("awaiting_approval", "kept"), retrain["reason"]
    assert retrain["record"]["champion_after"] == 1
    story = _story(folder, retrain)
    assert "3. training: function train.py:train" in story
    assert f"6. decision: {retrain['decision']}" in story
    if retrain["decision"] == "awaiting_approval":
        assert loopml(folder, "loop", "approve", retrain["iteration_id"][:12]).returncode == 0
        assert _champion(folder) == 2
    versions = _json(folder, "models", "show", "churn")["versions"]
    assert {v["flavor"] for v in versions} == {"sklearn"}  # skops, never pickle


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_traffic_script_feeds_the_loop_labels(tmp_path: Path) -> None:
    folder = _project(tmp_path, "churn-sklearn")
    assert _json(folder, "loop", "tick")["iteration"]["decision"] == "promoted"
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "loopml", "serve", "models:/churn@champion", "--port", str(port)],
        cwd=folder,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while not client.ready():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        args = ("--url", url, "--windows", "3", "--rows", "200", "--drift-from", "1")
        sent = _python(folder, "traffic.py", *args, "--pause", "0")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert sent.stdout.splitlines() == [
        "batch 0: 200 customers, drift 0, model version 1",
        "batch 1: 200 customers, drift 1, model version 1",
        "batch 2: 200 customers, drift 1, model version 1",
    ]
    checks = {c["trigger"]: c for c in _json(folder, "loop", "tick")["checks"]}
    assert checks["new_labels"]["value"] == 600  # every batch's labels, the last one's too
    assert not checks["new_labels"]["fired"]  # 2,000 are needed
