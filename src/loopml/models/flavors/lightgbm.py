"""LightGBM: the library's own text model file, loaded back as a ``lightgbm.Booster``.

Never pickle. The sklearn wrappers (LGBMClassifier, LGBMRegressor) are saved through their
booster; what the wrapper added on top (class labels, probabilities for both classes of a binary
model) is rebuilt from ``MLmodel.json`` so predictions match the wrapper's.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from loopml.errors import IntegrityError, InvalidInput
from loopml.models.flavors import SavedFlavor, from_library, jsonable_classes, requirements
from loopml.models.format import read_verified

if TYPE_CHECKING:
    from loopml.models.format import ModelMeta

NAME = "lightgbm"
MODEL_FILE = "model.txt"
BOOSTER = "Booster"
_REGRESSION = (
    "regression",
    "regression_l1",
    "huber",
    "fair",
    "poisson",
    "quantile",
    "mape",
    "gamma",
    "tweedie",
    "cross_entropy",
    "cross_entropy_lambda",
)


def detect(model: Any) -> bool:
    if not from_library(model, "lightgbm"):
        return False
    import lightgbm

    return isinstance(model, lightgbm.Booster | lightgbm.LGBMModel)


def save(model: Any, folder: Path) -> SavedFlavor:
    import lightgbm

    if isinstance(model, lightgbm.LGBMModel):
        booster = model.booster_  # raises the wrapper's own error when it is not fitted
        estimator = next(
            (c.__name__ for c in type(model).__mro__ if getattr(lightgbm, c.__name__, None) is c),
            "LGBMModel",
        )
    elif isinstance(model, lightgbm.Booster):
        booster, estimator = model, BOOSTER
    else:
        raise InvalidInput(
            f"the lightgbm flavor saves a Booster or an LGBMModel, not {type(model).__name__}",
            field="model",
        )
    booster.save_model(str(folder / MODEL_FILE))
    objective, num_class = _objective(folder / MODEL_FILE)
    task, classes = _task(objective, num_class)
    if isinstance(model, lightgbm.LGBMClassifier):
        task, classes = "classification", jsonable_classes(model.classes_)
    elif isinstance(model, lightgbm.LGBMRegressor):
        task, classes = "regression", None
    extra = {"estimator": estimator, "objective": objective, "num_class": num_class}
    return SavedFlavor("lightgbm-txt", False, requirements(["lightgbm"]), task, classes, extra)


def _objective(model_file: Path) -> tuple[str, int]:
    """The objective's name and class count, from the header of the saved model text."""
    objective, num_class = "", 1
    with model_file.open(encoding="utf-8") as lines:
        for line in itertools.takewhile(lambda text: not text.startswith("Tree="), lines):
            key, _, value = line.rstrip("\n").partition("=")
            if key == "objective":
                objective = value.split(" ")[0]
            elif key == "num_class":
                num_class = int(value)
    return objective, num_class


def _task(objective: str, num_class: int) -> tuple[str | None, list[Any] | None]:
    if objective == "binary":
        return "classification", [0, 1]
    if objective in ("multiclass", "multiclassova"):
        return "classification", list(range(num_class))
    if objective in _REGRESSION:
        return "regression", None
    return None, None


def load(folder: Path, meta: ModelMeta) -> LightGBMPredictor:
    import lightgbm

    if meta.format != "lightgbm-txt":
        raise InvalidInput(
            f"lightgbm models are saved as lightgbm-txt, not {meta.format!r}", field="format"
        )
    text = read_verified(folder, MODEL_FILE, meta).decode("utf-8")
    booster = lightgbm.Booster(model_str=text)
    return predictor(booster, meta.task, meta.classes, meta.extra)


def predictor(
    model: Any, task: str | None, classes: list[Any] | None, extra: dict[str, Any]
) -> LightGBMPredictor:
    import lightgbm

    booster = model.booster_ if isinstance(model, lightgbm.LGBMModel) else model
    return LightGBMPredictor(booster, task, classes, str(extra.get("objective", "")))


class LightGBMPredictor:
    """A Booster answering like LGBMClassifier/LGBMRegressor: labels, and P for every class."""

    def __init__(self, booster: Any, task: str | None, classes: list[Any] | None, objective: str):
        self._booster = booster
        self._classes = classes
        self._classify = task == "classification" and objective in (
            "binary",
            "multiclass",
            "multiclassova",
        )
        if self._classify and classes is not None:
            expected = booster.num_model_per_iteration()
            if expected != (1 if len(classes) == 2 else len(classes)):
                raise IntegrityError(
                    f"the LightGBM model scores {expected} classes per iteration but "
                    f"{len(classes)} labels are recorded",
                    field="classes",
                )

    @property
    def raw(self) -> Any:
        return self._booster

    @property
    def has_proba(self) -> bool:
        return self._classify

    def _rows(self, data: Any) -> Any:
        """Text columns as the categories the booster was trained with (a server sends text)."""
        categories = getattr(self._booster, "pandas_categorical", None)
        if not categories or not hasattr(data, "dtypes"):
            return data
        import pandas as pd

        text = [
            c
            for c, kind in data.dtypes.items()
            if pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)
        ]
        if len(text) != len(categories):
            return data
        data = data.copy()
        for column, known in zip(text, categories, strict=True):
            data[column] = pd.Categorical(data[column], categories=known)
        return data

    def predict(self, data: Any) -> Any:
        scores = self._booster.predict(self._rows(data))
        if not self._classify:
            return scores
        index = np.argmax(_proba(scores), axis=1)
        return np.asarray(self._classes)[index] if self._classes is not None else index

    def predict_proba(self, data: Any) -> Any:
        return _proba(self._booster.predict(self._rows(data)))


def _proba(scores: Any) -> Any:
    """LGBMClassifier's rule: a binary booster gives P(class 1); stack P(class 0) beside it."""
    scores = np.asarray(scores)
    if scores.ndim == 2:
        return scores
    return np.vstack((1.0 - scores, scores)).transpose()
