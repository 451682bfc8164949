"""Production traffic in windows, calm at first, then drifting a little more with every window."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from loopml.datasets._checks import check_count, check_fraction
from loopml.datasets.churn import CHURN_TARGET, clock, event_times, generate
from loopml.errors import InvalidInput


def make_drifting_stream(
    n_windows: int,
    rows_per_window: int,
    *,
    seed: int = 0,
    start_drift_at: int,
    max_covariate_drift: float = 1.0,
    max_concept_drift: float = 1.0,
    start_time: str | pd.Timestamp | None = None,
    freq: str = "1min",
    with_target: bool = True,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(window, churn table)`` pairs for monitoring demos: a known answer to "when did it drift?".

    Windows before ``start_drift_at`` are undrifted. From it on, both drifts grow linearly and
    reach their maxima in the last window: window ``w`` gets ``(w - start_drift_at + 1) /
    (n_windows - start_drift_at)`` of each. ``start_drift_at=n_windows`` never drifts. Ids stay
    unique across windows, and with ``start_time`` the event times run on from window to window.
    Arguments are checked at the call, not at the first ``next``.
    """
    windows = check_count("n_windows", n_windows)
    rows = check_count("rows_per_window", rows_per_window)
    seed = check_count("seed", seed, minimum=0)
    drift_from = check_count("start_drift_at", start_drift_at, minimum=0)
    if drift_from > windows:
        raise InvalidInput(
            f"start_drift_at must be in [0, n_windows={windows}], got {drift_from}",
            field="start_drift_at",
            value=start_drift_at,
            hint="pass n_windows to keep the whole stream undrifted",
        )
    covariate = check_fraction("max_covariate_drift", max_covariate_drift)
    concept = check_fraction("max_concept_drift", max_concept_drift)
    timing = None if start_time is None else clock(start_time, freq)
    ramp = [max(0, w - drift_from + 1) / max(1, windows - drift_from) for w in range(windows)]

    def stream() -> Iterator[tuple[int, pd.DataFrame]]:
        for window, share in enumerate(ramp):
            frame = generate(
                np.random.default_rng([seed, window]),
                rows,
                covariate_drift=covariate * share,
                concept_drift=concept * share,
                first_id=window * rows,
            )
            if timing is not None:
                frame.insert(1, "event_time", event_times(*timing, rows, skip=window * rows))
            yield window, (frame if with_target else frame.drop(columns=CHURN_TARGET))

    return stream()
