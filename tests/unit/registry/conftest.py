"""A small binary classification problem and models of known quality, in a fresh project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopml.registry import clear_cache

FEATURES = ["a", "b"]


@pytest.fixture
def frames(tmp_home: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): label depends on a and b; region is a slice column, not a feature."""
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "region": rng.choice(["EU", "US"], size=n),
        }
    )
    frame["label"] = ((frame.a + frame.b + rng.normal(scale=0.7, size=n)) > 0).astype(int)
    clear_cache()
    return frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)


def good_model(train: pd.DataFrame) -> Any:
    return LogisticRegression().fit(train[FEATURES], train.label)


def weak_model(train: pd.DataFrame) -> Any:
    """Sees only ``a``: clearly worse than ``good_model`` on the same rows."""
    blind = train[FEATURES].assign(b=0.0)
    return LogisticRegression().fit(blind, train.label)
