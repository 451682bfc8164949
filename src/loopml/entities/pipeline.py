"""What the store keeps about pipelines: each step of each run, and the step cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepRecord:
    """One step of one pipeline run: its status, whether it was reused, and why."""

    pipeline_run_id: str
    pipeline: str
    step_name: str
    position: int
    status: str
    cached: bool = False
    cache_key: str | None = None
    step_run_id: str | None = None
    source_run_id: str | None = None
    reason: str | None = None
    key_parts: Mapping[str, Any] | None = None
    outputs: Mapping[str, Any] | None = None
    error: str | None = None
    start_time: int | None = None
    end_time: int | None = None


@dataclass(frozen=True)
class CacheEntry:
    """The outputs a step produced for one cache key, and the step run that produced them."""

    cache_key: str
    step_name: str
    run_id: str
    outputs: Mapping[str, Any] = field(default_factory=dict)
    creation_time: int = 0
