"""``loopml.evaluate``: what it accepts, where the result is stored, what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import loopml
from loopml.errors import InvalidInput, NotFound
from loopml.workspace import default_workspace

from .conftest import good_model


def test_an_object_on_a_csv_file_is_stored_with_a_new_run(frames: Any, tmp_path: Path) -> None:
    train, test = frames
    test.to_csv(tmp_path / "held_out.csv", index=False)
    result = loopml.evaluate(
        good_model(train), str(tmp_path / "held_out.csv"), target="label", n_resamples=50
    )
    assert result.run_id is not None and result.data_version is None
    run = loopml.get_run(result.run_id)
    assert run.data.metrics["eval/f1"] == pytest.approx(result.metrics["f1"])
    stored = default_workspace().store.evaluations.for_run(result.run_id)
    assert [e.evaluation_id for e in stored] == [result.evaluation_id]
    artifacts = {a.path for a in loopml.LoopMLClient().list_artifacts(result.run_id, "evaluations")}
    assert artifacts == {f"evaluations/{result.evaluation_id}"}


def test_inside_a_run_the_result_goes_to_that_run(frames: Any) -> None:
    train, test = frames
    with loopml.start_run() as run:
        result = loopml.evaluate(good_model(train), test, target="label", n_resamples=20)
    assert result.run_id == run.run_id


def test_the_target_comes_from_the_version_or_must_be_given(frames: Any) -> None:
    train, test = frames
    info = loopml.log_model(good_model(train), registered_model_name="m", target="label")
    assert loopml.evaluate("models:/m/1", test, n_resamples=20).target == "label"
    bare = loopml.log_model(good_model(train))
    with pytest.raises(InvalidInput, match="target is required"):
        loopml.evaluate(bare.model_uri, test)
    assert info.version == 1


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ("ghost@1", NotFound, "dataset 'ghost' does not exist"),
        ("missing.csv", InvalidInput, "data file 'missing.csv' does not exist"),
        (42, InvalidInput, "cannot evaluate on a int"),
    ],
)
def test_bad_data_is_named(frames: Any, data: Any, error: type[Exception], message: str) -> None:
    train, _ = frames
    with pytest.raises(error, match=message):
        loopml.evaluate(good_model(train), data, target="label")


def test_something_without_predict_is_refused(frames: Any) -> None:
    _, test = frames
    with pytest.raises(InvalidInput, match="cannot evaluate a dict: it has no predict method"):
        loopml.evaluate({"not": "a model"}, test, target="label")
