"""Running pipelines in this process: caching, explaining, failing and resuming."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import loopml
from loopml.errors import InvalidInput
from loopml.pipelines import Pipeline, PipelineFailed, resume_pipeline, run_pipeline
from loopml.store import RunQuery
from loopml.workspace import default_workspace

from .conftest import ran

FLOW = """
from helpers import scale

@loopml.step
def ingest(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(rows, dtype=float)})

@loopml.step
def features(df: pd.DataFrame, factor: float) -> pd.DataFrame:
    return df.assign(y=scale(df.x, factor))

@loopml.step
def total(df: pd.DataFrame) -> float:
    print("summing", len(df))
    return float(df.y.sum())

@loopml.step
def count(df: pd.DataFrame) -> int:
    return len(df)

@loopml.pipeline
def flow(rows: int = 10, factor: float = 2.0):
    df = ingest(rows)
    feats = features(df, factor)
    return {"total": total(feats), "rows": count(df)}
"""
HELPERS = "def scale(values, factor):\n    return values * factor\n"


@pytest.fixture
def flow(write_pipeline: Callable[..., Pipeline], tmp_home: Path) -> Callable[[], Pipeline]:
    sys.modules.pop("helpers", None)  # each test imports its own project's helpers.py
    (tmp_home.parent / "helpers.py").write_text(HELPERS)
    (tmp_home.parent / "unrelated.py").write_text("def other():\n    return 1\n")
    return lambda: write_pipeline(FLOW)


def test_first_run_runs_everything_and_the_second_reuses_it(flow: Any) -> None:
    first = run_pipeline(flow())
    assert ran(first) == ["ingest", "features", "total", "count"]
    assert first.outputs == {"total": 90.0, "rows": 10}
    second = run_pipeline(flow())
    assert ran(second) == []
    assert second.steps["total"].source_run_id == first.steps["total"].run_id
    assert second.steps["total"].output_digests == first.steps["total"].output_digests
    assert second.outputs["total"] == 90.0


def test_a_param_reruns_only_the_steps_it_reaches(flow: Any) -> None:
    run_pipeline(flow())
    changed = run_pipeline(flow(), params={"factor": "3"})
    assert ran(changed) == ["features", "total"]
    assert changed.steps["features"].reason == "ran: param `factor` changed: 2.0 → 3.0"
    assert changed.steps["total"].reason.startswith("ran: input `df` changed: digest ")
    assert changed.outputs["total"] == 135.0


def test_editing_a_step_reruns_it_and_its_descendants_only(
    flow: Any, write_pipeline: Callable[..., Pipeline]
) -> None:
    run_pipeline(flow())
    edited = FLOW.replace(
        "return df.assign(y=scale(df.x, factor))", "return df.assign(y=scale(df.x, factor) + 1)"
    )
    result = run_pipeline(write_pipeline(edited))
    assert ran(result) == ["features", "total"]
    assert result.steps["features"].reason == "ran: source of `features` changed"


def test_editing_a_called_helper_reruns_its_callers(flow: Any, tmp_home: Path) -> None:
    run_pipeline(flow())
    (tmp_home.parent / "helpers.py").write_text(HELPERS.replace("* factor", "* factor + 1"))
    sys.modules.pop("helpers", None)
    assert ran(run_pipeline(flow())) == ["features", "total"]


def test_a_rerun_with_identical_output_stops_the_wave(flow: Any, tmp_home: Path) -> None:
    """A step that ran again but produced the same bytes leaves its descendants cached."""
    run_pipeline(flow())
    (tmp_home.parent / "helpers.py").write_text(HELPERS.replace("* factor", "* factor * 1"))
    sys.modules.pop("helpers", None)
    assert ran(run_pipeline(flow())) == ["features"]


def test_comments_and_unrelated_modules_change_nothing(
    flow: Any, write_pipeline: Callable[..., Pipeline], tmp_home: Path
) -> None:
    run_pipeline(flow())
    (tmp_home.parent / "unrelated.py").write_text("def other():\n    return 2\n")
    commented = FLOW.replace("    print(", "    # a comment\n    print(")
    assert ran(run_pipeline(write_pipeline(commented))) == []


def test_no_cache_and_cache_false_run_again(flow: Any, write_pipeline: Any) -> None:
    run_pipeline(flow())
    assert len(ran(run_pipeline(flow(), cache=False))) == 4
    uncached = FLOW.replace("@loopml.step\ndef count", "@loopml.step(cache=False)\ndef count")
    result = run_pipeline(write_pipeline(uncached))
    assert ran(result) == ["count"]
    assert result.steps["count"].reason == "ran: step 'count' has cache=False"


def test_steps_are_nested_runs_with_params_logs_and_outputs(flow: Any) -> None:
    result = run_pipeline(flow())
    store = default_workspace().store
    step = store.runs.get(result.steps["total"].run_id or "")
    assert step.info.parent_run_id == result.run_id
    assert step.info.status.value == "FINISHED"
    features = store.runs.get(result.steps["features"].run_id or "")
    assert features.data.params == {"factor": "2.0"}
    files = {a.path for a in store.artifacts.list(step.info.run_id)}
    assert {"logs/step.log", "outputs/output/value.json"} <= files
    log = next(a for a in store.artifacts.list(step.info.run_id) if a.path == "logs/step.log")
    assert default_workspace().blobs.read_bytes(log.digest) == b"summing 10\n"


def test_a_failing_step_fails_the_run_and_a_resume_reruns_only_what_did_not_finish(
    write_pipeline: Callable[..., Pipeline], tmp_home: Path
) -> None:
    source = """
    @loopml.step
    def first() -> int:
        return 1

    @loopml.step
    def second(value: int) -> int:
        if not __import__("pathlib").Path("fixed").exists():
            raise RuntimeError("not yet")
        return value + 1

    @loopml.pipeline
    def flow():
        return second(first())
    """
    with pytest.raises(PipelineFailed, match="step 'second' of pipeline 'flow' failed") as caught:
        run_pipeline(write_pipeline(source))
    failed = caught.value.run
    assert (failed.steps["first"].status, failed.steps["second"].status) == ("finished", "failed")
    assert failed.steps["second"].error == "RuntimeError: not yet"
    store = default_workspace().store
    assert store.runs.get(failed.run_id).info.status.value == "FAILED"
    trace = [a for a in store.artifacts.list(failed.steps["second"].run_id or "")]
    assert "logs/traceback.txt" in {a.path for a in trace}
    (tmp_home.parent / "fixed").write_text("yes")
    resumed = resume_pipeline(failed.run_id)
    assert ran(resumed) == ["second"] and resumed.output == 2


def test_retries(write_pipeline: Callable[..., Pipeline], tmp_home: Path) -> None:
    source = """
    @loopml.step(retries=2)
    def flaky() -> int:
        marker = __import__("pathlib").Path("attempts")
        count = int(marker.read_text()) + 1 if marker.exists() else 1
        marker.write_text(str(count))
        if count < 3:
            raise OSError("transient")
        return count

    @loopml.pipeline
    def flow():
        return flaky()
    """
    assert run_pipeline(write_pipeline(source)).output == 3


def test_a_data_version_argument_is_a_run_input(write_pipeline: Callable[..., Pipeline]) -> None:
    loopml.data.add("sales", pd.DataFrame({"x": [1.0, 2.0]}))
    source = """
    @loopml.step
    def load(version) -> pd.DataFrame:
        return loopml.data.get(version)

    @loopml.pipeline
    def flow(ref: str = "sales@1"):
        return load(loopml.data.show(ref))
    """
    result = run_pipeline(write_pipeline(source))
    client = loopml.LoopMLClient()
    assert client.list_inputs(result.run_id) == [("sales@1", "version")]
    assert client.list_inputs(result.steps["load"].run_id or "") == [("sales@1", "version")]
    pd.testing.assert_frame_equal(result.output, pd.DataFrame({"x": [1.0, 2.0]}))


def test_bad_params_and_definitions_are_named(flow: Any, write_pipeline: Any) -> None:
    with pytest.raises(InvalidInput, match="has no parameter 'lr'"):
        run_pipeline(flow(), params={"lr": "1"})
    with pytest.raises(InvalidInput, match="parameter 'rows' of pipeline 'flow' must be int"):
        run_pipeline(flow(), params={"rows": "many"})
    lonely = "@loopml.pipeline\ndef flow():\n    return None\n"
    with pytest.raises(InvalidInput, match="pipeline 'flow' called no steps"):
        run_pipeline(write_pipeline(lonely))
    unpicklable = """
    @loopml.step
    def gen():
        return (i for i in range(3))

    @loopml.pipeline
    def flow():
        return gen()
    """
    with pytest.raises(PipelineFailed, match="InvalidInput"):
        run_pipeline(write_pipeline(unpicklable))


def test_explain_comes_back_from_the_store(flow: Any) -> None:
    from loopml.pipelines import load_pipeline_run

    first = run_pipeline(flow())
    second = run_pipeline(flow(), params={"rows": 5})
    loaded = load_pipeline_run(second.run_id)
    assert loaded.params == {"rows": 5, "factor": 2.0}
    assert loaded.steps["ingest"].reason == "ran: param `rows` changed: 10 → 5"
    assert loaded.steps["count"].status == "finished"
    assert first.run_id != second.run_id


def test_an_argument_no_key_can_hold_is_refused_before_the_run_starts(
    write_pipeline: Callable[..., Pipeline],
) -> None:
    source = """
    @loopml.step
    def use(handle) -> int:
        return 1

    @loopml.pipeline
    def flow():
        return use(lambda x: x)
    """
    with pytest.raises(InvalidInput, match="argument 'handle' of step 'use' is a function"):
        run_pipeline(write_pipeline(source))
    assert default_workspace().store.runs.search(RunQuery(max_results=10)) == []
