"""``loopml data …`` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.testing.cli import assert_one_line_error
from loopml.testing.cli import run_cli as loopml


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert loopml(tmp_path, "init").returncode == 0
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(1_000), "x": rng.normal(0, 1, 1_000)})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.assign(x=frame["x"] + 2, id=frame["id"] + 100).to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.md").write_text("hello")
    return tmp_path


def test_add_list_show_diff(project: Path) -> None:
    first = json.loads(loopml(project, "data", "add", "sales", "a.csv", "--table", "--json").stdout)
    assert first["ref"] == "sales@1" and first["rows"] == 1_000
    assert loopml(project, "data", "add", "sales", "b.csv", "--table").returncode == 0
    listed = json.loads(loopml(project, "data", "list", "--json").stdout)
    assert [(d["name"], d["versions"]) for d in listed] == [("sales", 2)]
    shown = json.loads(loopml(project, "data", "show", "sales@1", "--json").stdout)
    assert shown["profile"]["row_count"] == 1_000
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    diff = json.loads(
        loopml(project, "data", "diff", "sales@1", "sales@2", "-k", "id", "--json").stdout
    )
    assert (diff["rows"]["added"], diff["rows"]["removed"]) == (100, 100)
    assert diff["drift"]["columns"]["x"]["drifted"] is True
    table = loopml(project, "data", "diff", "sales@1", "sales@2")
    assert table.returncode == 0
    assert "100% of columns drifted" in table.stdout


def test_schema_pin_and_validate(project: Path) -> None:
    loopml(project, "data", "add", "sales", "a.csv", "--table")
    pinned = loopml(project, "data", "schema", "sales", "--pin", "--json")
    assert json.loads(pinned.stdout)["columns"][0]["name"] == "id"
    ok = loopml(project, "data", "validate", "a.csv", "--schema", "sales")
    assert ok.returncode == 0
    bad = loopml(project, "data", "validate", "b.csv", "--schema", "sales", "--json")
    assert bad.returncode == 1
    kinds = {v["kind"] for v in json.loads(bad.stdout)["violations"]}
    assert kinds == {"above_max"}
    refused = loopml(project, "data", "add", "sales", "b.csv", "--table")
    assert refused.returncode == 2 and "pinned schema" in refused.stderr


def test_folder_get_alias_and_lineage(project: Path) -> None:
    added = loopml(project, "data", "add", "docs", "docs")
    assert added.returncode == 0 and "docs@1  folder" in added.stdout
    assert loopml(project, "data", "alias", "docs@1", "training").returncode == 0
    got = loopml(project, "data", "get", "docs@training", "-o", "out")
    assert got.returncode == 0
    assert (project / "out" / "readme.md").read_text() == "hello"
    found = json.loads(loopml(project, "data", "lineage", "docs@1", "--json").stdout)
    assert (found["version"]["ref"], found["version"]["aliases"]) == ("docs@1", ["training"])
    assert found["models"] == found["runs"] == found["derived"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "show", "ghost"], "dataset 'ghost' does not exist"),
        (["data", "add", "bad/name", "a.csv"], "dataset name 'bad/name' is not allowed"),
        (["data", "add", "x", "missing.csv"], "no such file or folder"),
        (["data", "add", "x", "docs/readme.md", "--table"], "--table reads .csv"),
    ],
)
def test_bad_input_is_one_line(project: Path, args: list[str], message: str) -> None:
    assert_one_line_error(loopml(project, *args), message)


def test_report_is_self_contained(project: Path) -> None:
    loopml(project, "data", "add", "sales", "a.csv", "--table")
    loopml(project, "data", "add", "sales", "b.csv", "--table")
    result = loopml(project, "data", "report", "sales@2", "--vs", "sales@1", "-o", "r/report.html")
    assert result.returncode == 0, result.stderr
    page = (project / "r" / "report.html").read_text()
    assert "<svg" in page and "sales@1" in page and "drift" in page.lower()
    assert "http://" not in page.replace("http://www.w3.org", "")
