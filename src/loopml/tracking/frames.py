"""Runs as a pandas DataFrame, with MLflow's column names (``metrics.acc``, ``params.lr``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from loopml.entities import Run


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: attributes, then metrics, params and tags columns sorted by name."""
    rows: list[dict[str, Any]] = []
    metric_keys: set[str] = set()
    param_keys: set[str] = set()
    tag_keys: set[str] = set()
    for run in runs:
        info = run.info
        row: dict[str, Any] = {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "status": info.status.value,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "parent_run_id": info.parent_run_id,
            "user": info.user,
            "git_commit": info.git_commit,
        }
        for key, value in run.data.metrics.items():
            row[f"metrics.{key}"] = value
            metric_keys.add(key)
        for key, text in run.data.params.items():
            row[f"params.{key}"] = text
            param_keys.add(key)
        for key, text in run.data.tags.items():
            row[f"tags.{key}"] = text
            tag_keys.add(key)
        rows.append(row)
    columns = [
        "run_id",
        "run_name",
        "experiment_id",
        "status",
        "start_time",
        "end_time",
        "parent_run_id",
        "user",
        "git_commit",
        *(f"metrics.{k}" for k in sorted(metric_keys)),
        *(f"params.{k}" for k in sorted(param_keys)),
        *(f"tags.{k}" for k in sorted(tag_keys)),
    ]
    frame = pd.DataFrame(rows, columns=columns)
    # Converted per column, not per row: timestamps are the costly part of building the frame.
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame
