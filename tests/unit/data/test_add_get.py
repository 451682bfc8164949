"""Versioning tables, files and folders: numbering, dedup, round trips, aliases, bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import loopml
from loopml.data import DatasetVersion
from loopml.errors import InvalidInput, NotFound


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, 1_000),
            "plan": rng.choice(["basic", "pro", "team"], 1_000),
            "churned": rng.integers(0, 2, 1_000),
        }
    )


def stored_versions(name: str) -> list[int]:
    try:
        return [v.version for v in loopml.data.versions(name)]
    except NotFound:
        return []


def test_add_table_numbers_versions_and_dedups(tmp_home: Path, frame: pd.DataFrame) -> None:
    first = loopml.data.add("churn", frame, tags={"source": "crm"}, description="January")
    assert isinstance(first, DatasetVersion)
    assert (first.name, first.version, first.rows, first.ref) == ("churn", 1, 1_000, "churn@1")
    assert len(first.digest) == 64
    assert first.record.tags == {"source": "crm"}
    assert loopml.data.add("churn", frame.copy()).version == 1
    second = loopml.data.add("churn", frame.iloc[:500])
    assert second.version == 2
    assert loopml.data.show("churn").version == 2
    assert loopml.data.show("churn@latest").version == 2


def test_get_returns_the_same_dataframe(tmp_home: Path, frame: pd.DataFrame) -> None:
    loopml.data.add("churn", frame)
    pd.testing.assert_frame_equal(loopml.data.get("churn@1"), frame)
    assert loopml.data.get("churn@1", as_arrow=True).num_rows == 1_000


def test_add_accepts_arrow_and_polars(tmp_home: Path, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame)
    assert loopml.data.add("arrow", table).rows == 1_000
    polars = pytest.importorskip("polars")
    assert loopml.data.add("polars", polars.from_pandas(frame)).rows == 1_000


def test_profile_and_schema_describe_the_table(tmp_home: Path, frame: pd.DataFrame) -> None:
    version = loopml.data.add("churn", frame)
    profile = version.profile
    assert profile is not None
    assert profile.row_count == 1_000
    age = profile.columns["age"]
    assert age.kind == "numeric"
    assert age.mean == pytest.approx(frame["age"].mean())
    assert age.min == frame["age"].min()
    plan = profile.columns["plan"]
    assert dict(plan.top()) == frame["plan"].value_counts().to_dict()
    schema = version.schema
    assert schema is not None
    assert [c.name for c in schema.columns] == ["age", "plan", "churned"]
    assert schema.column("plan").categories == ("basic", "pro", "team")
    assert schema.column("age").nullable is False


def test_add_file_and_folder(tmp_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "a.jpg").write_bytes(b"cat")
    (folder / "b.jpg").write_bytes(b"bee")
    version = loopml.data.add("images", folder)
    assert (version.kind.value, version.record.num_files, version.profile) == ("folder", 2, None)
    out = loopml.data.get("images@1", dst=tmp_path / "out")
    assert (out / "cats" / "a.jpg").read_bytes() == b"cat"
    single = loopml.data.add("readme", folder / "b.jpg")
    path = loopml.data.get(single, dst=tmp_path / "one")
    assert (path.name, path.read_bytes()) == ("b.jpg", b"bee")


def test_readd_unchanged_folder_does_not_rehash(
    tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):
        (folder / f"{i}.txt").write_text(str(i))
    first = loopml.data.add("many", folder)
    from loopml.artifacts import BlobStore

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("an unchanged file was hashed again")

    monkeypatch.setattr(BlobStore, "put_many", refuse)
    monkeypatch.setattr(BlobStore, "put_bytes", refuse)
    assert loopml.data.add("many", folder).version == first.version
    monkeypatch.undo()
    (folder / "7.txt").write_text("changed")
    assert loopml.data.add("many", folder).version == 2


def test_alias_addresses_a_version(tmp_home: Path, frame: pd.DataFrame) -> None:
    loopml.data.add("churn", frame)
    loopml.data.add("churn", frame.iloc[:10])
    loopml.data.set_alias("churn@1", "training")
    assert loopml.data.show("churn@training").version == 1
    assert loopml.data.show("churn@training").aliases == ("training",)


def test_list_shows_latest_of_each(tmp_home: Path, frame: pd.DataFrame) -> None:
    loopml.data.add("b", frame)
    loopml.data.add("a", frame)
    loopml.data.add("a", frame.iloc[:3])
    found = {
        s.name: (s.versions, s.latest.version if s.latest else None) for s in loopml.data.list()
    }
    assert found == {"a": (2, 2), "b": (1, 1)}


# bad input: one clear message each, nothing stored changes ------------------------------------


def test_unsupported_source_is_refused(tmp_home: Path) -> None:
    with pytest.raises(InvalidInput, match=r"cannot version a builtins\.dict.*DataFrame"):
        loopml.data.add("x", {"a": [1, 2]})
    assert stored_versions("x") == []


def test_missing_or_unreadable_file_is_refused(tmp_home: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file or folder"):
        loopml.data.add("x", tmp_path / "nope.csv")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # not a regular file: refused even for root, who can read anything else
    with pytest.raises(InvalidInput, match=r"cannot read .*pipe: not a readable regular file"):
        loopml.data.add("x", pipe)
    assert stored_versions("x") == []


@pytest.mark.parametrize("name", ["../etc", "a/b", "a\\b", "x@1", "", " lead"])
def test_name_with_path_characters_is_refused(
    tmp_home: Path, frame: pd.DataFrame, name: str
) -> None:
    with pytest.raises(InvalidInput, match="dataset name"):
        loopml.data.add(name, frame)


def test_missing_version_is_named(tmp_home: Path, frame: pd.DataFrame) -> None:
    loopml.data.add("churn", frame)
    with pytest.raises(NotFound, match="dataset 'churn' has no version '7'"):
        loopml.data.get("churn@7")
    with pytest.raises(NotFound, match="dataset 'ghost' does not exist"):
        loopml.data.show("ghost@1")


def test_pinned_schema_refuses_disagreeing_frame(tmp_home: Path, frame: pd.DataFrame) -> None:
    loopml.data.add("churn", frame)
    loopml.data.pin_schema("churn")
    bad = frame.assign(plan="enterprise").drop(columns=["churned"])
    with pytest.raises(InvalidInput, match=r"pinned schema.*churned: missing_column.*unknown_cat"):
        loopml.data.add("churn", bad)
    assert stored_versions("churn") == [1]
    assert loopml.data.add("churn", frame.iloc[:100]).version == 2


def test_new_version_restores_blobs_missing_from_the_store(tmp_home: Path, tmp_path: Path) -> None:
    from loopml.workspace import default_workspace

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept")
    (folder / "edited.txt").write_text("v1")
    first = loopml.data.add("f", folder)
    from loopml.data.get import manifest_of

    ws = default_workspace()
    for digest in manifest_of(first, ws).blobs:  # e.g. collected, or another artifact store
        assert ws.blobs.delete(digest)
    (folder / "edited.txt").write_text("v2")
    second = loopml.data.add("f", folder)
    assert (first.version, second.version) == (1, 2)
    out = loopml.data.get("f@2", dst=tmp_path / "out")
    assert (out / "kept.txt").read_text() == "kept"


def test_odd_but_legal_file_names_roundtrip(tmp_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    names = ["~$report.docx", "50%2e5.txt", "back\\slash.txt", "space name.txt"]
    for name in names:
        (folder / name).write_text(name)
    loopml.data.add("odd", folder)
    out = loopml.data.get("odd@1", dst=tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert (out / "50%2e5.txt").read_text() == "50%2e5.txt"


def test_folder_symlink_pointing_outside_is_refused(tmp_home: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok")
    (folder / "leak.txt").symlink_to(secret)
    with pytest.raises(InvalidInput, match="leads outside"):
        loopml.data.add("f", folder)
    assert stored_versions("f") == []


def test_small_files_are_packed_and_large_ones_stored_alone(tmp_home: Path, tmp_path: Path) -> None:
    from loopml.data.folder import PACK_FILE_MAX
    from loopml.data.get import manifest_of
    from loopml.workspace import default_workspace

    folder = tmp_path / "mixed"
    folder.mkdir()
    for i in range(50):
        (folder / f"small{i}.txt").write_text(f"small {i}")
    big = os.urandom(PACK_FILE_MAX + 1)
    (folder / "big.bin").write_bytes(big)
    version = loopml.data.add("mixed", folder)
    manifest = manifest_of(version, default_workspace())
    packs = {e.pack for e in manifest.entries if e.path.startswith("small")}
    assert len(packs) == 1 and None not in packs
    assert next(e for e in manifest.entries if e.path == "big.bin").pack is None
    out = loopml.data.get("mixed@1", dst=tmp_path / "out")
    assert (out / "small7.txt").read_text() == "small 7"
    assert (out / "big.bin").read_bytes() == big


def test_same_content_is_one_version_however_it_was_packed(tmp_home: Path, tmp_path: Path) -> None:
    from loopml.workspace import default_workspace

    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(10):
        (folder / f"{i}.txt").write_text(str(i))
    first = loopml.data.add("f", folder)
    (folder / "3.txt").write_text("changed")
    loopml.data.add("f", folder)
    (folder / "3.txt").write_text("3")  # back to the first content, packed differently now
    assert loopml.data.add("f", folder).version == first.version
    # and from a cold cache too
    (default_workspace().settings.home / "cache" / "stat-index.db").unlink()
    assert loopml.data.add("f", folder).version == first.version


def test_corrupt_pack_is_caught_on_get(tmp_home: Path, tmp_path: Path) -> None:
    from loopml.data.get import manifest_of
    from loopml.errors import IntegrityError
    from loopml.workspace import default_workspace

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha")
    version = loopml.data.add("f", folder)
    ws = default_workspace()
    (pack,) = manifest_of(version, ws).blobs
    Path(ws.blobs.blob_path(pack)).write_bytes(b"beta!")
    with pytest.raises(IntegrityError, match=r"data f@1 pack\) is corrupted"):
        loopml.data.get("f@1", dst=tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()
