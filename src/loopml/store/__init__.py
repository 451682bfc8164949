"""The metadata store: SQL through SQLAlchemy, upgraded by Alembic, one repository per aggregate."""

from __future__ import annotations

from loopml.entities import ViewType
from loopml.store.base import (
    ArtifactIndex,
    ArtifactRecord,
    DatasetRepository,
    EvaluationRepository,
    EventRepository,
    ExperimentRepository,
    LoopRepository,
    MetricRepository,
    ModelRepository,
    MonitorRepository,
    NewEvaluation,
    NewEvent,
    NewLoggedModel,
    NewModelVersion,
    NewVersion,
    PipelineRepository,
    PredictionLogRepository,
    RecordRepository,
    RunQuery,
    RunRepository,
    RunSpec,
)
from loopml.store.facade import Store, open_store

__all__ = [
    "ArtifactIndex",
    "ArtifactRecord",
    "DatasetRepository",
    "EvaluationRepository",
    "EventRepository",
    "ExperimentRepository",
    "LoopRepository",
    "MetricRepository",
    "ModelRepository",
    "MonitorRepository",
    "NewEvaluation",
    "NewEvent",
    "NewLoggedModel",
    "NewModelVersion",
    "NewVersion",
    "PipelineRepository",
    "PredictionLogRepository",
    "RecordRepository",
    "RunQuery",
    "RunRepository",
    "RunSpec",
    "Store",
    "ViewType",
    "open_store",
]
