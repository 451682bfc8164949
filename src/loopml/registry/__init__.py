"""The model registry: log, register, load, evaluate, gate and promote models.

``loopml.log_model``, ``loopml.load_model``, ``loopml.evaluate`` and ``loopml.promote`` come
from here; so does the CI check behind ``loopml ci check``. Names load on first use, so a
server that only loads models does not import the evaluation machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml._util.lazy import lazy_getattr

_LAZY = {
    "CheckResult": "loopml.registry.ci",
    "ci_check": "loopml.registry.ci",
    "evaluate": "loopml.registry.evaluations",
    "clear_cache": "loopml.registry.load",
    "load_model": "loopml.registry.load",
    "resolve": "loopml.registry.load",
    "ModelInfo": "loopml.registry.log",
    "log_model": "loopml.registry.log",
    "PromotionResult": "loopml.registry.promotion",
    "promote": "loopml.registry.promotion",
    "rollback": "loopml.registry.promotion",
    **dict.fromkeys(
        (
            "delete_alias",
            "delete_model",
            "get_gates",
            "get_model",
            "get_version",
            "history",
            "list_models",
            "list_versions",
            "register_model",
            "set_alias",
            "set_gates",
        ),
        "loopml.registry.versions",
    ),
}

__all__ = [
    "CheckResult",
    "ModelInfo",
    "PromotionResult",
    "ci_check",
    "clear_cache",
    "delete_alias",
    "delete_model",
    "evaluate",
    "get_gates",
    "get_model",
    "get_version",
    "history",
    "list_models",
    "list_versions",
    "load_model",
    "log_model",
    "promote",
    "register_model",
    "resolve",
    "rollback",
    "set_alias",
    "set_gates",
]


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from loopml.registry.ci import CheckResult, ci_check
    from loopml.registry.evaluations import evaluate
    from loopml.registry.load import clear_cache, load_model, resolve
    from loopml.registry.log import ModelInfo, log_model
    from loopml.registry.promotion import PromotionResult, promote, rollback
    from loopml.registry.versions import (
        delete_alias,
        delete_model,
        get_gates,
        get_model,
        get_version,
        history,
        list_models,
        list_versions,
        register_model,
        set_alias,
        set_gates,
    )
