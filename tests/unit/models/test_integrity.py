"""Loading checks digests first: a changed, missing or extra file is refused, never unpickled."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from loopml._util.hashing import hash_bytes, hash_file
from loopml.errors import IntegrityError, InvalidInput, NotFound
from loopml.models import (
    MODEL_META_FILE,
    ModelMeta,
    files_digest,
    folder_manifest,
    load_model_folder,
    read_meta,
    save_model,
    write_meta,
)
from loopml.models.flavors import python as python_flavor

X = np.arange(12, dtype=float).reshape(6, 2)


class Doubler:
    def predict(self, data: Any) -> Any:
        return np.asarray(data).sum(axis=1) * 2


class Planted:
    """Unpickling this creates the marker file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def _saved(folder: Path, model: Any = None) -> tuple[ModelMeta, dict[str, str]]:
    meta = save_model(Doubler() if model is None else model, folder, input_example=X)
    return meta, folder_manifest(folder)  # what the registry records at log time


def _planted_pickle(marker: Path) -> bytes:
    data = pickle.dumps(Planted(marker))
    pickle.loads(data)  # the trap is real: loading it does create the marker
    assert marker.exists()
    marker.unlink()
    return data


def test_intact_folder_loads(tmp_path: Path) -> None:
    meta, expected = _saved(tmp_path / "m")
    assert set(expected) == {MODEL_META_FILE, "model.pkl", "input_example.json"}
    loaded = load_model_folder(tmp_path / "m", expected_files=expected, meta=meta)
    np.testing.assert_array_equal(loaded.predict(X), Doubler().predict(X))


def test_one_changed_byte_is_refused_naming_both_digests(tmp_path: Path) -> None:
    _, expected = _saved(tmp_path / "m")
    path = tmp_path / "m" / "model.pkl"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    found = hash_file(path)
    with pytest.raises(IntegrityError, match=r"model file 'model\.pkl' changed") as caught:
        load_model_folder(tmp_path / "m", expected_files=expected)
    assert expected["model.pkl"] in str(caught.value) and found in str(caught.value)
    assert caught.value.field == "model.pkl"


@pytest.mark.parametrize("model", [Doubler(), "sklearn-pickle"], ids=["cloudpickle", "pickle"])
def test_planted_pickle_is_never_unpickled(tmp_path: Path, model: Any) -> None:
    if model == "sklearn-pickle":
        model = LinearRegression().fit(X, X[:, 0])
        model.note_ = 1j  # forces the sklearn flavor's pickle fallback
    meta, expected = _saved(tmp_path / "m", model)
    assert meta.executable and "model.pkl" in meta.files
    marker = tmp_path / "pwned"
    (tmp_path / "m" / "model.pkl").write_bytes(_planted_pickle(marker))

    with pytest.raises(IntegrityError, match=r"model file 'model\.pkl' changed: expected digest"):
        load_model_folder(tmp_path / "m", expected_files=expected)
    assert not marker.exists()


def test_planted_pickle_with_a_rewritten_mlmodel_json_is_refused(tmp_path: Path) -> None:
    """Rewriting MLmodel.json to match the plant only adds a second changed file."""
    meta, expected = _saved(tmp_path / "m")
    marker = tmp_path / "pwned"
    planted = _planted_pickle(marker)
    (tmp_path / "m" / "model.pkl").write_bytes(planted)
    files = {**meta.files, "model.pkl": hash_bytes(planted)}
    write_meta(tmp_path / "m", replace(meta, files=files))

    with pytest.raises(IntegrityError, match=r"changed: .*; 1 more file\(s\) differ too"):
        load_model_folder(tmp_path / "m", expected_files=expected)
    assert not marker.exists()


def test_flavor_loader_rechecks_the_bytes_it_unpickles(tmp_path: Path) -> None:
    """Even called directly, after the folder check, a swapped file is refused, not loaded."""
    meta, _ = _saved(tmp_path / "m")
    marker = tmp_path / "pwned"
    (tmp_path / "m" / "model.pkl").write_bytes(_planted_pickle(marker))
    with pytest.raises(IntegrityError, match=r"model file 'model\.pkl' changed"):
        python_flavor.load(tmp_path / "m", meta)
    assert not marker.exists()


def test_missing_file(tmp_path: Path) -> None:
    _, expected = _saved(tmp_path / "m")
    (tmp_path / "m" / "input_example.json").unlink()
    with pytest.raises(IntegrityError, match=r"'input_example\.json' is missing: .*found none"):
        load_model_folder(tmp_path / "m", expected_files=expected)


def test_extra_file(tmp_path: Path) -> None:
    _, expected = _saved(tmp_path / "m")
    (tmp_path / "m" / "sitecustomize.py").write_text("import os")
    with pytest.raises(
        IntegrityError, match=r"'sitecustomize\.py' is not part of the model: expected digest none"
    ):
        load_model_folder(tmp_path / "m", expected_files=expected)


def test_symlink_is_refused(tmp_path: Path) -> None:
    _, expected = _saved(tmp_path / "m")
    (tmp_path / "elsewhere").write_text("x")
    os.symlink(tmp_path / "elsewhere", tmp_path / "m" / "link")
    with pytest.raises(IntegrityError, match="'link' is a symlink"):
        load_model_folder(tmp_path / "m", expected_files=expected)


def test_mlmodel_json_files_must_match_the_folder(tmp_path: Path) -> None:
    meta, _ = _saved(tmp_path / "m")
    files = {k: v for k, v in meta.files.items() if k != "input_example.json"}
    write_meta(tmp_path / "m", replace(meta, files=files))
    recorded = folder_manifest(tmp_path / "m")  # a registry that recorded the bad folder
    with pytest.raises(IntegrityError, match=r"MLmodel\.json lists files that are not the ones"):
        load_model_folder(tmp_path / "m", expected_files=recorded)


def test_recorded_meta_must_match_mlmodel_json(tmp_path: Path) -> None:
    meta, expected = _saved(tmp_path / "m")
    other = replace(meta, task="regression")
    with pytest.raises(IntegrityError, match="recorded model metadata differs"):
        load_model_folder(tmp_path / "m", expected_files=expected, meta=other)


def test_expected_files_must_be_digests_and_name_mlmodel_json(tmp_path: Path) -> None:
    _, expected = _saved(tmp_path / "m")
    with pytest.raises(InvalidInput, match=r"expected_files does not list MLmodel\.json"):
        load_model_folder(tmp_path / "m", expected_files={"model.pkl": expected["model.pkl"]})
    with pytest.raises(InvalidInput, match=r"expected_files\['model\.pkl'\] is not a BLAKE3"):
        load_model_folder(tmp_path / "m", expected_files={**expected, "model.pkl": "abc"})
    with pytest.raises(NotFound, match="does not exist"):
        load_model_folder(tmp_path / "nowhere", expected_files=expected)


def test_files_digest_is_stable_and_order_free() -> None:
    a, b = "a" * 64, "b" * 64
    assert files_digest({"x": a, "y": b}) == files_digest({"y": b, "x": a})
    assert files_digest({"x": a, "y": b}) != files_digest({"x": b, "y": a})
    assert len(files_digest({})) == 64


def test_meta_round_trip_and_malformed_mlmodel_json(tmp_path: Path) -> None:
    meta, _ = _saved(tmp_path / "m")
    assert ModelMeta.from_dict(json.loads(json.dumps(meta.to_dict()))) == meta
    assert read_meta(tmp_path / "m") == meta
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / MODEL_META_FILE).write_text("{not json")
    with pytest.raises(InvalidInput, match=r"MLmodel\.json is malformed: it is not JSON"):
        read_meta(bad)
    (bad / MODEL_META_FILE).write_text(json.dumps({**meta.to_dict(), "flavor": "onnx"}))
    with pytest.raises(InvalidInput, match="unknown flavor 'onnx'"):
        read_meta(bad)
    for files in ({"a": "../x"}, {"../a": "a" * 64}, {"/etc/passwd": "a" * 64}):
        (bad / MODEL_META_FILE).write_text(json.dumps({**meta.to_dict(), "files": files}))
        with pytest.raises(InvalidInput, match="does not map a path to a BLAKE3 digest"):
            read_meta(bad)
    with pytest.raises(InvalidInput, match=r"has no MLmodel\.json"):
        read_meta(tmp_path)
