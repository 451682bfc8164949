"""A registered classifier and a served app, for the server's tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

import loopml
from loopml.registry import clear_cache, set_alias
from loopml.serve.app import create_app
from loopml.serve.options import ServeOptions

FEATURES = ["age", "income"]


def training_frame(seed: int = 0, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.integers(18, 80, rows), "income": rng.normal(50, 10, rows)})
    frame["label"] = (frame.age / 80 + frame.income / 100 + rng.normal(0, 0.2, rows)) > 1.0
    return frame.astype({"label": int})


@pytest.fixture
def registered(tmp_home: Path) -> str:
    """``churn`` version 1 as champion; returns the URI to serve."""
    clear_cache()
    frame = training_frame()
    model = LogisticRegression().fit(frame[FEATURES], frame.label)
    info = loopml.log_model(
        model, input_example=frame[FEATURES].head(), registered_model_name="churn"
    )
    set_alias("churn", "champion", info.version or 1)
    return "models:/churn@champion"


def wait_ready(client: TestClient, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, client.get("/ready").json()
        time.sleep(0.02)


@pytest.fixture
def serve(registered: str) -> Iterator[Callable[..., TestClient]]:
    """Start an app (``serve(**options)``) inside a TestClient; closed after the test."""
    opened: list[Any] = []

    def start(**options: Any) -> TestClient:
        app = create_app(ServeOptions(model_uri=options.pop("model_uri", registered), **options))
        client = TestClient(app, base_url="http://localhost")
        client.__enter__()
        opened.append(client)
        wait_ready(client)
        return client

    yield start
    for client in opened:
        client.__exit__(None, None, None)
