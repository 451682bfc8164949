"""The drift tests' building blocks agree with their reference implementations."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("seed", range(5))
def test_earth_movers_is_scipys_wasserstein_distance(seed: int) -> None:
    from scipy import stats

    from loopml.stats.stattests import earth_movers

    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=300), rng.standard_t(3, size=200) + 0.3
    wa, wb = rng.integers(1, 5, 300).astype(float), rng.integers(1, 5, 200).astype(float)
    a[:10] = b[:10]  # ties across the samples
    expected = stats.wasserstein_distance(a, b, wa, wb)
    assert earth_movers(a, wa, b, wb) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert earth_movers(a, wa, a, wa) == 0.0
