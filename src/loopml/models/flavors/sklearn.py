"""scikit-learn: skops, which loads only the types it was told to trust; pickle as a last resort.

The types skops could not vouch for at save time are recorded in ``MLmodel.json`` and passed back
as ``trusted=`` on load, exactly those: a file that asks for any other type is refused by skops.
"""

from __future__ import annotations

import io
import logging
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from loopml.errors import InvalidInput
from loopml.models.flavors import (
    SavedFlavor,
    class_path,
    from_library,
    jsonable_classes,
    requirements,
)
from loopml.models.format import read_verified

if TYPE_CHECKING:
    from loopml.models.format import ModelMeta

NAME = "sklearn"
SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.pkl"

logger = logging.getLogger(__name__)


def detect(model: Any) -> bool:
    return from_library(model, "sklearn") and callable(getattr(model, "predict", None))


def save(model: Any, folder: Path) -> SavedFlavor:
    from sklearn.base import is_classifier, is_regressor

    task = (
        "classification" if is_classifier(model) else "regression" if is_regressor(model) else None
    )
    classes = (
        jsonable_classes(getattr(model, "classes_", None)) if task == "classification" else None
    )
    extra: dict[str, Any] = {"class": class_path(model)}
    try:
        import skops.io as sio

        sio.dump(model, folder / SKOPS_FILE)
        extra["trusted_types"] = sorted(sio.get_untrusted_types(file=folder / SKOPS_FILE))
        return SavedFlavor(
            "skops", False, requirements(["scikit-learn", "skops"]), task, classes, extra
        )
    except Exception as exc:  # skops refuses some estimators (and may be missing)
        logger.info("skops could not save %s (%s); saving a pickle", class_path(model), exc)
        (folder / SKOPS_FILE).unlink(missing_ok=True)
    with (folder / PICKLE_FILE).open("wb") as out:
        pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
    return SavedFlavor("pickle", True, requirements(["scikit-learn"]), task, classes, extra)


def load(folder: Path, meta: ModelMeta) -> SklearnPredictor:
    if meta.format == "skops":
        import skops.io as sio

        data = read_verified(folder, SKOPS_FILE, meta)
        trusted = [str(t) for t in meta.extra.get("trusted_types", [])]
        model = sio.loads(data, trusted=trusted)
    elif meta.format == "pickle":
        # the digest of these very bytes was just checked against the recorded one
        model = pickle.load(io.BytesIO(read_verified(folder, PICKLE_FILE, meta)))
    else:
        raise InvalidInput(
            f"sklearn models are saved as skops or pickle, not {meta.format!r}",
            field="format",
            hint="re-save the model with this version of LoopML",
        )
    return predictor(model, meta.task, meta.classes, meta.extra)


def predictor(
    model: Any, task: str | None, classes: list[Any] | None, extra: dict[str, Any]
) -> SklearnPredictor:
    return SklearnPredictor(model)


class SklearnPredictor:
    """Hands the estimator a DataFrame when it was fitted on one, an array when it was not."""

    def __init__(self, model: Any) -> None:
        self._model = model
        names = getattr(model, "feature_names_in_", None)
        self._features = [str(n) for n in names] if names is not None else None

    @property
    def raw(self) -> Any:
        return self._model

    @property
    def has_proba(self) -> bool:
        return callable(getattr(self._model, "predict_proba", None))

    def _prepare(self, data: Any) -> Any:
        if not isinstance(data, pd.DataFrame):
            return data
        if self._features is None:
            return data.to_numpy()
        if set(self._features) <= set(data.columns):
            return data[self._features]
        return data

    def predict(self, data: Any) -> Any:
        return self._model.predict(self._prepare(data))

    def predict_proba(self, data: Any) -> Any:
        return self._model.predict_proba(self._prepare(data))
