"""LoopML: data, experiments, gates, registry, serving, monitoring and retraining as one loop.

This module is the fluent API. Everything is imported on first use, so ``import loopml`` stays
light: the store, pandas and the model libraries load only when a function that needs them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml._util.lazy import lazy_getattr

__version__ = "0.1.0"

# name -> module that defines it; resolved by __getattr__ on first access.
_LAZY = {
    **dict.fromkeys(
        (
            "ActiveRun",
            "active_run",
            "download_artifacts",
            "end_run",
            "flush",
            "get_run",
            "list_artifacts",
            "log_artifact",
            "log_artifacts",
            "log_dict",
            "log_figure",
            "log_input",
            "log_metric",
            "log_metrics",
            "log_param",
            "log_params",
            "log_text",
            "search_runs",
            "set_experiment",
            "set_tag",
            "set_tags",
            "set_tracking_uri",
            "start_run",
        ),
        "loopml.tracking.fluent",
    ),
    **dict.fromkeys(
        ("evaluate", "load_model", "log_model", "promote", "register_model", "rollback"),
        "loopml.registry",
    ),
    **dict.fromkeys(
        ("pipeline", "run_pipeline", "step", "tune", "register_materializer"),
        "loopml.pipelines",
    ),
    "LoopMLClient": "loopml.tracking.client",
    "autolog": "loopml.registry.autolog",
    "drift": "loopml.data.drift",
    "RunStatus": "loopml.entities",
    "LoopMLError": "loopml.errors",
}

_SUBMODULES = ("data", "datasets", "loop", "monitor", "registry")

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


__getattr__ = lazy_getattr(__name__, _LAZY, _SUBMODULES)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from loopml import data, datasets, loop, monitor, registry
    from loopml.data.drift import drift
    from loopml.entities import RunStatus
    from loopml.errors import LoopMLError
    from loopml.pipelines import pipeline, register_materializer, run_pipeline, step, tune
    from loopml.registry import (
        evaluate,
        load_model,
        log_model,
        promote,
        register_model,
        rollback,
    )
    from loopml.registry.autolog import autolog
    from loopml.tracking.client import LoopMLClient
    from loopml.tracking.fluent import (
        ActiveRun,
        active_run,
        download_artifacts,
        end_run,
        flush,
        get_run,
        list_artifacts,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
