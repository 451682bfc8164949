"""log_model → register → load_model: round trips, URIs, and refusing what was not recorded."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import loopml
from loopml.errors import IntegrityError, InvalidInput, NotFound
from loopml.models import PythonModel
from loopml.registry import get_version, register_model, set_alias
from loopml.workspace import default_workspace

from .conftest import FEATURES, good_model


class Doubler(PythonModel):
    def predict(self, data: Any) -> Any:
        return np.asarray(data["a"]) * 2


class Planted:
    """Unpickling this writes a marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.write_text, (self.marker, "unpickled"))


def test_log_model_records_flavor_signature_and_registers(frames: Any) -> None:
    train, test = frames
    model = good_model(train)
    with loopml.start_run() as run:
        info = loopml.log_model(
            model, input_example=train[FEATURES].head(3), registered_model_name="churn"
        )
    assert info.model_uri == f"runs:/{run.run_id}/model"
    assert (info.registered_model_name, info.version, info.flavor) == ("churn", 1, "sklearn")
    assert info.signature is not None
    assert [c["name"] for c in info.signature["inputs"]] == FEATURES
    expected = model.predict_proba(test[FEATURES])
    for uri in (info.model_uri, "models:/churn/1", "models:/churn@latest", "models:/churn"):
        loaded = loopml.load_model(uri)
        np.testing.assert_allclose(loaded.predict_proba(test[FEATURES]), expected)
    version = get_version("churn", 1)
    assert version.run_id == run.run_id and version.flavor == "sklearn"
    assert version.digest == info.digest


def test_load_by_alias_follows_the_alias(frames: Any) -> None:
    train, test = frames
    with loopml.start_run():
        loopml.log_model(good_model(train), registered_model_name="m")
    with loopml.start_run():
        loopml.log_model(Doubler(), registered_model_name="m")
    set_alias("m", "champion", 1)
    assert loopml.load_model("models:/m@champion").flavor == "sklearn"
    set_alias("m", "champion", 2)
    doubled = loopml.load_model("models:/m@champion").predict(test[FEATURES].head(2))
    np.testing.assert_allclose(doubled, test.a.head(2) * 2)


def test_log_model_without_an_active_run_starts_and_ends_one(frames: Any) -> None:
    train, _ = frames
    info = loopml.log_model(good_model(train), name="clf")
    run = loopml.get_run(info.run_id)
    assert run.info.status.value == "FINISHED"
    assert info.model_uri.endswith("/clf")


@pytest.mark.parametrize(
    ("uri", "error", "message"),
    [
        ("models:/ghost/1", NotFound, "registered model 'ghost' does not exist"),
        ("models:/m@champion", NotFound, "has no alias 'champion'"),
        ("models:/m/9", NotFound, "has no version 9"),
        ("models:/m/zero", InvalidInput, "versions are numbers from 1"),
        ("s3://bucket/model", InvalidInput, "unknown scheme"),
        ("runs:/nothex/model", InvalidInput, "does not name a run and a path"),
    ],
)
def test_bad_uris_are_named(frames: Any, uri: str, error: type[Exception], message: str) -> None:
    train, _ = frames
    loopml.log_model(good_model(train), registered_model_name="m")
    with pytest.raises(error, match=message):
        loopml.load_model(uri)


def _blob_of(version_files: Any, name: str) -> Path:
    path = default_workspace().blobs.local_path(version_files[name])
    assert path is not None
    return path


def test_a_file_changed_after_registration_is_refused_naming_version_and_digests(
    frames: Any,
) -> None:
    train, _ = frames
    loopml.log_model(good_model(train), registered_model_name="churn")
    loopml.load_model("models:/churn/1")  # loaded once: the cache must not hide the change
    files = get_version("churn", 1).files
    blob = _blob_of(files, "model.skops")
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="is corrupted") as caught:
        loopml.load_model("models:/churn/1")
    message = str(caught.value)
    assert "model 'churn' version 1" in message
    found = re.search(r"expected digest ([0-9a-f]{64}), got ([0-9a-f]{64})", message)
    assert found is not None
    assert found[1] == files["model.skops"] and found[2] != found[1]


def test_a_planted_pickle_is_never_unpickled(frames: Any, tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    info = loopml.log_model(Doubler(), registered_model_name="py")

    blob = _blob_of(get_version("py", 1).files, "model.pkl")
    blob.chmod(0o644)
    blob.write_bytes(pickle.dumps(Planted(marker)))
    for uri in ("models:/py/1", info.model_uri):
        with pytest.raises(IntegrityError, match="corrupted"):
            loopml.load_model(uri)
    with pytest.raises(IntegrityError, match="corrupted"):
        loopml.promote(
            "py", 1, gates=[], data=pd.DataFrame({"a": [1.0], "label": [2.0]}), target="label"
        )
    assert not marker.exists()


def test_a_folder_logged_as_plain_artifacts_is_not_a_model(frames: Any, tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(Planted(marker)))
    (folder / "MLmodel.json").write_text('{"flavor": "python", "format": "cloudpickle"}')
    with loopml.start_run() as run:
        loopml.log_artifacts(folder, "model")
    with pytest.raises(NotFound, match=r"holds no model logged with loopml\.log_model"):
        loopml.load_model(f"runs:/{run.run_id}/model")
    assert not marker.exists()


def test_cached_load_is_the_same_object_until_the_alias_moves(frames: Any) -> None:
    train, _ = frames
    loopml.log_model(good_model(train), registered_model_name="m")
    loopml.log_model(Doubler(), registered_model_name="m")
    set_alias("m", "champion", 1)
    first = loopml.load_model("models:/m@champion")
    assert loopml.load_model("models:/m@champion") is first
    set_alias("m", "champion", 2)
    assert loopml.load_model("models:/m@champion") is not first


def test_a_version_records_its_training_data_and_target(frames: Any) -> None:
    train, test = frames
    train_version = loopml.data.add("train", train)
    loopml.data.add("test", test)
    with loopml.start_run():
        loopml.log_input(train_version, role="train")
        loopml.log_input(loopml.data.show("test@1"), role="test")
        info = loopml.log_model(good_model(train))
    loopml.evaluate(info.model_uri, "test@1", target="label")
    version = register_model(info.model_uri, "churn")
    assert (version.data_version, version.target) == ("train@1", "label")
