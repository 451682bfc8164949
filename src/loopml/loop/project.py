"""The project file (``loopml.yaml``) and the same structure as Python objects.

Validated on load: an unknown key, a missing one or a wrong value is refused with the key's
path (``triggers.data_drift.drift_share``) and the fix, before any iteration could stumble on it.

```yaml
model: {name: churn, alias: champion}
data: {dataset: churn, production_data: true}
training: {pipeline: train.py:training, params: {C: 1.0}}
evaluation: {target: churned, gates: ["f1 >= 0.6", "f1 >= champion - 0.01"]}
monitors: [{name: churn-watch, window: 1h}]
triggers:
  data_drift: {drift_share: 0.5}
  accuracy_drop: {metric: f1, drop: 0.05}
  estimated_accuracy_drop: {metric: f1, drop: 0.05}
  new_labels: {rows: 5000}
  schedule: {cron: "0 3 * * 1"}
cooldown: 10m
promotion: auto
interval: 60s
```
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loopml.errors import ConfigError, InvalidInput
from loopml.loop.cron import Cron
from loopml.stats.metrics import HIGHER_IS_BETTER

PROJECT_FILE = "loopml.yaml"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any, key: str) -> float:
    """``90``, ``"90s"``, ``"10m"``, ``"1h"``, ``"1d"`` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise _bad(key, value, "a duration such as 30s, 10m, 1h or a number of seconds")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _bad(key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        f"{PROJECT_FILE}: {key} is {value!r}, expected {expected}",
        field=key,
        value=value,
        hint=f"fix `{key}` in {PROJECT_FILE}",
    )


def _section(
    data: Any, key: str, known: set[str], required: Collection[str] = ()
) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        if not key:
            raise ConfigError(
                f"{PROJECT_FILE} must be a mapping of sections (model:, data:, …), "
                f"not a {type(data).__name__}",
                field="project",
                hint="see docs/continuous-training.md for the layout",
            )
        raise _bad(key, data, "a mapping of settings")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{PROJECT_FILE}: unknown key {key}.{unknown[0]}"
            if key
            else f"{PROJECT_FILE}: unknown key {unknown[0]}",
            field=f"{key}.{unknown[0]}" if key else unknown[0],
            hint=f"known keys{' of ' + key if key else ''}: {', '.join(sorted(known))}",
        )
    missing = sorted(set(required) - set(data))
    if missing:
        raise ConfigError(
            f"{PROJECT_FILE}: {key}.{missing[0]} is required",
            field=f"{key}.{missing[0]}",
            hint=f"add `{missing[0]}:` under `{key}:` in {PROJECT_FILE}",
        )
    return dict(data)


def _number(
    data: Mapping[str, Any],
    name: str,
    key: str,
    default: float,
    low: float = 0.0,
    high: float | None = None,
) -> float:
    value = data.get(name, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _bad(f"{key}.{name}", value, f"a number {limit}")
    return float(value)


def _whole(data: Mapping[str, Any], name: str, key: str, default: int, low: int = 0) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _bad(f"{key}.{name}", value, f"a whole number of at least {low}")
    return value


def _text(data: Mapping[str, Any], name: str, key: str, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _bad(f"{key}.{name}", value, "a non-empty string")
    return value


@dataclass(frozen=True)
class ModelSpec:
    name: str
    alias: str = "champion"


@dataclass(frozen=True)
class DataSpec:
    """The base training data and whether labelled production predictions join it."""

    dataset: str
    production_data: bool = True
    max_production_rows: int = 100_000  # the newest labelled production rows taken
    max_base_rows: int | None = None  # once production rows join: the newest base rows kept


@dataclass(frozen=True)
class TrainingSpec:
    """A pipeline (``file.py:pipeline``, taking a ``data`` parameter and returning the model)
    or a function ``train(data: DataFrame, params: dict) -> model``."""

    pipeline: str | None = None
    function: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    executor: str = "local"


@dataclass(frozen=True)
class EvaluationSpec:
    """How a challenger is judged: on held-out rows (recent labelled production data when at
    least ``min_holdout_rows`` exist, else a share of the base data) against the gates."""

    target: str
    task: str | None = None
    gates: tuple[str, ...] = ()
    holdout_share: float = 0.3
    min_holdout_rows: int = 200


@dataclass(frozen=True)
class TriggerSpec:
    """Thresholds of the triggers that are on (None: off)."""

    data_drift: float | None = None  # drift share
    prediction_drift: bool = False
    accuracy_drop: tuple[str, float] | None = None  # (metric, drop)
    estimated_accuracy_drop: tuple[str, float] | None = None
    new_labels: int | None = None
    schedule: str | None = None
    confirm_windows: int = 1
    rearm: float = 0.8

    def cron(self) -> Cron | None:
        return None if self.schedule is None else Cron.parse(self.schedule)


@dataclass(frozen=True)
class LoopProject:
    """Everything the controller needs for one model."""

    model: ModelSpec
    data: DataSpec
    training: TrainingSpec
    evaluation: EvaluationSpec
    monitors: tuple[Mapping[str, Any], ...] = ()
    triggers: TriggerSpec = field(default_factory=TriggerSpec)
    cooldown_s: float = 600.0
    promotion: str = "auto"
    interval_s: float = 60.0
    root: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_dict(cls, data: Any, root: Path | None = None) -> LoopProject:
        """Build and validate from the parsed project file (or an equivalent dict)."""
        top = _section(
            data,
            "",
            {
                "model",
                "data",
                "training",
                "evaluation",
                "monitors",
                "triggers",
                "cooldown",
                "promotion",
                "interval",
                "pipelines",
            },
        )
        for required in ("model", "data", "training", "evaluation"):
            if required not in top:
                raise ConfigError(
                    f"{PROJECT_FILE}: `{required}:` is required for the training loop",
                    field=required,
                    hint=f"add a `{required}:` section (see docs/continuous-training.md)",
                )
        model = _section(top["model"], "model", {"name", "alias"}, {"name"})
        data_ = _section(
            top["data"],
            "data",
            {"dataset", "production_data", "max_production_rows", "max_base_rows"},
            {"dataset"},
        )
        training = _section(
            top["training"], "training", {"pipeline", "function", "params", "executor"}
        )
        evaluation = _section(
            top["evaluation"],
            "evaluation",
            {"target", "task", "gates", "holdout_share", "min_holdout_rows"},
            {"target"},
        )
        if bool(training.get("pipeline")) == bool(training.get("function")):
            raise ConfigError(
                f"{PROJECT_FILE}: training needs exactly one of `pipeline` or `function`",
                field="training",
                hint="e.g. `training: {pipeline: train.py:training}` "
                "or `training: {function: train.py:train}`",
            )
        params = training.get("params") or {}
        if not isinstance(params, Mapping):
            raise _bad("training.params", params, "a mapping of parameter names to values")
        gates = evaluation.get("gates") or []
        if isinstance(gates, str):
            gates = [gates]
        if not isinstance(gates, list) or not all(isinstance(g, str) for g in gates):
            raise _bad("evaluation.gates", gates, "a list of gate expressions such as 'f1 >= 0.8'")
        from loopml.evaluation.gates import parse_gates

        try:
            parse_gates(gates)
        except InvalidInput as exc:
            raise ConfigError(
                f"{PROJECT_FILE}: evaluation.gates: {exc.message}",
                field="evaluation.gates",
                hint=exc.hint,
            ) from None
        task = _text(evaluation, "task", "evaluation")
        if task not in (None, "classification", "regression"):
            raise _bad("evaluation.task", task, "classification or regression")
        promotion = top.get("promotion", "auto")
        if promotion not in ("auto", "manual"):
            raise _bad("promotion", promotion, "auto or manual")
        monitors = top.get("monitors") or []
        if not isinstance(monitors, list) or not all(
            isinstance(m, Mapping) and isinstance(m.get("name"), str) for m in monitors
        ):
            raise _bad("monitors", monitors, "a list of monitors, each with a `name:`")
        for index, spec in enumerate(monitors):
            _check_monitor(spec, f"monitors[{index}]")
        executor = training.get("executor", "local")
        if not isinstance(executor, str):
            raise _bad(
                "training.executor", executor, "local, processes, dask-local or dask://host:port"
            )
        return cls(
            model=ModelSpec(
                str(_text(model, "name", "model")), str(_text(model, "alias", "model", "champion"))
            ),
            data=DataSpec(
                str(_text(data_, "dataset", "data")),
                _flag(data_, "production_data", "data", True),
                _whole(data_, "max_production_rows", "data", 100_000, 1),
                None
                if data_.get("max_base_rows") is None
                else _whole(data_, "max_base_rows", "data", 0, 0),
            ),
            training=TrainingSpec(
                _text(training, "pipeline", "training"),
                _text(training, "function", "training"),
                dict(params),
                executor,
            ),
            evaluation=EvaluationSpec(
                str(_text(evaluation, "target", "evaluation")),
                task,
                tuple(gates),
                _number(evaluation, "holdout_share", "evaluation", 0.3, 0.05, 0.9),
                _whole(evaluation, "min_holdout_rows", "evaluation", 200, 1),
            ),
            monitors=tuple(dict(m) for m in monitors),
            triggers=_triggers(top.get("triggers")),
            cooldown_s=parse_duration(top.get("cooldown", "10m"), "cooldown"),
            promotion=promotion,
            interval_s=_at_least(
                parse_duration(top.get("interval", "60s"), "interval"), 0.1, "interval"
            ),
            root=root or Path.cwd(),
        )


def _flag(data: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise _bad(f"{key}.{name}", value, "true or false")
    return value


def _at_least(value: float, low: float, key: str) -> float:
    if value < low:
        raise _bad(key, value, f"at least {low:g} seconds")
    return value


def _check_monitor(spec: Mapping[str, Any], key: str) -> None:
    """A monitor's options are those of ``loopml.monitor.create``, checked the same way."""
    from loopml.monitor.config import MonitorConfig

    options = {k: v for k, v in spec.items() if k not in ("name", "alias")}
    try:
        MonitorConfig.from_dict(options)
    except InvalidInput as exc:
        field = exc.field or ""
        raise ConfigError(
            f"{PROJECT_FILE}: {key}.{field}: {exc.message}"
            if field
            else f"{PROJECT_FILE}: {key}: {exc.message}",
            field=f"{key}.{field}" if field else key,
            hint=exc.hint or f"fix `{key}` in {PROJECT_FILE}",
        ) from None


def _triggers(data: Any) -> TriggerSpec:
    key = "triggers"
    known = {
        "data_drift",
        "prediction_drift",
        "accuracy_drop",
        "estimated_accuracy_drop",
        "new_labels",
        "schedule",
        "confirm_windows",
        "rearm",
    }
    found = _section(data, key, known)
    drift = None
    if found.get("data_drift") is not None:
        section = _section(found["data_drift"], f"{key}.data_drift", {"drift_share"})
        drift = _number(section, "drift_share", f"{key}.data_drift", 0.5, 0.0, 1.0)
    prediction = found.get("prediction_drift", False)
    if isinstance(prediction, Mapping):
        _section(prediction, f"{key}.prediction_drift", set())
        prediction = True
    if not isinstance(prediction, bool):
        raise _bad(f"{key}.prediction_drift", prediction, "true or false")

    def drop(name: str) -> tuple[str, float] | None:
        if found.get(name) is None:
            return None
        section = _section(found[name], f"{key}.{name}", {"metric", "drop"})
        metric = _text(section, "metric", f"{key}.{name}", "f1")
        if metric not in HIGHER_IS_BETTER:
            raise ConfigError(
                f"{PROJECT_FILE}: {key}.{name}.metric is {metric!r}, not a metric the "
                "evaluation computes",
                field=f"{key}.{name}.metric",
                hint=f"use one of {', '.join(sorted(HIGHER_IS_BETTER))}",
            )
        return str(metric), _number(section, "drop", f"{key}.{name}", 0.05, 0.0, None)

    labels = None
    if found.get("new_labels") is not None:
        section = _section(found["new_labels"], f"{key}.new_labels", {"rows"})
        labels = _whole(section, "rows", f"{key}.new_labels", 1_000, 1)
    schedule = None
    if found.get("schedule") is not None:
        section = _section(found["schedule"], f"{key}.schedule", {"cron"}, {"cron"})
        schedule = _text(section, "cron", f"{key}.schedule")
        try:
            Cron.parse(str(schedule))
        except InvalidInput as exc:
            raise ConfigError(
                f"{PROJECT_FILE}: {key}.schedule.cron: {exc.message}",
                field=f"{key}.schedule.cron",
                hint=exc.hint,
            ) from None
    return TriggerSpec(
        data_drift=drift,
        prediction_drift=prediction,
        accuracy_drop=drop("accuracy_drop"),
        estimated_accuracy_drop=drop("estimated_accuracy_drop"),
        new_labels=labels,
        schedule=schedule,
        confirm_windows=_whole(found, "confirm_windows", key, 1, 1),
        rearm=_number(found, "rearm", key, 0.8, 0.0, 1.0),
    )


def load_project(path: str | Path | None = None) -> LoopProject:
    """Read and validate ``loopml.yaml`` (in ``path``, a folder, or the current folder)."""
    location = Path(path) if path is not None else Path.cwd()
    file = location / PROJECT_FILE if location.is_dir() else location
    if not file.is_file():
        raise ConfigError(
            f"no {PROJECT_FILE} in {file.parent}",
            field="project",
            hint="create one (see docs/continuous-training.md), or run `loopml quickstart`",
        )
    try:
        parsed = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{PROJECT_FILE} is not valid YAML{where}", field="project") from None
    return LoopProject.from_dict(parsed, root=file.parent.resolve())
