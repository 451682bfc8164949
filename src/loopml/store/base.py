"""The store's interfaces, one small ABC per aggregate.

Everything above the storage layer talks to these, never to SQL, so a remote tracking server with
an HTTP client can implement the same interfaces; ``loopml.testing.store`` is the conformance suite
every implementation passes.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopml.entities import (
    ArtifactFile,
    DataKind,
    DataRef,
    Dataset,
    DatasetVersionRecord,
    Experiment,
    MetricPoint,
    MetricRow,
    Run,
    RunStatus,
    ViewType,
)


@dataclass(frozen=True)
class RunSpec:
    """Everything known about a run when it starts (captured by the tracking layer)."""

    experiment_id: str
    run_name: str
    start_time: int
    parent_run_id: str | None = None
    user: str | None = None
    host: str | None = None
    pid: int | None = None
    entry_point: str | None = None
    command: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    packages: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunQuery:
    """A run search: experiments, MLflow-style filter (plus ``or``, parentheses), order, limit."""

    experiment_ids: Sequence[str] | None = None
    filter_string: str | None = None
    order_by: Sequence[str] = ()
    max_results: int = 1000
    view: ViewType = ViewType.ACTIVE_ONLY


@dataclass(frozen=True)
class ArtifactRecord:
    """One file of a run's artifact manifest: the user's path and the blob holding it."""

    path: str
    digest: str
    size: int


class ExperimentRepository(ABC):
    """Named groups of runs."""

    @abstractmethod
    def create(self, name: str) -> Experiment:
        """Create an experiment; AlreadyExists when the name is taken."""

    @abstractmethod
    def get(self, experiment_id: str) -> Experiment:
        """The experiment with this id; NotFound otherwise."""

    @abstractmethod
    def get_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""

    @abstractmethod
    def list(self, view: ViewType = ViewType.ACTIVE_ONLY) -> builtins.list[Experiment]:
        """All experiments in creation order."""

    @abstractmethod
    def rename(self, experiment_id: str, new_name: str) -> Experiment:
        """Rename; AlreadyExists when the new name is taken."""

    @abstractmethod
    def set_lifecycle(self, experiment_id: str, deleted: bool) -> Experiment:
        """Soft-delete or restore an experiment (its runs follow)."""


class RunRepository(ABC):
    """Runs: creation, status, soft deletion, liveness and search."""

    @abstractmethod
    def create(self, spec: RunSpec) -> Run:
        """Start a run in RUNNING state."""

    @abstractmethod
    def get(self, run_id: str) -> Run:
        """The run with its params, latest metrics and tags; NotFound otherwise."""

    @abstractmethod
    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Change status (a terminal run stays terminal unless resumed), end time or name."""

    @abstractmethod
    def set_lifecycle(self, run_id: str, deleted: bool) -> Run:
        """Soft-delete or restore a run."""

    @abstractmethod
    def heartbeat(self, run_ids: Iterable[str], now_ms: int) -> None:
        """Record that the process owning these runs is alive."""

    @abstractmethod
    def fail_dead(
        self, host: str, is_alive: Callable[[int], bool], stale_before_ms: int
    ) -> builtins.list[str]:
        """Mark FAILED every RUNNING run whose process is gone; return their ids."""

    @abstractmethod
    def search(self, query: RunQuery) -> builtins.list[Run]:
        """Runs matching the query, hydrated with params, latest metrics and tags."""

    @abstractmethod
    def purge_deleted(self, older_than_ms: int | None = None) -> builtins.list[str]:
        """Permanently remove soft-deleted runs (for ``loopml gc``); return their ids."""


class RecordRepository(ABC):
    """Params (immutable) and tags (mutable) of a run."""

    @abstractmethod
    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Store params; Conflict naming both values when a key already has another value."""

    @abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Insert or overwrite tags."""

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; NotFound when absent."""


class MetricRepository(ABC):
    """Metric points, written in batches, and their history."""

    @abstractmethod
    def log_rows(self, rows: Sequence[MetricRow]) -> int:
        """Store ``(run_id, key, value, timestamp, step)`` rows in one transaction; return count."""

    @abstractmethod
    def history(self, run_id: str, key: str) -> builtins.list[MetricPoint]:
        """Every point of one metric of one run, by step then timestamp."""


class ArtifactIndex(ABC):
    """Which blob holds each artifact path of each run."""

    @abstractmethod
    def record(self, run_id: str, files: Sequence[ArtifactRecord]) -> None:
        """Add or replace manifest entries of a run."""

    @abstractmethod
    def list(self, run_id: str) -> builtins.list[ArtifactFile]:
        """Every file of a run's manifest."""

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Digests some stored record still needs (``loopml gc`` keeps these)."""

    @abstractmethod
    def locate(self, digest: str) -> builtins.list[tuple[str, str]]:
        """(run id, path) pairs that hold a digest, to name them in integrity errors."""


@dataclass(frozen=True)
class NewVersion:
    """A version about to be stored: its content digest, the blobs it needs, its statistics."""

    digest: str
    kind: DataKind
    blob_digest: str
    blobs: Sequence[str]
    size_bytes: int
    num_files: int
    rows: int | None = None
    schema: Mapping[str, Any] | None = None
    profile: Mapping[str, Any] | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class DatasetRepository(ABC):
    """Datasets, their immutable numbered versions, aliases, and which runs used them."""

    @abstractmethod
    def add_version(self, name: str, new: NewVersion) -> tuple[DatasetVersionRecord, bool]:
        """Store a version (creating the dataset), or return the existing one with that digest."""

    @abstractmethod
    def get(self, name: str) -> Dataset:
        """The dataset of this name; NotFound otherwise."""

    @abstractmethod
    def list(self) -> builtins.list[Dataset]:
        """Every dataset, by name."""

    @abstractmethod
    def version(self, ref: DataRef) -> DatasetVersionRecord:
        """The version a reference names (number, latest or alias), profile included."""

    @abstractmethod
    def versions(self, name: str) -> builtins.list[DatasetVersionRecord]:
        """Every version of a dataset, oldest first, without profiles."""

    @abstractmethod
    def set_alias(self, name: str, alias: str, version: int | None) -> None:
        """Point an alias at a version (``None`` removes it)."""

    @abstractmethod
    def pin_schema(self, name: str, schema: Mapping[str, Any] | None) -> Dataset:
        """Pin (or with ``None`` unpin) the schema new versions must satisfy."""

    @abstractmethod
    def link_input(self, run_id: str, version_id: str, role: str) -> None:
        """Record that a run used a version in a role (train, test, …)."""

    @abstractmethod
    def inputs(self, run_id: str) -> builtins.list[tuple[DatasetVersionRecord, str]]:
        """The versions a run used, with their roles."""

    @abstractmethod
    def consumers(self, version_id: str) -> builtins.list[tuple[str, str]]:
        """(run id, role) of every run that used a version."""

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob some version needs."""

    @abstractmethod
    def locate(self, digest: str) -> builtins.list[str]:
        """``name@version`` of every version that needs a blob, to name them in errors."""
