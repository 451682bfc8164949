"""``EvaluationResult``: what an evaluation found, as plain data that stores and renders as is."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """Candidate minus baseline on the same resamples, with its interval and p-value."""

    difference: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics with bootstrap intervals, per-slice metrics, and the baseline side by side.

    ``metrics`` maps a name to its value on all rows; ``intervals`` to ``(low, high)``;
    ``slices`` a ``"column=value"`` key to that slice's metrics (with ``n_rows``);
    ``comparison`` a metric to the paired difference against the baseline.
    """

    model_uri: str
    task: str
    target: str
    n_rows: int
    metrics: Mapping[str, float]
    intervals: Mapping[str, tuple[float, float]]
    slices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    baseline_uri: str | None = None
    baseline_metrics: Mapping[str, float] | None = None
    baseline_intervals: Mapping[str, tuple[float, float]] | None = None
    baseline_slices: Mapping[str, Mapping[str, float]] | None = None
    comparison: Mapping[str, Comparison] | None = None
    curves: Mapping[str, Any] = field(default_factory=dict)
    baseline_curves: Mapping[str, Any] | None = None
    classes: tuple[Any, ...] | None = None
    confidence: float = 0.95
    n_resamples: int = 1000
    data_version: str | None = None
    model_digest: str | None = None
    baseline_digest: str | None = None
    evaluation_id: str | None = None
    run_id: str | None = None

    def scores(self) -> dict[str, Any]:
        """The candidate's numbers in the shape gates read."""
        return {
            "metrics": dict(self.metrics),
            "slices": {k: dict(v) for k, v in self.slices.items()},
        }

    def baseline_scores(self) -> dict[str, Any] | None:
        """The baseline's numbers in the shape gates read, or None without a baseline."""
        if self.baseline_metrics is None:
            return None
        slices = self.baseline_slices or {}
        return {
            "metrics": dict(self.baseline_metrics),
            "slices": {k: dict(v) for k, v in slices.items()},
        }

    def with_ids(self, evaluation_id: str, run_id: str | None) -> EvaluationResult:
        return replace(self, evaluation_id=evaluation_id, run_id=run_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (NaN becomes None)."""
        cleaned: dict[str, Any] = _clean(asdict(self))
        return cleaned

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationResult:
        values = dict(data)
        values["metrics"] = _floats(values.get("metrics", {}))
        values["intervals"] = {
            k: (_float(v[0]), _float(v[1])) for k, v in values.get("intervals", {}).items()
        }
        values["slices"] = {k: _floats(v) for k, v in values.get("slices", {}).items()}
        for key in ("baseline_metrics",):
            if values.get(key) is not None:
                values[key] = _floats(values[key])
        if values.get("baseline_intervals") is not None:
            values["baseline_intervals"] = {
                k: (_float(v[0]), _float(v[1])) for k, v in values["baseline_intervals"].items()
            }
        if values.get("baseline_slices") is not None:
            values["baseline_slices"] = {
                k: _floats(v) for k, v in values["baseline_slices"].items()
            }
        if values.get("comparison") is not None:
            values["comparison"] = {
                k: Comparison(**{f: _float(x) for f, x in v.items()})
                for k, v in values["comparison"].items()
            }
        if values.get("classes") is not None:
            values["classes"] = tuple(values["classes"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _floats(table: Mapping[str, Any]) -> dict[str, float]:
    return {k: _float(v) for k, v in table.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value
