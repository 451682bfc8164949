"""The same pipeline on every executor, and a pipeline killed mid-step then resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopml.pipelines import Pipeline, load_pipeline, run_pipeline
from loopml.testing.cli import run_cli, user_env

pytestmark = pytest.mark.slow

FLOW = textwrap.dedent(
    """
    import loopml, numpy as np, pandas as pd
    from sklearn.linear_model import LogisticRegression
    from helpers import noisy

    @loopml.step
    def ingest(rows: int) -> pd.DataFrame:
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
        return df.assign(label=(noisy(df.a + df.b) > 0).astype(int))

    @loopml.step
    def left(df: pd.DataFrame):
        return LogisticRegression().fit(df[["a", "b"]], df.label)

    @loopml.step
    def right(df: pd.DataFrame) -> np.ndarray:
        return df[["a", "b"]].to_numpy().mean(axis=0)

    @loopml.step
    def join(model, means: np.ndarray) -> dict:
        return {"coef": float(model.coef_[0][0]), "mean": float(means[0])}

    @loopml.pipeline
    def flow(rows: int = 200):
        df = ingest(rows)
        return join(left(df), right(df))
    """
)


@pytest.fixture
def flow(tmp_home: Path) -> Callable[[], Pipeline]:
    root = tmp_home.parent
    sys.modules.pop("helpers", None)
    (root / "helpers.py").write_text("def noisy(values):\n    return values * 1.5\n")
    (root / "flow.py").write_text(FLOW)
    return lambda: load_pipeline("flow.py:flow", root=root)


@pytest.mark.parametrize("executor", ["processes", "dask-local"])
def test_every_executor_gives_the_same_output_digests(flow: Any, executor: str) -> None:
    local = run_pipeline(flow(), cache=False)
    other = run_pipeline(flow(), executor=executor, jobs=2, cache=False)
    assert {n: s.output_digests for n, s in other.steps.items()} == {
        n: s.output_digests for n, s in local.steps.items()
    }
    assert other.outputs == local.outputs


SLOW = textwrap.dedent(
    """
    import time, pathlib, loopml

    @loopml.step
    def first() -> int:
        return 41

    @loopml.step
    def second(value: int) -> int:
        pathlib.Path("second-started").write_text("yes")
        if not pathlib.Path("go").exists():
            time.sleep(600)
        return value + 1

    @loopml.pipeline
    def flow():
        return second(first())
    """
)


def test_a_pipeline_killed_mid_step_resumes_from_that_step(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").returncode == 0
    (tmp_path / "slow.py").write_text(SLOW)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopml", "pipeline", "run", "slow.py:flow"],
        cwd=tmp_path,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "second-started").exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    listed = run_cli(tmp_path, "pipeline", "list", "--json")
    run_id = __import__("json").loads(listed.stdout)[0]["run_id"]
    (tmp_path / "go").write_text("yes")
    resumed = run_cli(tmp_path, "pipeline", "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    steps = __import__("json").loads(resumed.stdout)["steps"]
    assert (steps["first"]["cached"], steps["second"]["cached"]) == (True, False)


def test_a_running_scheduler_is_reached_by_its_address(flow: Any) -> None:
    from distributed import LocalCluster

    local = run_pipeline(flow(), cache=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        remote = run_pipeline(flow(), executor=address, cache=False)
    assert remote.steps["join"].output_digests == local.steps["join"].output_digests


CHAINED = textwrap.dedent(
    """
    import os, loopml
    import first_helper

    @loopml.step
    def use() -> int:
        return first_helper.f()

    @loopml.step
    def die(value: int) -> int:
        os._exit(3)

    @loopml.pipeline
    def flow():
        return use()

    @loopml.pipeline
    def dying():
        return die(use())
    """
)


@pytest.fixture
def chained(tmp_home: Path) -> Path:
    root = tmp_home.parent / "sub"
    root.mkdir()
    for name in ("first_helper", "second_helper"):
        sys.modules.pop(name, None)
    (root / "first_helper.py").write_text(
        "import second_helper\n\ndef f():\n    return second_helper.g() + 1\n"
    )
    (root / "second_helper.py").write_text("def g():\n    return 41\n")
    (root / "chained.py").write_text(CHAINED)
    return root


def test_helpers_of_helpers_travel_to_dask_workers(chained: Path) -> None:
    result = run_pipeline(
        load_pipeline("chained.py:flow", root=chained), executor="dask-local", jobs=1, cache=False
    )
    assert result.output == 42


def test_a_dying_worker_fails_its_step_not_the_driver(chained: Path) -> None:
    from loopml.pipelines import PipelineFailed

    with pytest.raises(PipelineFailed, match="the worker failed") as caught:
        run_pipeline(
            load_pipeline("chained.py:dying", root=chained), executor="processes", cache=False
        )
    steps = caught.value.run.steps
    assert (steps["use"].status, steps["die"].status) == ("finished", "failed")
