"""What the LightGBM and XGBoost integrations share: wrapping ``train`` and the sklearn ``fit``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from loopml.tracking.autolog import Patches, autolog_run, reserving, safely

LogParams = Callable[[Any, Any], None]


def own_fits(module: ModuleType, base: type) -> list[type]:
    """``base`` and its subclasses in ``module`` that define ``fit`` themselves."""
    classes = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, base)]
    return [c for c in classes if "fit" in vars(c)]


def enable_library(
    patches: Patches,
    library: str,
    holders: tuple[ModuleType, ...],
    fits: list[type],
    wrap: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    """Wrap ``train`` wherever a module holds it, and reserve logging for it inside ``fit``."""
    if patches:
        return
    for holder in holders:
        patches.replace(holder, "train", wrap)
    for cls in fits:
        patches.replace(cls, "fit", reserving(library))


def train_wrapper(
    library: str,
    callback: Callable[[str], Any],
    log_params: LogParams,
    log_results: Callable[[Any], None],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A wrapper for ``train(params, …, num_boost_round, …, callbacks)`` that logs the run."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        @functools.wraps(original)
        def train(*args: Any, **kwargs: Any) -> Any:
            with autolog_run(library) as run_id:
                if run_id is None:
                    return original(*args, **kwargs)
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                given = bound.arguments
                safely("log params", log_params, given["params"], given["num_boost_round"])
                given["callbacks"] = [*(given["callbacks"] or ()), callback(run_id)]
                booster = original(*bound.args, **bound.kwargs)
                log_results(booster)
                return booster

        return train

    return wrap
