"""Frozen records passed between layers: no I/O, no SQLAlchemy, no pydantic."""

from loopml.entities.dataset import (
    DataKind,
    DataRef,
    Dataset,
    DatasetVersionRecord,
    parse_ref,
)
from loopml.entities.loop import LoopIteration, LoopLock
from loopml.entities.model import (
    EvaluationRecord,
    Event,
    GateSet,
    LoggedModel,
    ModelUri,
    ModelVersion,
    RegisteredModel,
    parse_model_uri,
)
from loopml.entities.monitor import MonitorRecord, MonitorWindow
from loopml.entities.pipeline import CacheEntry, StepRecord
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
from loopml.entities.serving import FeedbackLabel, PredictionSegment

__all__ = [
    "ArtifactFile",
    "CacheEntry",
    "DataKind",
    "DataRef",
    "Dataset",
    "DatasetVersionRecord",
    "EvaluationRecord",
    "Event",
    "Experiment",
    "FeedbackLabel",
    "GateSet",
    "LifecycleStage",
    "LoggedModel",
    "LoopIteration",
    "LoopLock",
    "MetricPoint",
    "MetricRow",
    "ModelUri",
    "ModelVersion",
    "MonitorRecord",
    "MonitorWindow",
    "PredictionSegment",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "StepRecord",
    "ViewType",
    "parse_model_uri",
    "parse_ref",
]
