"""``loopml.autolog()``: log params, metrics and models of popular libraries without code changes.

Each integration is its own module here, imported only when its library is installed (STYLE rule 9);
it exposes ``enable()`` and ``disable()``. The helpers below are what every integration shares: the
settings, the run an autologged call logs into, and the rule that logging never breaks training.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from loopml.entities.validation import MAX_PARAM_VALUE_LENGTH
from loopml.tracking import fluent

__all__ = ["autolog"]

logger = logging.getLogger(__name__)

# integration module (under this package) -> the library it needs
_INTEGRATIONS = {"sklearn": "sklearn", "lightgbm": "lightgbm", "xgboost": "xgboost"}
_enabled: dict[str, ModuleType] = {}
_T = TypeVar("_T")


@dataclass
class AutologSettings:
    """What the patched functions read at call time, so a second ``autolog()`` can change it."""

    log_models: bool = True
    exclusive: bool = False


settings = AutologSettings()

# True while an autologged call runs in this context: inner fits (a Pipeline's steps, a search's
# candidates, xgboost.train under XGBClassifier.fit) see it and log nothing, so only the outermost
# call logs.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("loopml_autolog", default=False)


def autolog(disable: bool = False, log_models: bool = True, exclusive: bool = False) -> list[str]:
    """Patch every installed integration (or undo it); return the names now enabled."""
    if disable:
        for name in list(_enabled):
            _enabled.pop(name).disable()
        return []
    settings.log_models = log_models
    settings.exclusive = exclusive
    for name, library in _INTEGRATIONS.items():
        if name in _enabled or not _importable(library):
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        module.enable()
        _enabled[name] = module
    return list(_enabled)


def _importable(library: str) -> bool:
    """Whether the library imports; a missing or broken one just means no integration."""
    try:
        importlib.import_module(library)
    except (ImportError, OSError):  # OSError: a native library (libgomp, libxgboost) is missing
        return False
    return True


@contextmanager
def autolog_run() -> Iterator[bool]:
    """Yield whether to log: into the active run, or into a new one ended FINISHED or FAILED."""
    if _inside.get():
        yield False
        return
    token = _inside.set(True)
    try:
        if fluent.active_run() is not None:
            yield not settings.exclusive
            return
        run = safely("start a run", fluent.start_run)
        if run is None:
            yield False
            return
        try:
            yield True
        except BaseException as exc:
            safely("end the run", run.__exit__, type(exc), exc, exc.__traceback__)
            raise
        safely("end the run", run.__exit__, None, None, None)
    finally:
        _inside.reset(token)


def safely(what: str, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
    """Call ``func``; on failure log a warning and return None, so training goes on."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        logger.warning("loopml autolog could not %s: %s", what, exc, exc_info=True)
        return None


def param_text(value: Any) -> str:
    """A param value as text cut to the store's limit (long reprs would be refused whole)."""
    text = str(value)
    return text if len(text) <= MAX_PARAM_VALUE_LENGTH else text[:MAX_PARAM_VALUE_LENGTH]
