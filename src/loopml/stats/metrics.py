"""Evaluation metrics computed from row weights, for a whole batch of weight vectors at once.

Why weights: a bootstrap resample is a vector of counts (how often each row was drawn), so one
code path gives the point estimate (all ones), a sample-weighted estimate and a batch of
resamples (a ``(B, n)`` matrix ``W``, one value per row of ``W``). Every sum is a product of
``W`` with per-row quantities, and ROC AUC needs one sort per score column, done once when the
data are prepared; each resample then costs O(n) for every metric.

Values agree with scikit-learn 1.9 (with ``sample_weight`` for weighted data) except where a
metric is undefined: ROC AUC and R² give NaN there (sklearn warns, or returns 0.0 / 1.0 for
R²), because a resample must never raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

from loopml.errors import InvalidInput

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "roc_auc",
    "log_loss",
    "brier",
    "calibration_error",
)
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "r2", "mape")
PROBABILITY_METRICS: tuple[str, ...] = ("roc_auc", "log_loss", "brier", "calibration_error")
HIGHER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "precision_macro": True,
    "recall_macro": True,
    "f1_macro": True,
    "roc_auc": True,
    "log_loss": False,
    "brier": False,
    "calibration_error": False,
    "mae": False,
    "rmse": False,
    "r2": True,
    "mape": False,
}
CALIBRATION_BINS = 10
CURVE_POINTS = 200
_R2_FLOOR = 1e-12  # a total sum of squares this small relative to the raw one means constant

Metrics = dict[str, np.ndarray | float]


@dataclass(frozen=True, eq=False)
class ClassificationData:
    """Labels and probabilities encoded once, reused for the point estimate and every resample.

    ``y_true`` and ``y_pred`` are int codes ``0..k-1`` with code ``i`` meaning ``classes[i]``;
    ``proba`` (or None) is ``(n, k)`` in code order. Build it with ``encode_classification``.
    Instances compare by identity (arrays have no single truth value) and cache their
    prepared form, so build one per data set and reuse it.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: tuple[Any, ...]

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.y_true.shape[0])

    @cached_property
    def _prepared(self) -> _Prepared:
        """Per-row columns and score rankings; built on first use, kept for every resample."""
        return _prepare(self)


@dataclass(frozen=True)
class _Ranking:
    """One score column sorted once: what a batch of weights needs for an O(n) ROC AUC.

    Rows are ordered by descending score, negatives before positives within a tie, so the
    positives ranked strictly above a negative are those before it. ``above[j]`` counts them for
    the j-th negative; ``ties`` holds, for each tie group with both labels, the start and end
    of its positives and negatives in their own sorted lists.
    """

    positives: np.ndarray
    negatives: np.ndarray
    above: np.ndarray
    ties: np.ndarray  # (4, groups): pos start, pos end, neg start, neg end


@dataclass(frozen=True)
class _Prepared:
    """What every batch of weights is multiplied with, computed once per data set.

    ``columns`` is a sparse ``(m, n)`` matrix, one row per summed quantity: indicators of true
    class, predicted class and correct prediction per class (``3k`` rows), then per-row log
    loss, Brier score and calibration gap by bin. Each data row has about six non-zeros, so
    ``columns @ weights`` reads the weights once whatever the number of classes, in one
    thread (OpenBLAS's threads fight the gathers of ``_auc`` on small machines).
    """

    columns: sparse.csc_matrix
    rankings: tuple[_Ranking, ...]  # the positive class (binary) or one per class (k > 2)


def encode_classification(
    y_true: Any,
    y_pred: Any,
    proba: Any = None,
    classes: Sequence[Any] | None = None,
) -> ClassificationData:
    """Encode labels to codes ``0..k-1`` and order probability columns the same way.

    ``classes`` defaults to the sorted union of the labels in ``y_true`` and ``y_pred``; given,
    it names ``proba``'s columns in order (they are re-ordered to the sorted labels) and must
    cover every label. A 1-D ``proba`` is the probability of the positive class (the larger of
    two labels). Probabilities are used as given (sklearn 1.9 no longer renormalises rows).
    """
    truth = _labels(y_true, "y_true")
    predicted = _labels(y_pred, "y_pred")
    if truth.shape[0] != predicted.shape[0]:
        raise InvalidInput(
            f"y_true has {truth.shape[0]} rows but y_pred has {predicted.shape[0]}",
            field="y_pred",
            hint="pass one prediction per row",
        )
    if truth.shape[0] == 0:
        raise InvalidInput("no rows to evaluate", field="y_true", hint="pass at least one row")
    given = None if classes is None else _labels(np.asarray(list(classes)), "classes")
    kinds = {truth.dtype.kind, predicted.dtype.kind} | (
        set() if given is None else {given.dtype.kind}
    )
    if kinds & set("biuf") and kinds & set("US"):
        raise InvalidInput(
            "labels mix numbers and strings across y_true, y_pred and classes",
            field="y_pred",
            hint="use one label type throughout",
        )
    try:
        if given is None:
            labels = np.unique(np.concatenate([truth, predicted]))
            order = np.arange(labels.shape[0])
        else:
            order = np.argsort(given, kind="stable")
            labels = given[order]
            if labels.shape[0] == 0 or np.any(labels[1:] == labels[:-1]):
                raise InvalidInput(
                    "classes must be distinct and non-empty",
                    field="classes",
                    value=given.tolist(),
                )
        codes_true = _codes(truth, labels, "y_true")
        codes_pred = _codes(predicted, labels, "y_pred")
    except TypeError as exc:
        raise InvalidInput(
            f"labels cannot be compared: {exc}",
            field="y_true",
            hint="use labels of one type (all numbers or all strings)",
        ) from exc
    k = labels.shape[0]
    matrix = None if proba is None else _probabilities(proba, truth.shape[0], k, classes)
    if matrix is not None and classes is not None:
        matrix = np.ascontiguousarray(matrix[:, order])
    return ClassificationData(codes_true, codes_pred, matrix, tuple(labels.tolist()))


def classification_metrics(data: ClassificationData, weights: Any = None) -> Metrics:
    """Every classification metric under ``weights``: None or ``(n,)`` give floats, ``(B, n)``
    arrays of shape ``(B,)``.

    Binary (two classes): ``precision``, ``recall`` and ``f1`` are those of the positive class
    ``classes[1]``. With more classes they equal the macro values (averaged over the classes
    present in the weighted rows, true or predicted, as sklearn does), so a gate such as
    ``f1 >= 0.8`` means the same for any number of classes. With one class (every label the
    same) they are the macro values over that class (1.0 for any positive weight) and ROC AUC
    is NaN. Division by zero gives 0 (sklearn's ``zero_division=0``).

    ROC AUC: binary on ``proba[:, 1]``, otherwise one-vs-rest macro; NaN where ``y_true`` (under
    the weights) lacks a class. ``log_loss`` clips to ``[eps, 1 - eps]`` for the dtype of
    ``proba``; ``brier`` is sklearn's (squared error summed over classes, halved for two
    classes); ``calibration_error`` is the expected calibration error over 10 equal-width bins
    (binary: ``proba[:, 1]`` against the positive rate; otherwise top-label confidence against
    top-label accuracy). Metrics that need probabilities are left out without them.
    """
    columns, single = _weight_columns(weights, data.n)
    prepared = data._prepared
    k = len(data.classes)
    sums = _weighted_sums(prepared.columns, columns)
    truth, predicted, correct = sums[:, :k], sums[:, k : 2 * k], sums[:, 2 * k : 3 * k]
    total = truth.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = _divide(correct, predicted)
        recall = _divide(correct, truth)
        f1 = _divide(2 * correct, predicted + truth)
        out: dict[str, np.ndarray] = {"accuracy": correct.sum(axis=1) / total}
        # Macro averages run over the labels present in these rows (true or predicted), as
        # sklearn's do: a class absent from a slice or a resample does not count as a zero.
        present = (truth > 0) | (predicted > 0)
        for name, per_class in (("precision", precision), ("recall", recall), ("f1", f1)):
            macro = (per_class * present).sum(axis=1) / present.sum(axis=1)
            out[name] = per_class[:, 1] if k == 2 else macro
            out[f"{name}_macro"] = macro
        if data.proba is not None:
            rows = sums[:, 3 * k :]
            if k == 1:
                out["roc_auc"] = np.full(columns.shape[1], np.nan)
            else:
                aucs = [_auc(columns, ranking) for ranking in prepared.rankings]
                out["roc_auc"] = np.mean(aucs, axis=0)
            out["log_loss"] = rows[:, 0] / total
            out["brier"] = rows[:, 1] / total
            out["calibration_error"] = np.abs(rows[:, 2:]).sum(axis=1) / total
    return {name: float(value[0]) if single else value for name, value in out.items()}


def regression_metrics(y_true: Any, y_pred: Any, weights: Any = None) -> Metrics:
    """MAE, RMSE, R² and MAPE under ``weights`` (None, ``(n,)`` or ``(B, n)``, as for
    ``classification_metrics``).

    MAPE divides by ``max(|y_true|, eps)`` like sklearn. R² is NaN when the target is constant
    under the weights, where sklearn returns 1.0 or 0.0: a resample that happens to draw one
    target value says nothing about the model.
    """
    truth = _targets(y_true, "y_true")
    predicted = _targets(y_pred, "y_pred")
    if truth.shape[0] != predicted.shape[0]:
        raise InvalidInput(
            f"y_true has {truth.shape[0]} rows but y_pred has {predicted.shape[0]}",
            field="y_pred",
            hint="pass one prediction per row",
        )
    if truth.shape[0] == 0:
        raise InvalidInput("no rows to evaluate", field="y_true", hint="pass at least one row")
    n = truth.shape[0]
    weight, single = _weight_columns(weights, n)
    error = np.abs(predicted - truth)
    centre = float(truth.mean())
    if weight.shape[1] == 1 and weight.sum() > 0:  # the weighted mean cancels less
        centre = float(np.einsum("i,i->", truth, weight[:, 0]) / weight.sum())
    shifted = truth - centre
    eps = np.finfo(np.float64).eps
    per_row = np.column_stack(
        [
            np.ones_like(truth),
            error,
            error * error,
            error / np.maximum(np.abs(truth), eps),
            shifted,
            shifted * shifted,
        ]
    )
    m = per_row.shape[1]
    dense = sparse.csc_matrix(
        (per_row.ravel(), np.tile(np.arange(m), n), np.arange(0, m * n + 1, m)), shape=(m, n)
    )
    sums = _weighted_sums(dense, weight)
    total = sums[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = sums[:, 5] - sums[:, 4] * sums[:, 4] / total
        constant = ~(spread > _R2_FLOOR * sums[:, 5])
        out = {
            "mae": sums[:, 1] / total,
            "rmse": np.sqrt(sums[:, 2] / total),
            "r2": np.where(constant, np.nan, 1.0 - sums[:, 2] / np.where(constant, 1.0, spread)),
            "mape": sums[:, 3] / total,
        }
    return {name: float(value[0]) if single else value for name, value in out.items()}


def confusion_matrix(data: ClassificationData) -> list[list[int]]:
    """Row counts, true class by row and predicted class by column, in ``classes`` order."""
    k = len(data.classes)
    cells = np.bincount(data.y_true * k + data.y_pred, minlength=k * k).reshape(k, k)
    return [[int(value) for value in row] for row in cells]


def roc_curve_points(data: ClassificationData) -> dict[str, list[Any]]:
    """Binary ROC curve as plain lists ``fpr``, ``tpr``, ``thresholds`` (at most 200 points).

    The first point (0, 0) predicts nothing positive; its threshold is None (JSON has no inf).
    """
    score, positive = _binary_scores(data, "ROC curve")
    tp, fp, thresholds = _curve(score, positive)
    picks = _downsample(tp.shape[0])
    return {
        "fpr": (fp[picks] / fp[-1]).tolist(),
        "tpr": (tp[picks] / tp[-1]).tolist(),
        "thresholds": [thresholds[i] for i in picks],
    }


def pr_curve_points(data: ClassificationData) -> dict[str, list[Any]]:
    """Binary precision-recall curve as plain lists ``precision``, ``recall``, ``thresholds``.

    Points run from recall 0 (precision 1 by convention, as in sklearn; threshold None) to
    recall 1, at most 200 of them.
    """
    score, positive = _binary_scores(data, "precision-recall curve")
    tp, fp, thresholds = _curve(score, positive)
    precision = np.ones_like(tp)
    precision[1:] = tp[1:] / (tp[1:] + fp[1:])
    picks = _downsample(tp.shape[0])
    return {
        "precision": precision[picks].tolist(),
        "recall": (tp[picks] / tp[-1]).tolist(),
        "thresholds": [thresholds[i] for i in picks],
    }


def calibration_points(
    data: ClassificationData, bins: int = CALIBRATION_BINS
) -> dict[str, list[Any]]:
    """Reliability diagram: ``mean_predicted``, ``observed`` frequency and ``count`` per
    non-empty bin of ``bins`` equal-width bins on [0, 1].

    Binary: ``proba[:, 1]`` against the positive rate; more classes: top-label confidence
    against top-label accuracy (the pairs ``calibration_error`` averages).
    """
    if data.proba is None:
        raise InvalidInput(
            "a calibration curve needs probabilities",
            field="proba",
            hint="pass proba to encode_classification",
        )
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise InvalidInput("bins must be a positive integer", field="bins", value=bins)
    confidence, observed = _confidence(data)
    index = _bin_index(confidence, int(bins))
    count = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=confidence, minlength=bins)
    hits = np.bincount(index, weights=observed, minlength=bins)
    keep = count > 0
    return {
        "mean_predicted": (predicted[keep] / count[keep]).tolist(),
        "observed": (hits[keep] / count[keep]).tolist(),
        "count": [int(c) for c in count[keep]],
    }


def _prepare(data: ClassificationData) -> _Prepared:
    """The summed quantities as one sparse matrix, and one ranking per score column."""
    n, k = data.n, len(data.classes)
    rows = np.arange(n)
    hit = data.y_true == data.y_pred
    quantity = [data.y_true, k + data.y_pred, 2 * k + data.y_true[hit]]
    where = [rows, rows, rows[hit]]
    values = [np.ones(n), np.ones(n), np.ones(int(hit.sum()))]
    if data.proba is None:
        return _Prepared(_sparse(quantity, where, values, (3 * k, n)), ())
    proba = data.proba
    eps = np.finfo(proba.dtype).eps
    chosen = proba[rows, data.y_true]
    log_loss = -np.log(np.clip(chosen, eps, 1 - eps).astype(np.float64))
    wide = proba.astype(np.float64)
    miss = wide.copy()
    miss[rows, data.y_true] -= 1.0
    brier = (miss * miss).sum(axis=1)
    if k == 2:
        brier *= 0.5
    confidence, observed = _confidence(data)
    quantity += [np.full(n, 3 * k), np.full(n, 3 * k + 1)]
    quantity.append(3 * k + 2 + _bin_index(confidence, CALIBRATION_BINS))
    where += [rows, rows, rows]
    values += [log_loss, brier, confidence - observed]
    columns = _sparse(quantity, where, values, (3 * k + 2 + CALIBRATION_BINS, n))
    if k == 1:
        rankings: tuple[_Ranking, ...] = ()
    elif k == 2:
        rankings = (_ranking(wide[:, 1], data.y_true == 1),)
    else:
        rankings = tuple(_ranking(wide[:, c], data.y_true == c) for c in range(k))
    return _Prepared(columns, rankings)


def _sparse(
    quantity: list[np.ndarray],
    where: list[np.ndarray],
    values: list[np.ndarray],
    shape: tuple[int, int],
) -> sparse.csc_matrix:
    """A ``(quantities, rows)`` matrix from its non-zeros."""
    data = np.concatenate(values)
    index = (np.concatenate(quantity), np.concatenate(where))
    return sparse.csc_matrix((data, index), shape=shape)


def _weighted_sums(columns: sparse.csc_matrix, weight: np.ndarray) -> np.ndarray:
    """``(B, m)``: each quantity summed under each column of ``weight``."""
    sums: np.ndarray = np.asarray(columns @ weight).T
    return sums


def _ranking(score: np.ndarray, positive: np.ndarray) -> _Ranking:
    """Sort one score column once (descending, negatives first within ties) for ``_auc``."""
    order = np.lexsort((positive, -score))
    is_positive = positive[order]
    sorted_score = score[order]
    above = np.cumsum(is_positive)[~is_positive]
    starts = np.ones(score.shape[0], dtype=bool)
    starts[1:] = sorted_score[1:] != sorted_score[:-1]
    group = np.cumsum(starts) - 1
    groups = int(group[-1]) + 1
    pos_count = np.bincount(group[is_positive], minlength=groups)
    neg_count = np.bincount(group[~is_positive], minlength=groups)
    mixed = (pos_count > 0) & (neg_count > 0)
    pos_end, neg_end = np.cumsum(pos_count), np.cumsum(neg_count)
    ties = np.stack(
        [
            (pos_end - pos_count)[mixed],
            pos_end[mixed],
            (neg_end - neg_count)[mixed],
            neg_end[mixed],
        ]
    )
    return _Ranking(order[is_positive], order[~is_positive], above, ties)


def _auc(weight: np.ndarray, ranking: _Ranking) -> np.ndarray:
    """ROC AUC for each column of weights: weighted Mann-Whitney, ties counting one half.

    Row j of ``cumulative`` is the weight of the first j positives by rank, so the positive
    weight above each negative is one gather; ties add half of (positives x negatives) per
    group. Gathers take whole rows of ``weight`` (one value per resample, contiguous).
    """
    batch = weight.shape[1]
    cumulative = np.empty((ranking.positives.shape[0] + 1, batch))
    cumulative[0] = 0.0
    np.take(weight, ranking.positives, axis=0, out=cumulative[1:], mode="clip")
    np.cumsum(cumulative[1:], axis=0, out=cumulative[1:])
    negative = np.take(weight, ranking.negatives, axis=0)
    above = np.take(cumulative, ranking.above, axis=0)
    pairs = np.einsum("ij,ij->j", negative, above)
    pos_total = cumulative[-1]
    neg_total = negative.sum(axis=0)
    if ranking.ties.shape[1]:
        neg_cumulative = np.empty((ranking.negatives.shape[0] + 1, batch))
        neg_cumulative[0] = 0.0
        np.cumsum(negative, axis=0, out=neg_cumulative[1:])
        tied_pos = cumulative[ranking.ties[1]] - cumulative[ranking.ties[0]]
        tied_neg = neg_cumulative[ranking.ties[3]] - neg_cumulative[ranking.ties[2]]
        pairs = pairs + 0.5 * np.einsum("ij,ij->j", tied_pos, tied_neg)
    both = pos_total * neg_total
    return np.where(both > 0, pairs / np.where(both > 0, both, 1.0), np.nan)


def _confidence(data: ClassificationData) -> tuple[np.ndarray, np.ndarray]:
    """The (confidence, outcome) pairs calibration compares, per row."""
    assert data.proba is not None
    proba = data.proba.astype(np.float64)
    if len(data.classes) == 2:
        return proba[:, 1], (data.y_true == 1).astype(np.float64)
    top = proba.argmax(axis=1)
    return proba[np.arange(data.n), top], (top == data.y_true).astype(np.float64)


def _bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins on [0, 1]: bin b holds [b/bins, (b+1)/bins), the last also holds 1."""
    edges = np.arange(bins + 1) / bins
    index = np.searchsorted(edges, confidence, side="right") - 1
    return np.clip(index, 0, bins - 1)


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom`` with 0 where ``bottom`` is 0 (sklearn's ``zero_division=0``)."""
    out = np.zeros_like(top)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def _binary_scores(data: ClassificationData, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class scores and labels, or an error saying why a binary curve cannot be drawn."""
    if data.proba is None or len(data.classes) != 2:
        raise InvalidInput(
            f"a {what} needs two classes and probabilities",
            field="proba",
            hint="pass proba for a binary problem to encode_classification",
        )
    positive = data.y_true == 1
    if positive.all() or not positive.any():
        raise InvalidInput(
            f"a {what} needs both classes in y_true",
            field="y_true",
            hint="evaluate on rows of both classes",
        )
    return data.proba[:, 1].astype(np.float64), positive


def _curve(score: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """True and false positives at each distinct threshold, from the strictest, after (0, 0)."""
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], positive[order]
    last = np.append(ranked[1:] != ranked[:-1], True)
    tp = np.concatenate([[0.0], np.cumsum(hits)[last]])
    fp = np.concatenate([[0.0], np.cumsum(~hits)[last]])
    thresholds: list[Any] = [None, *ranked[last].tolist()]
    return tp, fp, thresholds


def _downsample(points: int) -> list[int]:
    """At most ``CURVE_POINTS`` evenly spaced indices, first and last included."""
    if points <= CURVE_POINTS:
        return list(range(points))
    return sorted({int(i) for i in np.linspace(0, points - 1, CURVE_POINTS).round()})


def _weight_columns(weights: Any, n: int) -> tuple[np.ndarray, bool]:
    """Weights as a C-ordered float64 ``(n, B)`` array, one column per resample, and whether to
    answer with floats.

    Rows of data are rows here, so gathering rows in score order copies contiguous runs; a
    ``(B, n)`` array in Fortran order (what ``resample_weights`` yields) converts for free.
    """
    if weights is None:
        return np.ones((n, 1)), True
    matrix = np.asarray(weights, dtype=np.float64)
    single = matrix.ndim == 1
    if single:
        matrix = matrix[np.newaxis, :]
    if matrix.ndim != 2 or matrix.shape[1] != n:
        raise InvalidInput(
            f"weights have shape {np.shape(weights)}, expected ({n},) or (B, {n})",
            field="weights",
            hint="pass one weight per row, or a matrix with one row per resample",
        )
    if matrix.size and not (matrix.min() >= 0 and np.isfinite(matrix.max())):
        raise InvalidInput(
            "weights must be finite and non-negative", field="weights", hint="check for NaN"
        )
    return np.ascontiguousarray(matrix.T), single


def _labels(values: Any, name: str) -> np.ndarray:
    """A 1-D label array without missing values."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be one-dimensional, got shape {array.shape}",
            field=name,
            hint="pass one label per row",
        )
    if array.dtype.kind == "f":
        missing = bool(np.isnan(array).any())
    elif array.dtype.kind == "O":
        missing = any(v is None or (isinstance(v, float) and v != v) for v in array.tolist())
    else:
        missing = False
    if missing:
        raise InvalidInput(
            f"{name} has missing labels (NaN or None)",
            field=name,
            hint="drop or fill rows without a label before evaluating",
        )
    return array


def _codes(values: np.ndarray, labels: np.ndarray, name: str) -> np.ndarray:
    """Code of each value in the sorted ``labels``, or an error naming the unknown ones."""
    index = np.clip(np.searchsorted(labels, values), 0, labels.shape[0] - 1)
    known = labels[index] == values
    if not np.all(known):
        unknown = sorted({str(v) for v in values[~known].tolist()})[:5]
        raise InvalidInput(
            f"{name} has labels not in classes: {', '.join(unknown)}",
            field=name,
            hint="add them to classes, or leave classes out to use every label seen",
        )
    return index.astype(np.intp)


def _probabilities(proba: Any, n: int, k: int, classes: Sequence[Any] | None) -> np.ndarray:
    """Probabilities as an ``(n, k)`` float array, checked for shape and range."""
    matrix = np.asarray(proba)
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    if matrix.ndim == 1:
        if k != 2:
            raise InvalidInput(
                f"a 1-D proba is the positive-class probability, but there are {k} classes",
                field="proba",
                hint="pass an (n, k) matrix or name two classes",
            )
        matrix = np.column_stack([1 - matrix, matrix])
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise InvalidInput(
            f"proba has shape {np.shape(proba)}, expected ({n}, {k})",
            field="proba",
            hint="pass one row of class probabilities per row",
        )
    if matrix.shape[1] != k:
        hint = "the columns follow classes" if classes else "pass classes to name the columns"
        raise InvalidInput(
            f"proba has {matrix.shape[1]} columns but there are {k} classes",
            field="proba",
            hint=hint,
        )
    if not (np.all(np.isfinite(matrix)) and matrix.min() >= 0 and matrix.max() <= 1):
        raise InvalidInput(
            "proba must hold probabilities in [0, 1]",
            field="proba",
            hint="pass predict_proba output, not scores or logits",
        )
    return matrix


def _targets(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 array of finite regression targets."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numeric", field=name) from exc
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be one-dimensional, got shape {array.shape}",
            field=name,
            hint="pass one value per row",
        )
    if not np.all(np.isfinite(array)):
        raise InvalidInput(
            f"{name} has NaN or infinite values",
            field=name,
            hint="drop or fill those rows before evaluating",
        )
    return array
