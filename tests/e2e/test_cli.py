"""The ``loopml`` command as a user runs it: real processes, real store, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loopml.store.migrations import HEAD
from loopml.testing.cli import assert_one_line_error, user_env
from loopml.testing.cli import run_cli as loopml


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = loopml(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert "Initialized LoopML project" in result.stdout
    script = textwrap.dedent(
        """
        import loopml
        loopml.set_experiment("churn")
        for lr, acc in [("0.01", 0.91), ("0.1", 0.72)]:
            with loopml.start_run(run_name=f"lr-{lr}"):
                loopml.log_param("lr", lr)
                loopml.log_metric("acc", acc)
                loopml.log_text("hello", "notes/hi.txt")
        """
    )
    (tmp_path / "train.py").write_text(script)
    sub = tmp_path / "sub" / "dir"
    sub.mkdir(parents=True)
    env = user_env()
    # Run from a sub-folder: the project home is found by walking up, like git.
    done = subprocess.run(
        [sys.executable, "../../train.py"], cwd=sub, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_info_reports_found_home(project: Path) -> None:
    result = loopml(project / "sub", "info", "--json")
    info = json.loads(result.stdout)
    assert info["home"] == str(project / ".loopml")
    assert "walking up" in info["sources"]["home"]
    assert info["schema_revision"] == HEAD


def test_runs_list_filter_and_json(project: Path) -> None:
    result = loopml(
        project, "runs", "list", "-e", "churn", "--filter", "metrics.acc > 0.8", "--json"
    )
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [r["info"]["run_name"] for r in runs] == ["lr-0.01"]
    table = loopml(project, "runs", "list")
    assert "lr-0.01" in table.stdout and "lr-0.1" in table.stdout


def test_runs_show_compare_delete_restore(project: Path) -> None:
    runs = json.loads(loopml(project, "runs", "list", "--json").stdout)
    ids = [r["info"]["run_id"] for r in runs]
    shown = json.loads(loopml(project, "runs", "show", ids[0], "--json").stdout)
    assert shown["artifacts"][0]["path"] == "notes/hi.txt"
    compared = loopml(project, "runs", "compare", *ids)
    assert compared.returncode == 0 and "params.lr" in compared.stdout
    assert loopml(project, "runs", "delete", ids[0]).returncode == 0
    assert len(json.loads(loopml(project, "runs", "list", "--json").stdout)) == 1
    assert loopml(project, "runs", "restore", ids[0]).returncode == 0
    assert len(json.loads(loopml(project, "runs", "list", "--json").stdout)) == 2


def test_experiments_lifecycle(project: Path) -> None:
    assert loopml(project, "experiments", "create", "other").returncode == 0
    assert loopml(project, "experiments", "rename", "other", "renamed").returncode == 0
    names = [e["name"] for e in json.loads(loopml(project, "experiments", "list", "--json").stdout)]
    assert names == ["churn", "renamed"]
    assert loopml(project, "experiments", "delete", "renamed").returncode == 0
    deleted = json.loads(loopml(project, "experiments", "list", "--deleted", "--json").stdout)
    assert [e["name"] for e in deleted] == ["renamed"]


def test_db_upgrade_and_check(project: Path) -> None:
    assert f"already at {HEAD}" in loopml(project, "db", "upgrade").stdout
    check = loopml(project, "db", "check")
    assert check.returncode == 0 and "ok" in check.stdout


def test_fsck_names_corrupt_blob(project: Path) -> None:
    assert "all intact" in loopml(project, "fsck").stdout
    blob = next(p for p in (project / ".loopml" / "artifacts" / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(b"tampered")
    result = loopml(project, "fsck", "--json")
    assert result.returncode == 5
    report = json.loads(result.stdout)
    assert report["corrupt"][0]["digest"] == blob.parent.name + blob.name
    assert report["corrupt"][0]["references"][0][1] == "notes/hi.txt"


def test_gc_keeps_referenced_and_recent(project: Path) -> None:
    result = json.loads(loopml(project, "gc", "--json").stdout)
    assert result["deleted_blobs"] == 0
    runs = json.loads(loopml(project, "runs", "list", "--json").stdout)
    for run in runs:
        loopml(project, "runs", "delete", run["info"]["run_id"])
    result = json.loads(loopml(project, "gc", "--json").stdout)
    assert len(result["purged_runs"]) == 2
    # The blob is unreferenced now but was written within the hour, so it stays.
    assert result["deleted_blobs"] == 0 and result["kept_recent"] == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["runs", "show", "nope"], "run 'nope' does not exist"),
        (["runs", "list", "--filter", "metrics.acc >"], "invalid filter at column"),
        (["experiments", "create", "churn"], "'churn' already exists"),
        (["experiments", "delete", "ghost"], "no experiment named or with id 'ghost'"),
    ],
)
def test_errors_are_one_line(project: Path, args: list[str], match: str) -> None:
    assert_one_line_error(loopml(project, *args), match)


def test_bad_setting_is_one_line(project: Path) -> None:
    result = loopml(project, "runs", "list", env={"LOOPML_FLUSH_INTERVAL": "soon"})
    assert_one_line_error(result, "LOOPML_FLUSH_INTERVAL='soon' is not valid")


def test_debug_shows_traceback(project: Path) -> None:
    result = loopml(project, "--debug", "runs", "show", "nope")
    assert result.returncode == 3 and "Traceback" in result.stderr


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["runs", "show"], "Missing argument"),
        (["runs", "list", "--bogus"], "No such option: --bogus"),
        (["init", "/nonexistent-folder"], "is not a folder"),
    ],
)
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], match: str) -> None:
    result = loopml(tmp_path, *args)
    assert result.returncode == 2
    assert_one_line_error(result, match)
