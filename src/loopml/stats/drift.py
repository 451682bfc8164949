"""Per-column drift: pick a test by kind and reference size, run it, judge it by a threshold.

``DEFAULT_RULE`` starts from Evidently's defaults. Numeric: up to 1,000 values gets KS (drift
when p < 0.05), more gets Wasserstein divided by the reference std (drift when >= 0.1).
Categorical: up to 1,000 values chi-square (p < 0.05), above Jensen-Shannon distance (>= 0.1).
PSI drifts at >= 0.1. Size counts usable values (finite numbers, present categories), as
Evidently drops NaN and infinities first.

One departure: the size is that of the *smaller* side when the current side is known, not the
reference's alone. Evidently picks by the reference, so a 300-row window against a large
reference is judged by Wasserstein at 0.1, which two samples of one distribution exceed in
about one window in seven (its sampling noise at 300 rows is about that size); a p-value test
accounts for the window's size instead. Above 1,000 rows on both sides the distance tests judge
effect size, which is what a large window needs (KS would flag any shift, however small).

One departure: our ``chi_square`` is the two-sample test of homogeneity, not Evidently's
goodness of fit against reference shares (``chi_square_gof``, still available by name), which
raises false alarms on two samples of one distribution (see ``stattests``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from loopml.errors import InvalidInput
from loopml.stats import stattests
from loopml.stats.categorical import CategoricalProfile
from loopml.stats.numeric import NumericProfile

ColumnProfile = NumericProfile | CategoricalProfile
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "ks": 0.05,
        "chi_square": 0.05,
        "chi_square_gof": 0.05,
        "wasserstein": 0.1,
        "jensen_shannon": 0.1,
        "psi": 0.1,
    }
)


@dataclass(frozen=True)
class DriftRule:
    """Which test each kind gets below and above ``size_threshold``, and the thresholds."""

    size_threshold: int = 1000
    numeric_small: str = "ks"
    numeric_large: str = "wasserstein"
    categorical_small: str = "chi_square"
    categorical_large: str = "jensen_shannon"
    thresholds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)


DEFAULT_RULE = DriftRule()


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict with the evidence behind it."""

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    note: str | None = None
    new_categories: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; a non-finite number becomes None (the note says why)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _finite(self.statistic),
            "p_value": _finite(self.p_value),
            "threshold": _finite(self.threshold),
            "drifted": self.drifted,
            "note": self.note,
            "new_categories": list(self.new_categories),
        }


def choose_test(
    reference: ColumnProfile,
    rule: DriftRule = DEFAULT_RULE,
    current: ColumnProfile | None = None,
) -> str:
    """The test ``rule`` picks for this kind and the smaller side's size (see module docstring)."""
    size = _usable(reference)
    if current is not None:
        size = min(size, _usable(current))
    small = size <= rule.size_threshold
    if isinstance(reference, NumericProfile):
        return rule.numeric_small if small else rule.numeric_large
    return rule.categorical_small if small else rule.categorical_large


def column_drift(
    name: str,
    reference: ColumnProfile,
    current: ColumnProfile,
    test: str | None = None,
    threshold: float | None = None,
    rule: DriftRule = DEFAULT_RULE,
) -> ColumnDrift:
    """Run the chosen (or named) test on one column and judge it against the threshold."""
    if reference.kind != current.kind:
        note = f"kind changed from {reference.kind} to {current.kind}"
        return ColumnDrift(name, current.kind, "kind", None, None, math.nan, True, note)
    chosen = test or choose_test(reference, rule, current)
    run = _lookup(reference.kind, chosen)
    default = rule.thresholds.get(chosen, DEFAULT_THRESHOLDS[chosen])
    limit = threshold if threshold is not None else default
    empty = _empty_side(reference, current)
    if empty:
        note = f"insufficient data: {empty} has no usable values"
        return ColumnDrift(name, reference.kind, chosen, None, None, limit, False, note)
    out = run(reference, current)
    if chosen in stattests.P_VALUE_TESTS:
        drifted = out.p_value is not None and out.p_value < limit
    else:
        drifted = out.statistic >= limit
    return ColumnDrift(
        name,
        reference.kind,
        chosen,
        out.statistic,
        out.p_value,
        limit,
        drifted,
        out.note,
        out.new_categories,
    )


def _lookup(kind: str, test: str) -> stattests.Test:
    """The test function, or an error naming the tests this kind accepts."""
    table = stattests.NUMERIC if kind == "numeric" else stattests.CATEGORICAL
    if test not in table:
        raise InvalidInput(
            f"no {kind} drift test named {test!r}",
            field="test",
            value=test,
            hint=f"use one of {', '.join(sorted(table))}",
        )
    return table[test]


def _usable(profile: ColumnProfile) -> int:
    return profile.finite if isinstance(profile, NumericProfile) else profile.present


def _empty_side(reference: ColumnProfile, current: ColumnProfile) -> str | None:
    """Which side, if any, has nothing to compare."""
    for label, profile in (("reference", reference), ("current", current)):
        usable = profile.finite if isinstance(profile, NumericProfile) else profile.present
        if usable == 0:
            return label
    return None


def _finite(value: float | None) -> float | None:
    """Strict JSON has no inf or NaN."""
    return value if value is not None and math.isfinite(value) else None
