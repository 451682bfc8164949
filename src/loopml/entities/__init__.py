"""Frozen records passed between layers: no I/O, no SQLAlchemy, no pydantic."""

from loopml.entities.run import (
    ArtifactFile,
    Experiment,
    LifecycleStage,
    MetricPoint,
    MetricRow,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)

__all__ = [
    "ArtifactFile",
    "Experiment",
    "LifecycleStage",
    "MetricPoint",
    "MetricRow",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
]
