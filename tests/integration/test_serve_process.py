"""``loopml serve`` as a process: a promotion under load, kill -9, and the bind guard."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopml.serve import Client
from loopml.testing.cli import assert_one_line_error, run_cli, user_env

pytestmark = pytest.mark.slow

SETUP = textwrap.dedent(
    """
    import sys, numpy as np, pandas as pd, loopml
    from sklearn.linear_model import LogisticRegression
    from loopml.registry import set_alias
    rng = np.random.default_rng(int(sys.argv[1]))
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X.a + X.b > 0).astype(int)
    info = loopml.log_model(LogisticRegression(C=float(sys.argv[2])).fit(X, y),
                            input_example=X.head(), registered_model_name="churn")
    if sys.argv[3] == "promote":
        set_alias("churn", "champion", info.version)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def setup_version(root: Path, seed: int, c: float, promote: bool) -> None:
    subprocess.run(
        [sys.executable, "-c", SETUP, str(seed), str(c), "promote" if promote else "keep"],
        cwd=root,
        env=user_env(),
        check=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert run_cli(tmp_path, "init").returncode == 0
    setup_version(tmp_path, 0, 1.0, promote=True)
    return tmp_path


@pytest.fixture
def server(project: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    log = (project / "serve.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopml",
            "serve",
            "models:/churn@champion",
            "--port",
            str(port),
            "--poll-interval",
            "0.2",
            "--log-flush-interval",
            "0.3",
        ],
        cwd=project,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    client = Client(url)
    deadline = time.monotonic() + 60
    while not client.ready():
        alive = proc.poll() is None and time.monotonic() < deadline
        assert alive, (project / "serve.log").read_text()
        time.sleep(0.05)
    yield proc, url
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    log.close()


def metrics(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics") as response:
        text: str = response.read().decode()
        return text


def read_log(project: Path) -> Any:
    code = (
        "import json, loopml.predictions.log as p; "
        "f = p.read_predictions('churn'); "
        "print(json.dumps(dict(zip(f.prediction_id, f.model_version.astype(int).tolist()))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_promotion_under_load_fails_no_request(
    project: Path, server: tuple[subprocess.Popen[str], str]
) -> None:
    proc, url = server
    answers: list[dict[str, Any]] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        client = Client(url)
        while not stop.is_set():
            try:
                answers.append(client.predict([{"a": 0.1, "b": -0.2}]))
            except Exception as exc:  # counted: the test demands none
                failures.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    setup_version(project, 1, 0.01, promote=True)  # version 2 becomes champion mid-load
    deadline = time.monotonic() + 30
    while not any(a["model"]["version"] == 2 for a in answers[-20:]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    versions = {a["model"]["version"] for a in answers}
    assert versions == {1, 2}
    os.killpg(proc.pid, signal.SIGTERM)  # graceful: the log is flushed
    proc.wait(timeout=60)
    logged = read_log(project)
    for answer in answers:
        assert logged[answer["prediction_ids"][0]] == answer["model"]["version"]


def test_kill_9_keeps_what_was_flushed_and_the_store_opens(
    project: Path, server: tuple[subprocess.Popen[str], str]
) -> None:
    proc, url = server
    client = Client(url)
    ids = [client.predict([{"a": i / 10, "b": 0.0}])["prediction_ids"][0] for i in range(25)]
    deadline = time.monotonic() + 30
    while (
        "loopml_predictions_written_total 25"
        not in urllib.request.urlopen(f"{url}/metrics").read().decode()
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert set(ids) <= set(read_log(project))
    check = run_cli(project, "db", "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_public_bind_needs_a_token(project: Path) -> None:
    refused = run_cli(project, "serve", "models:/churn@champion", "--host", "0.0.0.0")
    assert_one_line_error(refused, "refusing to listen on 0.0.0.0 without a token")
    wrong = run_cli(project, "serve", "models:/churn@challenger")
    assert_one_line_error(wrong, "has no alias 'challenger'")
