"""scikit-learn autolog: what one ``fit`` stores, read back through the client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
skops_io = pytest.importorskip("skops.io")

from sklearn import metrics  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.ensemble._forest import BaseForest  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

import loopml  # noqa: E402
from loopml.entities import Run, RunStatus  # noqa: E402

# Taken at import, before any test enables autolog.
ORIGINAL_LOGREG_FIT = LogisticRegression.__dict__["fit"]
ORIGINAL_FOREST_FIT = BaseForest.__dict__["fit"]

pytestmark = pytest.mark.usefixtures("autologged", "tmp_home")
OnlyRun = Callable[[], Run]


@pytest.fixture
def data() -> tuple[Any, Any]:
    return make_classification(n_samples=200, random_state=0)


def test_fit_without_run_logs_params_tags_metrics(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    model = LogisticRegression(C=0.5).fit(X, y)
    run = only_run()
    assert run.info.status is RunStatus.FINISHED
    assert loopml.active_run() is None
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "100"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"].endswith(".LogisticRegression")
    predicted, proba = model.predict(X), model.predict_proba(X)
    expected = {
        "training_accuracy_score": metrics.accuracy_score(y, predicted),
        "training_precision_score": metrics.precision_score(y, predicted, average="weighted"),
        "training_recall_score": metrics.recall_score(y, predicted, average="weighted"),
        "training_f1_score": metrics.f1_score(y, predicted, average="weighted"),
        "training_log_loss": metrics.log_loss(y, proba),
        "training_roc_auc": metrics.roc_auc_score(y, proba[:, 1]),
        "training_score": model.score(X, y),
    }
    assert run.data.metrics == pytest.approx(expected)


def test_model_artifact_loads_back_and_predicts_the_same(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    run_id = only_run().info.run_id
    listed = {a.path for a in loopml.LoopMLClient().list_artifacts(run_id, "model")}
    assert listed == {"model/model.skops", "model/MLmodel.json"}
    loaded = loopml.load_model(f"runs:/{run_id}/model")
    assert (loaded.flavor, loaded.meta.format, loaded.meta.executable) == (
        "sklearn",
        "skops",
        False,
    )
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_sample_weight_is_honoured(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    weight = np.where(y == 1, 5.0, 1.0)
    model = LogisticRegression(C=0.01).fit(X, y, sample_weight=weight)
    found = only_run().data.metrics
    predicted = model.predict(X)
    accuracy = metrics.accuracy_score(y, predicted, sample_weight=weight)
    assert found["training_accuracy_score"] == pytest.approx(accuracy)
    assert found["training_score"] == pytest.approx(accuracy)


def test_multiclass_roc_auc_is_one_vs_rest(only_run: OnlyRun) -> None:
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    expected = metrics.roc_auc_score(y, model.predict_proba(X), multi_class="ovr")
    assert only_run().data.metrics["training_roc_auc"] == pytest.approx(expected)


def test_regressor_metrics(only_run: OnlyRun) -> None:
    X, y = make_regression(n_samples=200, n_features=5, noise=10.0, random_state=0)
    predicted = LinearRegression().fit(X, y).predict(X)
    mse = metrics.mean_squared_error(y, predicted)
    assert only_run().data.metrics == pytest.approx(
        {
            "training_mean_squared_error": mse,
            "training_root_mean_squared_error": mse**0.5,
            "training_mean_absolute_error": metrics.mean_absolute_error(y, predicted),
            "training_r2_score": metrics.r2_score(y, predicted),
            "training_score": metrics.r2_score(y, predicted),
        }
    )


def test_pipeline_logs_one_run_with_nested_params(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    make_pipeline(StandardScaler(), LogisticRegression(C=2.0)).fit(X, y)
    run = only_run()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["logisticregression"] == "LogisticRegression"
    assert run.data.params["logisticregression__C"] == "2.0"
    assert "training_accuracy_score" in run.data.metrics


def test_grid_search_logs_best_params_and_cv_score(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=3).fit(X, y)
    run = only_run()
    assert run.data.params["best_C"] == str(search.best_params_["C"])
    assert run.data.params["estimator"] == "LogisticRegression"
    assert run.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)


def test_failing_fit_marks_run_failed_and_reraises(data: Any, only_run: OnlyRun) -> None:
    X, _ = data
    with pytest.raises(ValueError, match="class"):
        LogisticRegression().fit(X, np.zeros(len(X)))
    run = only_run()
    assert run.info.status is RunStatus.FAILED
    assert run.data.params["C"] == "1.0"
    assert loopml.active_run() is None


def test_fit_inside_active_run_logs_into_it(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    with loopml.start_run() as active:
        LogisticRegression().fit(X, y)
        assert loopml.active_run() is active
    run = only_run()
    assert run.info.run_id == active.run_id
    assert run.info.status is RunStatus.FINISHED
    assert "training_accuracy_score" in run.data.metrics


def test_exclusive_leaves_user_runs_alone(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    loopml.autolog(exclusive=True)
    try:
        with loopml.start_run():
            LogisticRegression().fit(X, y)
    finally:
        loopml.autolog()
    run = only_run()
    assert run.data.params == {}
    assert run.data.metrics == {}


def test_log_models_false_stores_no_model(data: Any, only_run: OnlyRun) -> None:
    X, y = data
    loopml.autolog(log_models=False)
    try:
        LogisticRegression().fit(X, y)
    finally:
        loopml.autolog()
    run = only_run()
    assert "C" in run.data.params
    assert loopml.LoopMLClient().list_artifacts(run.info.run_id) == []


def test_unsupervised_fit_truncates_long_params(data: Any, only_run: OnlyRun) -> None:
    X, _ = data
    FunctionTransformer(kw_args={"pad": "a" * 9000}).fit(X)
    run = only_run()
    assert len(run.data.params["kw_args"]) == 8000
    assert run.data.metrics == {}


def test_metric_failure_does_not_break_fit(
    data: Any, only_run: OnlyRun, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*_: Any, **__: Any) -> float:
        raise RuntimeError("metric exploded")

    monkeypatch.setattr(metrics, "accuracy_score", broken)
    X, y = data
    with caplog.at_level(logging.WARNING, logger="loopml.tracking.autolog"):
        LogisticRegression().fit(X, y)
    found = only_run().data.metrics
    assert "training_accuracy_score" not in found
    assert "training_f1_score" in found
    assert "metric exploded" in caplog.text


def test_param_conflict_in_active_run_does_not_break_fit(data: Any, caplog: Any) -> None:
    X, y = data
    with caplog.at_level(logging.WARNING, logger="loopml.tracking.autolog"), loopml.start_run():
        loopml.log_param("C", "5")
        model = LogisticRegression(C=1.0).fit(X, y)
    assert model.coef_.shape == (1, X.shape[1])
    assert "could not log params" in caplog.text


def test_skops_failure_falls_back_to_pickle_marked_executable(
    data: Any, only_run: OnlyRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise TypeError("skops cannot save this")

    monkeypatch.setattr(skops_io, "dumps", refuse)
    X, y = data
    model = LogisticRegression().fit(X, y)
    run_id = only_run().info.run_id
    listed = {a.path for a in loopml.LoopMLClient().list_artifacts(run_id, "model")}
    assert listed == {"model/MLmodel.json", "model/model.pkl"}
    loaded = loopml.load_model(f"runs:/{run_id}/model")
    assert (loaded.meta.format, loaded.meta.executable) == ("pickle", True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_disable_restores_originals_and_enable_is_idempotent(
    data: Any, autologged: list[str], only_run: OnlyRun
) -> None:
    assert "sklearn" in autologged
    assert loopml.autolog(disable=True) == []
    assert LogisticRegression.__dict__["fit"] is ORIGINAL_LOGREG_FIT
    assert BaseForest.__dict__["fit"] is ORIGINAL_FOREST_FIT
    X, y = data
    LogisticRegression().fit(X, y)
    assert loopml.LoopMLClient().search_runs() == []
    assert loopml.autolog() == autologged
    assert loopml.autolog() == autologged
    assert LogisticRegression.fit.__wrapped__ is ORIGINAL_LOGREG_FIT
    LogisticRegression().fit(X, y)
    only_run()
