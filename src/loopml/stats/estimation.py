"""Confidence-based performance estimation (CBPE): a model's metrics without labels.

Why: labels arrive late or never, but a calibrated model's probability is the chance each label
is what it says, so the expected confusion matrix, and hence the expected metrics, follow from
the probabilities alone (NannyML's CBPE). The interval is the spread of the realised metric:
labels are drawn from the probabilities (``draws`` times, seeded) and each draw is scored
exactly as ``loopml.stats.metrics.classification_metrics`` scores labelled rows, so a window's
realised metric falls inside the interval at the stated confidence when the model is calibrated.

Point estimates are ratios of expected counts. Binary: ``E[TP]`` is the sum of ``p`` over rows
predicted positive, ``E[FP]`` the sum of ``1 - p``, and so on. More classes: expected counts
per class, macro-averaged as ``classification_metrics`` does over the classes present in a
window: a class never predicted joins the average with the chance it occurs at all. ROC AUC is
the ratio of the expected concordant pairs to the expected pairs, ties counting one half. A
metric whose expected denominator is zero (nothing predicted positive, no expected positives)
is NaN, interval included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loopml.errors import InvalidInput
from loopml.stats.calibration import _class_index, _probabilities

ESTIMATED_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")
_BLOCK_BYTES = 4 * 2**20  # one block of draws (float64 indicators) stays in cache
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class EstimatedMetric:
    """A metric's expected value and the interval its realised value should fall in."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | None]:
        """JSON-able form; NaN (undefined) becomes None."""
        return {name: _finite(getattr(self, name)) for name in ("value", "low", "high")}


@dataclass(frozen=True, eq=False)
class _Setup:
    """What every block of draws is scored against, computed once.

    Rows are put in ``order`` (grouped by predicted class, class ``c`` in ``bounds[c]:
    bounds[c + 1]``), so the correct count of a class is a count over a slice; ``ranks[i]``
    holds the midranks (in that order) of the score of the i-th class scored (only class 1
    when binary). Counting and one dot product per draw avoid BLAS matrix products, whose
    threads cost more than they save on blocks this small.
    """

    n: int
    k: int
    order: NDArray[np.intp]
    bounds: NDArray[np.intp]
    ranks: tuple[Floats, ...]


def estimate_classification(
    proba: ArrayLike,
    predicted: ArrayLike,
    *,
    scores: ArrayLike | None = None,
    draws: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
    variants: Sequence[ArrayLike] = (),
) -> dict[str, EstimatedMetric]:
    """Expected accuracy, precision, recall, f1 and ROC AUC with Monte-Carlo intervals.

    ``variants``: the same rows calibrated by calibrators fitted on bootstrap resamples of the
    reference. The draws are then shared among them, so the interval also carries the
    calibrator's own uncertainty (with one calibrator from a few thousand reference rows, the
    label draws alone cover the realised metric in fewer than 95% of windows).

    ``proba`` is the calibrated ``(n, k)`` probabilities (``Calibrator.apply``), ``predicted``
    the class index the model chose per row. ``scores`` are the probabilities the realised ROC
    AUC will rank by (the model's own, before calibration; default ``proba``): isotonic
    calibration ties rows the model still orders. Metrics are defined as in
    ``classification_metrics`` with classes ``0..k-1``: binary precision, recall and f1 are
    those of class 1; with more classes, macro averages and one-vs-rest ROC AUC.
    """
    matrix = _probabilities(proba, "proba")
    n, k = matrix.shape
    if n == 0:
        raise InvalidInput("no rows to estimate", field="proba", hint="pass at least one row")
    chosen = _class_index(predicted, n, k, "predicted")
    ranked = matrix if scores is None else _probabilities(scores, "scores")
    if ranked.shape != matrix.shape:
        raise InvalidInput(
            f"scores have shape {ranked.shape}, expected {matrix.shape} like proba",
            field="scores",
        )
    _check_arguments(draws, confidence)
    matrix = _normalised(matrix)
    setup = _setup(chosen, ranked, k)
    point = _expected(matrix, chosen, ranked)
    if variants:
        shaped = [_normalised(_probabilities(v, "variants")) for v in variants]
        if any(v.shape != matrix.shape for v in shaped):
            raise InvalidInput("every variant must have proba's shape", field="variants")
        each = max(1, draws // len(shaped))
        parts = [_simulate(v, setup, each, seed + i) for i, v in enumerate(shaped)]
        realised = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    else:
        realised = _simulate(matrix, setup, draws, seed)
    tail = (1.0 - confidence) / 2.0 * 100.0
    out = {}
    for name in ESTIMATED_METRICS:
        values = realised[name][~np.isnan(realised[name])]
        if math.isnan(point[name]) or values.size == 0:
            out[name] = EstimatedMetric(point[name], math.nan, math.nan)
            continue
        low, high = np.percentile(values, [tail, 100.0 - tail])
        out[name] = EstimatedMetric(point[name], float(low), float(high))
    return out


def _normalised(matrix: Floats) -> Floats:
    """Rows summing to one (more than two classes; an all-zero row becomes uniform)."""
    k = matrix.shape[1]
    if k <= 2:
        return matrix
    total = matrix.sum(axis=1, keepdims=True)
    out: Floats = np.where(total > 0, matrix / np.where(total > 0, total, 1.0), 1.0 / k)
    return out


def realised_metrics(
    labels: ArrayLike, predicted: ArrayLike, scores: ArrayLike
) -> dict[str, Floats]:
    """The metrics of each row of ``labels`` (``(B, n)`` class indices), as
    ``classification_metrics`` computes them with classes ``0..k-1``: the per-draw scoring of
    ``estimate_classification``, exposed so it can be checked against the labelled path."""
    ranked = _probabilities(scores, "scores")
    n, k = ranked.shape
    setup = _setup(_class_index(predicted, n, k, "predicted"), ranked, k)
    truth = np.atleast_2d(np.asarray(labels))[:, setup.order]
    return _score(setup, [truth == c for c in range(k)])


def _setup(predicted: NDArray[np.intp], scores: Floats, k: int) -> _Setup:
    order = np.argsort(predicted, kind="stable")
    counts = np.bincount(predicted, minlength=k)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    ranks = tuple(_midranks(scores[order, c]) for c in _scored(k))
    return _Setup(predicted.shape[0], k, order, bounds, ranks)


def _scored(k: int) -> list[int]:
    """The classes with their own score column: the positive one, or all."""
    return [1] if k == 2 else list(range(k))


def _simulate(proba: Floats, setup: _Setup, draws: int, seed: int) -> dict[str, Floats]:
    """Each metric for ``draws`` label vectors drawn from ``proba``, a cache-sized block at once.

    One uniform per row and draw picks the label: class ``c`` when it falls in
    ``[cum[c-1], cum[c])``; two classes need only the test ``u < p``.
    """
    rng = np.random.default_rng(seed)
    n, k = proba.shape
    ordered = proba[setup.order]
    block = max(1, _BLOCK_BYTES // (4 * n))
    upper = np.cumsum(ordered, axis=1).astype(np.float32)
    upper[:, -1] = 2.0  # rounding must not leave a uniform above every class
    lower = np.column_stack([np.zeros(n, dtype=np.float32), upper[:, :-1]])
    positive = ordered[:, 1].astype(np.float32)
    parts: dict[str, list[Floats]] = {name: [] for name in ESTIMATED_METRICS}
    for start in range(0, draws, block):
        u = rng.random((min(block, draws - start), n), dtype=np.float32)
        if k == 2:
            hits = [np.empty((0, n), dtype=bool), u < positive]
        else:
            hits = [(u >= lower[:, c]) & (u < upper[:, c]) for c in range(k)]
        for name, values in _score(setup, hits).items():
            parts[name].append(values)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _score(setup: _Setup, hits: list[NDArray[np.bool_]]) -> dict[str, Floats]:
    """Metrics per draw from per-class label indicators ``(b, n)`` in ``setup.order``
    (binary: only class 1's is read)."""
    n, k, bounds = setup.n, setup.k, setup.bounds
    scored = _scored(k)
    truth = np.column_stack([np.count_nonzero(hits[c], axis=1) for c in scored]).astype(float)
    correct = np.column_stack(
        [np.count_nonzero(hits[c][:, bounds[c] : bounds[c + 1]], axis=1) for c in scored]
    ).astype(float)
    rank_sums = np.column_stack(
        [np.einsum("ij,j->i", hits[c], rank) for c, rank in zip(scored, setup.ranks, strict=True)]
    )
    predicted = np.diff(bounds)[scored].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        negatives = n - truth
        u_stat = rank_sums - truth * (truth + 1) / 2
        auc = np.where((truth > 0) & (negatives > 0), u_stat / (truth * negatives), np.nan)
        precision = _divide(correct, np.broadcast_to(predicted, truth.shape))
        recall = _divide(correct, truth)
        f1 = _divide(2 * correct, predicted + truth)
    if k == 2:
        # class 0 is right on rows neither predicted nor drawn positive
        accuracy = (n - predicted[0] - truth[:, 0] + 2 * correct[:, 0]) / n
        return {
            "accuracy": accuracy,
            "precision": precision[:, 0],
            "recall": recall[:, 0],
            "f1": f1[:, 0],
            "roc_auc": auc[:, 0],
        }
    # Macro averages over the classes present in the draw, true or predicted, as sklearn's.
    present = (truth > 0) | (predicted > 0)
    out = {"accuracy": correct.sum(axis=1) / n}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        out[name] = (values * present).sum(axis=1) / present.sum(axis=1)
    out["roc_auc"] = auc.mean(axis=1)
    return out


def _expected(proba: Floats, predicted: NDArray[np.intp], scores: Floats) -> dict[str, float]:
    """Point estimates from the expected confusion matrix (see the module docstring)."""
    n, k = proba.shape
    hit = predicted[:, np.newaxis] == np.arange(k)
    truth = proba.sum(axis=0)
    correct = (proba * hit).sum(axis=0)
    counts = hit.sum(axis=0).astype(np.float64)
    aucs = [_expected_auc(proba[:, c], scores[:, c]) for c in _scored(k)]
    accuracy = float(correct.sum() / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = correct / counts
        recall = correct / truth
        f1 = 2 * correct / (counts + truth)
    if k == 2:
        return {
            "accuracy": accuracy,
            "precision": float(precision[1]),
            "recall": float(recall[1]),
            "f1": float(f1[1]),
            "roc_auc": aucs[0],
        }
    # A class never predicted scores 0 (precision, recall and f1) in the windows where it
    # occurs and is left out of the average where it does not: the average divides the sum
    # over predicted classes by their number plus that of the others present.
    with np.errstate(divide="ignore"):
        occurs = 1.0 - np.exp(np.log1p(-np.minimum(proba, 1.0)).sum(axis=0))
    share = _mean_reciprocal(int(np.count_nonzero(counts)), occurs[counts == 0])
    out = {"accuracy": accuracy}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        out[name] = float(np.nan_to_num(values[counts > 0]).sum() * share)
    out["roc_auc"] = float(np.mean(aucs))
    return out


def _mean_reciprocal(always: int, chances: Floats) -> float:
    """``E[1 / (always + S)]`` where ``S`` counts independent events of these chances."""
    distribution = np.ones(1)
    for chance in chances.tolist():
        distribution = np.convolve(distribution, [1.0 - chance, chance])
    return float(np.sum(distribution / (always + np.arange(distribution.shape[0]))))


def _expected_auc(p: Floats, score: Floats) -> float:
    """Expected concordant pairs over expected pairs, rows weighted ``p`` positive and ``1 - p``
    negative, ties one half, a row never paired with itself."""
    q = 1.0 - p
    order = np.argsort(score, kind="stable")
    ranked = score[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    pos = np.add.reduceat(p[order], starts)
    neg = np.add.reduceat(q[order], starts)
    below = np.cumsum(neg) - neg
    self_pairs = float(np.dot(p, q))
    pairs = float(np.dot(pos, below + 0.5 * neg)) - 0.5 * self_pairs
    total = float(p.sum() * q.sum()) - self_pairs
    return pairs / total if total > 0 else math.nan


def _midranks(score: Floats) -> Floats:
    """Ranks 1..n of ``score``, ties sharing their mean rank (so a rank sum counts ties 1/2)."""
    n = score.shape[0]
    order = np.argsort(score, kind="stable")
    ranked = score[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    ends = np.append(starts[1:], n)
    group_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(n)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def _divide(top: Floats, bottom: Floats) -> Floats:
    """``top / bottom`` with 0 where ``bottom`` is 0 (``classification_metrics``' rule)."""
    out = np.zeros(np.broadcast(top, bottom).shape)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def _check_arguments(draws: int, confidence: float) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise InvalidInput("draws must be a positive integer", field="draws", value=draws)
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(
            "confidence must lie strictly between 0 and 1",
            field="confidence",
            value=confidence,
            hint="0.95 gives a 95% interval",
        )


def _finite(value: float) -> float | None:
    """Strict JSON has no NaN."""
    return value if math.isfinite(value) else None
