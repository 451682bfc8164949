"""What the store keeps about the training loop: iterations and the per-model lock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LoopIteration:
    """One iteration: trigger evidence → data version → run → model version → decision.

    ``status`` is ``running``, ``awaiting_approval``, ``finished`` or ``failed``; ``decision``
    is ``promoted``, ``kept`` (a gate failed), ``approved``, ``rejected`` or ``failed``.
    ``record`` holds the whole story (trigger, evidence, gates, evaluation, steps) as JSON.
    """

    iteration_id: str
    model_name: str
    status: str
    start_time: int
    host: str
    pid: int
    record: Mapping[str, Any] = field(default_factory=dict)
    decision: str | None = None
    reason: str | None = None
    model_version: int | None = None
    data_version: str | None = None
    run_id: str | None = None
    end_time: int | None = None


@dataclass(frozen=True)
class LoopLock:
    """The holder of a model's iteration lock."""

    model_name: str
    holder: str
    host: str
    pid: int
    acquire_time: int
    heartbeat_time: int
