"""``run_pipeline``: plan, reuse what is cached, run the rest, record why.

The driver walks the graph in dependency order. For each ready step it computes the cache key
from the step's code, constants and input digests; a hit reuses the stored outputs (if every
blob is still there), a miss hands the step to the executor. Independent steps run at once on
the process and Dask executors. A failed step stops new work, fails the pipeline run with the
traceback stored, and leaves every finished step cached, so running again resumes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from loopml._util.clock import now_ms
from loopml.entities import CacheEntry, RunStatus, StepRecord
from loopml.errors import LoopMLError, summary
from loopml.pipelines.definition import Graph, Pipeline, StepCall
from loopml.pipelines.executors import Executor, make_executor
from loopml.pipelines.fingerprint import LOADED_PREFIX
from loopml.pipelines.keys import cache_key, changes, constant_value, key_parts
from loopml.pipelines.worker import TRACEBACK_FILE, StepOutcome, StepTask, value_of
from loopml.tracking import fluent
from loopml.tracking.client import LoopMLClient
from loopml.workspace import default_workspace

PIPELINE_TAG = "loopml.pipeline"
SOURCE_TAG = "loopml.pipeline.source"
PARAMS_TAG = "loopml.pipeline.params"
STEP_TAG = "loopml.step"


class PipelineFailed(LoopMLError):
    """A step failed; ``.run`` is the pipeline run, finished steps stay cached."""

    http_status = 500

    def __init__(self, message: str, run: PipelineRun, hint: str) -> None:
        super().__init__(message, field="step", hint=hint)
        self.run = run


@dataclass(frozen=True)
class StepRun:
    """What happened to one step in a pipeline run."""

    name: str
    status: str
    cached: bool
    reason: str
    output_digests: Mapping[str, str]
    run_id: str | None = None
    source_run_id: str | None = None
    error: str | None = None
    cache_key: str | None = None

    @classmethod
    def from_record(cls, record: StepRecord) -> StepRun:
        outputs = record.outputs or {}
        return cls(
            name=record.step_name,
            status=record.status,
            cached=record.cached,
            reason=record.reason or "",
            output_digests={k: v["digest"] for k, v in outputs.items()},
            run_id=record.step_run_id,
            source_run_id=record.source_run_id,
            error=record.error,
            cache_key=record.cache_key,
        )


@dataclass
class PipelineRun:
    """A finished (or failed) pipeline run: its run id, its steps, and its outputs."""

    run_id: str
    pipeline: str
    status: str
    steps: dict[str, StepRun]
    output_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def outputs(self) -> dict[str, Any]:
        """The pipeline's outputs, loaded (and verified) on first access."""
        ws = default_workspace()
        loaded = {}
        scratch = Path(tempfile.mkdtemp(prefix="outputs-", dir=ws.tmp_dir))
        try:
            for name, saved in self.output_values.items():
                loaded[name] = value_of(saved, scratch / name)
        finally:
            if not any(isinstance(v, Path) for v in loaded.values()):
                shutil.rmtree(scratch, ignore_errors=True)
        return loaded

    @property
    def output(self) -> Any:
        """The single output of a pipeline that returns one step output."""
        return self.outputs.get("output")


@dataclass
class _State:
    graph: Graph
    run_id: str
    records: dict[str, StepRecord] = field(default_factory=dict)
    saved: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (call, out)
    failed: str | None = None
    on_step: Callable[[StepRun], None] | None = None


def run_pipeline(
    pipeline: Pipeline,
    params: Mapping[str, Any] | None = None,
    executor: str = "local",
    cache: bool = True,
    *,
    jobs: int | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    on_step: Callable[[StepRun], None] | None = None,
) -> PipelineRun:
    """Run ``pipeline`` with ``params``; raise :class:`PipelineFailed` when a step fails.

    ``executor``: ``local`` (this process; with ``jobs`` > 1, local processes),
    ``processes``, ``dask-local`` or ``dask://host:port``. ``on_step`` hears every change of a
    step's status (for progress displays).
    """
    _require_pipeline(pipeline)
    graph, values = pipeline.build(params)
    for call in graph.calls:  # refuse an argument no cache key can hold before any run starts
        for name, value in call.constants.items():
            constant_value(name, value, call.name)
    ws = default_workspace()
    settings = {"store_uri": ws.settings.store_uri, "artifact_uri": ws.settings.artifact_uri}
    source = pipeline.source or _source_of(pipeline)
    run_tags = {
        PIPELINE_TAG: pipeline.name,
        PARAMS_TAG: json.dumps(values, sort_keys=True, default=str),
        **({SOURCE_TAG: source} if source else {}),
        **dict(tags or {}),
    }
    pool = make_executor(executor, jobs, settings)
    try:
        with fluent.start_run(
            run_name=run_name or pipeline.name,
            experiment=experiment,
            tags=run_tags,
            nested=fluent.active_run() is not None,
        ) as run:
            loggable = {k: v for k, v in values.items() if v is not None}
            if loggable:
                fluent.log_params({k: json.dumps(v, default=str) for k, v in loggable.items()})
            state = _State(graph, run.run_id, on_step=on_step)
            _plan(state)
            _drive(state, pool, cache)
            result = _result(state, pipeline.name, values)
            if state.failed is not None:
                record = state.records[state.failed]
                raise PipelineFailed(
                    f"step {state.failed!r} of pipeline {pipeline.name!r} failed: {record.error}",
                    result,
                    hint=f"see the traceback with `loopml pipeline show {run.run_id}`; fix it and "
                    f"run `loopml pipeline resume {run.run_id}` (finished steps are cached)",
                )
            return result
    finally:
        pool.close()


def _source_of(pipeline: Pipeline) -> str | None:
    """Where a pipeline defined in Python lives, so ``resume`` can load it again."""
    module = sys.modules.get(pipeline.func.__module__)
    attribute = pipeline.func.__name__
    if module is None or getattr(module, attribute, None) is not pipeline:
        return None
    if module.__name__ not in ("__main__",) and not module.__name__.startswith(LOADED_PREFIX):
        return f"{module.__name__}:{attribute}"
    path = getattr(module, "__file__", None)
    return f"{path}:{attribute}" if path else None


def _require_pipeline(pipeline: object) -> None:
    if not isinstance(pipeline, Pipeline):
        from loopml.errors import InvalidInput

        raise InvalidInput(
            f"expected a @loopml.pipeline, got {type(pipeline).__name__}",
            field="pipeline",
            hint="decorate the function that calls your steps with @loopml.pipeline",
        )


def _plan(state: _State) -> None:
    ws = default_workspace()
    for position, call in enumerate(state.graph.calls):
        record = StepRecord(state.run_id, state.graph.pipeline, call.name, position, "pending")
        state.records[call.name] = record
        ws.store.pipelines.save_step(record)


def _drive(state: _State, pool: Executor, use_cache: bool) -> None:
    pending = [c.name for c in state.graph.calls]
    running: dict[Any, tuple[StepCall, dict[str, Any], str, str]] = {}
    while pending or running:
        if state.failed is None:
            for name in list(pending):
                call = state.graph.call(name)
                if not all((h.call, h.output) in state.saved for h in call.upstream.values()):
                    continue
                pending.remove(name)
                launched = _start(state, call, pool, use_cache)
                if launched is not None:
                    running[launched[0]] = launched[1:]
        else:
            for name in pending:
                _save(
                    state, name, status="skipped", reason=f"not run: step {state.failed!r} failed"
                )
            pending.clear()
        if not running:
            if pending and state.failed is None and not _any_ready(state, pending):
                break  # cannot happen with a valid graph; guard against an endless loop
            continue
        for handle in pool.wait(list(running)):
            call, parts, key, step_run_id = running.pop(handle)
            _finish(state, call, parts, key, step_run_id, _outcome(pool, handle, step_run_id))


def _outcome(pool: Executor, handle: Any, step_run_id: str) -> StepOutcome:
    """The worker's report, or a failure when the worker itself broke (died, lost, unpicklable)."""
    try:
        return pool.result(handle)
    except Exception as exc:
        trace = traceback.format_exc()
        client = LoopMLClient()
        with contextlib.suppress(Exception):
            client.log_text(step_run_id, trace, TRACEBACK_FILE)
            client.set_terminated(step_run_id, RunStatus.FAILED)
        return StepOutcome(
            ok=False,
            error=f"the worker failed: {summary(exc)}",
            traceback=trace,
        )


def _any_ready(state: _State, pending: list[str]) -> bool:
    return any(
        all((h.call, h.output) in state.saved for h in state.graph.call(n).upstream.values())
        for n in pending
    )


def _start(
    state: _State, call: StepCall, pool: Executor, use_cache: bool
) -> tuple[Any, StepCall, dict[str, Any], str, str] | None:
    """Reuse the cached outputs of ``call`` or submit it; the executor handle when submitted."""
    ws = default_workspace()
    inputs = {arg: state.saved[(h.call, h.output)] for arg, h in call.upstream.items()}
    parts = key_parts(call, {arg: saved["digest"] for arg, saved in inputs.items()})
    key = cache_key(parts)
    previous = ws.store.pipelines.previous_step(state.graph.pipeline, call.name, state.run_id)
    why_not = _why_not_cached(use_cache, call)
    if why_not is None:
        hit = ws.store.pipelines.cache_get(key)
        if hit is not None and _blobs_present(hit.outputs):
            for output, saved in hit.outputs.items():
                state.saved[(call.name, output)] = dict(saved)
            # Reused or not, this run's results rest on the data the step read.
            _link_data_inputs(call, inputs, None, state.run_id)
            _save(
                state,
                call.name,
                status="finished",
                cached=True,
                cache_key=key,
                source_run_id=hit.run_id,
                reason=f"reused: nothing changed since step run {hit.run_id} produced its outputs",
                key_parts=parts,
                outputs=hit.outputs,
            )
            return None
        if hit is not None:
            ws.store.pipelines.cache_delete(key)
            why_not = "its cached outputs are gone (garbage-collected or damaged)"
    reason = why_not or _reason(parts, previous)
    step_run_id = _step_run(state, call, parts)
    _link_data_inputs(call, inputs, step_run_id, state.run_id)
    _save(
        state,
        call.name,
        status="running",
        cache_key=key,
        step_run_id=step_run_id,
        reason=reason,
        key_parts=parts,
        start_time=now_ms(),
    )
    task = StepTask(
        step_name=call.name,
        step_run_id=step_run_id,
        func=call.step.func,
        constants=call.constants,
        inputs=inputs,
        output_names=call.step.outputs,
        retries=call.step.retries,
        store_uri=pool.settings_for_task.get("store_uri"),
        artifact_uri=pool.settings_for_task.get("artifact_uri"),
        composites=call.composites,
    )
    try:
        handle = pool.submit(task)
    except Exception as exc:  # the task could not be sent (e.g. a closure cloudpickle refuses)
        handle = _failed_future(exc)
    return handle, call, parts, key, step_run_id


def _failed_future(exc: BaseException) -> Future[StepOutcome]:
    future: Future[StepOutcome] = Future()
    future.set_exception(exc)
    return future


def _why_not_cached(use_cache: bool, call: StepCall) -> str | None:
    if not use_cache:
        return "ran: caching is off for this run (--no-cache)"
    if not call.step.cache:
        return f"ran: step {call.step.name!r} has cache=False"
    return None


def _reason(parts: Mapping[str, Any], previous: StepRecord | None) -> str:
    if previous is None or previous.key_parts is None:
        return "ran: no earlier run of this step"
    found = changes(parts, previous.key_parts)
    if not found:
        return f"ran: same inputs and code as run {previous.pipeline_run_id}, but no cached outputs"
    return "ran: " + "; ".join(found)


def _blobs_present(outputs: Mapping[str, Any]) -> bool:
    blobs = default_workspace().blobs
    return all(
        blobs.exists(digest)
        for saved in outputs.values()
        for digest in saved.get("files", {}).values()
    )


def _step_run(state: _State, call: StepCall, parts: Mapping[str, Any]) -> str:
    client = LoopMLClient()
    run = client.get_run(state.run_id)
    step_run = client.create_run(
        run.info.experiment_id,
        run_name=call.name,
        tags={STEP_TAG: call.name, PIPELINE_TAG: state.graph.pipeline},
        parent_run_id=state.run_id,
    )
    params = {k: json.dumps(v, sort_keys=True) for k, v in parts["params"].items()}
    if params:
        client.log_params(step_run.info.run_id, params)
    return step_run.info.run_id


def _link_data_inputs(
    call: StepCall, inputs: Mapping[str, Mapping[str, Any]], step_run_id: str | None, run_id: str
) -> None:
    """Data versions a step reads become inputs of its run and of the pipeline run."""
    from loopml.data import DatasetVersion

    client = LoopMLClient()
    versions: dict[str, Any] = {
        arg: value for arg, value in call.constants.items() if isinstance(value, DatasetVersion)
    }
    for arg, saved in inputs.items():
        if saved.get("materializer") == "data_version":
            versions[arg] = saved["meta"]["ref"]
    for role, version in versions.items():
        if step_run_id is not None:
            client.log_input(step_run_id, version, role=role)
        client.log_input(run_id, version, role=role)


def _finish(
    state: _State,
    call: StepCall,
    parts: dict[str, Any],
    key: str,
    step_run_id: str,
    outcome: StepOutcome,
) -> None:
    ws = default_workspace()
    record = state.records[call.name]
    if not outcome.ok:
        state.failed = state.failed or call.name
        _save(
            state,
            call.name,
            status="failed",
            error=outcome.error,
            reason=(record.reason or "") + f"; failed after {outcome.attempts} attempt(s)",
            end_time=now_ms(),
        )
        return
    for output, saved in outcome.outputs.items():
        state.saved[(call.name, output)] = saved
    ws.store.pipelines.cache_put(CacheEntry(key, call.name, step_run_id, outcome.outputs))
    LoopMLClient().set_terminated(step_run_id, RunStatus.FINISHED)
    _save(state, call.name, status="finished", outputs=outcome.outputs, end_time=now_ms())


def _save(state: _State, name: str, **changes_: Any) -> None:
    from dataclasses import replace

    record = replace(state.records[name], **changes_)
    state.records[name] = record
    default_workspace().store.pipelines.save_step(record)
    if state.on_step is not None:
        state.on_step(StepRun.from_record(record))


def _result(state: _State, pipeline: str, params: dict[str, Any]) -> PipelineRun:
    steps = {name: StepRun.from_record(r) for name, r in state.records.items()}
    outputs = {
        name: state.saved[(h.call, h.output)]
        for name, h in state.graph.outputs.items()
        if (h.call, h.output) in state.saved
    }
    status = "failed" if state.failed else "finished"
    return PipelineRun(state.run_id, pipeline, status, steps, outputs, params)


def load_pipeline_run(run_id: str) -> PipelineRun:
    """A pipeline run as it was recorded (for ``show``, ``explain`` and ``resume``)."""
    from loopml.errors import InvalidInput

    ws = default_workspace()
    run = ws.store.runs.get(run_id)
    name = run.data.tags.get(PIPELINE_TAG)
    if name is None or run.data.tags.get(STEP_TAG) is not None:
        raise InvalidInput(
            f"run {run_id} is not a pipeline run",
            field="run_id",
            value=run_id,
            hint="list pipeline runs with `loopml pipeline list`",
        )
    records = ws.store.pipelines.steps(run_id)
    steps = {r.step_name: StepRun.from_record(r) for r in records}
    params = json.loads(run.data.tags.get(PARAMS_TAG, "{}"))
    status = "failed" if any(s.status == "failed" for s in steps.values()) else run.info.status
    return PipelineRun(run_id, name, str(status).lower(), steps, {}, params)


def resume_pipeline(
    run_id: str,
    *,
    executor: str = "local",
    jobs: int | None = None,
    on_step: Callable[[StepRun], None] | None = None,
) -> PipelineRun:
    """Run a pipeline again with the params of ``run_id``: finished steps come from the cache."""
    from loopml.errors import InvalidInput
    from loopml.pipelines.loading import load_pipeline

    previous = load_pipeline_run(run_id)
    source = default_workspace().store.runs.get(run_id).data.tags.get(SOURCE_TAG)
    if not source:
        raise InvalidInput(
            f"run {run_id} did not record where its pipeline is defined",
            field="run_id",
            value=run_id,
            hint="it was started from Python; call loopml.run_pipeline(...) again instead",
        )
    pipeline = load_pipeline(source)
    return run_pipeline(
        pipeline,
        params=previous.params,
        executor=executor,
        jobs=jobs,
        tags={"loopml.pipeline.resumed_from": run_id},
        on_step=on_step,
    )
