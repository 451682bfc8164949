"""Creating, listing and reading monitors (``loopml monitor create|list|show``)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from loopml.entities import MonitorRecord
from loopml.entities.names import check_name
from loopml.errors import InvalidInput
from loopml.monitor.alerts import AlertRule
from loopml.monitor.config import MonitorConfig, WindowSpec, parse_rules
from loopml.monitor.reference import Reference, build_reference, served_version
from loopml.monitor.window_result import WindowResult
from loopml.workspace import Workspace, default_workspace


@dataclass(frozen=True)
class Monitor:
    """A monitor as stored: what it watches, how, and how far it has read."""

    name: str
    model_name: str
    alias: str
    config: MonitorConfig
    reference: Reference | None
    watermark: str | None
    revision: int
    creation_time: int
    update_time: int

    @classmethod
    def from_record(cls, record: MonitorRecord) -> Monitor:
        return cls(
            name=record.name,
            model_name=record.model_name,
            alias=record.alias,
            config=MonitorConfig.from_dict(record.config),
            reference=None if record.reference is None else Reference.from_dict(record.reference),
            watermark=record.watermark,
            revision=record.revision,
            creation_time=record.creation_time,
            update_time=record.update_time,
        )

    def to_dict(self) -> dict[str, Any]:
        reference = None
        if self.reference is not None:
            reference = {
                "data": self.reference.data_ref,
                "model_version": self.reference.model_version,
                "task": self.reference.task,
                "target": self.reference.target,
                "features": builtins.list(self.reference.features),
                "calibration": self.reference.calibration_source,
                "baseline": self.reference.baseline,
                "notes": builtins.list(self.reference.notes),
            }
        return {
            "name": self.name,
            "model": self.model_name,
            "alias": self.alias,
            "config": self.config.to_dict(),
            "reference": reference,
            "watermark": self.watermark,
            "revision": self.revision,
            "creation_time": self.creation_time,
            "update_time": self.update_time,
        }


def create(
    name: str,
    model: str,
    *,
    alias: str = "champion",
    window: str | WindowSpec = "1h",
    reference: str | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | Literal["learned"] | None = None,
    share_threshold: float = 0.5,
    alerts: Sequence[str | AlertRule] | None = None,
    webhook: str | None = None,
    multivariate: bool = True,
    estimate: bool = True,
    min_rows: int = 50,
    min_labels: int = 50,
    workspace: Workspace | None = None,
) -> Monitor:
    """Create a monitor of ``model``'s traffic, judged against the served version's training data.

    The reference is built now (so a model without training data, or without a version at
    ``alias``, is refused here with the fix) and moves whenever the alias moves.
    """
    ws = workspace or default_workspace()
    check_name(name, "monitor")
    config = MonitorConfig(
        window=WindowSpec.parse(window),
        reference=reference,
        tests=dict(tests or {}),
        thresholds=thresholds if thresholds is not None else {},
        share_threshold=share_threshold,
        alerts=parse_rules(alerts),
        webhook=webhook,
        multivariate=multivariate,
        estimate=estimate,
        min_rows=min_rows,
        min_labels=min_labels,
    )
    ws.store.models.get(model)  # NotFound with its own hint when the model does not exist
    built = build_reference(ws, served_version(ws, model, alias), config)
    overridden = [
        *config.tests,
        *(config.thresholds if isinstance(config.thresholds, dict) else ()),
    ]
    unknown = [column for column in overridden if column not in built.features]
    if unknown:
        raise InvalidInput(
            f"--test/--threshold name column {unknown[0]!r}, which the model does not take",
            field=f"tests.{unknown[0]}",
            hint=f"the model's features: {', '.join(built.features)}",
        )
    record = MonitorRecord(
        name=name,
        model_name=model,
        alias=alias,
        config=config.to_dict(),
        reference=built.to_dict(),
        watermark=None,
        feedback_watermark=0,
        revision=0,
        state={},
        creation_time=0,
        update_time=0,
    )
    return Monitor.from_record(ws.store.monitors.create(record))


def get(name: str, *, workspace: Workspace | None = None) -> Monitor:
    """The monitor called ``name``."""
    ws = workspace or default_workspace()
    return Monitor.from_record(ws.store.monitors.get(name))


def list(model: str | None = None, *, workspace: Workspace | None = None) -> builtins.list[Monitor]:
    """Every monitor (of one model)."""
    ws = workspace or default_workspace()
    return [Monitor.from_record(r) for r in ws.store.monitors.list(model)]


def delete(name: str, *, workspace: Workspace | None = None) -> None:
    """Remove a monitor and its stored windows (alert events stay in the history)."""
    ws = workspace or default_workspace()
    ws.store.monitors.delete(name)


def results(
    name: str,
    *,
    since: int | None = None,
    until: int | None = None,
    workspace: Workspace | None = None,
) -> builtins.list[WindowResult]:
    """The stored window results of a monitor, oldest first."""
    ws = workspace or default_workspace()
    return [WindowResult.from_window(w) for w in ws.store.monitors.windows(name, since, until)]


def refresh_reference(name: str, *, workspace: Workspace | None = None) -> Monitor:
    """Rebuild the reference now from what the alias serves (after a promotion, say)."""
    from loopml.monitor.runner import current_reference

    ws = workspace or default_workspace()
    record = ws.store.monitors.get(name)
    config = MonitorConfig.from_dict(record.config)
    reference, rebuilt = current_reference(record, config, ws)
    if rebuilt:
        record = ws.store.monitors.commit(name, record.revision, reference=reference.to_dict())
    return Monitor.from_record(record)
