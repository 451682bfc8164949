"""``loopml.autolog``: tracking's autolog, with models stored through ``log_model``.

Autolog's integrations live in tracking; model flavors live in a sibling layer that tracking may
not import. This is where the two meet: models a patched ``fit`` produces are logged exactly as
``loopml.log_model`` would log them, so ``load_model("runs:/<run>/model")`` works on them.
"""

from __future__ import annotations

from typing import Any

from loopml.registry.log import log_model
from loopml.tracking.autolog import autolog as _tracking_autolog


def _log_fitted(model: Any) -> None:
    log_model(model, "model")


def autolog(disable: bool = False, log_models: bool = True, exclusive: bool = False) -> list[str]:
    """Log params, metrics and models of scikit-learn, XGBoost and LightGBM automatically.

    Returns the integrations now enabled; ``disable=True`` undoes every patch.
    """
    return _tracking_autolog(
        disable=disable, log_models=log_models, exclusive=exclusive, model_logger=_log_fitted
    )
