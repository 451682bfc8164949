"""Dataset drift: every shared column's verdict and the share that drifted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopml.errors import InvalidInput
from loopml.stats.drift import DEFAULT_RULE, ColumnDrift, DriftRule, column_drift
from loopml.stats.profile import TableProfile


@dataclass(frozen=True)
class DriftResult:
    """Per-column drift plus the dataset verdict (drifted share >= ``share_threshold``)."""

    columns: Mapping[str, ColumnDrift]
    share_threshold: float = 0.5
    missing_columns: tuple[str, ...] = ()  # in the reference, absent from current
    new_columns: tuple[str, ...] = ()  # in current, absent from the reference
    drifted_columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        drifted = tuple(name for name, col in self.columns.items() if col.drifted)
        object.__setattr__(self, "drifted_columns", drifted)

    @property
    def drift_share(self) -> float:
        """Share of compared columns that drifted (0 when none were compared)."""
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        """True when the drifted share reaches ``share_threshold``."""
        return bool(self.columns) and self.drift_share >= self.share_threshold

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "share_threshold": self.share_threshold,
            "drifted_columns": list(self.drifted_columns),
            "missing_columns": list(self.missing_columns),
            "new_columns": list(self.new_columns),
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }


def compare(
    reference: TableProfile,
    current: TableProfile,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
    rule: DriftRule = DEFAULT_RULE,
) -> DriftResult:
    """Drift of every column both profiles share; ``tests``/``thresholds`` are per column."""
    if not 0.0 < share_threshold <= 1.0:
        raise InvalidInput(
            "share_threshold must lie in (0, 1]", field="share_threshold", value=share_threshold
        )
    tests, thresholds = tests or {}, thresholds or {}
    for column, value in thresholds.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not value >= 0:
            raise InvalidInput(
                f"threshold of {column!r} must be a non-negative number, not {value!r}",
                field=f"thresholds.{column}",
                value=value,
            )
    shared = [name for name in reference.columns if name in current.columns]
    columns = {
        name: column_drift(
            name,
            reference.columns[name],
            current.columns[name],
            test=tests.get(name),
            threshold=thresholds.get(name),
            rule=rule,
        )
        for name in shared
    }
    return DriftResult(
        columns,
        share_threshold,
        missing_columns=tuple(n for n in reference.columns if n not in current.columns),
        new_columns=tuple(n for n in current.columns if n not in reference.columns),
    )
