"""Finding a pipeline by reference: ``train.py:training``, ``package.module:training``, or a name
that ``loopml.yaml`` maps to one of those."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import yaml

from loopml.errors import InvalidInput, NotFound
from loopml.pipelines.definition import Pipeline

PROJECT_FILE = "loopml.yaml"


def load_pipeline(reference: str, *, root: Path | None = None) -> Pipeline:
    """The :class:`Pipeline` a reference names; ``source`` is set so runs can be resumed."""
    base = root or Path.cwd()
    target = _from_project_file(reference, base) if ":" not in reference else reference
    location, _, attribute = target.rpartition(":")
    if not location or not attribute:
        raise InvalidInput(
            f"pipeline reference {reference!r} is not 'file.py:function' or 'module:function'",
            field="pipeline",
            value=reference,
        )
    module = _module(location, base)
    found = getattr(module, attribute, None)
    if not isinstance(found, Pipeline):
        what = "nothing" if found is None else f"a {type(found).__name__}"
        raise InvalidInput(
            f"{attribute!r} in {location} is {what}, not a @loopml.pipeline",
            field="pipeline",
            value=reference,
            hint="decorate the function that calls your steps with @loopml.pipeline",
        )
    found.source = target
    return found


def _module(location: str, base: Path) -> Any:
    if location.endswith(".py"):
        path = (base / location).resolve()
        if not path.is_file():
            raise NotFound(f"no such file: {location}", field="pipeline", value=location)
        # Executed afresh on every load: what runs (and what the cache key sees) is the file as
        # it is on disk now, even when a long-lived process loads it again after an edit.
        name = f"loopml_pipeline_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InvalidInput(f"cannot import {location}", field="pipeline", value=location)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        # The file's folder stays importable: its steps may import sibling modules when they
        # run (in their bodies), long after the file itself was loaded.
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(location)
    except ModuleNotFoundError as exc:
        raise NotFound(
            f"cannot import module {location!r}: {exc}", field="pipeline", value=location
        ) from None


def _from_project_file(name: str, base: Path) -> str:
    project = base / PROJECT_FILE
    if not project.is_file():
        raise InvalidInput(
            f"pipeline reference {name!r} is not 'file.py:function' and there is no "
            f"{PROJECT_FILE} here to name it",
            field="pipeline",
            value=name,
            hint="run `loopml pipeline run train.py:training`",
        )
    loaded = yaml.safe_load(project.read_text(encoding="utf-8")) or {}
    pipelines = loaded.get("pipelines", {}) if isinstance(loaded, dict) else {}
    if not isinstance(pipelines, dict) or name not in pipelines:
        known = ", ".join(sorted(pipelines)) if isinstance(pipelines, dict) else ""
        raise NotFound(
            f"{PROJECT_FILE} names no pipeline {name!r} (pipelines: {known or 'none'})",
            field="pipeline",
            value=name,
            hint=f"add it under `pipelines:` as `{name}: train.py:{name}`",
        )
    return str(pipelines[name])
