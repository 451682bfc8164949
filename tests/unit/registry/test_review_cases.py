"""Cases a review found: evidence on different rows, unknown champions, failures as results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import loopml
from loopml.errors import InvalidInput
from loopml.models import PythonModel
from loopml.registry import ci_check, get_version

from .conftest import FEATURES, good_model, weak_model


class Halver(PythonModel):
    def predict(self, data: Any) -> Any:
        return np.asarray(data["a"]) / 2


def test_evaluations_on_unversioned_rows_are_not_compared_across_models(frames: Any) -> None:
    train, test = frames
    loopml.log_model(good_model(train), registered_model_name="m", target="label")
    loopml.log_model(weak_model(train), registered_model_name="m", target="label")
    loopml.promote("m", 1, gates=[])
    loopml.evaluate("models:/m/1", test.iloc[:300], baseline=None)  # champion: some rows
    loopml.evaluate("models:/m/2", test.iloc[300:], baseline=None)  # candidate: other rows
    result = loopml.promote("m", 2, gates=["roc_auc >= champion - 0.5"])
    assert not result.promoted
    assert "no evaluation on the unversioned rows" in result.gates[0].reason


def test_a_ci_check_of_an_unregistered_run_needs_the_name_to_compare(frames: Any) -> None:
    train, test = frames
    loopml.log_model(good_model(train), registered_model_name="m", target="label")
    loopml.promote("m", 1, gates=[])
    candidate = loopml.log_model(weak_model(train))
    gates = ["f1 >= 0.1", "roc_auc >= champion + 0.5"]
    blind = ci_check(candidate.model_uri, test, gates, target="label")
    assert [g.passed for g in blind.gates] == [True, False]
    assert "pass --name" in blind.gates[1].reason
    named = ci_check(candidate.model_uri, test, gates, target="label", name="m")
    assert named.evaluation.baseline_uri == "models:/m/1"
    assert named.gates[1].threshold is not None and not named.gates[1].passed


def test_a_python_regressor_is_scored_as_regression(frames: Any) -> None:
    _, test = frames
    data = test.assign(y=test.a / 2 + 0.01)
    info = loopml.log_model(Halver(), registered_model_name="reg", target="y")
    assert loopml.evaluate("models:/reg/1", data).task == "regression"
    declared = loopml.log_model(Halver(), registered_model_name="reg", task="regression")
    assert get_version("reg", declared.version or 0).task == "regression"
    result = loopml.promote("reg", 1, gates=["rmse <= 0.05"], data=data)
    assert result.promoted, result.reason
    assert info.version == 1


def test_gates_that_cannot_be_computed_on_the_data_fail_as_results(frames: Any) -> None:
    train, test = frames
    loopml.log_model(good_model(train), registered_model_name="m", target="label")
    result = loopml.promote(
        "m", 1, gates=["slice:region=EU f1 >= 0.1"], data=test[[*FEATURES, "label"]]
    )
    assert not result.promoted and "slice 'region=EU' was not evaluated" in result.gates[0].reason


def test_a_champion_that_cannot_score_the_rows_fails_only_the_comparisons(frames: Any) -> None:
    train, test = frames
    wide = train.assign(c=train.a * 2)
    loopml.log_model(
        good_model(wide).fit(wide[["a", "b", "c"]], wide.label),
        input_example=wide[["a", "b", "c"]].head(),
        registered_model_name="m",
        target="label",
    )
    loopml.promote("m", 1, gates=[])
    loopml.log_model(good_model(train), registered_model_name="m", target="label")
    result = loopml.promote(
        "m", 2, gates=["f1 >= 0.5", "f1 >= champion"], data=test[[*FEATURES, "label"]]
    )
    assert [g.passed for g in result.gates] == [True, False]
    assert "could not score the current holder" in result.gates[1].reason
    assert "models:/m/1" in result.gates[1].reason


def test_a_model_that_fails_on_the_rows_is_named(frames: Any) -> None:
    train, test = frames
    loopml.log_model(
        good_model(train).fit(train[FEATURES].to_numpy(), train.label),
        registered_model_name="nosig",
        target="label",
    )
    bad = test[[*FEATURES, "label"]].astype({"a": object})
    bad.loc[0, "a"] = "x"
    with pytest.raises(InvalidInput, match="could not predict on these rows: ValueError"):
        loopml.evaluate("models:/nosig/1", bad)
