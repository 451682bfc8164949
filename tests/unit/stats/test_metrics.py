"""Weighted metrics agree with scikit-learn, batch the same as one at a time, and stay NaN-safe."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as sk

from loopml.errors import InvalidInput
from loopml.stats.metrics import (
    CLASSIFICATION_METRICS,
    HIGHER_IS_BETTER,
    REGRESSION_METRICS,
    calibration_points,
    classification_metrics,
    confusion_matrix,
    encode_classification,
    pr_curve_points,
    regression_metrics,
    roc_curve_points,
)

NAMES = np.array(["ant", "bee", "cat", "dog"])


def _case(seed: int, k: int, *, ties: bool, strings: bool) -> dict[str, Any]:
    """Labels, predictions, probabilities and integer weights; class k-1 sometimes never
    predicted, every class present in y_true with positive weight."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 150))
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    if seed % 3 == 0:
        pred[pred == k - 1] = 0  # a class never predicted
    if ties:  # a few prototype rows, one with probabilities on bin edges: many exact ties
        prototypes = rng.dirichlet(np.ones(k), size=4)
        prototypes[0] = np.full(k, 1.0 / k) if k != 2 else [0.7, 0.3]
        proba = prototypes[rng.integers(0, 4, n)]
    else:
        proba = rng.dirichlet(np.ones(k), size=n)
        proba[np.arange(n), y] += rng.random(n)  # informative, then renormalised
        proba /= proba.sum(axis=1, keepdims=True)
    weights = rng.integers(0, 4, n).astype(float)
    weights[:k] = rng.integers(1, 4, k)
    classes = [str(name) for name in NAMES[:k]] if strings else list(range(k))
    return {
        "y": NAMES[y] if strings else y,
        "pred": NAMES[pred] if strings else pred,
        "proba": proba,
        "classes": classes,
        "weights": weights,
    }


def _sklearn(case: dict[str, Any], weights: np.ndarray | None) -> dict[str, float]:
    y, pred, proba, classes = case["y"], case["pred"], case["proba"], case["classes"]
    common: dict[str, Any] = {"labels": classes, "zero_division": 0, "sample_weight": weights}
    if len(classes) == 2:
        main: dict[str, Any] = {"average": "binary", "pos_label": classes[1]}
        auc = sk.roc_auc_score(y == classes[1], proba[:, 1], sample_weight=weights)
    else:
        main = {"average": "macro"}
        auc = sk.roc_auc_score(y, proba, multi_class="ovr", labels=classes, sample_weight=weights)
    out = {
        "accuracy": sk.accuracy_score(y, pred, sample_weight=weights),
        "roc_auc": auc,
        "log_loss": sk.log_loss(y, proba, labels=classes, sample_weight=weights),
        "brier": sk.brier_score_loss(y, proba, labels=classes, sample_weight=weights),
    }
    for name, score in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        out[name] = score(y, pred, **main, **common)
        out[f"{name}_macro"] = score(y, pred, average="macro", **common)
    return out


def _ece_loop(confidence: np.ndarray, outcome: np.ndarray, weights: np.ndarray) -> float:
    """Expected calibration error the slow, obvious way."""
    total = float(weights.sum())
    ece = 0.0
    for b in range(10):
        low, high = b / 10, (b + 1) / 10
        members = [i for i, c in enumerate(confidence) if low <= c < high or (b == 9 and c == 1.0)]
        share = sum(weights[i] for i in members)
        if share == 0:
            continue
        mean_conf = sum(weights[i] * confidence[i] for i in members) / share
        mean_hit = sum(weights[i] * outcome[i] for i in members) / share
        ece += share / total * abs(mean_conf - mean_hit)
    return ece


def _close(got: float, want: float) -> bool:
    """Equal to 1e-9 (NaN equals NaN)."""
    return got == pytest.approx(want, rel=1e-9, abs=1e-9, nan_ok=True)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", range(10))
def test_classification_agrees_with_sklearn(k: int, seed: int) -> None:
    case = _case(seed, k, ties=seed % 2 == 1, strings=seed % 3 == 1)
    data = encode_classification(case["y"], case["pred"], case["proba"], case["classes"])
    assert data.classes == tuple(case["classes"])
    for weights in (None, case["weights"]):
        got = classification_metrics(data, weights)
        want = _sklearn(case, weights)
        assert set(got) == set(CLASSIFICATION_METRICS)
        for name, value in want.items():
            assert isinstance(got[name], float)
            assert _close(got[name], value), (name, weights is None, got[name], value)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_calibration_error_matches_a_plain_loop(k: int, seed: int) -> None:
    case = _case(seed, k, ties=seed % 2 == 0, strings=False)
    data = encode_classification(case["y"], case["pred"], case["proba"])
    proba, y = case["proba"], case["y"]
    if k == 2:
        confidence, outcome = proba[:, 1], (y == 1).astype(float)
    else:
        top = proba.argmax(axis=1)
        confidence, outcome = proba.max(axis=1), (top == y).astype(float)
    for weights in (np.ones(len(y)), case["weights"]):
        got = classification_metrics(data, weights)["calibration_error"]
        assert _close(float(got), _ece_loop(confidence, outcome, weights))


def test_integer_weights_equal_repeated_rows() -> None:
    case = _case(7, 3, ties=True, strings=True)
    repeat = case["weights"].astype(int)
    data = encode_classification(case["y"], case["pred"], case["proba"], case["classes"])
    longer = encode_classification(
        np.repeat(case["y"], repeat),
        np.repeat(case["pred"], repeat),
        np.repeat(case["proba"], repeat, axis=0),
        case["classes"],
    )
    weighted = classification_metrics(data, case["weights"])
    for name, value in classification_metrics(longer).items():
        assert _close(float(weighted[name]), float(value)), name


@pytest.mark.parametrize("k", [2, 3])
def test_a_batch_equals_its_rows_one_at_a_time(k: int) -> None:
    case = _case(11, k, ties=True, strings=False)
    data = encode_classification(case["y"], case["pred"], case["proba"])
    rng = np.random.default_rng(0)
    n = data.n
    batch = np.vstack([np.ones(n), rng.integers(0, 3, (3, n)), rng.random((2, n))])
    together = classification_metrics(data, batch)
    assert all(np.shape(v) == (6,) for v in together.values())
    for row, weights in enumerate(batch):
        alone = classification_metrics(data, weights)
        for name, value in alone.items():
            assert _close(float(np.asarray(together[name])[row]), float(value)), name
    fortran = classification_metrics(data, np.asfortranarray(batch))
    for name, values in together.items():
        np.testing.assert_allclose(fortran[name], values, rtol=1e-12)


def test_without_probabilities_only_label_metrics() -> None:
    data = encode_classification([0, 1, 1, 0], [0, 1, 0, 0])
    got = classification_metrics(data)
    assert set(got) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "precision_macro",
        "recall_macro",
        "f1_macro",
    }
    assert got["accuracy"] == 0.75
    assert got["precision"] == 1.0
    assert got["recall"] == 0.5


def test_more_than_two_classes_report_macro_as_the_headline() -> None:
    case = _case(4, 4, ties=False, strings=False)
    data = encode_classification(case["y"], case["pred"], case["proba"])
    got = classification_metrics(data)
    for name in ("precision", "recall", "f1"):
        assert got[name] == got[f"{name}_macro"]


def test_one_class_is_perfect_and_has_no_auc() -> None:
    data = encode_classification(["a"] * 5, ["a"] * 5, np.ones((5, 1)))
    got = classification_metrics(data)
    assert data.classes == ("a",)
    assert got["accuracy"] == got["precision"] == got["recall"] == got["f1"] == 1.0
    assert math.isnan(float(got["roc_auc"]))
    assert got["brier"] == 0.0
    assert got["calibration_error"] == 0.0


def test_auc_is_nan_when_a_resample_lacks_a_class() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1]] * 2 + [[0.1, 0.8, 0.1]] * 2 + [[0.2, 0.2, 0.6]] * 2)
    multi = encode_classification(y, proba.argmax(axis=1), proba)
    weights = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0.0]])
    auc = classification_metrics(multi, weights)["roc_auc"]
    assert isinstance(auc, np.ndarray)
    assert auc[0] == 1.0 and math.isnan(auc[1]) and math.isnan(auc[2])
    binary = encode_classification([0, 0, 1, 1], [0, 1, 0, 1], proba[:4, :2] / 0.9)
    zero_positives = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    got = classification_metrics(binary, zero_positives)
    assert all(math.isnan(v) for v in np.asarray(got["roc_auc"]))
    assert math.isnan(float(np.asarray(got["accuracy"])[1]))  # no weight at all: NaN, no warning


def test_log_loss_clips_and_does_not_renormalise() -> None:
    y = np.array([0, 1, 1])
    proba = np.array([[1.0, 0.0], [1.0, 0.0], [0.3, 0.6]])  # last row sums to 0.9
    data = encode_classification(y, [0, 0, 1], proba)
    with pytest.warns(UserWarning, match="do not sum to one"):
        want = sk.log_loss(y, proba)
    assert _close(float(classification_metrics(data)["log_loss"]), want)
    single = np.array([[0.0, 1.0]], dtype=np.float32)
    data32 = encode_classification([0], [1], single, classes=[0, 1])
    eps32 = float(np.finfo(np.float32).eps)
    assert _close(float(classification_metrics(data32)["log_loss"]), -math.log(eps32))


def test_classes_name_the_columns_in_any_order() -> None:
    y = np.array(["b", "a", "c", "b"])
    proba_bac = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    data = encode_classification(y, ["b", "a", "c", "a"], proba_bac, classes=["b", "a", "c"])
    assert data.classes == ("a", "b", "c")
    assert data.proba is not None
    np.testing.assert_array_equal(data.proba[:, 0], proba_bac[:, 1])
    np.testing.assert_array_equal(data.y_true, [1, 0, 2, 1])
    want = sk.log_loss(y, proba_bac[:, [1, 0, 2]], labels=["a", "b", "c"])
    assert _close(float(classification_metrics(data)["log_loss"]), want)


def test_positive_class_probability_alone_is_accepted() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.9, 0.4, 0.4, 0.6])
    data = encode_classification(y, (p > 0.5).astype(int), p)
    got = classification_metrics(data)
    assert _close(float(got["roc_auc"]), sk.roc_auc_score(y, p))
    assert _close(float(got["brier"]), sk.brier_score_loss(y, p))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": [0, 1], "y_pred": [0]}, "rows but y_pred has"),
        ({"y_true": [], "y_pred": []}, "no rows"),
        ({"y_true": [0.0, np.nan], "y_pred": [0, 1]}, "missing labels"),
        ({"y_true": ["a", None], "y_pred": ["a", "a"]}, "missing labels"),
        ({"y_true": [[0, 1]], "y_pred": [[0, 1]]}, "one-dimensional"),
        ({"y_true": ["a", "b"], "y_pred": [0, 1]}, "mix numbers and strings"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "proba": np.ones((2, 3)) / 3}, "3 columns"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "proba": np.ones((3, 2)) / 2}, "proba has shape"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "proba": [[1.5, -0.5]] * 2}, r"in \[0, 1\]"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "proba": [[np.nan, 1]] * 2}, r"in \[0, 1\]"),
        ({"y_true": [0, 1, 2], "y_pred": [0, 1, 2], "proba": [0.1, 0.2, 0.3]}, "1-D proba"),
        ({"y_true": [0, 3], "y_pred": [0, 1], "classes": [0, 1]}, "y_true has labels not in"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "classes": [0, 1, 1]}, "distinct"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "classes": []}, "distinct and non-empty"),
        (
            {"y_true": np.array([1, "a"], dtype=object), "y_pred": np.array([1, 1], dtype=object)},
            "cannot be compared",
        ),
    ],
)
def test_bad_classification_input_says_what_is_wrong(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        encode_classification(**kwargs)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (np.ones(3), "weights have shape"),
        (np.ones((2, 3)), "weights have shape"),
        (np.ones((1, 2, 2)), "weights have shape"),
        (np.array([1.0, -1.0]), "finite and non-negative"),
        (np.array([1.0, np.nan]), "finite and non-negative"),
        (np.array([[1.0, np.inf]]), "finite and non-negative"),
    ],
)
def test_bad_weights_say_what_is_wrong(weights: np.ndarray, match: str) -> None:
    data = encode_classification([0, 1], [0, 1])
    with pytest.raises(InvalidInput, match=match):
        classification_metrics(data, weights)
    with pytest.raises(InvalidInput, match=match):
        regression_metrics([1.0, 2.0], [1.0, 2.0], weights)


@pytest.mark.parametrize("seed", range(8))
def test_regression_agrees_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    y = rng.normal(10 * (seed % 3), 3, n)
    y[0] = 0.0  # MAPE divides by eps here, like sklearn
    pred = y + rng.normal(0, 1, n)
    weights = rng.integers(0, 4, n).astype(float)
    weights[:2] = 1.0
    for w in (None, weights):
        got = regression_metrics(y, pred, w)
        assert set(got) == set(REGRESSION_METRICS)
        want = {
            "mae": sk.mean_absolute_error(y, pred, sample_weight=w),
            "rmse": sk.root_mean_squared_error(y, pred, sample_weight=w),
            "r2": sk.r2_score(y, pred, sample_weight=w),
            "mape": sk.mean_absolute_percentage_error(y, pred, sample_weight=w),
        }
        for name, value in want.items():
            assert _close(float(got[name]), value), name


def test_regression_batch_and_constant_targets() -> None:
    y = np.array([1.0, 1.0, 2.0, 4.0])
    pred = np.array([1.5, 0.5, 2.0, 3.0])
    batch = np.array([[1.0, 1, 1, 1], [1, 1, 0, 0], [2, 0, 1, 1], [0, 0, 0, 0]])
    together = regression_metrics(y, pred, batch)
    for row in range(3):
        alone = regression_metrics(y, pred, batch[row])
        for name in REGRESSION_METRICS:
            assert _close(float(np.asarray(together[name])[row]), float(alone[name]))
    r2 = np.asarray(together["r2"])
    assert math.isnan(r2[1])  # only the two rows with y == 1: constant target
    assert all(math.isnan(v) for v in np.asarray(together["mae"])[3:])
    assert math.isnan(float(regression_metrics([0.1] * 3, [0.1, 0.2, 0.3])["r2"]))
    assert math.isnan(float(regression_metrics([5.0], [4.0])["r2"]))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([1.0, 2.0], [1.0], "rows but y_pred has"),
        ([], [], "no rows"),
        ([1.0, np.nan], [1.0, 2.0], "NaN or infinite"),
        ([1.0, 2.0], [1.0, np.inf], "NaN or infinite"),
        (["a", "b"], [1.0, 2.0], "must be numeric"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "one-dimensional"),
    ],
)
def test_bad_regression_input_says_what_is_wrong(y_true: Any, y_pred: Any, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        regression_metrics(y_true, y_pred)


def test_higher_is_better_covers_every_metric() -> None:
    assert set(HIGHER_IS_BETTER) == set(CLASSIFICATION_METRICS) | set(REGRESSION_METRICS)
    assert HIGHER_IS_BETTER["accuracy"] and HIGHER_IS_BETTER["r2"]
    assert not HIGHER_IS_BETTER["log_loss"] and not HIGHER_IS_BETTER["mae"]


def test_curves_match_sklearn_on_small_data() -> None:
    case = _case(3, 2, ties=True, strings=True)
    data = encode_classification(case["y"], case["pred"], case["proba"])
    positive, score = case["y"] == "bee", case["proba"][:, 1]
    roc = roc_curve_points(data)
    fpr, tpr, thresholds = sk.roc_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(roc["fpr"], fpr)
    np.testing.assert_allclose(roc["tpr"], tpr)
    assert roc["thresholds"][0] is None
    np.testing.assert_allclose(roc["thresholds"][1:], thresholds[1:])
    pr = pr_curve_points(data)
    precision, recall, _ = sk.precision_recall_curve(positive, score, drop_intermediate=False)
    reached = len(precision)  # sklearn stops where recall first reaches 1
    np.testing.assert_allclose(pr["precision"][:reached], precision[::-1])
    np.testing.assert_allclose(pr["recall"][:reached], recall[::-1])
    assert pr["recall"][-1] == 1.0


def test_curves_are_downsampled_to_200_points() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 5000)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    data = encode_classification(y, (p > 0.5).astype(int), p)
    roc, pr = roc_curve_points(data), pr_curve_points(data)
    assert 100 < len(roc["fpr"]) <= 200 and len(roc["fpr"]) == len(roc["thresholds"])
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(roc["fpr"]) >= 0) and np.all(np.diff(roc["tpr"]) >= 0)
    assert 100 < len(pr["precision"]) <= 200 and pr["recall"][-1] == 1.0
    assert all(isinstance(v, float) for v in roc["fpr"] + pr["precision"])


def test_calibration_points_and_confusion_matrix() -> None:
    case = _case(5, 3, ties=False, strings=True)
    data = encode_classification(case["y"], case["pred"], case["proba"])
    points = calibration_points(data, bins=5)
    proba = case["proba"]
    top = proba.argmax(axis=1)
    confidence = proba.max(axis=1)
    hit = NAMES[top] == case["y"]
    index = np.minimum((confidence * 5).astype(int), 4)
    want = [
        (confidence[index == b].mean(), hit[index == b].mean(), int((index == b).sum()))
        for b in range(5)
        if (index == b).any()
    ]
    np.testing.assert_allclose(points["mean_predicted"], [w[0] for w in want], rtol=1e-12)
    np.testing.assert_allclose(points["observed"], [w[1] for w in want], rtol=1e-12)
    assert points["count"] == [w[2] for w in want]
    assert sum(points["count"]) == data.n
    matrix = confusion_matrix(data)
    want_matrix = sk.confusion_matrix(case["y"], case["pred"], labels=list(data.classes))
    assert matrix == want_matrix.tolist()
    assert all(type(cell) is int for row in matrix for cell in row)


def test_curves_refuse_what_they_cannot_draw() -> None:
    labels_only = encode_classification([0, 1], [0, 1])
    with pytest.raises(InvalidInput, match="needs two classes and probabilities"):
        roc_curve_points(labels_only)
    with pytest.raises(InvalidInput, match="calibration curve needs probabilities"):
        calibration_points(labels_only)
    one_class = encode_classification([1, 1], [0, 1], [0.2, 0.7])
    with pytest.raises(InvalidInput, match="both classes in y_true"):
        pr_curve_points(one_class)
    data = encode_classification([0, 1], [0, 1], [0.2, 0.7])
    with pytest.raises(InvalidInput, match="bins must be a positive integer"):
        calibration_points(data, bins=0)


def test_calibration_bins_include_their_lower_edge() -> None:
    p = np.array([0.3, 0.35, 0.25, 1.0, 0.9, 0.0, 0.1])
    y = np.array([1, 0, 0, 1, 0, 0, 1])
    data = encode_classification(y, (p > 0.5).astype(int), p)
    got = float(classification_metrics(data)["calibration_error"])
    assert _close(got, _ece_loop(p, y.astype(float), np.ones(7)))


def test_r2_is_nan_when_rounding_hides_a_constant_target() -> None:
    c = 0.8132702392002724  # with these rows the naive sum of squares comes out 1e-16, not 0
    y = np.array([c, c, c, 0.9127555772777217, 0.6066357757671799, 0.7294965609839984])
    batch = np.array([[1.0, 2, 3, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    r2 = np.asarray(regression_metrics(y, y + 0.1, batch)["r2"])
    assert math.isnan(r2[0]) and not math.isnan(r2[1])


def test_macro_averages_skip_classes_absent_from_the_rows() -> None:
    """A model knows three classes; the rows hold two: sklearn averages over those two."""
    from sklearn.metrics import f1_score, precision_score, recall_score

    y_true = np.array(["hi", "mid", "mid", "hi", "mid"])
    y_pred = np.array(["hi", "mid", "hi", "hi", "mid"])
    data = encode_classification(y_true, y_pred, classes=["hi", "lo", "mid"])
    found = classification_metrics(data)
    assert found["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert found["f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert found["precision_macro"] == pytest.approx(
        precision_score(y_true, y_pred, average="macro")
    )
    assert found["recall_macro"] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
