"""The drift tests, each comparing a reference profile with a current one.

Numeric tests read the KLL sketches: exact while both sketches still hold every value (up to
``k`` = 200), otherwise within their rank error (about 1.33% per CDF, so a KS statistic is
within about 2.7 points). PSI and Jensen-Shannon use the shared bins of ``binning``.

``chi_square`` is the two-sample test of homogeneity on the 2 x categories table (as
``scipy.stats.chi2_contingency`` without Yates' correction): it accounts for the reference's
own sampling noise. ``chi_square_gof`` is Evidently's goodness of fit (current counts against
reference shares, as ``scipy.stats.chisquare``); it treats the reference shares as the truth,
so two samples of one distribution of equal size raise a false alarm about 22% of the time at
p < 0.05 (two categories of freedom) and nearly always when the current side is much larger.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from loopml.stats.binning import category_counts, grouped_counts, new_categories, shares
from loopml.stats.categorical import CategoricalProfile
from loopml.stats.numeric import NumericProfile

PSI_EPSILON = 1e-4  # stands in for an empty bin's share, as Evidently does
WASSERSTEIN_MIN_SCALE = 1e-3  # Evidently's floor for a constant reference's standard deviation
AnyProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class Outcome:
    """What a test found, before a threshold turns it into a verdict."""

    statistic: float
    p_value: float | None = None
    note: str | None = None
    new_categories: tuple[str, ...] = ()


def ks(ref: NumericProfile, cur: NumericProfile) -> Outcome:
    """Two-sample Kolmogorov-Smirnov: max CDF gap at every retained item, asymptotic p-value."""
    points = np.union1d(ref.quantiles.items, cur.quantiles.items)
    d = float(np.max(np.abs(ref.cdf(points) - cur.cdf(points))))
    n, m = ref.finite, cur.finite
    effective_n = max(1, round(n * m / (n + m)))  # as scipy's ks_2samp(method="asymp")
    from scipy import stats  # ~0.6 s to import: paid by the first KS test, not by every import

    return Outcome(d, float(stats.kstwo.sf(d, effective_n)))


def wasserstein(ref: NumericProfile, cur: NumericProfile) -> Outcome:
    """Earth mover's distance between the sketches, divided by the reference std."""
    a, b = ref.quantiles, cur.quantiles
    distance = earth_movers(a.items, a.weights, b.items, b.weights)
    if ref.std > 0:
        return Outcome(distance / ref.std)
    note = f"reference is constant: distance divided by {WASSERSTEIN_MIN_SCALE}, not its std"
    return Outcome(distance / WASSERSTEIN_MIN_SCALE, note=note)


def earth_movers(
    a: np.ndarray, a_weights: np.ndarray, b: np.ndarray, b_weights: np.ndarray
) -> float:
    """First Wasserstein distance of two weighted samples: the area between their CDFs.

    The same quantity as ``scipy.stats.wasserstein_distance`` (tested), in numpy: importing
    ``scipy.stats`` costs about 45 MiB and half a second for a few hundred sketch items.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a_order, b_order = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
    a_sorted, b_sorted = a[a_order], b[b_order]
    a_cum = np.concatenate(([0.0], np.cumsum(np.asarray(a_weights, dtype=np.float64)[a_order])))
    b_cum = np.concatenate(([0.0], np.cumsum(np.asarray(b_weights, dtype=np.float64)[b_order])))
    values = np.sort(np.concatenate((a_sorted, b_sorted)))
    if values.size < 2:
        return 0.0
    a_cdf = a_cum[np.searchsorted(a_sorted, values[:-1], side="right")] / a_cum[-1]
    b_cdf = b_cum[np.searchsorted(b_sorted, values[:-1], side="right")] / b_cum[-1]
    return float(np.sum(np.abs(a_cdf - b_cdf) * np.diff(values)))


def chi_square(ref: CategoricalProfile, cur: CategoricalProfile) -> Outcome:
    """Chi-square test of homogeneity: do both samples come from one distribution?"""
    _, a, b = grouped_counts(ref, cur)
    table = np.vstack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    p_value = float(special.chdtrc(dof, statistic)) if dof > 0 else 1.0
    return Outcome(statistic, p_value, new_categories=new_categories(ref, cur))


def chi_square_gof(ref: CategoricalProfile, cur: CategoricalProfile) -> Outcome:
    """Evidently's chi-square: current counts against reference shares scaled to current."""
    _, ref_counts, observed = category_counts(ref, cur)
    new = new_categories(ref, cur)
    expected = ref_counts / ref_counts.sum() * observed.sum()
    if np.any((expected == 0) & (observed > 0)):
        return Outcome(math.inf, 0.0, "current has categories never seen in reference", new)
    used = expected > 0
    statistic = float(np.sum((observed[used] - expected[used]) ** 2 / expected[used]))
    dof = int(used.sum()) - 1
    p_value = float(special.chdtrc(dof, statistic)) if dof > 0 else 1.0
    return Outcome(statistic, p_value, new_categories=new)


def psi(ref: AnyProfile, cur: AnyProfile) -> Outcome:
    """Population stability index over shared bins (deciles) or categories."""
    p, q = shares(ref, cur)
    p, q = np.where(p == 0, PSI_EPSILON, p), np.where(q == 0, PSI_EPSILON, q)
    value = float(np.sum((p - q) * np.log(p / q)))
    return Outcome(value, new_categories=new_categories(ref, cur))


def jensen_shannon(ref: AnyProfile, cur: AnyProfile) -> Outcome:
    """Jensen-Shannon distance (base 2, so within [0, 1]) over shared bins or categories."""
    p, q = shares(ref, cur)
    m = (p + q) / 2
    divergence = float(np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))) / 2
    distance = math.sqrt(max(divergence / math.log(2), 0.0))
    return Outcome(distance, new_categories=new_categories(ref, cur))


Test = Callable[..., Outcome]
NUMERIC: dict[str, Test] = {
    "ks": ks,
    "wasserstein": wasserstein,
    "psi": psi,
    "jensen_shannon": jensen_shannon,
}
CATEGORICAL: dict[str, Test] = {
    "chi_square": chi_square,
    "chi_square_gof": chi_square_gof,
    "psi": psi,
    "jensen_shannon": jensen_shannon,
}
P_VALUE_TESTS = frozenset({"ks", "chi_square", "chi_square_gof"})
