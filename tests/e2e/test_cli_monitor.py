"""``loopml monitor`` over traffic a real ``loopml serve`` process logged, labels included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from loopml.serve import Client
from loopml.testing.cli import assert_one_line_error, user_env
from loopml.testing.cli import run_cli as loopml

pytestmark = pytest.mark.slow

SETUP = textwrap.dedent(
    """
    import numpy as np, pandas as pd, loopml
    from sklearn.linear_model import LogisticRegression
    from loopml.registry import set_alias
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    frame = X.assign(y=(X.a + X.b + rng.normal(0, 0.5, 3000) > 0).astype(int))
    version = loopml.data.add("train", frame)
    info = loopml.log_model(LogisticRegression().fit(X, frame.y), input_example=X.head(),
                            registered_model_name="churn", target="y",
                            data_version=version.ref)
    set_alias("churn", "champion", info.version)
    """
)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_monitor_cli_over_served_traffic(tmp_path: Path) -> None:
    assert loopml(tmp_path, "init").returncode == 0
    subprocess.run([sys.executable, "-c", SETUP], cwd=tmp_path, env=user_env(), check=True)
    created = loopml(
        tmp_path, "monitor", "create", "watch", "--model", "churn", "--window", "400rows", "--json"
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["reference"]["data"] == "train@1"
    port = _port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopml",
            "serve",
            "models:/churn@champion",
            "--port",
            str(port),
            "--log-flush-interval",
            "0.2",
        ],
        cwd=tmp_path,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while not client.ready():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        rng = np.random.default_rng(3)  # a calm sample KS at p < 0.05 does not flag
        for shift in (0.0, 2.0):  # calm traffic, then traffic whose feature a moved
            a, b = rng.normal(shift, 1, 400), rng.normal(0, 1, 400)
            answer = client.predict(
                [{"a": float(x), "b": float(y)} for x, y in zip(a, b, strict=True)]
            )
            truth = (a - shift + b > 0).astype(int)
            client.feedback(answer["prediction_ids"], [int(v) for v in truth])
        time.sleep(0.6)  # one flush of the prediction log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    ran = loopml(tmp_path, "monitor", "run", "watch", "--json")
    assert ran.returncode == 0, ran.stderr
    windows = json.loads(ran.stdout)
    assert [w["rows"] for w in windows] == [400, 400]
    calm, moved = windows
    assert "a" not in calm["drift"]["drifted_columns"] and calm["signals"]["labels"] == 400
    assert "a" in moved["drift"]["drifted_columns"]
    assert calm["realised"]["metrics"]["accuracy"]["value"] > 0.8
    assert moved["estimate"]["metrics"]["accuracy"]["realised"] is not None
    shown = loopml(tmp_path, "monitor", "show", "watch", "--json")
    assert len(json.loads(shown.stdout)["windows"]) == 2
    listed = loopml(tmp_path, "monitor", "list")
    assert "watch" in listed.stdout and "churn@champion" in listed.stdout
    table = loopml(tmp_path, "monitor", "run", "watch")
    assert "nothing new" in table.stdout
    assert_one_line_error(
        loopml(tmp_path, "monitor", "run", "nope"), "monitor 'nope' does not exist"
    )
    assert_one_line_error(
        loopml(tmp_path, "monitor", "create", "x", "--model", "churn", "--window", "soon"),
        "not a duration or a row count",
    )
    assert_one_line_error(
        loopml(tmp_path, "monitor", "create", "x", "--model", "churn", "--alert", "drift >>> 1"),
        "is not '<signal> <op> <number>'",
    )
