"""A loaded model: one ``predict``/``predict_proba`` for every flavor, input checked first.

Serving and batch scoring call this and nothing below it, so the signature check and the answer
for a regressor asked for probabilities live in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInput
from loopml.models.signature import ModelSignature, validate_input

if TYPE_CHECKING:
    from loopml.models.flavors import Predictor
    from loopml.models.format import ModelMeta


class LoadedModel:
    """A model read back from its folder, behind its flavor's predictor."""

    def __init__(self, meta: ModelMeta, predictor: Predictor) -> None:
        self._meta = meta
        self._predictor = predictor

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, format={self._meta.format!r})"

    @property
    def meta(self) -> ModelMeta:
        return self._meta

    @property
    def signature(self) -> ModelSignature | None:
        return self._meta.signature

    @property
    def flavor(self) -> str:
        return self._meta.flavor

    @property
    def task(self) -> str | None:
        return self._meta.task

    @property
    def classes(self) -> list[Any] | None:
        """The class labels, in ``predict_proba``'s column order; None for a regressor."""
        return self._meta.classes if self._meta.task != "regression" else None

    @property
    def raw(self) -> Any:
        """The library's own model object (a ``lightgbm.Booster`` for LightGBM models)."""
        return self._predictor.raw

    def __getattr__(self, name: str) -> Any:
        """Anything else is the underlying model's (``model.coef_``, ``feature_importances_``),
        so code written against the fitted object keeps working on the loaded one."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._predictor.raw, name)

    def prepare(self, data: Any) -> Any:
        """The input the model will see: checked and converted when there is a signature."""
        if self._meta.signature is None:
            return data
        return validate_input(data, self._meta.signature)

    def predict(self, data: Any, *, prepared: bool = False) -> Any:
        """Predictions as a numpy array (or whatever Series/array the model itself returns).

        ``prepared=True`` skips the signature check for input ``prepare`` already returned
        (a server validates once and then asks for predictions and probabilities).
        """
        return _result(self._predictor.predict(data if prepared else self.prepare(data)))

    def predict_proba(self, data: Any, *, prepared: bool = False) -> Any:
        """Class probabilities, one column per label in ``classes``; classifiers only."""
        if not self._predictor.has_proba:
            kind = "is a regressor" if self._meta.task == "regression" else "gives no probabilities"
            raise InvalidInput(
                f"this {self.flavor} model {kind}: predict_proba is not available",
                field="predict_proba",
                hint="call predict instead",
            )
        return _result(self._predictor.predict_proba(data if prepared else self.prepare(data)))


def _result(value: Any) -> Any:
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame):
        return value
    return np.asarray(value)
