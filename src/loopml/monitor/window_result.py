"""What a monitor run hands back: one result per window, read from the stored JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loopml.entities import MonitorWindow


@dataclass(frozen=True)
class WindowResult:
    """One window's findings: its span, status, signals, alerts and the full result."""

    monitor: str
    key: str
    start_time: int
    end_time: int
    rows: int
    complete: bool
    result: Mapping[str, Any]

    @classmethod
    def from_window(cls, window: MonitorWindow) -> WindowResult:
        return cls(
            window.monitor_name,
            window.window_key,
            window.start_time,
            window.end_time,
            window.rows,
            window.complete,
            window.result,
        )

    @property
    def status(self) -> str:
        return str(self.result.get("status", "ok"))

    @property
    def signals(self) -> Mapping[str, Any]:
        return self.result.get("signals") or {}

    @property
    def alerts(self) -> list[Mapping[str, Any]]:
        return list(self.result.get("alerts") or [])

    @property
    def notes(self) -> list[str]:
        return list(self.result.get("notes") or [])

    @property
    def drift_share(self) -> float | None:
        value = self.signals.get("drift_share")
        return None if value is None else float(value)

    @property
    def dataset_drift(self) -> bool:
        return bool(self.signals.get("dataset_drift"))

    @property
    def drifted_columns(self) -> list[str]:
        return list((self.result.get("drift") or {}).get("drifted_columns") or [])

    @property
    def metrics(self) -> Mapping[str, float]:
        """Realised metrics (labels arrived), by name."""
        found = (self.result.get("realised") or {}).get("metrics") or {}
        return {name: item["value"] for name, item in found.items()}

    @property
    def estimated(self) -> Mapping[str, Mapping[str, Any]]:
        """Label-free estimates, by name: ``value``, ``low``, ``high`` (and ``realised``)."""
        return dict((self.result.get("estimate") or {}).get("metrics") or {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "window": self.key,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "rows": self.rows,
            "complete": self.complete,
            **dict(self.result),
        }
