"""Put two profiles on shared bins, so any reference and current can be compared.

Numeric: the reference deciles (deduplicated) cut the line into up to ten bins, open at both
ends, right-closed (``(e_i, e_i+1]``), so an exact reference puts exactly 10% in each; each
side's shares come from its KLL CDF. Categorical: the union of categories, plus an ``other`` bin
for the mass a sketched side does not attribute to a category.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from loopml.stats.categorical import CategoricalProfile
from loopml.stats.numeric import NumericProfile

OTHER = "\x00other"
DECILES = np.arange(1, 10) / 10  # linspace would give 0.30000000000000004: one item off
Shares = NDArray[np.float64]


def decile_edges(ref: NumericProfile) -> NDArray[np.float64]:
    """The inner bin edges: the reference's deciles, each once."""
    return np.unique(ref.quantile(DECILES))


def numeric_shares(ref: NumericProfile, cur: NumericProfile) -> tuple[Shares, Shares]:
    """Both sides' shares in the reference-decile bins."""
    edges = decile_edges(ref)
    return _shares_between(ref, edges), _shares_between(cur, edges)


def _shares_between(profile: NumericProfile, edges: NDArray[np.float64]) -> Shares:
    cdf = np.concatenate(([0.0], profile.cdf(edges), [1.0]))
    return np.diff(cdf)


def category_counts(
    ref: CategoricalProfile, cur: CategoricalProfile
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64]]:
    """Counts of both sides over the union of categories (plus ``other`` once sketched)."""
    a, b = ref.counts(), cur.counts()
    keys = sorted(a.keys() | b.keys())
    ref_counts = [a.get(k, 0) for k in keys]
    cur_counts = [b.get(k, 0) for k in keys]
    if not (ref.frequencies.exact and cur.frequencies.exact):
        keys.append(OTHER)
        ref_counts.append(ref.frequencies.other())
        cur_counts.append(cur.frequencies.other())
    return keys, np.asarray(ref_counts, dtype=float), np.asarray(cur_counts, dtype=float)


def shares(
    ref: NumericProfile | CategoricalProfile, cur: NumericProfile | CategoricalProfile
) -> tuple[Shares, Shares]:
    """Both sides' shares on shared bins, whatever the kind (both sides of one kind)."""
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        return numeric_shares(ref, cur)
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        _, a, b = category_counts(ref, cur)
        return a / a.sum(), b / b.sum()
    raise TypeError(f"cannot bin a {ref.kind} profile against a {cur.kind} one")


def new_categories(
    ref: NumericProfile | CategoricalProfile, cur: NumericProfile | CategoricalProfile
) -> tuple[str, ...]:
    """Current categories absent from an exact reference (a sketched one cannot tell)."""
    if not isinstance(ref, CategoricalProfile) or not isinstance(cur, CategoricalProfile):
        return ()
    if not ref.frequencies.exact:
        return ()
    seen = ref.counts()
    return tuple(sorted(k for k in cur.counts() if k not in seen))
