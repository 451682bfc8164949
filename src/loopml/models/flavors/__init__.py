"""Flavors: one module per model library, each saving in that library's safest format.

A flavor module has ``NAME``, ``detect(model)``, ``save(model, folder)``, ``load(folder, meta)``
and ``predictor(model, ...)``. Modules are imported by name only when needed, and each imports
its library inside its functions, so detection never imports a library the caller has not
already imported: it looks at the ``__module__`` of the model's classes.
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from loopml.errors import InvalidInput

if TYPE_CHECKING:
    from loopml.models.format import ModelMeta

ORDER = ("xgboost", "lightgbm", "sklearn", "python")


@dataclass(frozen=True)
class SavedFlavor:
    """What a flavor's ``save`` reports back for ``MLmodel.json``."""

    format: str
    executable: bool
    requirements: dict[str, str]
    task: str | None = None
    classes: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Predictor(Protocol):
    """A loaded model behind one calling convention, whatever its library's.

    ``predict``/``predict_proba`` take the validated DataFrame (or, for a model without a
    signature, the caller's data as given) and hand the model the form it was trained on.
    """

    @property
    def raw(self) -> Any: ...

    @property
    def has_proba(self) -> bool: ...

    def predict(self, data: Any) -> Any: ...

    def predict_proba(self, data: Any) -> Any: ...


class Flavor(Protocol):
    """The functions each ``loopml.models.flavors.<name>`` module defines."""

    NAME: str

    def detect(self, model: Any) -> bool: ...

    def save(self, model: Any, folder: Path) -> SavedFlavor: ...

    def load(self, folder: Path, meta: ModelMeta) -> Predictor: ...

    def predictor(
        self, model: Any, task: str | None, classes: list[Any] | None, extra: dict[str, Any]
    ) -> Predictor: ...


def by_name(name: str) -> Flavor:
    """The flavor module called ``name``."""
    if name not in ORDER:
        raise InvalidInput(
            f"unknown model flavor {name!r}", field="flavor", hint=f"use one of {', '.join(ORDER)}"
        )
    return cast("Flavor", importlib.import_module(f"loopml.models.flavors.{name}"))


def for_object(model: Any) -> Flavor:
    """The first flavor (xgboost, lightgbm, sklearn, python) that can save ``model``."""
    for name in ORDER:
        flavor = by_name(name)
        if flavor.detect(model):
            return flavor
    raise InvalidInput(
        f"no model flavor can save a {type(model).__module__}.{type(model).__qualname__}",
        field="model",
        hint="pass a scikit-learn, XGBoost or LightGBM model, or an object with a predict method",
    )


def from_library(model: Any, library: str) -> bool:
    """True when ``model``'s class or one of its bases comes from ``library``; imports nothing."""
    return any(
        (getattr(cls, "__module__", None) or "").split(".")[0] == library
        for cls in type(model).__mro__
    )


def requirements(packages: Iterable[str]) -> dict[str, str]:
    """Python's version and each installed distribution's: what loading the model needs."""
    found = {"python": platform.python_version()}
    for name in ("numpy", "pandas", *packages):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def class_path(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def jsonable_classes(values: Any) -> list[Any] | None:
    """A classifier's labels as JSON values (numpy scalars unwrapped), or None when they aren't."""
    if values is None:
        return None
    labels = [v.item() if hasattr(v, "item") else v for v in list(values)]
    if all(isinstance(v, str | int | float | bool) for v in labels):
        return labels
    return None
