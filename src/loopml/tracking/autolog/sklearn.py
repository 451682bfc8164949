"""scikit-learn autolog: every estimator's ``fit`` logs params, training metrics and the model.

We patch the class that defines ``fit`` for each of ``all_estimators()`` (``BaseForest`` for the
forests), so subclasses, users' included, are covered without wrapping twice. XGBClassifier and
LGBMClassifier are not among them: their own integrations log them (and keep the LabelEncoder
they fit first from logging); inside a Pipeline or a search only the outermost fit logs.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

from sklearn import metrics
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import all_estimators

from loopml.tracking import fluent
from loopml.tracking.autolog import (
    Patches,
    autolog_run,
    log_model,
    param_text,
    safely,
)

logger = logging.getLogger(__name__)

_patches = Patches()


def enable() -> None:
    """Wrap ``fit`` once per defining class (a second call changes nothing)."""
    if _patches:
        return
    owners = {
        next((k for k in cls.__mro__ if "fit" in vars(k)), None) for _, cls in all_estimators()
    }
    for owner in owners:
        if owner is not None and inspect.isfunction(vars(owner)["fit"]):
            _patches.replace(owner, "fit", _wrap)


def disable() -> None:
    """Put every original ``fit`` back."""
    _patches.restore()


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with autolog_run("sklearn") as run_id:
            if run_id is None:
                return original(self, *args, **kwargs)
            safely("log params", _log_params, self)
            fitted = original(self, *args, **kwargs)
            safely("log training metrics", _log_metrics, self, original, args, kwargs)
            safely("log search results", _log_search, self)
            safely("log the model", log_model, self)
            return fitted

    return fit


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _log_params(estimator: Any) -> None:
    params = estimator.get_params(deep=True)
    fluent.log_params({k: _param_value(v) for k, v in params.items()})
    fluent.set_tags(
        {"estimator_name": type(estimator).__name__, "estimator_class": _class_path(estimator)}
    )


def _param_value(value: Any) -> str:
    """An estimator's repr can be huge and is already logged as nested params: name it only."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return type(value).__name__
    return param_text(value)


def _log_search(estimator: Any) -> None:
    """GridSearchCV and friends: the winning params and their cross-validated score."""
    best = getattr(estimator, "best_params_", None)
    if isinstance(best, dict):
        fluent.log_params({f"best_{k}": _param_value(v) for k, v in best.items()})
    score = getattr(estimator, "best_score_", None)
    if score is not None:
        fluent.log_metrics({"best_cv_score": float(score)})


def _log_metrics(estimator: Any, fit: Callable[..., Any], args: Any, kwargs: Any) -> None:
    X, y, weight = _training_data(fit, args, kwargs)
    if X is None or y is None:
        return
    # Our metrics are a side effect the user did not ask for: keep their warnings out of sight.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if is_classifier(estimator):
            found = _evaluate(_classifier_metrics(estimator, X, y, weight))
        elif is_regressor(estimator):
            found = _evaluate(_regressor_metrics(estimator, X, y, weight))
        else:
            return
    if found:
        fluent.log_metrics(found)


def _training_data(fit: Callable[..., Any], args: Any, kwargs: Any) -> tuple[Any, Any, Any]:
    """X, y and sample_weight as this ``fit`` received them, by name or position."""
    signature = inspect.signature(fit)
    values = dict(signature.bind(None, *args, **kwargs).arguments)
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            values.update(values.pop(parameter.name, {}))
    return values.get("X"), values.get("y"), values.get("sample_weight")


def _evaluate(candidates: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Each metric on its own, so one that cannot be computed does not lose the others."""
    found = {}
    for key, compute in candidates.items():
        value = safely(f"compute {key}", compute)
        if value is not None:
            found[key] = float(value)
    return found


def _classifier_metrics(
    estimator: Any, X: Any, y: Any, weight: Any
) -> dict[str, Callable[[], Any]]:
    predicted = estimator.predict(X)
    scored = {"sample_weight": weight}
    averaged = {**scored, "average": "weighted", "zero_division": 0}
    candidates: dict[str, Callable[[], Any]] = {
        "training_accuracy_score": lambda: metrics.accuracy_score(y, predicted, **scored),
        "training_precision_score": lambda: metrics.precision_score(y, predicted, **averaged),
        "training_recall_score": lambda: metrics.recall_score(y, predicted, **averaged),
        "training_f1_score": lambda: metrics.f1_score(y, predicted, **averaged),
    }
    if hasattr(estimator, "predict_proba"):
        proba = functools.cache(lambda: estimator.predict_proba(X))
        labels = estimator.classes_
        candidates["training_log_loss"] = lambda: metrics.log_loss(
            y, proba(), labels=labels, **scored
        )
        candidates["training_roc_auc"] = lambda: (
            metrics.roc_auc_score(y, proba()[:, 1], **scored)
            if len(labels) == 2
            else metrics.roc_auc_score(y, proba(), multi_class="ovr", labels=labels, **scored)
        )
    candidates["training_score"] = lambda: _score(estimator, X, y, weight)
    return candidates


def _regressor_metrics(estimator: Any, X: Any, y: Any, weight: Any) -> dict[str, Callable[[], Any]]:
    predicted = estimator.predict(X)
    mse = functools.cache(lambda: metrics.mean_squared_error(y, predicted, sample_weight=weight))
    return {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": lambda: math.sqrt(mse()),
        "training_mean_absolute_error": lambda: metrics.mean_absolute_error(
            y, predicted, sample_weight=weight
        ),
        "training_r2_score": lambda: metrics.r2_score(y, predicted, sample_weight=weight),
        "training_score": lambda: _score(estimator, X, y, weight),
    }


def _score(estimator: Any, X: Any, y: Any, weight: Any) -> Any:
    """``score``, passing sample_weight only when given (searches route unknown kwargs on)."""
    if weight is None:
        return estimator.score(X, y)
    return estimator.score(X, y, sample_weight=weight)
