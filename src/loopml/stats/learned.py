"""Drift thresholds learned from the reference itself.

Why: a fixed distance threshold (Wasserstein 0.1, Jensen-Shannon 0.1) means something different
for every column and window size: a heavy-tailed column or a small window crosses it by chance.
Cutting the reference into windows of the size monitoring will use, and measuring how far each
window lies from the rest of the reference, shows how large the statistic gets with no drift at
all; ``mean + 3 sd`` of those values is the threshold.

Each chunk is compared with the reference *without* that chunk (the merge of the other chunks'
and the leftover rows' profiles), not with the whole reference: a chunk inside its reference
sits closer to it than an independent window does (the variance of the difference shrinks from
``1/m + 1/N`` to ``1/m - 1/N``), which would learn thresholds too low.

Only distance tests are learned. P-value tests (``ks``, ``chi_square``) already carry their own
calibration, and their statistic is not comparable across sizes, so columns that use one are
left out of the result: callers keep the fixed p-value threshold for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopml.errors import InvalidInput
from loopml.stats import stattests
from loopml.stats.drift import DEFAULT_RULE, DriftRule, column_drift
from loopml.stats.profile import ColumnProfile, merge, profile_column

MIN_CHUNKS = 5
SPREAD = 3.0  # standard deviations above the mean chunk statistic
FLOOR = 1e-6  # a column constant in the reference still needs a positive threshold


@dataclass(frozen=True)
class LearnedThreshold:
    """A threshold for ``test`` and the chunk statistics it came from."""

    test: str
    threshold: float
    mean: float
    sd: float
    chunks: int
    chunk_rows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "test": self.test,
            "threshold": self.threshold,
            "mean": self.mean,
            "sd": self.sd,
            "chunks": self.chunks,
            "chunk_rows": self.chunk_rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedThreshold:
        """Inverse of ``to_dict``."""
        try:
            return cls(
                str(data["test"]),
                float(data["threshold"]),
                float(data["mean"]),
                float(data["sd"]),
                int(data["chunks"]),
                int(data["chunk_rows"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"not a learned threshold record: {exc}", field="learned_threshold"
            ) from exc


def learn_thresholds(
    reference: Mapping[str, Any],
    chunk_rows: int,
    *,
    kinds: Mapping[str, str] | None = None,
    tests: Mapping[str, str] | None = None,
    chunks: int = 20,
    seed: int = 0,
    rule: DriftRule = DEFAULT_RULE,
) -> dict[str, LearnedThreshold]:
    """A threshold per column for windows of ``chunk_rows`` rows, from up to ``chunks`` chunks.

    The statistic is ``column_drift``'s for the column's test: ``tests[name]`` when it names a
    distance test (``wasserstein``, ``psi``, ``jensen_shannon``), else the rule's test for large
    references (by default Wasserstein for numbers, Jensen-Shannon for categories). Columns
    whose test is a p-value test, or with fewer than ``MIN_CHUNKS`` chunks holding values, are
    left out.
    """
    _check_arguments(chunk_rows, chunks)
    arrays = {name: np.asarray(values) for name, values in reference.items()}
    lengths = {a.shape[0] if a.ndim == 1 else -1 for a in arrays.values()}
    if -1 in lengths or len(lengths) > 1:
        raise InvalidInput(
            "reference columns must be 1-D arrays of one length",
            field="reference",
            value=sorted(lengths),
        )
    if not arrays:
        return {}
    n = lengths.pop()
    used = min(chunks, n // chunk_rows)
    if used < MIN_CHUNKS:
        raise InvalidInput(
            f"the reference is too small for learned thresholds with chunk_rows={chunk_rows}: "
            f"its {n} rows hold {n // chunk_rows} chunks, {MIN_CHUNKS} are needed",
            field="reference",
            value=n,
            hint=f"use a reference of at least {MIN_CHUNKS * chunk_rows} rows, or fixed thresholds",
        )
    order = np.random.default_rng(seed).permutation(n)
    parts = [order[i * chunk_rows : (i + 1) * chunk_rows] for i in range(used)]
    leftover = order[used * chunk_rows :]
    out = {}
    for name, values in arrays.items():
        kind = (kinds or {}).get(name)
        chunk_profiles = [profile_column(values[rows], kind) for rows in parts]
        rest = profile_column(values[leftover], kind) if leftover.size else None
        test = (tests or {}).get(name) or _large_test(chunk_profiles[0].kind, rule)
        if test in stattests.P_VALUE_TESTS:
            continue
        statistics = [
            column_drift(name, others, chunk, test=test, rule=rule).statistic
            for chunk, others in zip(
                chunk_profiles, _complements(chunk_profiles, rest), strict=True
            )
        ]
        found = np.array([s for s in statistics if s is not None and np.isfinite(s)])
        if found.size < MIN_CHUNKS:
            continue
        mean, sd = float(found.mean()), float(found.std(ddof=1))
        threshold = max(mean + SPREAD * sd, FLOOR)
        out[name] = LearnedThreshold(test, threshold, mean, sd, int(found.size), chunk_rows)
    return out


def _complements(profiles: list[ColumnProfile], rest: ColumnProfile | None) -> list[ColumnProfile]:
    """For each chunk, the profile of every other reference row: prefix and suffix merges,
    so ``c`` chunks cost about ``3c`` merges instead of ``c^2``."""
    prefix: list[ColumnProfile | None] = [rest]
    for profile in profiles[:-1]:
        prefix.append(_merge(prefix[-1], profile))
    suffix: list[ColumnProfile | None] = [None]
    for profile in reversed(profiles[1:]):
        suffix.append(_merge(profile, suffix[-1]))
    suffix.reverse()
    out = []
    for before, after in zip(prefix, suffix, strict=True):
        combined = _merge(before, after)
        assert combined is not None  # at least MIN_CHUNKS chunks, so others exist
        out.append(combined)
    return out


def _merge(a: ColumnProfile | None, b: ColumnProfile | None) -> ColumnProfile | None:
    if a is None:
        return b
    return a if b is None else merge(a, b)


def _large_test(kind: str, rule: DriftRule) -> str:
    """The rule's test for a big reference of this kind (a distance test by default)."""
    return rule.numeric_large if kind == "numeric" else rule.categorical_large


def _check_arguments(chunk_rows: int, chunks: int) -> None:
    for name, value, least in (("chunk_rows", chunk_rows, 1), ("chunks", chunks, MIN_CHUNKS)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise InvalidInput(
                f"{name} must be an integer of at least {least}", field=name, value=value
            )
