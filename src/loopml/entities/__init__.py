"""Frozen records passed between layers: no I/O, no SQLAlchemy, no pydantic."""

from loopml.entities.dataset import (
    DataKind,
    DataRef,
    Dataset,
    DatasetVersionRecord,
    parse_ref,
)
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
    ViewType,
)

__all__ = [
    "ArtifactFile",
    "DataKind",
    "DataRef",
    "Dataset",
    "DatasetVersionRecord",
    "Experiment",
    "LifecycleStage",
    "MetricPoint",
    "MetricRow",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "ViewType",
    "parse_ref",
]
