"""Isotonic calibration of class probabilities, fitted on a labelled reference sample.

Why: confidence-based performance estimation (``loopml.stats.estimation``) reads a model's
probabilities as the chance each label is right, which holds only for a calibrated model.
Fitting a monotone map from the model's probability to the observed rate on labelled reference
rows (one-vs-rest per class) fixes that without touching the model, and preserves its ranking.

The fit is pool-adjacent-violators on rows sorted by probability (O(n log n)); the map between
breakpoints is linear and constant beyond them, as scikit-learn's ``IsotonicRegression`` with
``out_of_bounds="clip"``. A calibrator stores as plain lists of floats (``to_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loopml.errors import InvalidInput

MIN_REFERENCE_ROWS = 20
FORMAT_VERSION = 1
Floats = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Calibrator:
    """One piecewise-linear monotone map per fitted class (only class 1 when ``classes == 2``).

    ``knots[i]`` (non-decreasing) and ``values[i]`` are the breakpoints of curve ``i``.
    """

    classes: int
    knots: tuple[Floats, ...]
    values: tuple[Floats, ...]

    def apply(self, proba: ArrayLike) -> Floats:
        """Calibrated ``(n, k)`` probabilities; rows sum to 1.

        Two classes: column 1 is mapped and column 0 is its complement. More: each column is
        mapped and the row renormalised (a row mapped to all zeros becomes uniform).
        """
        matrix = _probabilities(proba, "proba")
        if matrix.shape[1] != self.classes:
            raise InvalidInput(
                f"proba has {matrix.shape[1]} columns but the calibrator was fitted on "
                f"{self.classes} classes",
                field="proba",
                hint="pass the same model's probabilities, columns in the same order",
            )
        if self.classes == 2:
            positive = np.interp(matrix[:, 1], self.knots[0], self.values[0])
            return np.column_stack([1.0 - positive, positive])
        mapped = np.column_stack(
            [np.interp(matrix[:, c], x, y) for c, (x, y) in enumerate(self._curves())]
        )
        total = mapped.sum(axis=1, keepdims=True)
        uniform = np.full_like(mapped, 1.0 / self.classes)
        out: Floats = np.where(total > 0, mapped / np.where(total > 0, total, 1.0), uniform)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (lists of floats), for storing beside a monitor."""
        return {
            "format": FORMAT_VERSION,
            "method": "isotonic",
            "classes": self.classes,
            "curves": [{"x": x.tolist(), "y": y.tolist()} for x, y in self._curves()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        """Inverse of ``to_dict``, checked so a damaged record fails here, not in ``apply``."""
        if data.get("format") != FORMAT_VERSION or data.get("method") != "isotonic":
            raise InvalidInput(
                "not an isotonic calibrator record",
                field="format",
                value=data.get("format"),
            )
        classes = data.get("classes")
        curves = data.get("curves")
        if not isinstance(classes, int) or classes < 2 or not isinstance(curves, list):
            raise InvalidInput("calibrator record lacks classes or curves", field="classes")
        if len(curves) != (1 if classes == 2 else classes):
            raise InvalidInput(
                f"calibrator record for {classes} classes has {len(curves)} curves",
                field="curves",
            )
        knots, values = [], []
        for curve in curves:
            x = np.asarray(curve["x"], dtype=np.float64)
            y = np.asarray(curve["y"], dtype=np.float64)
            valid = x.ndim == 1 and x.shape == y.shape and x.size > 0
            if not (valid and np.all(np.diff(x) >= 0) and np.all((y >= 0) & (y <= 1))):
                raise InvalidInput(
                    "calibrator curve must have matching, non-empty x and y, x sorted, y in [0, 1]",
                    field="curves",
                )
            knots.append(x)
            values.append(y)
        return cls(classes, tuple(knots), tuple(values))

    def _curves(self) -> list[tuple[Floats, Floats]]:
        return list(zip(self.knots, self.values, strict=True))


def fit_calibrator(proba: ArrayLike, y_index: ArrayLike) -> Calibrator:
    """Fit one isotonic map per class (only the positive class for two) on reference rows.

    ``proba`` is the model's ``(n, k)`` probabilities and ``y_index`` the true class index
    ``0..k-1`` of each row. Needs at least ``MIN_REFERENCE_ROWS`` rows and an example of every
    class: a map fitted without them would be guesswork.
    """
    matrix = _probabilities(proba, "proba")
    n, k = matrix.shape
    labels = _class_index(y_index, n, k, "y_index")
    if n < MIN_REFERENCE_ROWS:
        raise InvalidInput(
            f"calibration needs at least {MIN_REFERENCE_ROWS} labelled reference rows, got {n}",
            field="reference",
            value=n,
            hint="collect more labelled rows before fitting a calibrator",
        )
    counts = np.bincount(labels, minlength=k)
    if np.any(counts == 0):
        absent = ", ".join(str(c) for c in np.flatnonzero(counts == 0))
        raise InvalidInput(
            f"calibration needs an example of every class; class {absent} has none in the "
            "reference",
            field="reference",
            hint="use a reference sample that covers every class",
        )
    fitted = [1] if k == 2 else list(range(k))
    curves = [isotonic_breakpoints(matrix[:, c], (labels == c).astype(np.float64)) for c in fitted]
    return Calibrator(k, tuple(x for x, _ in curves), tuple(y for _, y in curves))


def isotonic_breakpoints(x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """Breakpoints of the least-squares non-decreasing fit of ``y`` on ``x``.

    Ties in ``x`` are pooled first (the fit is a function of ``x``), then runs of equal means
    (an optimal fit is constant on them, by convexity), so the pool-adjacent-violators loop
    runs over far fewer blocks than rows when ``y`` is an indicator. Each final block gives its
    first and last ``x``.
    """
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    starts = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1])))
    unique_x = xs[starts]
    weight = np.diff(np.append(starts, xs.shape[0])).astype(np.float64)
    total = np.add.reduceat(ys, starts)
    mean = total / weight
    runs = np.flatnonzero(np.concatenate(([True], mean[1:] != mean[:-1])))
    run_ends = np.append(runs[1:], mean.shape[0]) - 1
    block_weight = np.add.reduceat(weight, runs).tolist()
    block_total = np.add.reduceat(total, runs).tolist()
    first, last = _pool(block_weight, block_total, runs.tolist(), run_ends.tolist())
    knots: list[float] = []
    values: list[float] = []
    for lo, hi, w, t in zip(first, last, block_weight, block_total, strict=True):
        value = t / w
        knots.append(float(unique_x[lo]))
        values.append(value)
        if hi != lo:
            knots.append(float(unique_x[hi]))
            values.append(value)
    return np.asarray(knots), np.clip(np.asarray(values), 0.0, 1.0)


def _pool(
    weight: list[float], total: list[float], first: list[int], last: list[int]
) -> tuple[list[int], list[int]]:
    """Pool adjacent violators in place: blocks end up with non-decreasing means.

    Each block is pushed once and merged at most once, so the loop is linear in the blocks.
    Lists are truncated to the surviving blocks; the first/last indices are returned.
    """
    top = -1
    for i in range(len(weight)):
        w, t, lo, hi = weight[i], total[i], first[i], last[i]
        while top >= 0 and total[top] * w >= t * weight[top]:
            w, t, lo = w + weight[top], t + total[top], first[top]
            top -= 1
        top += 1
        weight[top], total[top], first[top], last[top] = w, t, lo, hi
    for values in (weight, total, first, last):
        del values[top + 1 :]
    return first, last


def _probabilities(proba: ArrayLike, name: str) -> Floats:
    """An ``(n, k)`` float64 matrix of probabilities, ``k >= 2``."""
    try:
        matrix = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be numeric", field=name) from exc
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise InvalidInput(
            f"{name} has shape {matrix.shape}, expected (n, k) with k >= 2",
            field=name,
            hint="pass predict_proba output, one column per class",
        )
    if matrix.size and not (
        np.all(np.isfinite(matrix)) and matrix.min() >= 0 and matrix.max() <= 1
    ):
        raise InvalidInput(
            f"{name} must hold probabilities in [0, 1]",
            field=name,
            hint="pass predict_proba output, not scores or logits",
        )
    return matrix


def _class_index(values: ArrayLike, n: int, k: int, name: str) -> NDArray[np.intp]:
    """Class indices ``0..k-1``, one per row."""
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n:
        raise InvalidInput(
            f"{name} has shape {array.shape}, expected ({n},)",
            field=name,
            hint="pass one class index per row of proba",
        )
    if array.dtype.kind not in "iu" and not (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
    ):
        raise InvalidInput(
            f"{name} must hold integer class indices",
            field=name,
            hint="map labels to their column in proba first",
        )
    index = array.astype(np.intp)
    if index.size and (index.min() < 0 or index.max() >= k):
        raise InvalidInput(
            f"{name} must lie in 0..{k - 1} (one per column of proba)",
            field=name,
            value=[int(index.min()), int(index.max())],
        )
    return index


def identity_calibrator(classes: int) -> Calibrator:
    """A calibrator that changes nothing (for a model whose probabilities are calibrated)."""
    curves = 1 if classes == 2 else classes
    line = np.array([0.0, 1.0])
    return Calibrator(
        classes, tuple(line for _ in range(curves)), tuple(line for _ in range(curves))
    )


def choose_calibrator(
    proba: ArrayLike, y_index: ArrayLike, *, variants: int = 8, seed: int = 0
) -> tuple[Calibrator, str, list[Calibrator]]:
    """Isotonic calibration if it helps out of sample, else none; plus bootstrap variants.

    Two-fold: isotonic fitted on each half is scored (log loss) on the other; when that does not
    beat the model's own probabilities, the model is already calibrated and the step function
    would only add noise. ``variants`` isotonic calibrators of bootstrap resamples (in both
    cases: how far the true calibration may be from the chosen map) let an estimate's interval
    carry that uncertainty.
    """
    matrix = _probabilities(proba, "proba")
    labels = np.asarray(y_index, dtype=np.int64)
    rng = np.random.default_rng(seed)
    half = rng.random(labels.shape[0]) < 0.5
    calibrated_loss = raw_loss = 0.0
    try:
        for fit_on in (half, ~half):
            fitted = fit_calibrator(matrix[fit_on], labels[fit_on])
            held = ~fit_on
            calibrated_loss += _log_loss(fitted.apply(matrix[held]), labels[held])
            raw_loss += _log_loss(_normalise_rows(matrix[held]), labels[held])
    except InvalidInput:
        calibrated_loss, raw_loss = 0.0, 1.0  # too few rows to check: calibrate as asked
    calibrate = calibrated_loss < raw_loss
    resampled: list[Calibrator] = []
    for _ in range(variants):
        picks = rng.integers(0, labels.shape[0], labels.shape[0])
        try:
            if calibrate:
                resampled.append(fit_calibrator(matrix[picks], labels[picks]))
            elif matrix.shape[1] == 2:
                resampled.append(_platt(matrix[picks, 1], labels[picks]))
        except InvalidInput:
            continue  # a resample without some class
    if not calibrate:
        return identity_calibrator(matrix.shape[1]), "none", resampled
    return fit_calibrator(matrix, labels), "isotonic", resampled


_GRID = np.concatenate(
    ([0.0], np.logspace(-6, -1, 30), np.linspace(0.1, 0.9, 41), 1 - np.logspace(-1, -6, 30), [1.0])
)


def _platt(positive: Floats, labels: NDArray[np.int64]) -> Calibrator:
    """A smooth recalibration ``sigmoid(a + b * logit(p))`` fitted by Newton's method: how far
    a calibrated model's map may be from the identity, keeping its ranking."""
    if labels.min() == labels.max():
        raise InvalidInput("a resample with one class", field="reference")
    x = np.log(np.clip(positive, 1e-9, 1 - 1e-9) / np.clip(1 - positive, 1e-9, 1.0))
    design = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])
    for _ in range(25):
        mu = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (mu - labels)
        hessian = (design.T * (mu * (1 - mu))) @ design + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta = beta - step
        if np.abs(step).max() < 1e-10:
            break
    grid = np.clip(_GRID, 1e-9, 1 - 1e-9)
    mapped = 1 / (1 + np.exp(-(beta[0] + beta[1] * np.log(grid / (1 - grid)))))
    mapped[0], mapped[-1] = (0.0, 1.0) if beta[1] > 0 else (mapped[0], mapped[-1])
    return Calibrator(2, (_GRID.copy(),), (np.maximum.accumulate(mapped),))


def _normalise_rows(matrix: Floats) -> Floats:
    total = matrix.sum(axis=1, keepdims=True)
    out: Floats = np.where(
        total > 0, matrix / np.where(total > 0, total, 1.0), 1.0 / matrix.shape[1]
    )
    return out


def _log_loss(matrix: Floats, labels: NDArray[np.int64]) -> float:
    picked = np.clip(matrix[np.arange(labels.shape[0]), labels], 1e-15, 1.0)
    return float(-np.sum(np.log(picked)))
