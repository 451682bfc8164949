"""XGBoost autolog: eval curves per round, params, importance and the booster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

import xgboost.sklearn  # noqa: E402
import xgboost.training  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import loopml  # noqa: E402
from loopml.entities import Run, RunStatus  # noqa: E402
from loopml.errors import InvalidInput  # noqa: E402
from loopml.tracking.autolog.xgboost import LoopMLCallback  # noqa: E402

# Taken at import, before any test enables autolog.
ORIGINAL_TRAIN = xgboost.training.train
ORIGINAL_CLASSIFIER_FIT = xgboost.sklearn.XGBClassifier.__dict__["fit"]
PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eval_metric": "logloss"}

pytestmark = pytest.mark.usefixtures("autologged", "tmp_home")
OnlyRun = Callable[[], Run]


@pytest.fixture
def data() -> tuple[Any, Any]:
    return make_classification(n_samples=200, random_state=0)


def _train(X: Any, y: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    recorded: dict[str, Any] = {}
    train_set = xgb.DMatrix(X[:150], label=y[:150])
    valid_set = xgb.DMatrix(X[150:], label=y[150:])
    booster = xgb.train(
        PARAMS,
        train_set,
        num_boost_round=8,
        evals=[(train_set, "train"), (valid_set, "valid")],
        evals_result=recorded,
        verbose_eval=False,
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
    assert run.data.params["objective"] == "binary:logistic"
    assert run.data.params["max_depth"] == "3"
    assert run.data.params["num_boost_round"] == "8"
    client = loopml.LoopMLClient()
    for name in ("train", "valid"):
        history = client.get_metric_history(run.info.run_id, f"{name}-logloss")
        assert [p.step for p in history] == list(range(8))
        assert [p.value for p in history] == pytest.approx(recorded[name]["logloss"])
    assert "best_iteration" not in run.data.metrics

    folder = client.download_artifacts(run.info.run_id, dst_path=tmp_path / "dl")
    importance = json.loads((folder / "feature_importance_gain.json").read_text())
    assert importance == pytest.approx(booster.get_score(importance_type="gain"))
    loaded = loopml.load_model(f"runs:/{run.info.run_id}/model")
    assert (loaded.flavor, loaded.meta.executable) == ("xgboost", False)
    # A binary booster loads as a classifier: labels from predict, P(1) from predict_proba.
    np.testing.assert_allclose(loaded.predict_proba(X)[:, 1], booster.predict(xgb.DMatrix(X)))


def test_early_stopping_logs_best_iteration(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    booster, _ = _train(X, y, early_stopping_rounds=2)
    assert only_run().data.metrics["best_iteration"] == booster.best_iteration


def test_params_as_pairs_keep_repeated_keys(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    pairs = [("objective", "binary:logistic"), ("eval_metric", "logloss"), ("eval_metric", "auc")]
    xgb.train(pairs, xgb.DMatrix(X, label=y), num_boost_round=2)
    assert only_run().data.params["eval_metric"] == "['logloss', 'auc']"


def test_metric_names_are_made_storable(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    train_set = xgb.DMatrix(X, label=y)
    params = {**PARAMS, "eval_metric": "error@0.7"}
    xgb.train(params, train_set, 2, evals=[(train_set, "train")], verbose_eval=False)
    assert "train-error_0.7" in only_run().data.metrics


def test_classifier_fit_logs_one_run(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y, eval_set=[(X, y)], verbose=False)
    run = only_run()
    assert run.data.params["max_depth"] == "2"
    history = loopml.LoopMLClient().get_metric_history(run.info.run_id, "validation_0-logloss")
    assert len(history) == 4


def test_classifier_in_pipeline_logs_only_the_pipeline(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=4)).fit(X, y)
    run = only_run()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert "num_boost_round" not in run.data.params


def test_callback_without_autolog_logs_into_active_run(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    loopml.autolog(disable=True)
    try:
        with loopml.start_run():
            _, recorded = _train(X, y, callbacks=[LoopMLCallback()])
    finally:
        loopml.autolog()
    run = only_run()
    assert run.data.params == {}
    history = loopml.LoopMLClient().get_metric_history(run.info.run_id, "valid-logloss")
    assert [p.value for p in history] == pytest.approx(recorded["valid"]["logloss"])


def test_callback_needs_a_run() -> None:
    with pytest.raises(InvalidInput, match="no active run"):
        LoopMLCallback()


def test_disable_restores_every_train_and_fit(autologged: list[str]) -> None:
    assert "xgboost" in autologged
    assert xgb.train is not ORIGINAL_TRAIN
    loopml.autolog(disable=True)
    try:
        assert xgb.train is ORIGINAL_TRAIN
        assert xgboost.training.train is ORIGINAL_TRAIN
        assert xgboost.sklearn.train is ORIGINAL_TRAIN
        assert xgboost.sklearn.XGBClassifier.__dict__["fit"] is ORIGINAL_CLASSIFIER_FIT
    finally:
        loopml.autolog()
    loopml.autolog()
    assert xgb.train.__wrapped__ is ORIGINAL_TRAIN
