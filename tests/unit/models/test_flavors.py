"""Every flavor saves and loads back to identical predictions and probabilities."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

from loopml.errors import AlreadyExists, InvalidInput
from loopml.models import (
    INPUT_EXAMPLE_FILE,
    MODEL_META_FILE,
    LoadedModel,
    ModelMeta,
    PythonModel,
    flavors,
    folder_manifest,
    load_model_folder,
    read_meta,
    save_model,
)
from loopml.models.flavors import sklearn as sklearn_flavor

ROWS = 80
FEATURES = pd.DataFrame(
    np.random.default_rng(7).normal(size=(ROWS, 4)), columns=["f0", "f1", "f2", "f3"]
)
TARGET = FEATURES["f0"] * 2 - FEATURES["f1"] + 0.1 * FEATURES["f2"]
THREE = np.array(["low", "mid", "high"])[pd.qcut(TARGET, 3, labels=False).to_numpy()]
TWO = np.where(TARGET.median() < TARGET, "yes", "no")


class Threshold(PythonModel):
    """A hand-written classifier on the PythonModel base class."""

    classes: ClassVar[list[Any]] = ["no", "yes"]

    def predict(self, data: Any) -> Any:
        return np.where(data["f0"] > 0, "yes", "no")

    def predict_proba(self, data: Any) -> Any:
        p = 1 / (1 + np.exp(-data["f0"].to_numpy()))
        return np.column_stack([1 - p, p])


class Linear:
    """A plain class with predict, fitted on (and fed) numpy arrays."""

    def __init__(self) -> None:
        self.weights = np.array([2.0, -1.0, 0.1, 0.0])

    def predict(self, data: Any) -> Any:
        return np.asarray(data) @ self.weights


@dataclass(frozen=True)
class Case:
    build: Callable[[], Any]
    flavor: str
    format: str
    task: str | None
    classes: list[Any] | None
    arrays: bool = False  # fitted on and fed numpy instead of a DataFrame


def _xgb_booster() -> Any:
    matrix = xgb.DMatrix(FEATURES, label=(TWO == "yes").astype(int))
    return xgb.train({"objective": "binary:logistic", "max_depth": 2}, matrix, num_boost_round=4)


def _lgb_booster() -> Any:
    data = lgb.Dataset(FEATURES, label=(TWO == "yes").astype(int))
    params = {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5}
    return lgb.train(params, data, num_boost_round=4)


def _xgb_string_labels() -> Any:
    # XGBoost >= 2 only fits labels 0..n-1: string labels go through a LabelEncoder first
    codes = LabelEncoder().fit_transform(THREE)
    return xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(FEATURES, codes)


LGB = {"n_estimators": 4, "num_leaves": 4, "min_child_samples": 5, "verbose": -1, "n_jobs": 1}
CASES = {
    "sklearn-logistic": Case(
        lambda: LogisticRegression().fit(FEATURES, THREE),
        "sklearn",
        "skops",
        "classification",
        ["high", "low", "mid"],
    ),
    "sklearn-pipeline-numpy": Case(
        lambda: make_pipeline(StandardScaler(), LogisticRegression()).fit(FEATURES.to_numpy(), TWO),
        "sklearn",
        "skops",
        "classification",
        ["no", "yes"],
        arrays=True,
    ),
    "sklearn-forest": Case(
        lambda: RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(
            FEATURES, TARGET
        ),
        "sklearn",
        "skops",
        "regression",
        None,
    ),
    "xgb-classifier": Case(
        _xgb_string_labels, "xgboost", "xgboost-ubj", "classification", [0, 1, 2]
    ),
    "xgb-regressor-numpy": Case(
        lambda: xgb.XGBRegressor(n_estimators=4, max_depth=2).fit(FEATURES.to_numpy(), TARGET),
        "xgboost",
        "xgboost-ubj",
        "regression",
        None,
        arrays=True,
    ),
    "xgb-booster": Case(_xgb_booster, "xgboost", "xgboost-ubj", "classification", [0, 1]),
    "lgb-binary": Case(
        lambda: lgb.LGBMClassifier(**LGB).fit(FEATURES, TWO),
        "lightgbm",
        "lightgbm-txt",
        "classification",
        ["no", "yes"],
    ),
    "lgb-3-class": Case(
        lambda: lgb.LGBMClassifier(**LGB).fit(FEATURES, THREE),
        "lightgbm",
        "lightgbm-txt",
        "classification",
        ["high", "low", "mid"],
    ),
    "lgb-regressor": Case(
        lambda: lgb.LGBMRegressor(**LGB).fit(FEATURES, TARGET),
        "lightgbm",
        "lightgbm-txt",
        "regression",
        None,
    ),
    "lgb-booster": Case(_lgb_booster, "lightgbm", "lightgbm-txt", "classification", [0, 1]),
    "python-model": Case(Threshold, "python", "cloudpickle", "classification", ["no", "yes"]),
    "python-plain": Case(Linear, "python", "cloudpickle", None, None, arrays=True),
}


def _save_and_load(model: Any, folder: Path, **kwargs: Any) -> tuple[ModelMeta, LoadedModel]:
    meta = save_model(model, folder, **kwargs)
    return meta, load_model_folder(folder, expected_files=folder_manifest(folder))


def _expected(model: Any, data: Any) -> tuple[Any, Any]:
    """What the in-memory model answers, its own way (raw boosters return P(class 1))."""
    if isinstance(model, xgb.Booster | lgb.Booster):
        scores = model.predict(xgb.DMatrix(data) if isinstance(model, xgb.Booster) else data)
        return (scores > 0.5).astype(int), np.column_stack([1 - scores, scores])
    proba = model.predict_proba(data) if hasattr(model, "predict_proba") else None
    return model.predict(data), proba


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_gives_identical_predictions(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    model = case.build()
    data = FEATURES.to_numpy() if case.arrays else FEATURES
    meta, loaded = _save_and_load(model, tmp_path / "model", input_example=data[:10])

    assert (meta.flavor, meta.format, meta.task, meta.classes) == (
        case.flavor,
        case.format,
        case.task,
        case.classes,
    )
    assert meta.executable is (case.format == "cloudpickle")
    assert loaded.meta == meta == read_meta(tmp_path / "model")
    assert loaded.classes == case.classes
    assert meta.signature is not None and len(meta.signature.inputs) == 4
    assert {"python", "numpy", "pandas"} <= set(meta.requirements)

    predicted, proba = _expected(model, data)
    np.testing.assert_array_equal(loaded.predict(data), predicted)
    # records (what an HTTP client sends) give the same answer as the array or DataFrame
    names = [c.name for c in meta.signature.inputs]
    records = pd.DataFrame(np.asarray(data), columns=names).to_dict(orient="records")
    np.testing.assert_array_equal(loaded.predict(records), predicted)
    if case.task == "classification":
        np.testing.assert_array_equal(loaded.predict_proba(data), proba)
    else:
        with pytest.raises(InvalidInput, match="predict_proba is not available"):
            loaded.predict_proba(data)


def test_raw_is_the_library_object(tmp_path: Path) -> None:
    lgb_model = lgb.LGBMClassifier(**LGB).fit(FEATURES, TWO)
    assert isinstance(_save_and_load(lgb_model, tmp_path / "l")[1].raw, lgb.Booster)
    xgb_model = xgb.XGBRegressor(n_estimators=2).fit(FEATURES, TARGET)
    assert type(_save_and_load(xgb_model, tmp_path / "x")[1].raw) is xgb.XGBRegressor
    booster = _xgb_booster()
    assert type(_save_and_load(booster, tmp_path / "b")[1].raw) is xgb.Booster


def test_regressor_has_no_probabilities(tmp_path: Path) -> None:
    model = LinearRegression().fit(FEATURES, TARGET)
    _, loaded = _save_and_load(model, tmp_path / "m", input_example=FEATURES[:3])
    assert loaded.classes is None
    with pytest.raises(InvalidInput, match="model is a regressor: predict_proba is not available"):
        loaded.predict_proba(FEATURES)


def test_flavor_order_prefers_the_native_library() -> None:
    assert flavors.for_object(xgb.XGBClassifier()).NAME == "xgboost"
    assert flavors.for_object(lgb.LGBMRegressor()).NAME == "lightgbm"
    assert flavors.for_object(make_pipeline(StandardScaler(), LinearRegression())).NAME == "sklearn"
    assert flavors.for_object(Linear()).NAME == "python"
    assert flavors.by_name("sklearn") is sklearn_flavor
    with pytest.raises(InvalidInput, match="unknown model flavor 'onnx'"):
        flavors.by_name("onnx")


def test_detection_imports_no_model_library() -> None:
    code = (
        "import sys\n"
        "from loopml.models import flavors\n"
        "class M:\n"
        "    def predict(self, x): return x\n"
        "assert flavors.for_object(M()).NAME == 'python'\n"
        "print(sorted({'sklearn', 'xgboost', 'lightgbm', 'skops'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_skops_trusted_types_round_trip(tmp_path: Path) -> None:
    model = RandomForestRegressor(n_estimators=2, max_depth=2, random_state=0).fit(FEATURES, TARGET)
    meta, loaded = _save_and_load(model, tmp_path / "m")
    assert meta.extra["trusted_types"] == ["sklearn.tree._tree.Tree"]
    np.testing.assert_array_equal(loaded.predict(FEATURES), model.predict(FEATURES))
    # exactly the recorded types are trusted: without them skops refuses the very same file
    import skops.io

    untrusting = replace(meta, extra={**meta.extra, "trusted_types": []})
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException, match="Tree"):
        sklearn_flavor.load(tmp_path / "m", untrusting)


def test_sklearn_falls_back_to_pickle_when_skops_cannot_save(tmp_path: Path) -> None:
    model = LinearRegression().fit(FEATURES, TARGET)
    model.note_ = 1j  # skops cannot store a complex number; pickle can
    meta, loaded = _save_and_load(model, tmp_path / "m")
    assert (meta.format, meta.executable) == ("pickle", True)
    assert sorted(meta.files) == ["model.pkl"]
    np.testing.assert_array_equal(loaded.predict(FEATURES), model.predict(FEATURES))


def test_signature_and_input_example_file(tmp_path: Path) -> None:
    model = LogisticRegression().fit(FEATURES, TWO)
    meta = save_model(model, tmp_path / "m", input_example=FEATURES)
    assert meta.signature is not None
    assert [c.name for c in meta.signature.inputs] == ["f0", "f1", "f2", "f3"]
    assert [(c.name, c.dtype) for c in meta.signature.outputs] == [("prediction", "string")]
    example = json.loads((tmp_path / "m" / INPUT_EXAMPLE_FILE).read_text())
    assert example == FEATURES.head(5).to_dict(orient="records")
    assert set(meta.files) == {INPUT_EXAMPLE_FILE, "model.skops"}
    assert MODEL_META_FILE not in meta.files


def test_loaded_model_checks_its_input(tmp_path: Path) -> None:
    model = LogisticRegression().fit(FEATURES, TWO)
    _, loaded = _save_and_load(model, tmp_path / "m", input_example=FEATURES[:5])
    with pytest.raises(InvalidInput, match=r"missing input column\(s\) 'f3'"):
        loaded.predict(FEATURES.drop(columns="f3"))


def test_without_signature_data_goes_to_the_model_as_given(tmp_path: Path) -> None:
    model = LogisticRegression().fit(FEATURES, TWO)
    meta, loaded = _save_and_load(model, tmp_path / "m")
    assert meta.signature is None and "input_type" not in meta.extra
    np.testing.assert_array_equal(loaded.predict(FEATURES), model.predict(FEATURES))


def test_explicit_signature_must_accept_the_example(tmp_path: Path) -> None:
    model = LogisticRegression().fit(FEATURES, TWO)
    other = save_model(model, tmp_path / "a", input_example=FEATURES[["f0", "f1", "f2", "f3"]])
    assert other.signature is not None
    with pytest.raises(InvalidInput, match=r"unexpected input column\(s\) 'extra'"):
        save_model(
            model,
            tmp_path / "b",
            signature=other.signature,
            input_example=FEATURES.assign(extra=1),
        )
    assert not (tmp_path / "b").exists()


def test_save_refuses_what_no_flavor_can_save(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no model flavor can save a builtins\.dict"):
        save_model({"weights": [1, 2]}, tmp_path / "m")
    with pytest.raises(InvalidInput, match=r"the xgboost flavor cannot save a .*Linear"):
        save_model(Linear(), tmp_path / "m", flavor="xgboost")
    assert not (tmp_path / "m").exists()


def test_save_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("mine")
    with pytest.raises(AlreadyExists, match="exists and is not an empty folder"):
        save_model(Linear(), tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["notes.txt"]


def test_failed_prediction_on_the_example_leaves_nothing(tmp_path: Path) -> None:
    class Broken:
        def predict(self, data: Any) -> Any:
            raise RuntimeError("weights not loaded\nsecond line")

    with pytest.raises(InvalidInput, match=r"on input_example: weights not loaded \(pass an"):
        save_model(Broken(), tmp_path / "m", input_example=FEATURES[:2])
    assert list(tmp_path.iterdir()) == []


def test_save_into_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    meta = save_model(Linear(), tmp_path / "m")
    assert folder_manifest(tmp_path / "m").keys() == {*meta.files, MODEL_META_FILE}


def test_the_same_sklearn_model_saves_to_the_same_bytes_in_another_process(tmp_path: Path) -> None:
    """skops names arrays after memory addresses; the saved file must not (pipelines cache it)."""
    code = (
        "import sys, numpy as np\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "from loopml.models import save_model\n"
        "X = np.random.default_rng(0).normal(size=(40, 3))\n"
        "model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, [0, 1] * 20)\n"
        "print(save_model(model, sys.argv[1]).files['model.skops'])\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / f"m{i}")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for i in range(2)
    }
    assert len(digests) == 1


def test_lightgbm_on_pandas_categories_takes_text_as_a_server_sends_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    plan = pd.Series(rng.choice(["basic", "plus", "pro"], ROWS)).astype("category")
    frame = FEATURES.assign(plan=plan)
    model = lgb.LGBMClassifier(**LGB).fit(frame, TWO)
    as_text = frame.assign(plan=frame["plan"].astype(str))  # what JSON or a stored table gives
    _, loaded = _save_and_load(model, tmp_path / "m", input_example=as_text[:3])
    np.testing.assert_array_equal(loaded.predict(as_text), model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(as_text), model.predict_proba(frame))
