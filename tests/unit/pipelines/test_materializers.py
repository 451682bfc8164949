"""Materializers: every built-in round-trips, digests follow content, and tampering is refused."""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import loopml.data
from loopml._util.hashing import hash_bytes, hash_file
from loopml.data import DatasetVersion
from loopml.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from loopml.models import LoadedModel
from loopml.pipelines.materializers import (
    SavedValue,
    load_value,
    materializer_by_name,
    materializer_fingerprint,
    materializer_for,
    register_materializer,
    save_value,
    unregister_materializer,
)

FRAME_CODE = """
import pandas as pd
frame = pd.DataFrame(
    {"x": [1.5, 2.5, None], "plan": ["basic", "pro", None], "n": [1, 2, 3]},
    index=pd.Index([10, 20, 30], name="id"),
)
"""


def small_frame() -> pd.DataFrame:
    scope: dict[str, Any] = {}
    exec(FRAME_CODE, scope)
    frame = scope["frame"]
    assert isinstance(frame, pd.DataFrame)
    return frame


def roundtrip(value: Any, folder: Path) -> tuple[SavedValue, Any]:
    saved = save_value(value, folder)
    return saved, load_value(folder, saved)


class Doubler:
    def predict(self, data: Any) -> Any:
        return np.asarray(data).sum(axis=1) * 2


class Planted:
    """Unpickling this creates the marker file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


# --- tables -----------------------------------------------------------------------------------


def test_pandas_round_trip_keeps_index_and_dtypes(tmp_path: Path) -> None:
    frame = small_frame()
    saved, back = roundtrip(frame, tmp_path / "v")
    assert saved.materializer == "pandas"
    assert list(saved.files) == ["data.parquet"]
    assert saved.files["data.parquet"] == hash_file(tmp_path / "v" / "data.parquet")
    pd.testing.assert_frame_equal(back, frame)


def test_pandas_digest_is_the_same_in_another_folder_and_another_process(tmp_path: Path) -> None:
    here = save_value(small_frame(), tmp_path / "a")
    assert save_value(small_frame(), tmp_path / "b") == here
    code = FRAME_CODE + textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from loopml.pipelines.materializers import save_value
        print(save_value(frame, Path(sys.argv[1])).digest)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == here.digest


def test_different_frames_give_different_digests(tmp_path: Path) -> None:
    frame = small_frame()
    changed = frame.copy()
    changed.loc[10, "n"] = 99
    first = save_value(frame, tmp_path / "a")
    second = save_value(changed, tmp_path / "b")
    assert first.digest != second.digest
    assert first.files != second.files


def test_mixed_column_names_are_refused_not_renamed(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1], 5: [2]})
    with pytest.raises(InvalidInput, match="column names mix types"):
        save_value(frame, tmp_path / "v")
    assert list((tmp_path / "v").iterdir()) == []


def test_polars_round_trip_loads_polars(tmp_path: Path) -> None:
    polars = pytest.importorskip("polars")
    frame = polars.DataFrame({"x": [1.0, None, 3.0], "s": ["a", "b", None]})
    saved, back = roundtrip(frame, tmp_path / "v")
    assert saved.materializer == "polars"
    assert isinstance(back, polars.DataFrame)
    assert back.equals(frame)
    assert save_value(frame.clone(), tmp_path / "w").digest == saved.digest


def test_arrow_round_trip_keeps_the_exact_schema(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(
        pd.DataFrame({"x": [1, 2], "c": pd.Categorical(["u", "v"]), "s": ["p", None]})
    )
    saved, back = roundtrip(table, tmp_path / "v")
    assert saved.materializer == "arrow"
    assert back.equals(table)
    assert back.schema.equals(table.schema, check_metadata=True)


# --- numpy ------------------------------------------------------------------------------------


def test_numpy_round_trip_for_arrays_and_scalars(tmp_path: Path) -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    saved, back = roundtrip(array, tmp_path / "a")
    assert saved.materializer == "numpy"
    np.testing.assert_array_equal(back, array)
    assert back.dtype == np.float32
    strings = np.array(["a", "bc"])
    np.testing.assert_array_equal(roundtrip(strings, tmp_path / "s")[1], strings)
    saved, scalar = roundtrip(np.int16(7), tmp_path / "b")
    assert (saved.materializer, saved.meta) == ("numpy", {"scalar": True})
    assert type(scalar) is np.int16 and scalar == 7
    assert (
        save_value(array.copy(), tmp_path / "c").digest == save_value(array, tmp_path / "d").digest
    )
    assert save_value(array + 1, tmp_path / "e").digest != save_value(array, tmp_path / "f").digest


def test_object_dtype_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"dtype object.*pickled"):
        save_value(np.array([{"a": 1}, None], dtype=object), tmp_path / "v")
    assert not (tmp_path / "v").exists()


def test_numpy_load_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    folder = tmp_path / "v"
    folder.mkdir()
    trap = np.array([Planted(marker)], dtype=object)
    with (folder / "array.npy").open("wb") as out:
        np.save(out, trap, allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle=False"):
        materializer_by_name("numpy").load(folder, {})
    assert not marker.exists()
    # digests match here (the record was made from this very file), so only allow_pickle stops it
    record = SavedValue.from_dict(
        _record("numpy", {}, {"array.npy": hash_file(folder / "array.npy")})
    )
    with pytest.raises(ValueError, match="allow_pickle=False"):
        load_value(folder, record)
    assert not marker.exists()


def _record(name: str, meta: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    """A to_dict body with a correct digest, as a pipeline that saved it would hold."""
    body = {"materializer": name, "version": "1", "meta": dict(meta), "files": dict(files)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {**body, "digest": hash_bytes(text.encode("utf-8"))}


# --- json -------------------------------------------------------------------------------------


def test_json_round_trip_keeps_tuples_and_sorts_keys(tmp_path: Path) -> None:
    value = {"b": (1, [2.5, (None, True)]), "a": "é", "n": np.float64(0.5), "i": np.int64(3)}
    saved, back = roundtrip(value, tmp_path / "v")
    assert saved.materializer == "json"
    assert saved.meta == {"tuples": [["b"], ["b", 1, 1]]}
    assert back == {"a": "é", "b": (1, [2.5, (None, True)]), "i": 3, "n": 0.5}
    assert list(back) == ["a", "b", "i", "n"]
    assert type(back["i"]) is int
    simple: list[Any] = [None, True, 3, 2.5, "text", (), []]
    for i, item in enumerate(simple):
        back = roundtrip(item, tmp_path / f"s{i}")[1]
        assert (back, type(back)) == (item, type(item))


def test_json_digests_follow_the_value_not_the_key_order(tmp_path: Path) -> None:
    first = save_value({"a": 1, "b": [1, 2]}, tmp_path / "a")
    assert save_value({"b": [1, 2], "a": 1}, tmp_path / "b").digest == first.digest
    assert save_value({"a": 1, "b": (1, 2)}, tmp_path / "c").digest != first.digest
    assert save_value({"a": 1.0, "b": [1, 2]}, tmp_path / "d").digest != first.digest
    assert save_value({"a": True, "b": [1, 2]}, tmp_path / "e").digest != first.digest


def test_json_refuses_nan_and_non_string_keys(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"value\['loss'\] is nan, which JSON cannot hold"):
        save_value({"loss": float("nan")}, tmp_path / "a")
    with pytest.raises(InvalidInput, match="is inf"):
        save_value([float("inf")], tmp_path / "b")
    with pytest.raises(InvalidInput, match="JSON keys must be strings"):
        save_value({1: "a"}, tmp_path / "c")
    with pytest.raises(InvalidInput, match=r"value\[0\] is a builtins\.set"):
        save_value([{1, 2}], tmp_path / "d")


# --- models -----------------------------------------------------------------------------------


def test_model_round_trip_loads_a_loaded_model(tmp_path: Path) -> None:
    saved, back = roundtrip(Doubler(), tmp_path / "v")
    assert saved.materializer == "model"
    assert saved.meta["flavor"] == "python"
    assert all(path.startswith("model/") for path in saved.files)
    assert isinstance(back, LoadedModel)
    np.testing.assert_array_equal(back.predict(np.ones((2, 2))), [4.0, 4.0])


def test_tables_and_arrays_are_never_saved_as_models() -> None:
    assert materializer_for(small_frame()).name == "pandas"
    assert materializer_for(np.zeros(2)).name == "numpy"
    assert materializer_for({"predict": 1}).name == "json"


def test_a_changed_model_file_is_refused_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    folder = tmp_path / "v"
    saved = save_value(Doubler(), folder)
    (folder / "model" / "model.pkl").write_bytes(pickle.dumps(Planted(marker)))
    with pytest.raises(IntegrityError, match=r"value file 'model/model\.pkl' changed"):
        load_value(folder, saved)
    with pytest.raises(IntegrityError, match=r"model file 'model\.pkl' changed"):
        materializer_by_name("model").load(folder, saved.meta)
    assert not marker.exists()


# --- files and folders ------------------------------------------------------------------------


def test_file_round_trip_keeps_the_name(tmp_path: Path) -> None:
    source = tmp_path / "report.txt"
    source.write_text("hello")
    saved, back = roundtrip(source, tmp_path / "v")
    assert (saved.materializer, saved.meta, list(saved.files)) == (
        "file",
        {"name": "report.txt"},
        ["report.txt"],
    )
    assert back == (tmp_path / "v" / "report.txt").resolve()
    assert back.read_text() == "hello"
    other = tmp_path / "other.txt"
    other.write_text("hello")
    assert save_value(other, tmp_path / "w").digest != saved.digest  # the name is part of it


def test_folder_round_trip_copies_files_and_follows_inner_links(tmp_path: Path) -> None:
    source = tmp_path / "reports"
    (source / "sub").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("b")
    (source / "link.txt").symlink_to("sub/b.txt")
    saved, back = roundtrip(source, tmp_path / "v")
    assert saved.materializer == "folder"
    assert sorted(saved.files) == ["reports/a.txt", "reports/link.txt", "reports/sub/b.txt"]
    assert back == (tmp_path / "v" / "reports").resolve()
    assert (back / "link.txt").read_text() == "b"
    assert not (back / "link.txt").is_symlink()
    assert not (back / "empty").exists()
    copy = tmp_path / "copy" / "reports"
    copy.parent.mkdir()
    os.rename(source, copy)
    assert save_value(copy, tmp_path / "w").digest == saved.digest


def test_folder_links_leading_out_or_looping_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    source = tmp_path / "out"
    source.mkdir()
    (source / "leak.txt").symlink_to(outside)
    with pytest.raises(InvalidInput, match="symlink that leads outside"):
        save_value(source, tmp_path / "v")
    assert list((tmp_path / "v").iterdir()) == []
    looping = tmp_path / "loop"
    (looping / "sub").mkdir(parents=True)
    (looping / "sub" / "back").symlink_to("..")
    with pytest.raises(InvalidInput, match="loops back"):
        save_value(looping, tmp_path / "w")


def test_a_folder_cannot_be_saved_into_itself(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(InvalidInput, match="which is inside it"):
        save_value(tmp_path, tmp_path / "v")


# --- data versions ----------------------------------------------------------------------------


def test_data_version_round_trip_stores_only_its_address(tmp_home: Path, tmp_path: Path) -> None:
    version = loopml.data.add("churn", small_frame())
    saved, back = roundtrip(version, tmp_path / "v")
    assert saved.materializer == "data_version"
    assert saved.files == {}
    assert saved.meta == {
        "ref": "churn@1",
        "version_id": version.version_id,
        "digest": version.digest,
    }
    assert isinstance(back, DatasetVersion)
    assert (back.ref, back.digest) == (version.ref, version.digest)
    other = loopml.data.add("churn", small_frame().head(1))
    assert save_value(other, tmp_path / "w").digest != saved.digest
    changed = {**saved.meta, "digest": "0" * 64}
    with pytest.raises(IntegrityError, match="data version churn@1 changed"):
        materializer_by_name("data_version").load(tmp_path / "v", changed)


# --- integrity --------------------------------------------------------------------------------


def test_a_tampered_file_is_refused_naming_both_digests(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    saved = save_value([1, 2, 3], folder)
    (folder / "value.json").write_text("[1,2,4]")
    found = hash_file(folder / "value.json")
    expected = saved.files["value.json"]
    with pytest.raises(
        IntegrityError,
        match=f"value file 'value.json' changed: expected digest {expected}, found {found}",
    ):
        load_value(folder, saved)


def test_missing_and_extra_files_are_refused(tmp_path: Path) -> None:
    saved = save_value(np.zeros(3), tmp_path / "a")
    (tmp_path / "a" / "extra.bin").write_bytes(b"x")
    with pytest.raises(IntegrityError, match=r"'extra\.bin' is not part of the saved value"):
        load_value(tmp_path / "a", saved)
    (tmp_path / "a" / "extra.bin").unlink()
    (tmp_path / "a" / "array.npy").unlink()
    with pytest.raises(IntegrityError, match=r"'array\.npy' is missing"):
        load_value(tmp_path / "a", saved)
    with pytest.raises(NotFound, match="does not exist"):
        load_value(tmp_path / "nowhere", saved)


def test_saved_value_record_round_trips_and_refuses_edits(tmp_path: Path) -> None:
    saved = save_value((1, "a"), tmp_path / "v")
    data = json.loads(json.dumps(saved.to_dict()))
    assert data == _record("json", {"tuples": [[]]}, saved.files)  # the documented digest
    assert SavedValue.from_dict(data) == saved
    assert hash(SavedValue.from_dict(data)) == hash(saved)
    with pytest.raises(IntegrityError, match="does not match its digest"):
        SavedValue.from_dict({**data, "meta": {}})
    with pytest.raises(InvalidInput, match="missing field 'files'"):
        SavedValue.from_dict({k: v for k, v in data.items() if k != "files"})
    with pytest.raises(InvalidInput, match="does not map a path"):
        SavedValue.from_dict({**data, "files": {"../x": "0" * 64}})


def test_saving_into_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "old.txt").write_text("old")
    with pytest.raises(AlreadyExists, match="not an empty folder"):
        save_value([1], tmp_path / "v")


# --- registry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True)
class PointMaterializer:
    name: str = "test-point"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, Point)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        (folder / "point.txt").write_text(f"{value.x},{value.y}")
        return {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        x, y = (folder / "point.txt").read_text().split(",")
        return Point(int(x), int(y))


@dataclass(frozen=True)
class ListMaterializer:
    """Claims lists, which the json built-in would otherwise take."""

    name: str = "test-list"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, list)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        (folder / "items.txt").write_text("\n".join(map(str, value)))
        return {"count": len(value)}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        return [int(item) for item in (folder / "items.txt").read_text().split("\n")]


@pytest.fixture
def registered() -> Iterator[None]:
    yield
    for name in ("test-point", "test-list"):
        unregister_materializer(name)


@pytest.mark.usefixtures("registered")
def test_user_materializers_are_tried_before_the_built_ins(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no materializer can save a .*\.Point"):
        save_value(Point(1, 2), tmp_path / "a")
    register_materializer(PointMaterializer())
    saved, back = roundtrip(Point(1, 2), tmp_path / "b")
    assert (saved.materializer, back) == ("test-point", Point(1, 2))
    assert materializer_for([1, 2]).name == "json"
    register_materializer(ListMaterializer())
    saved, back = roundtrip([1, 2], tmp_path / "c")
    assert (saved.materializer, saved.meta, back) == ("test-list", {"count": 2}, [1, 2])
    unregister_materializer("test-list")
    with pytest.raises(NotFound, match=r"no materializer is called 'test-list'.*register"):
        load_value(tmp_path / "c", saved)


@pytest.mark.usefixtures("registered")
def test_fingerprint_lists_every_materializer_with_its_version() -> None:
    before = materializer_fingerprint()
    assert list(before) == sorted(before)
    assert before["pandas"] == "1"
    assert "test-point" not in before
    register_materializer(PointMaterializer(version="7"))
    assert materializer_fingerprint() == {**before, "test-point": "7"}


def test_registering_a_built_in_name_or_a_bad_name_is_refused() -> None:
    with pytest.raises(AlreadyExists, match="taken by a built-in"):
        register_materializer(PointMaterializer(name="pandas"))
    with pytest.raises(InvalidInput, match="is not valid"):
        register_materializer(PointMaterializer(name="Bad Name"))


def test_unknown_materializer_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="no materializer is called 'parquet-v9'"):
        materializer_by_name("parquet-v9")
    assert materializer_by_name("pandas").name == "pandas"


def test_a_value_saved_by_another_version_is_not_loaded(tmp_path: Path) -> None:
    saved = save_value([1], tmp_path / "v")
    with pytest.raises(NotFound, match="saved with version '0'"):
        load_value(tmp_path / "v", replace(saved, version="0"))


# --- unsupported ------------------------------------------------------------------------------


def _generator() -> Iterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: lambda x: x, r"no materializer can save a builtins\.function"),
        (_generator, r"no materializer can save a builtins\.generator"),
        (lambda: np.array([object()], dtype=object), "dtype object"),
        (lambda: {1, 2}, r"no materializer can save a builtins\.set"),
        (lambda: [1, object()], r"not JSON-able \(value\[1\] is a builtins\.object\)"),
        (lambda: Path("/no/such/path"), "no file or folder there"),
    ],
)
def test_unsupported_values_are_refused(make: Any, match: str, tmp_path: Path) -> None:
    value = make()
    with pytest.raises(InvalidInput, match=match):
        materializer_for(value)
    with pytest.raises(InvalidInput, match=match):
        save_value(value, tmp_path / "v")


def test_a_socket_is_refused(tmp_path: Path) -> None:
    with (
        socket.socket() as sock,
        pytest.raises(InvalidInput, match=r"no materializer can save a socket\.socket"),
    ):
        save_value(sock, tmp_path / "v")
