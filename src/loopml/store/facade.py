"""``Store``: the thin facade composing the repositories over one database."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.process import hostname, pid_alive
from loopml.store import migrate
from loopml.store.artifact_index import SqlArtifactIndex
from loopml.store.base import (
    ArtifactIndex,
    DatasetRepository,
    EvaluationRepository,
    EventRepository,
    ExperimentRepository,
    LoopRepository,
    MetricRepository,
    ModelRepository,
    MonitorRepository,
    PipelineRepository,
    PredictionLogRepository,
    RecordRepository,
    RunRepository,
)
from loopml.store.datasets import SqlDatasets
from loopml.store.engine import Database
from loopml.store.evaluations import SqlEvaluations
from loopml.store.events import SqlEvents
from loopml.store.experiments import SqlExperiments
from loopml.store.loop import SqlLoop
from loopml.store.metrics import SqlMetrics
from loopml.store.migrations import HEAD
from loopml.store.models import SqlModels
from loopml.store.monitors import SqlMonitors
from loopml.store.pipelines import SqlPipelines
from loopml.store.predictions import SqlPredictionLog
from loopml.store.records import SqlRecords
from loopml.store.runs import SqlRuns
from loopml.store.tables import artifacts, latest_metrics, metrics, params, runs, tags


@dataclass
class Store:
    """Every repository of one metadata store, plus schema upkeep and integrity checks."""

    db: Database
    experiments: ExperimentRepository
    runs: RunRepository
    records: RecordRepository
    metrics: MetricRepository
    artifacts: ArtifactIndex
    datasets: DatasetRepository
    models: ModelRepository
    events: EventRepository
    evaluations: EvaluationRepository
    pipelines: PipelineRepository
    predictions: PredictionLogRepository
    monitors: MonitorRepository
    loop: LoopRepository

    @property
    def url(self) -> str:
        return self.db.safe_url

    def upgrade(self) -> bool:
        """Migrate the schema to the newest revision; True when something changed."""
        return migrate.upgrade(self.db)

    def revision(self) -> str | None:
        """The schema revision in the database."""
        return migrate.current_revision(self.db)

    def fail_dead_runs(self, heartbeat_timeout_s: float) -> list[str]:
        """Mark FAILED the RUNNING runs whose process died or whose heartbeat went stale."""
        stale_before = now_ms() - int(heartbeat_timeout_s * 1000)
        return self.runs.fail_dead(hostname(), pid_alive, stale_before)

    def referenced_digests(self) -> set[str]:
        """Every blob that runs, data and model versions, cached steps or logged predictions need.

        ``loopml gc`` keeps them.
        """
        return (
            self.artifacts.referenced_digests()
            | self.datasets.referenced_digests()
            | self.models.referenced_digests()
            | self.pipelines.referenced_digests()
            | self.predictions.referenced_digests()
        )

    def locate(self, digest: str) -> list[tuple[str, str]]:
        """Who needs a blob: ``(run id, artifact path)`` and ``("data", "name@3")`` pairs."""
        return self.artifacts.locate(digest) + [
            ("data", ref) for ref in self.datasets.locate(digest)
        ]

    def check(self) -> list[str]:
        """Integrity problems found (empty when the store is sound), for ``loopml db check``."""
        problems: list[str] = []
        revision = self.revision()
        if revision != HEAD:
            problems.append(
                f"schema revision is {revision!r}, expected {HEAD!r}: run loopml db upgrade"
            )
            return problems
        problems.extend(self.db.read(_check_rows))
        if self.db.is_sqlite:
            problems.extend(self.db.read(_check_sqlite_pages))
        return problems

    def close(self) -> None:
        """Release pooled connections."""
        self.db.dispose()


def open_store(uri: str, *, busy_timeout: float = 60.0, upgrade: bool = True) -> Store:
    """Open (and by default create or upgrade) the metadata store at ``uri``."""
    db = Database(uri, busy_timeout=busy_timeout)
    store = Store(
        db=db,
        experiments=SqlExperiments(db),
        runs=SqlRuns(db),
        records=SqlRecords(db),
        metrics=SqlMetrics(db),
        artifacts=SqlArtifactIndex(db),
        datasets=SqlDatasets(db),
        models=SqlModels(db),
        events=SqlEvents(db),
        evaluations=SqlEvaluations(db),
        pipelines=SqlPipelines(db),
        predictions=SqlPredictionLog(db),
        monitors=SqlMonitors(db),
        loop=SqlLoop(db),
    )
    if upgrade:
        store.upgrade()
    return store


def _check_rows(conn: Connection) -> list[str]:
    problems: list[str] = []
    for table in (params, tags, metrics, latest_metrics, artifacts):
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(~sa.exists().where(runs.c.pk == table.c.run_pk))
        ).scalar_one()
        if orphans:
            problems.append(f"{orphans} rows of {table.name} belong to no run")
    history_keys = sa.select(metrics.c.run_pk, metrics.c.key).distinct().subquery()
    missing_latest = conn.execute(
        sa.select(sa.func.count())
        .select_from(history_keys)
        .where(
            ~sa.exists().where(
                (latest_metrics.c.run_pk == history_keys.c.run_pk)
                & (latest_metrics.c.key == history_keys.c.key)
            )
        )
    ).scalar_one()
    if missing_latest:
        problems.append(f"{missing_latest} metrics have history but no latest value")
    bad_times = conn.execute(
        sa.select(sa.func.count()).where(runs.c.end_time < runs.c.start_time)
    ).scalar_one()
    if bad_times:
        problems.append(f"{bad_times} runs end before they start")
    return problems


def _check_sqlite_pages(conn: Connection) -> list[str]:
    problems: list[str] = []
    result = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
    if result != ["ok"]:
        problems.extend(f"sqlite integrity: {line}" for line in result[:20])
    fk_rows = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if fk_rows:
        problems.append(f"{len(fk_rows)} rows break foreign keys")
    return problems
