"""What the store keeps about serving: prediction log segments and feedback labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PredictionSegment:
    """One Parquet file of logged predictions of one model, as its blob and its summary.

    ``profile`` is the mergeable profile (``TableProfile.to_dict``) of the segment's inputs and
    predictions, so a monitor can describe an hour of traffic without reading the rows.
    """

    segment_id: str
    model_name: str
    model_versions: tuple[int, ...]
    start_time: int
    end_time: int
    rows: int
    blob_digest: str
    size_bytes: int
    profile: Mapping[str, Any] | None
    creation_time: int


@dataclass(frozen=True)
class FeedbackLabel:
    """The true outcome of one logged prediction, known later (a JSON str, int, float or bool)."""

    prediction_id: str
    label: Any
    time: int
