"""LightGBM autolog: eval curves per iteration, params, importance and the booster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

import lightgbm.engine  # noqa: E402
import lightgbm.sklearn  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import loopml  # noqa: E402
from loopml.entities import Run, RunStatus  # noqa: E402
from loopml.errors import InvalidInput  # noqa: E402
from loopml.tracking.autolog.lightgbm import loopml_callback  # noqa: E402

ORIGINAL_TRAIN = lightgbm.engine.train  # taken at import, before any test enables autolog
PARAMS = {"objective": "binary", "verbose": -1, "num_leaves": 7}

pytestmark = pytest.mark.usefixtures("autologged", "tmp_home")
OnlyRun = Callable[[], Run]


@pytest.fixture
def data() -> tuple[Any, Any]:
    return make_classification(n_samples=200, random_state=0)


def _train(X: Any, y: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    recorded: dict[str, Any] = {}
    train_set = lgb.Dataset(X[:150], y[:150], params={"verbose": -1})
    valid_set = lgb.Dataset(X[150:], y[150:], reference=train_set)
    booster = lgb.train(
        PARAMS,
        train_set,
        num_boost_round=8,
        valid_sets=[train_set, valid_set],
        valid_names=["train", "valid"],
        callbacks=[lgb.record_evaluation(recorded), *kwargs.pop("callbacks", [])],
        **kwargs,
    )
    return booster, recorded


def test_train_logs_curves_params_importance_and_model(
    data: Any, only_run: OnlyRun, tmp_path: Path
) -> None:
    X, y = data
    booster, recorded = _train(X, y)
    run = only_run()
    assert run.info.status is RunStatus.FINISHED
    assert run.data.params["objective"] == "binary"
    assert run.data.params["num_leaves"] == "7"
    assert run.data.params["num_boost_round"] == "8"
    client = loopml.LoopMLClient()
    for name in ("train", "valid"):
        history = client.get_metric_history(run.info.run_id, f"{name}-binary_logloss")
        assert [p.step for p in history] == list(range(8))
        assert [p.value for p in history] == pytest.approx(recorded[name]["binary_logloss"])
    assert "best_iteration" not in run.data.metrics

    folder = client.download_artifacts(run.info.run_id, dst_path=tmp_path / "dl")
    importance = json.loads((folder / "feature_importance_gain.json").read_text())
    gains = booster.feature_importance(importance_type="gain")
    assert importance == pytest.approx(dict(zip(booster.feature_name(), gains, strict=True)))
    loaded = loopml.load_model(f"runs:/{run.info.run_id}/model")
    assert (loaded.flavor, loaded.meta.executable) == ("lightgbm", False)
    # A binary booster loads as a classifier: labels from predict, P(1) from predict_proba.
    np.testing.assert_allclose(loaded.predict_proba(X)[:, 1], booster.predict(X))


def test_early_stopping_logs_best_iteration(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    stop = lgb.early_stopping(2, verbose=False)
    booster, _ = _train(X, y, callbacks=[stop])
    assert only_run().data.metrics["best_iteration"] == booster.best_iteration


def test_classifier_fit_logs_one_run(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    lgb.LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y, eval_X=(X,), eval_y=(y,))
    run = only_run()
    assert run.data.params["num_boost_round"] == "4"
    history = loopml.LoopMLClient().get_metric_history(run.info.run_id, "valid_0-binary_logloss")
    assert len(history) == 4


def test_classifier_in_pipeline_logs_only_the_pipeline(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    make_pipeline(StandardScaler(), lgb.LGBMClassifier(n_estimators=4, verbose=-1)).fit(X, y)
    run = only_run()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert "num_boost_round" not in run.data.params


def test_callback_without_autolog_logs_into_active_run(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    loopml.autolog(disable=True)
    try:
        with loopml.start_run():
            _, recorded = _train(X, y, callbacks=[loopml_callback()])
    finally:
        loopml.autolog()
    run = only_run()
    assert run.data.params == {}
    history = loopml.LoopMLClient().get_metric_history(run.info.run_id, "valid-binary_logloss")
    assert [p.value for p in history] == pytest.approx(recorded["valid"]["binary_logloss"])


def test_callback_needs_a_run() -> None:
    with pytest.raises(InvalidInput, match="no active run"):
        loopml_callback()


def test_disable_restores_every_train(autologged: list[str]) -> None:
    assert "lightgbm" in autologged
    assert lgb.train is not ORIGINAL_TRAIN
    loopml.autolog(disable=True)
    try:
        assert lgb.train is ORIGINAL_TRAIN
        assert lightgbm.engine.train is ORIGINAL_TRAIN
        assert lightgbm.sklearn.train is ORIGINAL_TRAIN
    finally:
        loopml.autolog()
    loopml.autolog()
    assert lgb.train.__wrapped__ is ORIGINAL_TRAIN
