"""Experiments, runs and their records, shaped like MLflow's so habits transfer."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class RunStatus(enum.StrEnum):
    """Where a run is in its life; only RUNNING may still change."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class LifecycleStage(enum.StrEnum):
    """Soft deletion: deleted things are hidden but restorable until ``loopml gc`` purges them."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a listing includes."""

    ACTIVE_ONLY = "active_only"
    DELETED_ONLY = "deleted_only"
    ALL = "all"


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int


class MetricPoint(NamedTuple):
    """One logged metric value; a tuple because millions of them pass through the logging queue."""

    key: str
    value: float
    timestamp: int
    step: int


# (run_id, key, value, timestamp_ms, step): how points travel in bulk from the logging queue to the
# store, flat because a million of them must not cost a million objects more than needed.
MetricRow = tuple[str, str, float, int, int]


@dataclass(frozen=True)
class RunInfo:
    """What a run is: identity, status, times and where it ran (captured automatically)."""

    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    parent_run_id: str | None = None
    user: str | None = None
    host: str | None = None
    entry_point: str | None = None
    command: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    packages: Mapping[str, str] = field(default_factory=dict)

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True)
class RunData:
    """What a run recorded: params, the latest value of each metric, tags."""

    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """A run as users see it: ``run.info.run_id``, ``run.data.metrics["acc"]``."""

    info: RunInfo
    data: RunData

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view for ``--json`` output and the HTTP API."""
        info = {k: getattr(self.info, k) for k in self.info.__dataclass_fields__}
        info["status"] = str(self.info.status)
        info["lifecycle_stage"] = str(self.info.lifecycle_stage)
        info["packages"] = dict(self.info.packages)
        return {
            "info": info,
            "data": {
                "params": dict(self.data.params),
                "metrics": dict(self.data.metrics),
                "tags": dict(self.data.tags),
            },
        }


@dataclass(frozen=True)
class ArtifactFile:
    """One entry of a run's artifact listing: a file (with digest) or a folder."""

    path: str
    is_dir: bool
    file_size: int | None = None
    digest: str | None = None
