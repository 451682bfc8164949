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
from typing import Any, Literal

from loopml.entities import (
    ArtifactFile,
    CacheEntry,
    DataKind,
    DataRef,
    Dataset,
    DatasetVersionRecord,
    EvaluationRecord,
    Event,
    Experiment,
    FeedbackLabel,
    GateSet,
    LoggedModel,
    LoopIteration,
    LoopLock,
    MetricPoint,
    MetricRow,
    ModelVersion,
    MonitorRecord,
    MonitorWindow,
    PredictionSegment,
    RegisteredModel,
    Run,
    RunStatus,
    StepRecord,
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
    def tagged(self, key: str, value: str) -> builtins.list[DatasetVersionRecord]:
        """Versions (of any dataset) whose tag ``key`` is ``value``, without profiles.

        Lineage finds what was derived from a version this way: the training loop tags the
        versions it builds with ``base`` (the version they extend) and ``loop_iteration``.
        """

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob some version needs."""

    @abstractmethod
    def locate(self, digest: str) -> builtins.list[str]:
        """``name@version`` of every version that needs a blob, to name them in errors."""


@dataclass(frozen=True)
class NewLoggedModel:
    """A model folder just stored in a run: its manifest and what its ``MLmodel.json`` says."""

    run_id: str
    path: str
    flavor: str
    format: str
    executable: bool
    digest: str
    files: Mapping[str, str]
    signature: Mapping[str, Any] | None = None
    requirements: Mapping[str, str] = field(default_factory=dict)
    task: str | None = None
    classes: Sequence[Any] | None = None


@dataclass(frozen=True)
class NewModelVersion:
    """What registering a logged model adds: where its training data and evaluation are."""

    model_id: str
    target: str | None = None
    data_version: str | None = None
    evaluation_id: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewEvent:
    """A decision to record: what happened to which subject, who did it, why, the evidence."""

    kind: str
    subject: str
    actor: str | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewEvaluation:
    """An evaluation to store with its run (the result is the evaluation's plain-data form)."""

    model_uri: str
    task: str
    target: str
    n_rows: int
    result: Mapping[str, Any]
    run_id: str | None = None
    model_digest: str | None = None
    data_version: str | None = None


AnyVersion = Literal["any"]


class ModelRepository(ABC):
    """Logged models, registered models, numbered versions, aliases and declared gates."""

    @abstractmethod
    def log(self, new: NewLoggedModel) -> LoggedModel:
        """Record a model stored in a run (replacing an earlier one at the same path)."""

    @abstractmethod
    def logged(self, run_id: str, path: str) -> LoggedModel | None:
        """The model ``log_model`` stored at this run and path, or None."""

    @abstractmethod
    def logged_by_id(self, model_id: str) -> LoggedModel:
        """A logged model by id; NotFound otherwise."""

    @abstractmethod
    def create(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Register a model name; AlreadyExists when taken."""

    @abstractmethod
    def get(self, name: str) -> RegisteredModel:
        """A registered model with its aliases; NotFound otherwise."""

    @abstractmethod
    def list(self) -> builtins.list[RegisteredModel]:
        """Every registered model, by name."""

    @abstractmethod
    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Change the description, set tags (a ``None`` value removes a tag)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove a registered model with its versions, aliases and gates (events stay)."""

    @abstractmethod
    def add_version(self, name: str, new: NewModelVersion) -> ModelVersion:
        """Register a logged model as the next version (creating the name when missing).

        Numbers are 1, 2, 3… with no gaps or duplicates however many processes register at once.
        """

    @abstractmethod
    def version(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> ModelVersion:
        """A version by number or alias (neither: the newest); NotFound otherwise."""

    @abstractmethod
    def versions(self, name: str) -> builtins.list[ModelVersion]:
        """Every version of a model, oldest first."""

    @abstractmethod
    def versions_trained_on(self, data_version: str) -> builtins.list[ModelVersion]:
        """Every version (of any model) whose training data is ``data_version``, oldest first."""

    @abstractmethod
    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        evaluation_id: str | None = None,
        target: str | None = None,
    ) -> ModelVersion:
        """Change a version's description or tags, or attach its admitting evaluation."""

    @abstractmethod
    def delete_version(self, name: str, version: int) -> None:
        """Remove a version; Conflict while an alias points at it."""

    @abstractmethod
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        event: NewEvent,
        if_current: int | AnyVersion | None = "any",
    ) -> Event:
        """Point ``alias`` at ``version`` (``None`` removes it) and record ``event``, atomically.

        With ``if_current`` the move is a compare-and-set: Conflict when the alias no longer
        points where the caller last saw it (``None``: nowhere). The event's data gains ``alias``,
        ``from_version`` and ``to_version``.
        """

    @abstractmethod
    def set_gates(self, name: str, gates: Sequence[str], actor: str | None) -> GateSet:
        """Declare the gates promotions of this model must pass, as a new revision."""

    @abstractmethod
    def gates(self, name: str, revision: int | None = None) -> GateSet | None:
        """The current (or a given) gate revision; None when none was ever declared."""

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob a registered version needs."""


class EventRepository(ABC):
    """The append-only log of decisions and their evidence."""

    @abstractmethod
    def add(self, new: NewEvent) -> Event:
        """Append an event."""

    @abstractmethod
    def list(
        self, subject: str | None = None, kind: str | None = None, limit: int = 100
    ) -> builtins.list[Event]:
        """Events, newest first, optionally of one subject or kind."""


class EvaluationRepository(ABC):
    """Stored evaluation results, found by id, run, or model digest and data version."""

    @abstractmethod
    def add(self, new: NewEvaluation) -> EvaluationRecord:
        """Store an evaluation."""

    @abstractmethod
    def get(self, evaluation_id: str) -> EvaluationRecord:
        """One evaluation; NotFound otherwise."""

    @abstractmethod
    def find(self, model_digest: str, data_version: str | None = None) -> EvaluationRecord | None:
        """The newest evaluation of a model (by digest), on one data version when given."""

    @abstractmethod
    def for_run(self, run_id: str) -> builtins.list[EvaluationRecord]:
        """Evaluations stored with a run, oldest first."""

    @abstractmethod
    def for_data(self, data_version: str) -> builtins.list[EvaluationRecord]:
        """Evaluations run on a data version (``name@N``), oldest first."""


class PipelineRepository(ABC):
    """The step cache and the record of every step of every pipeline run."""

    @abstractmethod
    def cache_get(self, cache_key: str) -> CacheEntry | None:
        """The outputs stored under a cache key, or None."""

    @abstractmethod
    def cache_put(self, entry: CacheEntry) -> None:
        """Store (or replace) the outputs of a cache key."""

    @abstractmethod
    def cache_delete(self, cache_key: str) -> None:
        """Forget a cache key (its outputs are gone)."""

    @abstractmethod
    def save_step(self, record: StepRecord) -> None:
        """Insert or update one step of a pipeline run."""

    @abstractmethod
    def steps(self, pipeline_run_id: str) -> builtins.list[StepRecord]:
        """The steps of a pipeline run, in the order they were planned."""

    @abstractmethod
    def previous_step(self, pipeline: str, step_name: str, before_run_id: str) -> StepRecord | None:
        """The newest finished record of this step in an earlier run of the same pipeline."""

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob a cache entry's outputs need."""


class PredictionLogRepository(ABC):
    """Segments of the prediction log (their blobs hold the rows) and feedback labels."""

    @abstractmethod
    def add_segment(self, segment: PredictionSegment) -> None:
        """Register a segment whose blob is already stored; AlreadyExists for a known id."""

    @abstractmethod
    def segments(
        self,
        model_name: str,
        since: int | None = None,
        until: int | None = None,
        after_segment_id: str | None = None,
        created_since: int | None = None,
    ) -> builtins.list[PredictionSegment]:
        """A model's segments in arrival order.

        ``created_since`` keeps those whose ``creation_time`` is at least that (ms): with a
        look-back it finds segments committed late, which an id watermark alone would miss.

        ``since``/``until`` keep the segments whose time range overlaps ``[since, until]``;
        ``after_segment_id`` keeps those registered after that one (a monitor's exactly-once
        watermark); NotFound when that segment does not exist.
        """

    @abstractmethod
    def segments_at(self, time_ms: int, slack_ms: int = 0) -> builtins.list[PredictionSegment]:
        """Segments of every model whose time range overlaps ``[time_ms - slack_ms, time_ms +
        slack_ms]``, in arrival order: where a prediction made at ``time_ms`` can be.

        Prediction ids carry their millisecond (UUIDv7), so this finds a prediction's segment
        without knowing its model, by index ranges per model rather than a scan of the log.
        """

    @abstractmethod
    def add_feedback(self, labels: Sequence[FeedbackLabel]) -> int:
        """Store labels in one transaction (a later label for an id replaces it); return count."""

    @abstractmethod
    def feedback(self, prediction_ids: Sequence[str]) -> dict[str, FeedbackLabel]:
        """The labels known for these prediction ids (any number of them), by id."""

    @abstractmethod
    def feedback_since(self, after_time: int, limit: int = 100_000) -> builtins.list[FeedbackLabel]:
        """Labels that arrived after ``after_time`` (ms), oldest first, at most ``limit``."""

    @abstractmethod
    def feedback_between(self, start_ms: int, end_ms: int) -> dict[str, FeedbackLabel]:
        """Labels of the predictions made in ``[start_ms, end_ms]``, by prediction id.

        Prediction ids are time-ordered (UUIDv7), so this is one range scan of the key however
        many predictions the span holds, and costs nothing when no label arrived.
        """

    @abstractmethod
    def referenced_digests(self) -> set[str]:
        """Every blob a segment needs."""


class MonitorRepository(ABC):
    """Monitors and their windows; a run's results land with one compare-and-set commit."""

    @abstractmethod
    def create(self, record: MonitorRecord) -> MonitorRecord:
        """Store a new monitor (revision 0); AlreadyExists when the name is taken."""

    @abstractmethod
    def get(self, name: str) -> MonitorRecord:
        """The monitor called ``name``; NotFound otherwise."""

    @abstractmethod
    def list(self, model_name: str | None = None) -> builtins.list[MonitorRecord]:
        """Every monitor (of one model), by name."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove a monitor and its windows; NotFound when absent."""

    @abstractmethod
    def windows(
        self,
        name: str,
        since: int | None = None,
        until: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> builtins.list[MonitorWindow]:
        """A monitor's windows by start time (overlapping ``[since, until]``, or these keys)."""

    @abstractmethod
    def commit(
        self,
        name: str,
        expected_revision: int,
        *,
        windows: Sequence[MonitorWindow] = (),
        watermark: str | None = None,
        feedback_watermark: int | None = None,
        config: Mapping[str, Any] | None = None,
        reference: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
        events: Sequence[NewEvent] = (),
    ) -> MonitorRecord:
        """Upsert windows, move the watermarks, replace config/reference/state, append events.

        All in one transaction, and only if the monitor is still at ``expected_revision``
        (Conflict otherwise: another run committed first and this one must start again). A
        ``None`` argument leaves that field as it is.
        """


class LoopRepository(ABC):
    """Training-loop iterations, the per-model iteration lock and the controller's state."""

    @abstractmethod
    def add_iteration(self, iteration: LoopIteration) -> LoopIteration:
        """Store a new iteration; AlreadyExists for a known id."""

    @abstractmethod
    def update_iteration(self, iteration_id: str, **fields: Any) -> LoopIteration:
        """Change some fields (``status``, ``decision``, ``record``, …); NotFound when absent."""

    @abstractmethod
    def iteration(self, iteration_id: str) -> LoopIteration:
        """One iteration (a unique id prefix of 8+ characters works); NotFound otherwise."""

    @abstractmethod
    def iterations(
        self, model_name: str | None = None, status: str | None = None, limit: int = 100
    ) -> builtins.list[LoopIteration]:
        """Iterations, newest first."""

    @abstractmethod
    def acquire_lock(
        self, model_name: str, holder: str, host: str, pid: int, stale_before: int
    ) -> tuple[bool, LoopLock | None]:
        """Take the model's lock for ``holder``.

        Free, or held by a holder whose heartbeat is older than ``stale_before`` (ms), or held
        on ``host`` by a process that is gone: taken, returning ``(True, previous holder or
        None)``. Held by a live holder: ``(False, that holder)``. One transaction, so two
        controllers never both win.
        """

    @abstractmethod
    def heartbeat(self, model_name: str, holder: str) -> bool:
        """Refresh the holder's heartbeat; False when it no longer holds the lock."""

    @abstractmethod
    def release_lock(self, model_name: str, holder: str) -> None:
        """Let go of the lock if ``holder`` still has it."""

    @abstractmethod
    def lock(self, model_name: str) -> LoopLock | None:
        """The current holder, if any."""

    @abstractmethod
    def state(self, model_name: str) -> dict[str, Any]:
        """The controller's remembered state for a model (empty at first)."""

    @abstractmethod
    def save_state(self, model_name: str, state: Mapping[str, Any]) -> None:
        """Replace the controller's state for a model."""
