"""Validation lists every violation; diff and drift compare versions through their profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml
from loopml.data import Schema
from loopml.errors import InvalidInput


def make(n: int, shift: float = 0.0, seed: int = 0, ids: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(ids, ids + n),
            "x": rng.normal(shift, 1.0, n),
            "color": rng.choice(["red", "green"], n),
        }
    )


def test_validate_reports_every_violation(tmp_home: Path) -> None:
    version = loopml.data.add("d", make(500))
    assert version.schema is not None
    bad = make(10).assign(color=["blue"] * 3 + ["red"] * 7)
    bad.loc[0, "x"] = 1e6
    bad["extra"] = 1
    found = {(v.column, v.kind): v for v in loopml.data.validate(bad, version.schema)}
    assert set(found) == {
        ("x", "above_max"),
        ("color", "unknown_category"),
        ("extra", "extra_column"),
    }
    assert found[("color", "unknown_category")].count == 3
    assert found[("color", "unknown_category")].examples == ["blue"]
    assert found[("x", "above_max")].examples == [1e6]


def test_validate_against_a_reference_and_dtype(tmp_home: Path) -> None:
    loopml.data.add("d", make(100))
    wrong = make(5).assign(id=["a", "b", "c", "d", "e"])
    kinds = {v.kind for v in loopml.data.validate(wrong, "d@1")}
    assert "dtype" in kinds
    assert loopml.data.validate(make(5, ids=10), "d@1") == []


def test_schema_dict_roundtrip_and_bad_schema() -> None:
    schema = Schema.from_dict({"columns": [{"name": "a", "dtype": "int64", "nullable": False}]})
    assert Schema.from_dict(schema.to_dict()) == schema
    with pytest.raises(InvalidInput, match="schema is malformed"):
        Schema.from_dict({"columns": [{"dtype": "int64"}]})


def test_diff_counts_rows_and_flags_drift(tmp_home: Path) -> None:
    loopml.data.add("d", make(3_000, seed=1))
    loopml.data.add("d", make(3_000, shift=1.0, seed=2, ids=500))
    result = loopml.data.diff("d@1", "d@2", key="id")
    assert (result.rows["added"], result.rows["removed"]) == (500, 500)
    assert result.drift is not None
    assert result.drift.columns["x"].drifted
    assert result.drift.columns["x"].test == "wasserstein"
    assert not result.drift.columns["color"].drifted
    body = result.to_dict()
    assert body["drift"]["columns"]["x"]["drifted"] is True
    assert set(body["columns"]["x"]) == {"a", "b"}


def test_diff_reports_schema_changes(tmp_home: Path) -> None:
    loopml.data.add("d", make(50))
    loopml.data.add("d", make(50).drop(columns=["color"]).assign(y=1.5))
    changes = {(c["column"], c["change"]) for c in loopml.data.diff("d@1", "d@2").schema_changes}
    assert changes == {("color", "removed"), ("y", "added")}


def test_diff_folders_lists_files(tmp_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a").write_text("1")
    (folder / "b").write_text("2")
    loopml.data.add("f", folder)
    (folder / "a").write_text("changed")
    (folder / "b").unlink()
    (folder / "c").write_text("3")
    loopml.data.add("f", folder)
    files = loopml.data.diff("f@1", "f@2").files
    assert files == {"added": ["c"], "removed": ["b"], "modified": ["a"]}


def test_diff_key_whose_type_changed(tmp_home: Path) -> None:
    loopml.data.add("d", make(10))
    loopml.data.add("d", make(10, ids=5).assign(id=lambda f: f["id"].astype(str)))
    rows = loopml.data.diff("d@1", "d@2", key="id").rows
    assert (rows["added"], rows["removed"], rows["kept"]) == (5, 5, 5)


def test_diff_with_unknown_key_is_refused(tmp_home: Path) -> None:
    loopml.data.add("d", make(10))
    loopml.data.add("d", make(11))
    with pytest.raises(InvalidInput, match="key column 'nope' is not in d@1"):
        loopml.data.diff("d@1", "d@2", key="nope")


def test_drift_accepts_frames_versions_and_profiles(tmp_home: Path) -> None:
    a, b = make(2_000, seed=3), make(2_000, seed=4)
    same = loopml.drift(a, b)
    assert same.drift_share == 0.0 and not same.dataset_drift
    version = loopml.data.add("d", a)
    assert version.profile is not None
    shifted = loopml.drift("d@1", make(2_000, shift=2.0, seed=5))
    assert shifted.columns["x"].drifted
    assert loopml.drift(version.profile, version).drift_share == 0.0


def test_drift_of_a_folder_version_is_refused(tmp_home: Path, tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a").write_text("1")
    loopml.data.add("files", tmp_path / "f")
    with pytest.raises(InvalidInput, match="has no table profile"):
        loopml.drift("files@1", make(10))


def test_lineage_links_runs_and_versions(tmp_home: Path) -> None:
    train = loopml.data.add("d", make(100))
    with loopml.start_run() as run:
        loopml.log_input(train, role="train")
        loopml.log_input("d@1", role="test")
    used = loopml.data.lineage("d@1")
    assert {(u["run_id"], u["role"]) for u in used} == {(run.run_id, "train"), (run.run_id, "test")}
    assert loopml.LoopMLClient().list_inputs(run.run_id) == [("d@1", "test"), ("d@1", "train")]
