"""Any object with ``predict``: saved with cloudpickle, so loading it runs stored code.

That is why the format is marked ``executable`` and why the loader unpickles only bytes whose
digest it has just checked against the one recorded when the model was saved.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from loopml.errors import InvalidInput
from loopml.models.flavors import SavedFlavor, jsonable_classes, requirements
from loopml.models.format import read_verified

if TYPE_CHECKING:
    from loopml.models.format import ModelMeta

NAME = "python"
MODEL_FILE = "model.pkl"


class PythonModel:
    """Optional base class for a model written by hand.

    Implement ``predict(self, data)``; for a classifier also ``predict_proba(self, data)`` and set
    ``classes`` to the labels in ``predict_proba``'s column order. With a signature, ``data`` is a
    pandas DataFrame in the signature's column order (a numpy array when the input example was
    one); without, it is what the caller passed.
    """

    classes: list[Any] | None = None

    def predict(self, data: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement predict(self, data)")


def detect(model: Any) -> bool:
    return not isinstance(model, type) and callable(getattr(model, "predict", None))


def save(model: Any, folder: Path) -> SavedFlavor:
    import cloudpickle

    if not detect(model):
        raise InvalidInput(
            f"the python flavor needs an object with a predict method, not {type(model).__name__}",
            field="model",
            hint="subclass loopml.models.PythonModel and implement predict(self, data)",
        )
    with (folder / MODEL_FILE).open("wb") as out:
        cloudpickle.dump(model, out)
    labels = getattr(model, "classes_", None)
    if labels is None:
        labels = getattr(model, "classes", None)
    classes = jsonable_classes(labels)
    task = "classification" if classes is not None and _has_proba(model) else None
    return SavedFlavor("cloudpickle", True, requirements(["cloudpickle"]), task, classes, {})


def load(folder: Path, meta: ModelMeta) -> PythonPredictor:
    import cloudpickle

    if meta.format != "cloudpickle":
        raise InvalidInput(
            f"python models are saved as cloudpickle, not {meta.format!r}", field="format"
        )
    # the digest of these very bytes was just checked against the recorded one
    model = cloudpickle.load(io.BytesIO(read_verified(folder, MODEL_FILE, meta)))
    return predictor(model, meta.task, meta.classes, meta.extra)


def predictor(
    model: Any, task: str | None, classes: list[Any] | None, extra: dict[str, Any]
) -> PythonPredictor:
    return PythonPredictor(model, arrays=extra.get("input_type") == "ndarray")


def _has_proba(model: Any) -> bool:
    return callable(getattr(model, "predict_proba", None))


class PythonPredictor:
    """Calls the object's own methods, with an array when the model was shown one at save time."""

    def __init__(self, model: Any, *, arrays: bool) -> None:
        self._model = model
        self._arrays = arrays

    @property
    def raw(self) -> Any:
        return self._model

    @property
    def has_proba(self) -> bool:
        return _has_proba(self._model)

    def _prepare(self, data: Any) -> Any:
        return data.to_numpy() if self._arrays and isinstance(data, pd.DataFrame) else data

    def predict(self, data: Any) -> Any:
        return self._model.predict(self._prepare(data))

    def predict_proba(self, data: Any) -> Any:
        return self._model.predict_proba(self._prepare(data))
