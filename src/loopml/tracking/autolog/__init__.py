"""``loopml.autolog()``: log params, metrics and models of popular libraries without code changes.

Each integration is its own module here, imported only when its library is installed (STYLE rule 9);
it exposes ``enable()`` and ``disable()``. The helpers below are what every integration shares: the
settings, the run an autologged call logs into, and the rule that logging never breaks training.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from loopml.entities.validation import MAX_PARAM_VALUE_LENGTH
from loopml.errors import InvalidInput
from loopml.tracking import fluent

__all__ = ["autolog"]

logger = logging.getLogger(__name__)

# integration module (under this package) -> the library it needs
_INTEGRATIONS = {"sklearn": "sklearn", "lightgbm": "lightgbm", "xgboost": "xgboost"}
_enabled: dict[str, ModuleType] = {}
_T = TypeVar("_T")
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /:]")


@dataclass
class AutologSettings:
    """What the patched functions read at call time, so a second ``autolog()`` can change it."""

    log_models: bool = True
    exclusive: bool = False  # True: leave runs the user started alone; log only into our own
    # Stores a fitted model in the active run. Tracking cannot know model flavors (a sibling
    # layer), so the caller that can — ``loopml.autolog``, from the registry — passes one in.
    model_logger: Callable[[Any], Any] | None = None


settings = AutologSettings()

# Who may log in this context. "" : anyone. "*" : nobody, an autologged call is running, so inner
# fits (a Pipeline's steps, a search's candidates) log nothing and only the outermost call logs.
# An integration's name: only that library's ``train``, while its own sklearn-style ``fit`` runs
# (LGBMClassifier.fit fits a sklearn LabelEncoder before it trains; that must not make a run).
_inside: contextvars.ContextVar[str] = contextvars.ContextVar("loopml_autolog", default="")
_NOBODY = "*"


def autolog(
    disable: bool = False,
    log_models: bool = True,
    exclusive: bool = False,
    model_logger: Callable[[Any], Any] | None = None,
) -> list[str]:
    """Patch every installed integration (or undo it); return the names now enabled.

    Models are logged through ``model_logger`` (``loopml.autolog`` passes ``log_model``);
    without one, autolog records params and metrics only.
    """
    if disable:
        for name in list(_enabled):
            _enabled.pop(name).disable()
        return []
    settings.log_models = log_models
    settings.exclusive = exclusive
    settings.model_logger = model_logger
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
    except Exception:  # not only ImportError: a missing native library raises OSError and more
        return False
    return True


@contextmanager
def autolog_run(integration: str) -> Iterator[str | None]:
    """Yield the run to log into (the active one, or a new one ended FINISHED or FAILED) or None."""
    if _inside.get() not in ("", integration):
        yield None
        return
    token = _inside.set(_NOBODY)
    try:
        active = fluent.active_run()
        if active is not None:
            yield None if settings.exclusive else active.run_id
            return
        run = safely("start a run", fluent.start_run)
        if run is None:
            yield None
            return
        try:
            yield run.run_id
        except BaseException as exc:
            safely("end the run", run.__exit__, type(exc), exc, exc.__traceback__)
            raise
        safely("end the run", run.__exit__, None, None, None)
    finally:
        _inside.reset(token)


def reserving(integration: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a library's own ``fit`` so that, inside it, only that library's integration logs."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def fit(*args: Any, **kwargs: Any) -> Any:
            token = None if _inside.get() else _inside.set(integration)
            try:
                return original(*args, **kwargs)
            finally:
                if token is not None:
                    _inside.reset(token)

        return fit

    return wrap


class Patches:
    """Attributes an integration replaced, so ``disable`` puts back exactly the originals."""

    def __init__(self) -> None:
        self._saved: list[tuple[object, str, Any]] = []

    def __bool__(self) -> bool:
        return bool(self._saved)

    def replace(self, owner: object, name: str, wrap: Callable[[Any], Any]) -> None:
        """Swap ``owner.name`` (from its own ``__dict__``) for ``wrap(original)``."""
        original = vars(owner)[name]
        self._saved.append((owner, name, original))
        setattr(owner, name, wrap(original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()


def current_run_id() -> str:
    """The active run's id, for callbacks users pass themselves."""
    active = fluent.active_run()
    if active is None:
        raise InvalidInput(
            "no active run to log training progress into",
            field="run_id",
            hint="start one with loopml.start_run() or pass run_id",
        )
    return active.run_id


def safely(what: str, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
    """Call ``func``; on failure log a warning and return None, so training goes on."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        logger.warning("loopml autolog could not %s: %s", what, exc)
        logger.debug("loopml autolog failure details", exc_info=True)
        return None


def param_text(value: Any) -> str:
    """A param value as text cut to the store's limit (long reprs would be refused whole)."""
    text = str(value)
    return text if len(text) <= MAX_PARAM_VALUE_LENGTH else text[:MAX_PARAM_VALUE_LENGTH]


def metric_key(name: str) -> str:
    """A library's metric name made storable (``ndcg@5`` becomes ``ndcg_5``)."""
    return _UNSAFE.sub("_", name).replace("..", ".")


def log_model(model: Any) -> None:
    """Store a fitted model in the active run under ``model/`` (when models are logged)."""
    if settings.log_models and settings.model_logger is not None:
        settings.model_logger(model)
