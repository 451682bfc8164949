"""The model registry: log, register, load, evaluate, gate and promote models.

``loopml.log_model``, ``loopml.load_model``, ``loopml.evaluate`` and ``loopml.promote`` come
from here; so does the CI check behind ``loopml ci check``.
"""

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
