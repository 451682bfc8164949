"""``@step`` and ``@pipeline``: plain Python functions whose calls wire a graph.

Inside a pipeline being built, calling a step does not run it: it records a call and returns a
handle to its future output, so passing handles from step to step draws the edges. Outside a
pipeline a step is just its function. The pipeline function's own parameters are its params,
typed by their annotations so ``--param lr=0.1`` arrives as a float.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, get_type_hints

from loopml.errors import InvalidInput

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


@dataclass(frozen=True)
class Handle:
    """The future output of a step call (``output`` names one of several outputs)."""

    call: str
    output: str = "output"

    def __repr__(self) -> str:
        return f"<output {self.output!r} of step {self.call!r}>"

    def __iter__(self) -> Any:
        raise InvalidInput(
            f"step {self.call!r} has one output and cannot be unpacked",
            field="outputs",
            hint="declare several with @loopml.step(outputs=('train', 'test'))",
        )


@dataclass(frozen=True)
class StepCall:
    """One call of a step in a pipeline: its unique name and its arguments (handles or values)."""

    name: str
    step: Step
    arguments: Mapping[str, Any]

    @property
    def upstream(self) -> dict[str, Handle]:
        """Input name → handle, for the arguments that come from other steps.

        A list, tuple or dict of step outputs (fan-in) gives one input per element, named
        ``parts[0]``, ``parts[1]`` … or ``by_name[key]``.
        """
        found: dict[str, Handle] = {}
        for name, value in self.arguments.items():
            if isinstance(value, Handle):
                found[name] = value
            elif _holds_handles(value):
                for key, handle in _elements(value):
                    found[f"{name}[{key}]"] = handle
        return found

    @property
    def composites(self) -> dict[str, tuple[str, list[str]]]:
        """Fan-in arguments: name → (``list``/``tuple``/``dict``, element keys in order)."""
        return {
            name: (
                type(value).__name__ if not isinstance(value, dict) else "dict",
                [key for key, _ in _elements(value)],
            )
            for name, value in self.arguments.items()
            if _holds_handles(value)
        }

    @property
    def constants(self) -> dict[str, Any]:
        """Argument name → value, for the arguments given as plain values (the step's params)."""
        return {
            k: v
            for k, v in self.arguments.items()
            if not isinstance(v, Handle) and not _holds_handles(v)
        }


def _holds_handles(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(isinstance(v, Handle) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Handle) for v in value.values())
    return False


def _elements(value: Any) -> list[tuple[str, Handle]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    return [(str(key), handle) for key, handle in items]


def _check_fan_in(step: str, name: str, value: Any) -> None:
    """Step outputs inside an argument: a flat list, tuple or dict of them, nothing else."""
    if isinstance(value, list | tuple | dict):
        elements = list(value.values()) if isinstance(value, dict) else list(value)
        handles = [v for v in elements if isinstance(v, Handle)]
        if handles and len(handles) != len(elements):
            raise InvalidInput(
                f"argument {name!r} of step {step!r} mixes step outputs and plain values",
                field=name,
                hint="pass the plain values as a separate argument",
            )
        if isinstance(value, dict) and handles and not all(isinstance(k, str) for k in value):
            raise InvalidInput(
                f"argument {name!r} of step {step!r} is a dict of step outputs with non-text keys",
                field=name,
            )
        for element in elements:
            if not isinstance(element, Handle) and _nested_handle(element):
                raise InvalidInput(
                    f"argument {name!r} of step {step!r} nests step outputs more than one level",
                    field=name,
                    hint="pass a flat list, tuple or dict of step outputs",
                )


def _nested_handle(value: Any) -> bool:
    if isinstance(value, Handle):
        return True
    if isinstance(value, list | tuple):
        return any(_nested_handle(v) for v in value)
    if isinstance(value, dict):
        return any(_nested_handle(v) for v in value.values())
    return False


@dataclass
class Graph:
    """The steps a pipeline called, in call order (a valid topological order), and its outputs."""

    pipeline: str
    calls: list[StepCall] = field(default_factory=list)
    outputs: dict[str, Handle] = field(default_factory=dict)

    def call(self, name: str) -> StepCall:
        return next(c for c in self.calls if c.name == name)

    def downstream(self, name: str) -> set[str]:
        """Every step that depends, directly or not, on ``name``."""
        found: set[str] = set()
        frontier = {name}
        while frontier:
            frontier = {
                c.name
                for c in self.calls
                if c.name not in found and any(h.call in frontier for h in c.upstream.values())
            }
            found |= frontier
        return found


_building: contextvars.ContextVar[Graph | None] = contextvars.ContextVar(
    "loopml_pipeline_graph", default=None
)


class Step:
    """A function that, called inside a pipeline, becomes a node of its graph."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        cache: bool = True,
        retries: int = 0,
        outputs: Sequence[str] | None = None,
    ) -> None:
        self.func = func
        self.name = _check_name(name or func.__name__, "step")
        self.cache = cache
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInput(
                f"retries of step {self.name!r} must be a whole number ≥ 0, got {retries!r}",
                field="retries",
            )
        self.retries = retries
        self.outputs = tuple(outputs) if outputs else ("output",)
        self.signature = inspect.signature(func)
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<step {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        graph = _building.get()
        if graph is None:
            return self.func(*args, **kwargs)
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidInput(
                f"step {self.name!r} called with the wrong arguments: {exc}",
                field=self.name,
            ) from None
        bound.apply_defaults()
        for argument, value in bound.arguments.items():
            _check_fan_in(self.name, argument, value)
        name = _unique(self.name, {c.name for c in graph.calls})
        graph.calls.append(StepCall(name, self, dict(bound.arguments)))
        if len(self.outputs) == 1:
            return Handle(name)
        return tuple(Handle(name, output) for output in self.outputs)


def step(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    outputs: Sequence[str] | None = None,
) -> Any:
    """Make a function a pipeline step (``@loopml.step`` or ``@loopml.step(cache=False)``)."""

    def wrap(inner: Callable[..., Any]) -> Step:
        return Step(inner, name=name, cache=cache, retries=retries, outputs=outputs)

    return wrap(func) if func is not None else wrap


@dataclass(frozen=True)
class Parameter:
    """One pipeline parameter: its name, type (from the annotation) and default."""

    name: str
    annotation: Any
    default: Any
    required: bool


class Pipeline:
    """A function that calls steps; building it records the graph without running anything."""

    def __init__(self, func: Callable[..., Any], *, name: str | None = None) -> None:
        self.func = func
        self.name = _check_name(name or func.__name__, "pipeline")
        self.source: str | None = None  # "file.py:function" or "module:function" when loaded
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"

    def __call__(self, **params: Any) -> Any:
        """Run the pipeline in this process (``loopml.run_pipeline`` takes more options)."""
        from loopml.pipelines.runner import run_pipeline

        return run_pipeline(self, params=params)

    @property
    def parameters(self) -> list[Parameter]:
        hints = _hints(self.func)
        found = []
        for p in inspect.signature(self.func).parameters.values():
            required = p.default is inspect.Parameter.empty
            found.append(
                Parameter(p.name, hints.get(p.name, Any), None if required else p.default, required)
            )
        return found

    def resolve_params(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``given``; strings converted to the annotated type."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(given or {}) - set(known))
        if unknown:
            listed = ", ".join(known) or "none"
            raise InvalidInput(
                f"pipeline {self.name!r} has no parameter {unknown[0]!r} (parameters: {listed})",
                field="params",
                value=unknown[0],
            )
        values: dict[str, Any] = {}
        for name, parameter in known.items():
            if given is not None and name in given:
                values[name] = _convert(parameter, given[name], self.name)
            elif parameter.required:
                raise InvalidInput(
                    f"pipeline {self.name!r} needs parameter {name!r}",
                    field="params",
                    value=name,
                    hint=f"pass it: --param {name}=<value>",
                )
            else:
                values[name] = parameter.default
        return values

    def build(self, params: Mapping[str, Any] | None = None) -> tuple[Graph, dict[str, Any]]:
        """Call the function with its params under a recorder; return the graph and the params."""
        values = self.resolve_params(params)
        graph = Graph(self.name)
        token = _building.set(graph)
        try:
            returned = self.func(**values)
        finally:
            _building.reset(token)
        graph.outputs = _outputs(returned, self.name)
        if not graph.calls:
            raise InvalidInput(
                f"pipeline {self.name!r} called no steps",
                field="pipeline",
                hint="decorate the functions it calls with @loopml.step",
            )
        return graph, values


def pipeline(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Make a function that calls steps a pipeline (``@loopml.pipeline``)."""

    def wrap(inner: Callable[..., Any]) -> Pipeline:
        return Pipeline(inner, name=name)

    return wrap(func) if func is not None else wrap


def _outputs(returned: Any, pipeline_name: str) -> dict[str, Handle]:
    if returned is None:
        return {}
    if isinstance(returned, Handle):
        return {"output": returned}
    if isinstance(returned, Mapping) and all(isinstance(v, Handle) for v in returned.values()):
        return {str(k): v for k, v in returned.items()}
    if isinstance(returned, tuple | list) and all(isinstance(v, Handle) for v in returned):
        return {f"output_{i}": v for i, v in enumerate(returned)}
    raise InvalidInput(
        f"pipeline {pipeline_name!r} returned {type(returned).__name__}, not step outputs",
        field="pipeline",
        hint="return a step's output, a tuple of them, a dict name → output, or nothing",
    )


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(func)
    except Exception:  # an annotation that does not resolve: treat the parameter as untyped
        return {}


def _convert(parameter: Parameter, value: Any, pipeline_name: str) -> Any:
    """A CLI string (or a value) as the parameter's annotated type (or its default's type)."""
    kind = parameter.annotation
    if kind in (Any, inspect.Parameter.empty) and parameter.default is not None:
        kind = type(parameter.default)
    if not isinstance(value, str):
        return value
    try:
        return _from_text(kind, value)
    except (ValueError, TypeError):
        type_name = getattr(kind, "__name__", None) or str(kind).replace("typing.", "")
        raise InvalidInput(
            f"parameter {parameter.name!r} of pipeline {pipeline_name!r} must be {type_name}, "
            f"got {value!r}",
            field=parameter.name,
            value=value,
        ) from None


def _from_text(kind: Any, value: str) -> Any:
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if kind in (Any, str, inspect.Parameter.empty):
        return value
    if origin in (typing.Union, types.UnionType):
        options = [a for a in arguments if a is not type(None)]
        if value.strip().lower() in ("none", "null") and len(options) < len(arguments):
            return None
        for option in options:
            try:
                return _from_text(option, value)
            except (ValueError, TypeError):
                continue
        raise ValueError(value)
    if origin is typing.Literal:
        for choice in arguments:
            if str(choice) == value:
                return choice
        raise ValueError(value)
    if kind is bool:
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValueError(value)
    if kind in (int, float):
        return kind(value)
    if kind is Path or (isinstance(kind, type) and issubclass(kind, PurePath)):
        return kind(value)
    return json.loads(value)


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    index = 2
    while f"{name}_{index}" in taken:
        index += 1
    return f"{name}_{index}"


def _check_name(name: str, kind: str) -> str:
    if not _NAME_RE.match(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not allowed",
            field="name",
            hint="use letters, digits, '_', '-' or '.', starting with a letter or '_'",
        )
    return name
