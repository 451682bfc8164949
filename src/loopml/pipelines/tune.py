"""``loopml.tune``: build, test against held-out data, repeat until the model is good enough.

Optuna proposes the parameters (its samplers and pruners); each trial is a nested run — a whole
pipeline run, cached where its parameters do not reach — and is scored on the metrics it logged.
The search stops as soon as a trial passes every gate, or when the trial or time budget is spent.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopml.errors import InvalidInput
from loopml.evaluation.gates import GateResult, check_gates, parse_gates
from loopml.pipelines.definition import Pipeline
from loopml.pipelines.runner import PipelineFailed, PipelineRun, run_pipeline
from loopml.stats.metrics import HIGHER_IS_BETTER
from loopml.tracking import fluent
from loopml.workspace import default_workspace

EVAL_PREFIX = "eval/"


@dataclass(frozen=True)
class Trial:
    """One trial: the parameters Optuna chose, what the run scored, and the gate verdicts."""

    number: int
    params: Mapping[str, Any]
    value: float | None
    run_id: str | None
    state: str
    passed: bool = False
    gates: tuple[GateResult, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass
class TuneResult:
    """Every trial, the best one, and why the search stopped."""

    run_id: str
    objective: str
    direction: str
    trials: list[Trial]
    best: Trial | None
    stopped_because: str
    pipeline_runs: dict[int, PipelineRun] = field(default_factory=dict, repr=False)

    @property
    def best_params(self) -> Mapping[str, Any] | None:
        return self.best.params if self.best else None

    @property
    def best_run_id(self) -> str | None:
        return self.best.run_id if self.best else None

    @property
    def best_outputs(self) -> dict[str, Any]:
        """The best pipeline trial's outputs (its model, typically), loaded."""
        if self.best is None or self.best.number not in self.pipeline_runs:
            return {}
        return self.pipeline_runs[self.best.number].outputs

    @property
    def passed(self) -> bool:
        return self.best is not None and self.best.passed


def tune(
    pipeline_or_fn: Pipeline | Callable[..., Any],
    space: Mapping[str, Any],
    objective: str | Callable[[Mapping[str, float]], float],
    gates: Sequence[str] | None = None,
    max_trials: int = 20,
    timeout: float | None = None,
    *,
    direction: str | None = None,
    params: Mapping[str, Any] | None = None,
    sampler: Any = None,
    pruner: Any = None,
    seed: int | None = None,
    executor: str = "local",
    on_trial: Callable[[Trial], None] | None = None,
) -> TuneResult:
    """Search ``space`` with Optuna until a trial passes every gate or the budget is spent.

    ``space`` maps a parameter to ``(low, high)`` (floats or ints), ``(low, high, "log")``, a
    list of choices, or an Optuna distribution. ``objective`` is a metric name the trial logs
    (``f1`` also finds ``eval/f1``) or a function of the trial's metrics. A function being tuned
    is called with the parameters (and the Optuna trial, if it takes ``trial``) and returns a
    metric dict, a number, or an evaluation result.
    """
    try:
        import optuna
    except ImportError:
        from loopml.errors import BackendUnavailable

        raise BackendUnavailable(
            "tuning needs Optuna", field="tune", hint='pip install "loopml[tune]"'
        ) from None
    _check_budget(max_trials, timeout)
    distributions = {name: _distribution(optuna, name, spec) for name, spec in space.items()}
    if not distributions:
        raise InvalidInput("the search space is empty", field="space", hint="give parameters")
    objective_name = objective if isinstance(objective, str) else objective.__name__
    chosen = direction or _direction(objective)
    if chosen not in ("maximize", "minimize"):
        raise InvalidInput(
            f"direction must be 'maximize' or 'minimize', got {chosen!r}", field="direction"
        )
    parsed_gates = parse_gates(list(gates or []))
    logging.getLogger("optuna").setLevel(logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if chosen == "maximize" else "minimize",
        sampler=sampler or optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
    )
    trials: list[Trial] = []
    pipeline_runs: dict[int, PipelineRun] = {}
    name = pipeline_or_fn.name if isinstance(pipeline_or_fn, Pipeline) else pipeline_or_fn.__name__
    stopped = "budget spent"

    def run_trial(trial: Any) -> float:
        nonlocal stopped
        chosen_params = {n: _suggest(trial, n, d) for n, d in distributions.items()}
        record = _run_one(
            pipeline_or_fn, trial, chosen_params, params, executor, objective, pipeline_runs
        )
        verdicts = tuple(check_gates(parsed_gates, {"metrics": dict(record.metrics)}, None))
        passed = bool(parsed_gates) and all(v.passed for v in verdicts) and record.error is None
        record = Trial(
            number=trial.number,
            params=chosen_params,
            value=record.value,
            run_id=record.run_id,
            state="failed" if record.error else "complete",
            passed=passed,
            gates=verdicts,
            metrics=record.metrics,
            error=record.error,
        )
        trials.append(record)
        if on_trial is not None:
            on_trial(record)
        if passed:
            stopped = f"trial {trial.number} passed every gate"
            study.stop()
        if record.value is None:
            raise optuna.TrialPruned(record.error or "objective not logged")
        return record.value

    with fluent.start_run(
        run_name=f"tune {name}",
        nested=fluent.active_run() is not None,
        tags={"loopml.tune": name, "loopml.tune.objective": objective_name},
    ) as parent:
        study.optimize(run_trial, n_trials=max_trials, timeout=timeout, catch=())
        if timeout is not None and len(trials) < max_trials and stopped == "budget spent":
            stopped = "time budget spent"
        best = _best(trials, chosen)
        if best is not None:
            fluent.log_metric(f"best_{_metric_key(objective_name)}", best.value or math.nan)
            fluent.set_tag("loopml.tune.best_run", best.run_id or "")
    return TuneResult(parent.run_id, objective_name, chosen, trials, best, stopped, pipeline_runs)


def _run_one(
    target: Pipeline | Callable[..., Any],
    trial: Any,
    chosen: dict[str, Any],
    fixed: Mapping[str, Any] | None,
    executor: str,
    objective: str | Callable[[Mapping[str, float]], float],
    pipeline_runs: dict[int, PipelineRun],
) -> Trial:
    values = {**dict(fixed or {}), **chosen}
    error = None
    run_id = None
    metrics: dict[str, float] = {}
    if isinstance(target, Pipeline):
        try:
            result = run_pipeline(
                target, params=values, executor=executor, run_name=f"trial {trial.number}"
            )
            pipeline_runs[trial.number] = result
        except PipelineFailed as exc:
            result = exc.run
            error = str(exc)
        run_id = result.run_id
        metrics = _pipeline_metrics(result)
    else:
        with fluent.start_run(run_name=f"trial {trial.number}", nested=True) as run:
            run_id = run.run_id
            fluent.log_params(values)
            try:
                metrics = _as_metrics(_call(target, values, trial))
                fluent.log_metrics({_metric_key(k): v for k, v in metrics.items()})
            except Exception as exc:  # a failed trial is a result: the search goes on
                error = f"{type(exc).__name__}: {exc}"
    value = None if error else _objective_value(objective, metrics)
    return Trial(trial.number, chosen, value, run_id, "", metrics=metrics, error=error)


def _call(target: Callable[..., Any], values: dict[str, Any], trial: Any) -> Any:
    accepted = inspect.signature(target).parameters
    if "trial" in accepted:
        return target(**values, trial=trial)
    return target(**values)


def _as_metrics(returned: Any) -> dict[str, float]:
    if isinstance(returned, int | float) and not isinstance(returned, bool):
        return {"objective": float(returned)}
    if isinstance(returned, Mapping):
        return {str(k): float(v) for k, v in returned.items() if isinstance(v, int | float)}
    metrics = getattr(returned, "metrics", None)
    if isinstance(metrics, Mapping):
        return {str(k): float(v) for k, v in metrics.items()}
    raise InvalidInput(
        f"a tuned function must return metrics, got {type(returned).__name__}",
        field="objective",
        hint="return a dict of metrics, a number, or loopml.evaluate(...)'s result",
    )


def _pipeline_metrics(result: PipelineRun) -> dict[str, float]:
    """Latest metrics of the pipeline run and its step runs (``eval/f1`` also as ``f1``)."""
    store = default_workspace().store
    fluent.flush()
    found: dict[str, float] = {}
    run_ids = [result.run_id] + [s.run_id or s.source_run_id for s in result.steps.values()]
    for run_id in run_ids:
        if run_id is None:
            continue
        found.update(store.runs.get(run_id).data.metrics)
    for key, value in list(found.items()):
        if key.startswith(EVAL_PREFIX):
            found.setdefault(key[len(EVAL_PREFIX) :], value)
    return found


def _objective_value(
    objective: str | Callable[[Mapping[str, float]], float], metrics: Mapping[str, float]
) -> float | None:
    if callable(objective):
        return float(objective(metrics))
    for key in (objective, f"{EVAL_PREFIX}{objective}"):
        value = metrics.get(key)
        if value is not None and not math.isnan(value):
            return float(value)
    if objective == "objective" or (len(metrics) == 1 and "objective" in metrics):
        return metrics.get("objective")
    return None


def _direction(objective: str | Callable[..., Any]) -> str:
    if isinstance(objective, str):
        name = objective.removeprefix(EVAL_PREFIX)
        if name in HIGHER_IS_BETTER:
            return "maximize" if HIGHER_IS_BETTER[name] else "minimize"
        if any(word in name for word in ("loss", "error", "latency", "mae", "rmse")):
            return "minimize"
    return "maximize"


def _best(trials: list[Trial], direction: str) -> Trial | None:
    scored = [t for t in trials if t.value is not None]
    passing = [t for t in scored if t.passed]
    pool = passing or scored
    if not pool:
        return None
    pick = max if direction == "maximize" else min
    return pick(pool, key=lambda t: t.value if t.value is not None else math.nan)


def _distribution(optuna: Any, name: str, spec: Any) -> Any:
    distributions = optuna.distributions
    if isinstance(spec, distributions.BaseDistribution):
        return spec
    if isinstance(spec, list) and spec:
        return distributions.CategoricalDistribution(spec)
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        low, high = spec[0], spec[1]
        log = len(spec) == 3 and spec[2] == "log"
        if len(spec) == 3 and not log:
            raise InvalidInput(
                f"search space {name!r}: the third element must be 'log', got {spec[2]!r}",
                field="space",
            )
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise InvalidInput(
                f"search space {name!r}: bounds must be numbers, got {spec!r}", field="space"
            )
        if low >= high:
            raise InvalidInput(
                f"search space {name!r}: low {low} must be below high {high}", field="space"
            )
        if isinstance(low, int) and isinstance(high, int):
            return distributions.IntDistribution(low, high, log=log)
        return distributions.FloatDistribution(float(low), float(high), log=log)
    raise InvalidInput(
        f"search space {name!r} is {spec!r}",
        field="space",
        hint="use (low, high), (low, high, 'log'), a list of choices or an Optuna distribution",
    )


def _suggest(trial: Any, name: str, distribution: Any) -> Any:
    kind = type(distribution).__name__
    if kind == "FloatDistribution":
        return trial.suggest_float(
            name,
            distribution.low,
            distribution.high,
            log=distribution.log,
            step=distribution.step,
        )
    if kind == "IntDistribution":
        return trial.suggest_int(
            name,
            distribution.low,
            distribution.high,
            log=distribution.log,
            step=distribution.step,
        )
    return trial.suggest_categorical(name, distribution.choices)


def _check_budget(max_trials: Any, timeout: Any) -> None:
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise InvalidInput(f"max_trials must be ≥ 1, got {max_trials!r}", field="max_trials")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise InvalidInput(f"timeout must be seconds > 0, got {timeout!r}", field="timeout")


def _metric_key(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-./ :" else "_" for c in name)
