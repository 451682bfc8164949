"""XGBoost autolog: ``xgboost.train`` (so ``XGBModel.fit`` too) logs curves, params and booster.

``LoopMLCallback`` is public so a user can log eval curves without autolog:
``xgboost.train(params, dtrain, evals=..., callbacks=[LoopMLCallback()])`` inside a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import xgboost
import xgboost.sklearn
import xgboost.training
from xgboost.callback import TrainingCallback
from xgboost.sklearn import XGBModel

from loopml.tracking import fluent
from loopml.tracking.autolog import (
    Patches,
    current_run_id,
    log_model,
    metric_key,
    param_text,
    safely,
)
from loopml.tracking.autolog._boosting import enable_library, own_fits, train_wrapper
from loopml.tracking.client import LoopMLClient

__all__ = ["LoopMLCallback"]

# Every module holding its own reference to ``train``: the sklearn wrapper imported one at import.
_HOLDERS: tuple[ModuleType, ...] = (xgboost, xgboost.training, xgboost.sklearn)
_patches = Patches()


class LoopMLCallback(TrainingCallback):
    """Logs the latest value of each evaluation metric at every round as ``<dataset>-<metric>``."""

    def __init__(self, run_id: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id or current_run_id()
        self._client = LoopMLClient()

    def after_iteration(self, model: Any, epoch: int, evals_log: TrainingCallback.EvalsLog) -> bool:
        found = {
            metric_key(f"{data}-{metric}"): _latest(values)
            for data, by_metric in evals_log.items()
            for metric, values in by_metric.items()
            if values
        }
        if found:
            safely("log metrics", self._client.log_metrics, self.run_id, found, epoch)
        return False  # never asks training to stop


def _latest(values: list[float] | list[tuple[float, float]]) -> float:
    """The last value; ``xgboost.cv`` records (mean, std) pairs."""
    last = values[-1]
    return float(last[0] if isinstance(last, tuple) else last)


def enable() -> None:
    """Wrap ``train`` where it is held, and the sklearn-style ``fit`` (a second call: no change)."""
    wrap = train_wrapper("xgboost", LoopMLCallback, _log_params, _log_results)
    enable_library(_patches, "xgboost", _HOLDERS, own_fits(xgboost.sklearn, XGBModel), wrap)


def disable() -> None:
    """Put every original back."""
    _patches.restore()


def _log_params(params: Mapping[str, Any] | Iterable[tuple[str, Any]], rounds: int) -> None:
    """Params as a dict, or as pairs where a key may repeat (several ``eval_metric``)."""
    pairs = params.items() if isinstance(params, Mapping) else (params or ())
    grouped: dict[str, list[Any]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    values = {k: param_text(v[0] if len(v) == 1 else v) for k, v in grouped.items()}
    fluent.log_params({**values, "num_boost_round": str(rounds)})


def _log_results(booster: xgboost.Booster) -> None:
    best = booster.attr("best_iteration")  # set only by early stopping
    if best is not None:
        safely("log best_iteration", fluent.log_metric, "best_iteration", int(best))
    safely("log feature importance", _log_importance, booster)
    safely("log the model", log_model, booster)


def _log_importance(booster: xgboost.Booster) -> None:
    fluent.log_dict(booster.get_score(importance_type="gain"), "feature_importance_gain.json")
