"""Lineage walks over a real store: a logged prediction back to its version, run, data and loop
iteration; a data version forward to the models, evaluations, runs and iterations built from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import loopml
from loopml._util.ids import new_id, new_id_at
from loopml.entities import LoopIteration
from loopml.errors import InvalidInput, NotFound
from loopml.loop.lineage import data_lineage, prediction_lineage
from loopml.predictions import LoggedPrediction, PredictionLog
from loopml.registry import set_alias
from loopml.testing.monitoring import FEATURES, HOUR, T0, Project, make_frame, make_project
from loopml.workspace import default_workspace


@pytest.fixture
def project(tmp_home: Path) -> Project:
    """``churn`` v1 trained on ``churn@1`` (champion), with 20 logged predictions from T0."""
    return make_project()


def retrain(project: Project) -> str:
    """What a loop iteration leaves: ``churn-training@1`` (tagged), ``churn`` v2 trained on it,
    the iteration's record; return the iteration id."""
    iteration_id = new_id()
    train = make_frame(1, 300)
    tags = {"loop_iteration": iteration_id, "base": "churn@1"}
    training = loopml.data.add("churn-training", train, tags=tags)
    loopml.data.add("churn-holdout", make_frame(2, 100), tags=tags)
    info = loopml.log_model(
        project.model,
        registered_model_name="churn",
        target="churned",
        data_version=training.ref,
        input_example=train[FEATURES].head(),
    )
    record = {
        "trigger": {"kind": "drift", "monitor": "watch"},
        "data": {"base": "churn@1", "training": training.ref, "holdout": "churn-holdout@1"},
    }
    default_workspace().store.loop.add_iteration(
        LoopIteration(
            iteration_id=iteration_id,
            model_name="churn",
            status="finished",
            start_time=T0,
            host="here",
            pid=1,
            record=record,
            decision="promoted",
            reason="every gate passed",
            model_version=info.version,
            data_version=training.ref,
            run_id=info.run_id,
        )
    )
    set_alias("churn", "champion", info.version or 2)
    return iteration_id


def test_prediction_walks_back_to_version_run_and_training_data(project: Project) -> None:
    ids = project.log(make_frame(7, 20), T0)
    project.log(make_frame(8, 20), T0 + HOUR)
    project.label(ids[:1], [1])
    found = prediction_lineage(ids[3])
    json.dumps(found, allow_nan=False)
    prediction = found["prediction"]
    assert (prediction["prediction_id"], prediction["time_ms"]) == (ids[3], T0 + 300)
    assert (prediction["model_name"], prediction["model_version"]) == ("churn", 1)
    assert (prediction["role"], prediction["feedback"], prediction["classes"]) == (
        "champion",
        None,
        [0, 1],
    )
    assert set(prediction["inputs"]) == {"age", "income", "plan"}
    assert prediction["prediction"] in (0, 1) and isinstance(prediction["prediction"], int)
    assert sum(prediction["probabilities"]) == pytest.approx(1.0)
    version = found["model_version"]
    assert (version["uri"], version["aliases"], version["data_version"]) == (
        "models:/churn/1",
        ["champion"],
        "churn@1",
    )
    assert version["flavor"] == "sklearn" and len(version["digest"]) == 64
    run = found["run"]
    assert (run["run_id"], run["status"]) == (version["run_id"], "FINISHED")
    assert run["experiment"] == "Default"
    data = found["data"]
    assert (data["ref"], data["rows"], data["tags"]) == ("churn@1", 5_000, {})
    assert found["loop_iteration"] is None
    assert prediction_lineage(ids[0])["prediction"]["feedback"]["label"] == 1


def test_prediction_of_a_retrained_version_names_its_loop_iteration(project: Project) -> None:
    iteration_id = retrain(project)
    ids = project.log(make_frame(9, 5), T0 + 2 * HOUR, version=2)
    found = prediction_lineage(ids[-1].upper())
    assert found["model_version"]["uri"] == "models:/churn/2"
    assert found["model_version"]["aliases"] == ["champion"]
    assert found["data"]["ref"] == "churn-training@1"
    assert found["data"]["tags"] == {"base": "churn@1", "loop_iteration": iteration_id}
    iteration = found["loop_iteration"]
    assert (iteration["iteration_id"], iteration["trigger"], iteration["decision"]) == (
        iteration_id,
        "drift",
        "promoted",
    )


def test_prediction_is_found_among_models_and_versions_that_are_gone(project: Project) -> None:
    project.log(make_frame(7, 10), T0)
    made = T0 + 450  # inside churn's segment, in another model's segment too
    other = new_id_at(made)
    log = PredictionLog("fraud")
    row = LoggedPrediction(other, made, "fraud", 4, "shadow", 2.0, {"amount": 9.5}, "no")
    log.log([row])
    assert log.flush() == 1
    dashed = f"{other[:8]}-{other[8:12]}-{other[12:16]}-{other[16:20]}-{other[20:]}"
    found = prediction_lineage(dashed)
    assert found["prediction"]["inputs"] == {"amount": 9.5}
    assert (found["prediction"]["prediction"], found["prediction"]["probabilities"]) == ("no", None)
    assert found["model_version"] == {"name": "fraud", "version": 4, "missing": True}
    assert (found["run"], found["data"], found["loop_iteration"]) == (None, None, None)


def test_unknown_and_malformed_prediction_ids_are_refused(project: Project) -> None:
    project.log(make_frame(7, 10), T0)
    with pytest.raises(NotFound, match=r"not in the prediction log \(none of the 1 segments"):
        prediction_lineage(new_id_at(T0 + 500))
    with pytest.raises(NotFound, match=r"\(no segment logged around .* holds it\).*server"):
        prediction_lineage(new_id_at(T0 + 5 * HOUR))
    for bad in ("abc", "0" * 32, "z" * 32, 42):
        with pytest.raises(InvalidInput, match="is not a prediction id"):
            prediction_lineage(bad)  # type: ignore[arg-type]


def test_data_lineage_reaches_models_evaluations_runs_and_derived_data(project: Project) -> None:
    iteration_id = retrain(project)
    evaluation = loopml.evaluate("models:/churn/1", "churn@1", baseline=None, n_resamples=20)
    with loopml.start_run(run_name="study") as run:
        loopml.log_input("churn@1", role="test")
    found = data_lineage("churn@1")
    json.dumps(found, allow_nan=False)
    assert (found["version"]["ref"], found["version"]["rows"]) == ("churn@1", 5_000)
    assert [m["uri"] for m in found["models"]] == ["models:/churn/1"]
    assert [e["evaluation_id"] for e in found["evaluations"]] == [evaluation.evaluation_id]
    assert 0.5 < found["evaluations"][0]["metrics"]["accuracy"] <= 1
    assert {"run_id": run.info.run_id, "role": "test"}.items() <= found["runs"][-1].items()
    derived = {d["ref"]: [m["uri"] for m in d["models"]] for d in found["derived"]}
    assert derived == {"churn-holdout@1": [], "churn-training@1": ["models:/churn/2"]}
    [iteration] = found["loop_iterations"]
    assert (iteration["iteration_id"], iteration["used_as"]) == (iteration_id, ["base"])
    training = data_lineage("churn-training@1")
    assert [m["aliases"] for m in training["models"]] == [["champion"]]
    assert [i["used_as"] for i in training["loop_iterations"]] == [["training"]]
    assert training["derived"] == [] and training["evaluations"] == []


def test_data_lineage_resolves_aliases_and_names_a_missing_version(project: Project) -> None:
    loopml.data.set_alias("churn@1", "training")
    assert data_lineage("churn@training")["models"][0]["uri"] == "models:/churn/1"
    assert data_lineage("churn")["version"]["aliases"] == ["training"]
    with pytest.raises(NotFound, match="dataset 'churn' has no version '3'"):
        data_lineage("churn@3")
