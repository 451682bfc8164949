"""Bootstrap confidence intervals and paired model comparisons, a chunk of resamples at a time.

Why weights: a resample with replacement is a vector of counts, how often each row was drawn.
A ``compute`` function takes a ``(B, n)`` matrix of such counts and returns one value per
resample for each metric (see ``loopml.stats.metrics``), so the metric code vectorises over
resamples while the chunk size bounds memory. Comparing two models on the same weights pairs
their resamples, which cancels the noise both share and gives a much tighter interval on the
difference than two separate intervals would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from loopml.errors import InvalidInput

CHUNK_BYTES = 32 * 2**20  # one chunk of float64 weights stays under this (faster than 64 MiB)
_BLOCK = 16  # resamples drawn row by row, then written as columns together

Compute = Callable[[np.ndarray], Mapping[str, np.ndarray | float]]


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval; NaN at both ends when no resample gave a value."""

    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Candidate minus baseline, paired on the same resamples.

    ``difference`` is the point estimate on all rows; ``low`` and ``high`` bound the resampled
    differences; ``p_value`` is the two-sided bootstrap p-value for "no difference":
    ``min(1, 2 * min(share(diff <= 0), share(diff >= 0)))`` over the resampled differences. A
    model compared with itself gets 1; 0 means no resample crossed zero (the resolution is
    ``1 / n_resamples``).
    """

    difference: float
    low: float
    high: float
    p_value: float


def default_chunk(n: int) -> int:
    """Resamples per chunk so one ``(chunk, n)`` float64 matrix stays under ``CHUNK_BYTES``."""
    return max(1, CHUNK_BYTES // (8 * max(n, 1)))


def resample_weights(
    n: int, n_resamples: int, seed: int = 0, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` float64 matrices of draw counts, ``n_resamples`` rows in all.

    Each row counts how often each of the ``n`` rows was drawn in a resample of size ``n`` with
    replacement. The matrices are in Fortran order (each data row's counts across resamples
    are contiguous), the layout the metrics gather from fastest. The same seed gives the same
    resamples (whatever the chunk size, as it happens: rows are drawn one after another from
    one generator).
    """
    _check_counts(n, n_resamples)
    size = default_chunk(n) if chunk is None else chunk
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidInput("chunk must be a positive integer", field="chunk", value=chunk)
    rng = np.random.default_rng(seed)
    dtype = np.uint32 if n <= 2**32 else np.int64
    block = np.empty((min(size, _BLOCK), n))
    for start in range(0, n_resamples, size):
        batch = min(size, n_resamples - start)
        columns = np.empty((n, batch))  # one column per resample: see ``metrics``
        for first in range(0, batch, block.shape[0]):
            rows = block[: min(block.shape[0], batch - first)]
            for row in rows:
                # One resample at a time keeps its counts in cache; a bincount over the whole
                # chunk scatters across megabytes and runs about twice as slow.
                row[:] = np.bincount(rng.integers(0, n, size=n, dtype=dtype), minlength=n)
            columns[:, first : first + rows.shape[0]] = rows.T
        yield columns.T


def bootstrap_intervals(
    compute: Compute,
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Interval]:
    """Percentile interval of each metric ``compute`` returns, over ``n_resamples`` resamples.

    Resamples where a metric is NaN (undefined, such as ROC AUC without both classes) are left
    out of its interval; when all are, the interval is ``Interval(nan, nan)``.
    """
    _check_confidence(confidence)
    return _intervals(_draws([compute], n, n_resamples, seed)[0], confidence)


def paired_bootstrap(
    compute_a: Compute,
    compute_b: Compute,
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Comparison]:
    """Compare model ``a`` (candidate) with ``b`` (baseline) on the same resamples: ``a - b``.

    Only metrics both return are compared. Resamples where either side is NaN are left out;
    when all are, the interval and p-value are NaN (the difference still comes from all rows).
    """
    return paired_intervals(
        compute_a, compute_b, n, n_resamples=n_resamples, confidence=confidence, seed=seed
    ).comparisons


@dataclass(frozen=True)
class PairedIntervals:
    """Both models' intervals and their paired comparison, from one pass over the resamples."""

    a: dict[str, Interval]
    b: dict[str, Interval]
    comparisons: dict[str, Comparison]


def paired_intervals(
    compute_a: Compute,
    compute_b: Compute,
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedIntervals:
    """``bootstrap_intervals`` of both models and ``paired_bootstrap`` of a against b, at once.

    Each resample is scored once per model, so comparing costs no more than the two intervals.
    """
    _check_confidence(confidence)
    _check_counts(n, n_resamples)
    ones = np.ones((1, n))
    point_a, point_b = compute_a(ones), compute_b(ones)
    draws_a, draws_b = _draws([compute_a, compute_b], n, n_resamples, seed)
    comparisons = {}
    with np.errstate(invalid="ignore"):
        for name in (name for name in point_a if name in point_b):
            difference = float(_column(point_a[name], 1)[0] - _column(point_b[name], 1)[0])
            diffs = draws_a[name] - draws_b[name]
            diffs = diffs[~np.isnan(diffs)]
            low, high = _percentiles(diffs, confidence)
            if diffs.size:
                below = float(np.mean(diffs <= 0))
                above = float(np.mean(diffs >= 0))
                p_value = min(1.0, 2.0 * min(below, above))
            else:
                p_value = math.nan
            comparisons[name] = Comparison(difference, low, high, p_value)
    return PairedIntervals(
        _intervals(draws_a, confidence), _intervals(draws_b, confidence), comparisons
    )


def _intervals(draws: Mapping[str, np.ndarray], confidence: float) -> dict[str, Interval]:
    return {
        name: Interval(*_percentiles(values[~np.isnan(values)], confidence))
        for name, values in draws.items()
    }


def _draws(
    computes: list[Compute],
    n: int,
    n_resamples: int,
    seed: int,
    names: list[str] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Each compute's value per resample, ``(n_resamples,)`` per metric, on shared weights."""
    _check_counts(n, n_resamples)
    parts: list[dict[str, list[np.ndarray]]] = [{} for _ in computes]
    for weights in resample_weights(n, n_resamples, seed):
        batch = weights.shape[0]
        for compute, collected in zip(computes, parts, strict=True):
            result = compute(weights)
            for name in result if names is None else names:
                collected.setdefault(name, []).append(_column(result[name], batch))
    return [{name: np.concatenate(chunks) for name, chunks in part.items()} for part in parts]


def _column(value: np.ndarray | float, batch: int) -> np.ndarray:
    """One float64 value per resample (a scalar applies to all)."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (batch,)).reshape(batch)


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` percentile range of ``values`` (NaN, NaN when empty)."""
    if values.size == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0 * 100.0
    with np.errstate(invalid="ignore"):
        low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _check_counts(n: int, n_resamples: int) -> None:
    for name, value in (("n", n), ("n_resamples", n_resamples)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidInput(f"{name} must be a positive integer", field=name, value=value)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(
            "confidence must lie strictly between 0 and 1",
            field="confidence",
            value=confidence,
            hint="0.95 gives a 95% interval",
        )
