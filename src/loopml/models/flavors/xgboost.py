"""XGBoost: the library's own UBJSON model file, for the sklearn API and for a raw Booster.

Never pickle: the native file holds trees and numbers only, so loading it runs no stored code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.errors import IntegrityError, InvalidInput
from loopml.models.flavors import SavedFlavor, from_library, jsonable_classes, requirements
from loopml.models.format import read_verified

if TYPE_CHECKING:
    from loopml.models.format import ModelMeta

NAME = "xgboost"
MODEL_FILE = "model.ubj"
BOOSTER = "Booster"
_PROBA_OBJECTIVES = ("binary:logistic", "multi:softprob")


def detect(model: Any) -> bool:
    if not from_library(model, "xgboost"):
        return False
    import xgboost

    return isinstance(model, xgboost.Booster | xgboost.XGBModel)


def save(model: Any, folder: Path) -> SavedFlavor:
    import xgboost

    needs = requirements(["xgboost"])
    if isinstance(model, xgboost.Booster):
        model.save_model(folder / MODEL_FILE)
        objective, num_class = _objective(model)
        task, classes = _booster_task(objective, num_class)
        extra = {"estimator": BOOSTER, "objective": objective}
        return SavedFlavor("xgboost-ubj", False, needs, task, classes, extra)
    if not isinstance(model, xgboost.XGBModel):
        raise InvalidInput(
            f"the xgboost flavor saves a Booster or an XGBModel, not {type(model).__name__}",
            field="model",
        )
    estimator = _public_class(model)
    model.save_model(folder / MODEL_FILE)
    objective, _ = _objective(model.get_booster())
    task, classes = None, None
    if isinstance(model, xgboost.XGBClassifier):
        task, classes = "classification", jsonable_classes(model.classes_)
    elif isinstance(model, xgboost.XGBRegressor):
        task = "regression"
    extra = {"estimator": estimator, "objective": objective}
    return SavedFlavor("xgboost-ubj", False, needs, task, classes, extra)


def _public_class(model: Any) -> str:
    """The first class in the model's ancestry that ``xgboost`` itself exports (for subclasses)."""
    import xgboost

    for cls in type(model).__mro__:
        if getattr(xgboost, cls.__name__, None) is cls:
            return str(cls.__name__)
    return "XGBModel"


def _objective(booster: Any) -> tuple[str, int]:
    learner = json.loads(booster.save_config())["learner"]
    return str(learner["objective"]["name"]), int(learner["learner_model_param"]["num_class"])


def _booster_task(objective: str, num_class: int) -> tuple[str | None, list[Any] | None]:
    if objective.startswith(("binary:", "multi:")):
        return "classification", list(range(max(num_class, 2)))
    if objective.startswith(("reg:", "count:", "survival:")):
        return "regression", None
    return None, None


def load(folder: Path, meta: ModelMeta) -> XGBoostPredictor:
    import xgboost

    if meta.format != "xgboost-ubj":
        raise InvalidInput(
            f"xgboost models are saved as xgboost-ubj, not {meta.format!r}", field="format"
        )
    data = bytearray(read_verified(folder, MODEL_FILE, meta))
    estimator = str(meta.extra.get("estimator", BOOSTER))
    if estimator == BOOSTER:
        model: Any = xgboost.Booster()
        model.load_model(data)
        return predictor(model, meta.task, meta.classes, meta.extra)
    cls = getattr(xgboost, estimator, None)
    if not (isinstance(cls, type) and issubclass(cls, xgboost.XGBModel)):
        raise InvalidInput(
            f"{estimator!r} is not an XGBoost estimator class",
            field="extra.estimator",
            hint="MLmodel.json names the xgboost class to load into, such as XGBClassifier",
        )
    model = cls()
    model.load_model(data)
    if meta.classes is not None and getattr(model, "n_classes_", None) != len(meta.classes):
        raise IntegrityError(
            f"the XGBoost model has {getattr(model, 'n_classes_', None)} classes but "
            f"{len(meta.classes)} labels are recorded",
            field="classes",
        )
    return predictor(model, meta.task, meta.classes, meta.extra)


def predictor(
    model: Any, task: str | None, classes: list[Any] | None, extra: dict[str, Any]
) -> XGBoostPredictor:
    return XGBoostPredictor(model, task, classes, str(extra.get("objective", "")))


class XGBoostPredictor:
    """The sklearn API as it is; a raw Booster made to answer like XGBClassifier/XGBRegressor."""

    def __init__(self, model: Any, task: str | None, classes: list[Any] | None, objective: str):
        import xgboost

        self._model = model
        self._booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
        self._is_booster = self._booster is model
        self._features = self._booster.feature_names
        self._task = task
        self._classes = classes
        self._objective = objective

    @property
    def raw(self) -> Any:
        return self._model

    @property
    def has_proba(self) -> bool:
        if self._is_booster:
            return self._task == "classification" and self._objective in _PROBA_OBJECTIVES
        return callable(getattr(self._model, "predict_proba", None))

    def _prepare(self, data: Any) -> Any:
        if not isinstance(data, pd.DataFrame):
            return data
        if self._features is None:
            return data.to_numpy()
        if set(self._features) <= set(data.columns):
            return data[list(self._features)]
        return data

    def _booster_predict(self, data: Any) -> Any:
        import xgboost

        if not isinstance(data, xgboost.DMatrix):
            data = xgboost.DMatrix(data, enable_categorical=True)
        return self._booster.predict(data)

    def predict(self, data: Any) -> Any:
        data = self._prepare(data)
        if not self._is_booster:
            return self._model.predict(data)
        if not self.has_proba:
            return self._booster_predict(data)
        index = _class_index(self._booster_predict(data))
        return np.asarray(self._classes)[index] if self._classes is not None else index

    def predict_proba(self, data: Any) -> Any:
        data = self._prepare(data)
        if not self._is_booster:
            return self._model.predict_proba(data)
        return _proba(self._booster_predict(data))


def _class_index(scores: Any) -> Any:
    """XGBClassifier's rule: argmax for several classes, P(class 1) > 0.5 for two."""
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.argmax(scores, axis=1)
    return (scores.reshape(-1) > 0.5).astype(np.int64)


def _proba(scores: Any) -> Any:
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores
    positive = scores.reshape(-1)
    return np.column_stack([1.0 - positive, positive])
