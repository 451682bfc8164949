"""``loopml.tune``: Optuna picks the params, each trial is a run, gates stop the search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loopml.errors import InvalidInput
from loopml.pipelines import Pipeline, tune
from loopml.workspace import default_workspace

FLOW = """
@loopml.step
def fit(depth: int, rate: float) -> dict:
    score = 1.0 - abs(depth - 6) / 10 - abs(rate - 0.1)
    loopml.log_metric("eval/f1", score)
    return {"score": score}

@loopml.pipeline
def flow(depth: int = 1, rate: float = 0.5):
    return fit(depth, rate)
"""


def test_a_function_is_tuned_until_a_trial_passes_the_gates(tmp_home: Any) -> None:
    def objective(x: float) -> dict[str, float]:
        return {"loss": (x - 2.0) ** 2}

    result = tune(
        objective, {"x": (0.0, 4.0)}, "loss", gates=["loss <= 0.5"], max_trials=50, seed=1
    )
    assert result.direction == "minimize"
    assert result.passed and result.stopped_because.endswith("passed every gate")
    assert len(result.trials) < 50
    assert result.best is not None and result.best.metrics["loss"] <= 0.5
    store = default_workspace().store
    trial_run = store.runs.get(result.best.run_id or "")
    assert trial_run.info.parent_run_id == result.run_id
    assert trial_run.data.params["x"] == str(result.best.params["x"])


def test_a_pipeline_is_tuned_with_trials_as_pipeline_runs(
    write_pipeline: Callable[..., Pipeline],
) -> None:
    result = tune(
        write_pipeline(FLOW),
        {"depth": (1, 10), "rate": (0.01, 1.0, "log")},
        "f1",
        max_trials=4,
        seed=0,
    )
    assert result.direction == "maximize" and len(result.trials) == 4
    assert result.stopped_because == "budget spent" and not result.passed
    best = result.best
    assert best is not None and best.value == max(t.value or -1 for t in result.trials)
    assert result.best_outputs["output"]["score"] == pytest.approx(best.value)
    pipeline_run = default_workspace().store.runs.get(best.run_id or "")
    assert pipeline_run.info.parent_run_id == result.run_id


def test_a_failing_trial_does_not_stop_the_search(tmp_home: Any) -> None:
    def objective(x: int) -> float:
        if x == 1:
            raise ValueError("bad x")
        return float(x)

    result = tune(objective, {"x": [1, 2, 3]}, "objective", max_trials=6, seed=0)
    failed = [t for t in result.trials if t.error]
    assert all("bad x" in (t.error or "") for t in failed)
    assert result.best is not None and result.best.value == 3.0


@pytest.mark.parametrize(
    ("space", "kwargs", "message"),
    [
        ({}, {}, "the search space is empty"),
        ({"x": (2, 1)}, {}, "low 2 must be below high 1"),
        ({"x": (0, 1, "exp")}, {}, "the third element must be 'log'"),
        ({"x": "wide"}, {}, "search space 'x' is 'wide'"),
        ({"x": (0, 1)}, {"max_trials": 0}, "max_trials must be ≥ 1"),
        ({"x": (0, 1)}, {"gates": ["f1 => 2"]}, "is not '<metric> <op> <threshold>'"),
    ],
)
def test_bad_searches_are_refused(
    tmp_home: Any, space: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        tune(lambda x: float(x), space, "objective", **kwargs)
