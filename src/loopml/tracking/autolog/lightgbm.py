"""LightGBM autolog: ``lightgbm.train`` (so ``LGBMModel.fit`` too) logs curves, params and booster.

``loopml_callback()`` is public so a user can log eval curves without autolog:
``lightgbm.train(params, data, callbacks=[loopml_callback()])`` inside ``loopml.start_run()``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import lightgbm
import lightgbm.engine
import lightgbm.sklearn
from lightgbm.sklearn import LGBMModel

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

__all__ = ["LoopMLCallback", "loopml_callback"]

# Every module holding its own reference to ``train``: the sklearn wrapper imported one at import.
_HOLDERS: tuple[ModuleType, ...] = (lightgbm, lightgbm.engine, lightgbm.sklearn)
_patches = Patches()


class LoopMLCallback:
    """Logs each iteration's evaluation results to one run as ``<dataset>-<metric>``."""

    order = 20  # before early_stopping (30), which raises to stop: the last round is still logged
    before_iteration = False

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._client = LoopMLClient()

    def __call__(self, env: Any) -> None:
        found = {
            metric_key(f"{result[0]}-{result[1]}"): float(result[2])
            for result in env.evaluation_result_list or ()
        }
        if found:
            safely("log metrics", self._client.log_metrics, self.run_id, found, env.iteration)


def loopml_callback(run_id: str | None = None) -> LoopMLCallback:
    """A ``lightgbm.train`` callback logging into ``run_id`` or the run active now."""
    return LoopMLCallback(run_id or current_run_id())


def enable() -> None:
    """Wrap ``train`` where it is held, and the sklearn-style ``fit`` (a second call: no change)."""
    wrap = train_wrapper("lightgbm", LoopMLCallback, _log_params, _log_results)
    enable_library(_patches, "lightgbm", _HOLDERS, own_fits(lightgbm.sklearn, LGBMModel), wrap)


def disable() -> None:
    """Put every original back."""
    _patches.restore()


def _log_params(params: dict[str, Any], num_boost_round: int) -> None:
    values = {key: param_text(value) for key, value in (params or {}).items()}
    # an alias inside params (num_boost_round, num_iterations...) wins in LightGBM, so here too
    fluent.log_params({"num_boost_round": str(num_boost_round), **values})


def _log_results(booster: lightgbm.Booster) -> None:
    # best_iteration stays 0 unless early stopping picked one
    if booster.best_iteration > 0:
        safely("log best_iteration", fluent.log_metric, "best_iteration", booster.best_iteration)
    safely("log feature importance", _log_importance, booster)
    safely("log the model", log_model, booster)


def _log_importance(booster: lightgbm.Booster) -> None:
    gains = booster.feature_importance(importance_type="gain").tolist()
    by_feature = dict(zip(booster.feature_name(), gains, strict=True))
    fluent.log_dict(by_feature, "feature_importance_gain.json")
