"""One iteration of the loop: data → training → registration → judgement → decision.

Each step's outcome lands in the iteration's record as it happens, so ``loopml loop show`` tells
the story of a finished iteration and of one that broke: the failing step and its cause. The
champion only ever changes through the registry's compare-and-set promotion, the last step, so
a failure anywhere leaves it serving.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from loopml import data as datasets
from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml._util.process import hostname
from loopml.entities import LoopIteration, LoopLock
from loopml.errors import Conflict, InvalidInput, NotFound, summary
from loopml.loop.lock import IterationLock
from loopml.loop.project import LoopProject
from loopml.loop.training_data import TrainingData, build_training_data
from loopml.models import LoadedModel
from loopml.registry.log import log_model
from loopml.registry.promotion import PromotionResult, promote
from loopml.store import NewEvent
from loopml.workspace import Workspace, default_workspace


class StepFailed(Exception):
    """A step of the iteration failed; ``step`` names it."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"{step}: {summary(cause)}")
        self.step = step
        self.cause = cause


class Story:
    """The iteration's record, written to the store after every step."""

    def __init__(self, ws: Workspace, iteration: LoopIteration) -> None:
        self._ws = ws
        self.iteration_id = iteration.iteration_id
        self.record: dict[str, Any] = dict(iteration.record)
        self.record.setdefault("timeline", [])

    def step(self, name: str, work: Callable[[], Any]) -> Any:
        started = now_ms()
        try:
            result = work()
        except BaseException as exc:
            self.record["timeline"].append(
                {"step": name, "start": started, "end": now_ms(), "ok": False}
            )
            raise StepFailed(name, exc) from exc
        self.record["timeline"].append(
            {"step": name, "start": started, "end": now_ms(), "ok": True}
        )
        return result

    def save(self, **fields: Any) -> LoopIteration:
        return self._ws.store.loop.update_iteration(self.iteration_id, record=self.record, **fields)


def champion_version(ws: Workspace, model: str, alias: str) -> int | None:
    try:
        return ws.store.models.version(model, None, alias).version
    except NotFound:
        return None


def mark_abandoned(ws: Workspace, previous: LoopLock | None) -> None:
    """The iteration whose controller died holding the lock failed; say so."""
    if previous is None:
        return
    try:
        found = ws.store.loop.iteration(previous.holder)
    except (NotFound, InvalidInput):
        return
    if found.status in ("running",):
        fail_iteration(
            ws,
            found,
            f"the controller (pid {previous.pid} on {previous.host}) died during the iteration; "
            "the champion was not changed",
        )


def fail_iteration(ws: Workspace, iteration: LoopIteration, reason: str) -> LoopIteration:
    champion = champion_version(
        ws, iteration.model_name, iteration.record.get("alias") or "champion"
    )
    record = {
        **iteration.record,
        "decision": "failed",
        "reason": reason,
        "champion_after": champion,
    }
    record.setdefault("failure", {"step": "controller", "error": reason})
    return ws.store.loop.update_iteration(
        iteration.iteration_id,
        status="failed",
        decision="failed",
        reason=reason,
        record=record,
        end_time=now_ms(),
    )


def run_iteration(
    project: LoopProject,
    trigger: Mapping[str, Any],
    *,
    workspace: Workspace | None = None,
) -> LoopIteration:
    """Run one iteration for ``project`` because of ``trigger``; Conflict if one is running."""
    ws = workspace or default_workspace()
    model, alias = project.model.name, project.model.alias
    iteration_id = new_id()
    with IterationLock(ws, model, iteration_id, os.getpid()) as lock:
        mark_abandoned(ws, lock.previous)
        before = champion_version(ws, model, alias)
        iteration = ws.store.loop.add_iteration(
            LoopIteration(
                iteration_id=iteration_id,
                model_name=model,
                status="running",
                start_time=now_ms(),
                host=hostname(),
                pid=os.getpid(),
                record={
                    "trigger": dict(trigger),
                    "champion_before": before,
                    "promotion": project.promotion,
                    "alias": alias,
                },
            )
        )
        story = Story(ws, iteration)
        story.save()
        try:
            return _steps(project, story, before, ws)
        except StepFailed as failed:
            story.record["failure"] = {"step": failed.step, "error": summary(failed.cause)}
            reason = f"{failed.step} failed: {summary(failed.cause)}; the champion was not changed"
            story.record.update(
                decision="failed", reason=reason, champion_after=champion_version(ws, model, alias)
            )
            ws.store.events.add(
                NewEvent(
                    "loop.iteration_failed",
                    f"model:{model}",
                    "loopml loop",
                    reason,
                    {"iteration": iteration_id},
                )
            )
            return story.save(status="failed", decision="failed", reason=reason, end_time=now_ms())


def _steps(project: LoopProject, story: Story, before: int | None, ws: Workspace) -> LoopIteration:
    model, alias = project.model.name, project.model.alias
    data: TrainingData = story.step(
        "data", lambda: build_training_data(project, story.iteration_id, ws)
    )
    story.record["data"] = data.to_dict()
    story.save(data_version=data.training)
    run_id, trained, training = story.step(
        "train", lambda: train(project, data.training, story.iteration_id)
    )
    story.record["training"] = training
    story.save(run_id=run_id)
    version = story.step("register", lambda: _register(project, trained, data, run_id))
    story.record["model_version"] = version
    story.save(model_version=version)
    manual = project.promotion == "manual"
    short = story.iteration_id[:12]
    result: PromotionResult = story.step(
        "judge",
        lambda: promote(
            model,
            version,
            alias,
            gates=list(project.evaluation.gates) or None,
            data=data.holdout,
            target=project.evaluation.target,
            task=project.evaluation.task,
            reason=f"loop iteration {short}: {story.record['trigger'].get('kind')}",
            dry_run=manual,
        ),
    )
    story.record["gates"] = [_gate(g) for g in result.gates]
    story.record["evaluation"] = _evaluation(result)
    passed = all(g.passed for g in result.gates)
    if result.promoted:
        decision, status = "promoted", "finished"
        reason = f"version {version} promoted to {alias!r}: {result.reason}"
        story.step("monitors", lambda: refresh_monitors(project, ws))
    elif manual and passed:
        decision, status = "awaiting_approval", "awaiting_approval"
        reason = f"version {version} passes every gate; waiting for `loopml loop approve {short}`"
    else:
        decision, status = "kept", "finished"
        failing = [_shortfall(g) for g in result.gates if not g.passed]
        reason = f"version {version} registered, not promoted: " + (
            "; ".join(failing) or result.reason
        )
    after = champion_version(ws, model, alias)
    story.record.update(decision=decision, reason=reason, champion_after=after)
    ws.store.events.add(
        NewEvent(
            f"loop.{decision}",
            f"model:{model}",
            "loopml loop",
            reason,
            {"iteration": story.iteration_id, "version": version},
        )
    )
    return story.save(status=status, decision=decision, reason=reason, end_time=now_ms())


def train(
    project: LoopProject, training_ref: str, iteration_id: str
) -> tuple[str, Any, dict[str, Any]]:
    """Run the training entry point on the training data version: (run id, model, details)."""
    spec = project.training
    started = time.perf_counter()
    tags = {"loopml.loop_iteration": iteration_id}
    if spec.pipeline is not None:
        from loopml.pipelines import run_pipeline
        from loopml.pipelines.loading import load_pipeline

        pipeline = load_pipeline(spec.pipeline, root=project.root)
        run = run_pipeline(
            pipeline,
            params={"data": training_ref, **spec.params},
            executor=spec.executor,
            tags=tags,
        )
        outputs = run.outputs
        trained = outputs.get("model", outputs.get("output"))
        if isinstance(trained, LoadedModel):  # the step's saved model, read back: log the model
            trained = trained.raw
        if trained is None:
            raise InvalidInput(
                f"pipeline {spec.pipeline} returned no model",
                field="training.pipeline",
                hint="return the model (or a dict with a 'model' entry) from the pipeline",
            )
        details = {
            "kind": "pipeline",
            "entry": spec.pipeline,
            "run_id": run.run_id,
            "params": dict(run.params),
            "reused_steps": sorted(n for n, s in run.steps.items() if s.cached),
            "ran_steps": sorted(n for n, s in run.steps.items() if not s.cached),
            "seconds": time.perf_counter() - started,
        }
        return run.run_id, trained, details
    import loopml.tracking.fluent as fluent

    function = load_callable(str(spec.function), project.root)
    frame = datasets.get(training_ref)
    with fluent.start_run(run_name=f"loop-{iteration_id[:8]}", tags=tags) as active:
        fluent.log_params({k: str(v) for k, v in spec.params.items()})
        trained = function(frame, dict(spec.params))
        run_id = active.run_id
    details = {
        "kind": "function",
        "entry": spec.function,
        "run_id": run_id,
        "params": dict(spec.params),
        "seconds": time.perf_counter() - started,
    }
    return run_id, trained, details


def load_callable(reference: str, root: Path) -> Callable[..., Any]:
    """``file.py:function`` (relative to the project) or ``package.module:function``."""
    location, _, name = reference.rpartition(":")
    if not location or not name:
        raise InvalidInput(
            f"training function {reference!r} is not 'file.py:function' or 'module:function'",
            field="training.function",
        )
    if location.endswith(".py"):
        path = (root / location).resolve()
        if not path.is_file():
            raise NotFound(f"no such file: {location}", field="training.function", value=location)
        spec = importlib.util.spec_from_file_location(f"loopml_train_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise InvalidInput(f"cannot import {location}", field="training.function")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    found = getattr(module, name, None)
    if not callable(found):
        raise InvalidInput(f"{name!r} in {location} is not a function", field="training.function")
    return found  # type: ignore[no-any-return]


def _register(project: LoopProject, trained: Any, data: TrainingData, run_id: str) -> int:
    frame = datasets.get(data.training)
    assert isinstance(frame, pd.DataFrame)
    features = frame.drop(columns=[project.evaluation.target]).head(5)
    info = log_model(
        trained,
        input_example=features,
        registered_model_name=project.model.name,
        target=project.evaluation.target,
        data_version=data.training,
        task=project.evaluation.task,
        run_id=run_id,
    )
    if info.version is None:
        raise Conflict("the model was logged but not registered", field="model")
    return int(info.version)


def refresh_monitors(project: LoopProject, ws: Workspace) -> list[str]:
    """Move the model's monitors' references to what the alias serves now."""
    import loopml.monitor as monitor

    moved = []
    for found in monitor.list(project.model.name, workspace=ws):
        monitor.refresh_reference(found.name, workspace=ws)
        moved.append(found.name)
    return moved


def _gate(result: Any) -> dict[str, Any]:
    data = dict(result.to_dict())
    data["shortfall"] = _margin(result)
    return data


def _margin(result: Any) -> float | None:
    value, threshold = getattr(result, "value", None), getattr(result, "threshold", None)
    if value is None or threshold is None:
        return None
    return float(value) - float(threshold)


def _shortfall(result: Any) -> str:
    margin = _margin(result)
    if margin is None:
        return f"{result.expression} ({result.reason})" if result.reason else result.expression
    return (
        f"{result.expression}: {result.value:.4g} vs {result.threshold:.4g} "
        f"(short by {abs(margin):.4g})"
    )


def _evaluation(result: PromotionResult) -> dict[str, Any]:
    evaluation = result.evaluation
    if evaluation is None:
        return {"evaluation_id": result.evaluation_id}
    keep = ("accuracy", "f1", "roc_auc", "precision", "recall", "rmse", "mae", "r2")
    return {
        "evaluation_id": result.evaluation_id,
        "data": evaluation.data_version,
        "rows": evaluation.n_rows,
        "metrics": {k: v for k, v in evaluation.metrics.items() if k in keep},
        "champion_metrics": {
            k: v for k, v in (evaluation.baseline_metrics or {}).items() if k in keep
        },
    }
