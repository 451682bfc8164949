"""The project file is validated on load, naming the key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loopml.errors import ConfigError
from loopml.loop.cron import Cron
from loopml.loop.project import LoopProject, load_project, parse_duration

VALID: dict[str, Any] = {
    "model": {"name": "churn"},
    "data": {"dataset": "churn"},
    "training": {"pipeline": "train.py:training"},
    "evaluation": {"target": "churned", "gates": ["f1 >= 0.5"]},
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def test_a_minimal_project_gets_the_defaults() -> None:
    project = LoopProject.from_dict(VALID)
    assert (project.model.alias, project.promotion, project.cooldown_s) == ("champion", "auto", 600)
    assert project.data.production_data and project.training.params == {}
    assert project.triggers.data_drift is None and project.triggers.confirm_windows == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (with_(modle={"name": "x"}), "unknown key modle"),
        ({k: v for k, v in VALID.items() if k != "training"}, "`training:` is required"),
        (with_(model={"alias": "x"}), "model.name is required"),
        (with_(training={"pipeline": "a.py:b", "function": "a.py:c"}), "exactly one of"),
        (with_(evaluation={"target": "y", "gates": ["f1 >>> 2"]}), "evaluation.gates"),
        (with_(evaluation={"target": "y", "holdout_share": 2}), "evaluation.holdout_share"),
        (with_(promotion="sometimes"), "promotion is 'sometimes'"),
        (with_(cooldown="soon"), "cooldown is 'soon'"),
        (with_(triggers={"data_drift": {"share": 0.3}}), "unknown key triggers.data_drift.share"),
        (with_(triggers={"schedule": {"cron": "61 * * * *"}}), "triggers.schedule.cron"),
        (with_(triggers={"new_labels": {"rows": 0}}), "triggers.new_labels.rows"),
        (with_(monitors=[{"window": "1h"}]), "each with a `name:`"),
        (with_(monitors=[{"name": "m", "windw": "1h"}]), "monitors[0].windw"),
        (with_(monitors=[{"name": "m", "window": "soon"}]), "monitors[0].window"),
        (with_(data={"dataset": "churn", "production_data": "no"}), "data.production_data"),
        (with_(interval=0), "interval is 0.0"),
        (with_(triggers={"accuracy_drop": {"metric": "acuracy"}}), "not a metric"),
    ],
)
def test_mistakes_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"loopml\.yaml") as caught:
        LoopProject.from_dict(data)
    assert message in caught.value.message


def test_a_project_file_that_is_not_a_mapping_says_so() -> None:
    with pytest.raises(ConfigError, match="must be a mapping of sections"):
        LoopProject.from_dict(["a", "b"])


def test_load_project_reads_the_file_and_explains_a_missing_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no loopml\.yaml"):
        load_project(tmp_path)
    (tmp_path / "loopml.yaml").write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_project(tmp_path)
    (tmp_path / "loopml.yaml").write_text(
        "model: {name: churn}\ndata: {dataset: churn}\ntraining: {function: t.py:train}\n"
        "evaluation: {target: y}\ntriggers: {accuracy_drop: {metric: f1, drop: 0.1}}\n"
        "cooldown: 5m\npipelines: {training: t.py:training}\n"
    )
    project = load_project(tmp_path)
    assert project.triggers.accuracy_drop == ("f1", 0.1) and project.cooldown_s == 300
    assert project.root == tmp_path.resolve()


def test_durations_and_cron() -> None:
    assert [parse_duration(v, "x") for v in (90, "90s", "10m", "1h", "1d", "250ms")] == [
        90,
        90,
        600,
        3600,
        86400,
        0.25,
    ]
    cron = Cron.parse("30 3 * * 1-5")  # 03:30 UTC on weekdays
    monday_0300 = 1_795_489_200_000  # 2026-11-23 03:00 UTC, a Monday
    assert cron.due_between(monday_0300, monday_0300 + 3_600_000) == monday_0300 + 1_800_000
    saturday = monday_0300 + 5 * 86_400_000
    assert cron.due_between(saturday, saturday + 3_600_000) is None
    with pytest.raises(Exception, match="must have 5 fields"):
        Cron.parse("* * *")
