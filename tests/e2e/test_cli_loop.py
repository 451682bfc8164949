"""``loopml loop`` as processes: killed mid-iteration, two controllers, and the quickstart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopml.testing.cli import assert_one_line_error, user_env
from loopml.testing.cli import run_cli as loopml
from loopml.testing.loop import write_project

pytestmark = pytest.mark.slow

SETUP = "from loopml.testing.loop import add_base_data; add_base_data()"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert loopml(tmp_path, "init").returncode == 0
    write_project(tmp_path)
    subprocess.run([sys.executable, "-c", SETUP], cwd=tmp_path, env=user_env(), check=True)
    first = loopml(tmp_path, "loop", "tick", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["iteration"]["decision"] == "promoted"
    return tmp_path


def _start_trigger(project: Path, flag: Path, reason: str) -> subprocess.Popen[str]:
    env = user_env({"LOOPML_TEST_SLOW_TRAINING": str(flag)})
    return subprocess.Popen(
        [sys.executable, "-m", "loopml", "loop", "trigger", "--reason", reason, "--json"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.1)


def test_a_controller_killed_mid_iteration_leaves_the_champion_and_recovers(
    project: Path,
) -> None:
    flag = project / "slow"
    flag.touch()
    write_project(project, C=0.3)  # new params: the training step runs (no cache)
    proc = _start_trigger(project, flag, "killed on purpose")
    _wait_for(Path(f"{flag}.started"), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    flag.unlink()
    restarted = loopml(project, "loop", "tick", "--json")
    assert restarted.returncode == 0, restarted.stderr
    tick = json.loads(restarted.stdout)
    assert len(tick["recovered"]) == 1
    shown = json.loads(loopml(project, "loop", "show", tick["recovered"][0], "--json").stdout)
    assert shown["status"] == "failed" and "stopped during the iteration" in shown["reason"]
    models = json.loads(loopml(project, "models", "show", "churn", "--json").stdout)
    assert models["aliases"]["champion"] == 1
    again = loopml(project, "loop", "trigger", "--reason", "after the crash", "--json")
    assert json.loads(again.stdout)["iteration"]["status"] == "finished"


def test_two_controllers_run_one_iteration_at_a_time(project: Path) -> None:
    flag = project / "slow"
    flag.touch()
    write_project(project, C=0.4)
    first = _start_trigger(project, flag, "first")
    _wait_for(Path(f"{flag}.started"), first)
    second = loopml(project, "loop", "trigger", "--reason", "second")
    assert_one_line_error(second, "already running")
    running = json.loads(loopml(project, "loop", "history", "--json").stdout)
    assert [i["status"] for i in running].count("running") == 1
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    assert loopml(project, "init").returncode == 0
    assert_one_line_error(loopml(project, "loop", "show", "abc"), "too short")
    assert_one_line_error(loopml(project, "loop", "show", "f" * 32), "does not exist")
    assert_one_line_error(loopml(project, "loop", "approve", "f" * 32), "does not exist")
    (project / "loopml.yaml").write_text("model: {name: churn}\nmistake: 1\n")
    assert_one_line_error(loopml(project, "loop", "tick"), "unknown key mistake")


def test_quickstart_on_a_fresh_home(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "loopml", "quickstart", "--dir", str(tmp_path / "demo"), "--json"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert {
        "model",
        "champion_before",
        "champion_after",
        "requests_sent",
        "requests_failed",
    } <= set(summary)
    assert summary["champion_before"] == 1 and summary["champion_after"] > 1
    assert summary["requests_failed"] == 0 and summary["requests_sent"] > 0
    last = summary["iterations"][-1]
    assert (
        last["decision"] == "promoted" and last["challenger_version"] == summary["champion_after"]
    )
    evaluation = last["evaluation"]
    assert evaluation["metrics"]["f1"] > evaluation["champion_metrics"]["f1"]  # on drifted data
    assert all(
        {"trigger", "evidence", "challenger_version", "gate_results", "decision"} <= set(i)
        for i in summary["iterations"]
    )
    assert summary["predictions_by_version"].get(str(summary["champion_after"]), 0) > 0
    assert Path(summary["reports"]["monitor"]).is_file()
    assert seconds < 120, f"quickstart took {seconds:.0f} s"
    # The project stays usable with every other command.
    history = loopml(tmp_path / "demo", "loop", "history", "--json")
    assert len(json.loads(history.stdout)) == len(summary["iterations"])
    again = loopml(tmp_path, "quickstart", "--dir", str(tmp_path / "demo"))
    assert_one_line_error(again, "already holds a LoopML project")


def test_loop_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    assert loopml(project, "init").returncode == 0
    subprocess.run([sys.executable, "-c", SETUP], cwd=project, env=user_env(), check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopml", "loop", "run", "--interval", "0.2"],
        cwd=project,
        env=user_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    history: list[object] = []
    while not history:  # the first tick trains and promotes the first champion
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.5)
        history = json.loads(loopml(project, "loop", "history", "--json").stdout)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped after" in out
