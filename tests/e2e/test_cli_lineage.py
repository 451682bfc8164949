"""``loopml lineage …`` as a user runs it: from a logged prediction back, from data forward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loopml._util.ids import new_id_at
from loopml.testing.cli import assert_one_line_error
from loopml.testing.cli import run_cli as loopml
from loopml.testing.monitoring import HOUR, T0, make_frame, make_project
from loopml.tracking import fluent


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A project with ``churn`` v1 trained on ``churn@1`` and ten logged predictions, the first
    labelled (built in this process, as the ``tmp_home`` fixture would; the CLI finds it from
    its working folder)."""
    folder = tmp_path_factory.mktemp("lineage")
    (folder / ".loopml").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LOOPML_STORE_URI", "LOOPML_ARTIFACT_URI", "LOOPML_EXPERIMENT_NAME"):
            patch.delenv(name, raising=False)
        patch.setenv("LOOPML_HOME", str(folder / ".loopml"))
        patch.setenv("LOOPML_CAPTURE_GIT", "false")
        fluent.reset()
        try:
            project = make_project()
            ids = project.log(make_frame(1, 10), T0)
            project.label(ids[:1], [1])
        finally:
            fluent.reset()
    return folder, ids


def test_prediction_lineage_as_json_and_as_a_story(served: tuple[Path, list[str]]) -> None:
    home, ids = served
    result = loopml(home, "lineage", "prediction", ids[0], "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["prediction"]["feedback"]["label"] == 1
    assert found["model_version"]["uri"] == "models:/churn/1"
    assert (found["data"]["ref"], found["run"]["status"]) == ("churn@1", "FINISHED")
    story = loopml(home, "lineage", "prediction", ids[1])
    assert story.returncode == 0, story.stderr
    for part in (f"Prediction {ids[1]}", "churn v1", "models:/churn/1 @champion", "churn@1: 5,000"):
        assert part in story.stdout, story.stdout
    assert "feedback: none yet" in story.stdout


def test_data_lineage_lists_the_models_trained_on_it(served: tuple[Path, list[str]]) -> None:
    home, _ = served
    story = loopml(home, "lineage", "data", "churn@1")
    assert story.returncode == 0, story.stderr
    assert "model versions trained on it (1)" in story.stdout
    assert "models:/churn/1 @champion" in story.stdout


def test_an_unknown_prediction_is_one_line(served: tuple[Path, list[str]]) -> None:
    unknown = new_id_at(T0 + 9 * HOUR)
    result = loopml(served[0], "lineage", "prediction", unknown)
    assert_one_line_error(result, f"prediction {unknown} is not in the prediction log")
