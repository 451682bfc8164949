"""scikit-learn: skops, which loads only the types it was told to trust; pickle as a last resort.

The types skops could not vouch for at save time are recorded in ``MLmodel.json`` and passed back
as ``trusted=`` on load, exactly those: a file that asks for any other type is refused by skops.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
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

        (folder / SKOPS_FILE).write_bytes(_stable_zip(sio.dumps(model)))
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


def _stable_zip(data: bytes) -> bytes:
    """The same skops archive, byte for byte the same for the same model.

    skops names arrays and memo entries after ``id()`` of the objects (a memory address) and
    dates each zip entry; pipelines cache on a model's digest, so both are made canonical:
    ids become 1, 2, 3… in schema order, entries are dated 1980-01-01 and written in order.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        ids: dict[int, int] = {}
        _renumber(schema, ids)
        members = {name: source.read(name) for name in source.namelist() if name != "schema.json"}
        compress = {i.filename: i.compress_type for i in source.infolist()}
    renamed = {}
    for name, payload in members.items():
        stem, dot, suffix = name.partition(".")
        key = f"{ids[int(stem)]}{dot}{suffix}" if stem.isdigit() and int(stem) in ids else name
        renamed[key] = (payload, compress[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        schema_info = zipfile.ZipInfo("schema.json", date_time=(1980, 1, 1, 0, 0, 0))
        schema_info.compress_type = compress["schema.json"]
        target.writestr(schema_info, json.dumps(schema, indent=2, sort_keys=True))
        for name in sorted(renamed):
            payload, kind = renamed[name]
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = kind
            target.writestr(info, payload)
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int]) -> None:
    """Replace every ``__id__`` (and the array file named after it) by its order of appearance."""
    if isinstance(node, dict):
        if isinstance(node.get("__id__"), int):
            old = node["__id__"]
            node["__id__"] = ids.setdefault(old, len(ids) + 1)
            file = node.get("file")
            if isinstance(file, str) and file.partition(".")[0] == str(old):
                node["file"] = f"{node['__id__']}.{file.partition('.')[2]}"
        for value in node.values():
            _renumber(value, ids)
    elif isinstance(node, list):
        for value in node:
            _renumber(value, ids)


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
    """Hands the estimator a DataFrame when it was fitted on one, an array when it was not.

    scikit-learn spends most of a single-row prediction checking a DataFrame's column names and
    dtypes (0.6 ms against 0.1 ms for an array). When a probe shows that the estimator gives
    the same answers on a plain array in its fitted column order, numeric frames in exactly that
    order take the array path, through a twin that does not carry the feature names.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        names = getattr(model, "feature_names_in_", None)
        self._features = [str(n) for n in names] if names is not None else None
        self._twin = _array_twin(model, self._features)

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

    def _target(self, data: Any) -> tuple[Any, Any]:
        twin = self._twin
        if (
            twin is not None
            and isinstance(data, pd.DataFrame)
            and list(data.columns) == self._features
            and all(kind.kind in "ifu" for kind in data.dtypes)
        ):
            return twin, data.to_numpy(dtype="float64")
        return self._model, self._prepare(data)

    def predict(self, data: Any) -> Any:
        model, prepared = self._target(data)
        return model.predict(prepared)

    def predict_proba(self, data: Any) -> Any:
        model, prepared = self._target(data)
        return model.predict_proba(prepared)


def _array_twin(model: Any, features: list[str] | None) -> Any:
    """A copy of ``model`` without ``feature_names_in_`` if it predicts arrays identically."""
    if features is None or not features:
        return None
    try:
        twin = copy.copy(model)
        del twin.feature_names_in_
        probe = np.random.default_rng(0).normal(size=(16, len(features)))
        frame = pd.DataFrame(probe, columns=features)
        if not np.array_equal(np.asarray(model.predict(frame)), np.asarray(twin.predict(probe))):
            return None
        if callable(getattr(model, "predict_proba", None)) and not np.allclose(
            model.predict_proba(frame), twin.predict_proba(probe)
        ):
            return None
    except Exception:  # the estimator needs its column names (or this probe): no shortcut
        return None
    return twin
