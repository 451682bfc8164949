"""What the store keeps about monitors: their settings, read positions and windows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MonitorRecord:
    """A monitor of one model's traffic, as stored.

    ``config`` holds the settings (window, tests, thresholds, alert rules, webhook), ``reference``
    the bundle the windows are judged against (profile, calibrator, baseline metrics), rebuilt
    when the served version changes. ``watermark`` is the last prediction segment consumed and
    ``feedback_watermark`` the arrival time of the last feedback label taken into account.
    ``state`` is what one run hands the next (the open row window, the newest prediction time).
    ``revision`` grows with every committed run: a run commits only if it is unchanged.
    """

    name: str
    model_name: str
    alias: str
    config: Mapping[str, Any]
    reference: Mapping[str, Any] | None
    watermark: str | None
    feedback_watermark: int
    revision: int
    state: Mapping[str, Any]
    creation_time: int
    update_time: int


@dataclass(frozen=True)
class MonitorWindow:
    """One window of a monitor: its span, rows, accumulated state and result."""

    monitor_name: str
    window_key: str
    start_time: int
    end_time: int
    rows: int
    complete: bool
    state: Mapping[str, Any]
    result: Mapping[str, Any]
    creation_time: int = 0
    update_time: int = 0
