"""SQL implementation of :class:`RunRepository`, and loading runs with their records."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import LifecycleStage, Run, RunData, RunInfo, RunStatus
from loopml.entities.validation import validate_name, validate_tag_value
from loopml.errors import Conflict, NotFound
from loopml.store.base import RunQuery, RunRepository, RunSpec
from loopml.store.engine import Database
from loopml.store.search import search_run_pks
from loopml.store.tables import (
    artifacts,
    experiments,
    latest_metrics,
    metrics,
    params,
    runs,
    tags,
)

_NAN = float("nan")
_CHUNK = 5_000


def resolve_run(conn: Connection, run_id: str, *, for_write: bool = False) -> int:
    """The integer key of a run; NotFound when absent, Conflict when writing to a deleted one."""
    row = conn.execute(
        sa.select(runs.c.pk, runs.c.lifecycle_stage).where(runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise NotFound(
            f"run {run_id!r} does not exist",
            field="run_id",
            value=run_id,
            hint="list runs with `loopml runs list`",
        )
    if for_write and row.lifecycle_stage == LifecycleStage.DELETED.value:
        raise Conflict(
            f"run {run_id} is deleted and cannot be changed",
            field="run_id",
            value=run_id,
            hint=f"restore it first: loopml runs restore {run_id}",
        )
    return int(row.pk)


def load_runs(conn: Connection, pks: Sequence[int]) -> list[Run]:
    """Hydrate runs (in the given order) with params, latest metrics and tags, in four queries."""
    if not pks:
        return []
    rows: dict[int, Any] = {}
    records: dict[str, dict[int, dict[str, Any]]] = {
        name: defaultdict(dict) for name in ("params", "tags", "metrics")
    }
    # Chunked: SQLite and PostgreSQL cap the number of bound parameters in one statement.
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        rows.update((r.pk, r) for r in conn.execute(runs.select().where(runs.c.pk.in_(chunk))))
        for name, table in (("params", params), ("tags", tags), ("metrics", latest_metrics)):
            grouped = records[name]
            query = sa.select(table.c.run_pk, table.c.key, table.c.value).where(
                table.c.run_pk.in_(chunk)
            )
            for run_pk, key, value in conn.execute(query):
                grouped[run_pk][key] = _NAN if value is None and name == "metrics" else value
    return [
        Run(
            info=_info(rows[pk]),
            data=RunData(
                params=records["params"].get(pk, {}),
                metrics=records["metrics"].get(pk, {}),
                tags=records["tags"].get(pk, {}),
            ),
        )
        for pk in pks
        if pk in rows
    ]


def _info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        experiment_id=row.experiment_id,
        run_name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        parent_run_id=row.parent_run_id,
        user=row.user,
        host=row.host,
        entry_point=row.entry_point,
        command=row.command,
        git_commit=row.git_commit,
        git_branch=row.git_branch,
        git_dirty=row.git_dirty,
        python_version=row.python_version,
        packages=json.loads(row.packages) if row.packages else {},
    )


class SqlRuns(RunRepository):
    """Runs in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, spec: RunSpec) -> Run:
        validate_name(spec.run_name, "run")
        tag_rows = [(k, validate_tag_value(k, v)) for k, v in spec.tags.items()]
        run_id = new_id()

        def work(conn: Connection) -> Run:
            stage = conn.execute(
                sa.select(experiments.c.lifecycle_stage).where(
                    experiments.c.experiment_id == spec.experiment_id
                )
            ).scalar()
            if stage is None:
                raise NotFound(
                    f"experiment {spec.experiment_id!r} does not exist", field="experiment_id"
                )
            if stage == LifecycleStage.DELETED.value:
                raise Conflict(
                    f"experiment {spec.experiment_id} is deleted; runs cannot start in it",
                    field="experiment_id",
                    hint="restore it or use another experiment",
                )
            if spec.parent_run_id is not None:
                resolve_run(conn, spec.parent_run_id)
            pk = conn.execute(
                runs.insert()
                .values(
                    run_id=run_id,
                    experiment_id=spec.experiment_id,
                    name=spec.run_name,
                    status=RunStatus.RUNNING.value,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    start_time=spec.start_time,
                    parent_run_id=spec.parent_run_id,
                    user=spec.user,
                    host=spec.host,
                    pid=spec.pid,
                    heartbeat_time=spec.start_time,
                    entry_point=spec.entry_point,
                    command=spec.command,
                    git_commit=spec.git_commit,
                    git_branch=spec.git_branch,
                    git_dirty=spec.git_dirty,
                    python_version=spec.python_version,
                    packages=json.dumps(dict(spec.packages), sort_keys=True),
                )
                .returning(runs.c.pk)
            ).scalar_one()
            if tag_rows:
                conn.execute(
                    tags.insert(), [{"run_pk": pk, "key": k, "value": v} for k, v in tag_rows]
                )
            return load_runs(conn, [pk])[0]

        return self._db.write(work)

    def get(self, run_id: str) -> Run:
        return self._db.read(lambda conn: load_runs(conn, [resolve_run(conn, run_id)])[0])

    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run:
        values: dict[str, Any] = {}
        if run_name is not None:
            values["name"] = validate_name(run_name, "run")
        if status is not None:
            values["status"] = status.value
            if status is RunStatus.RUNNING:
                values["end_time"] = None
                values["heartbeat_time"] = now_ms()
            else:
                values["end_time"] = end_time if end_time is not None else now_ms()
        elif end_time is not None:
            values["end_time"] = end_time

        def work(conn: Connection) -> Run:
            pk = resolve_run(conn, run_id, for_write=True)
            if values:
                conn.execute(runs.update().where(runs.c.pk == pk).values(**values))
            return load_runs(conn, [pk])[0]

        return self._db.write(work)

    def set_lifecycle(self, run_id: str, deleted: bool) -> Run:
        stage = LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE

        def work(conn: Connection) -> Run:
            pk = resolve_run(conn, run_id)
            conn.execute(
                runs.update()
                .where(runs.c.pk == pk)
                .values(lifecycle_stage=stage.value, deleted_time=now_ms() if deleted else None)
            )
            return load_runs(conn, [pk])[0]

        return self._db.write(work)

    def heartbeat(self, run_ids: Iterable[str], now_ms: int) -> None:
        ids = list(run_ids)
        if not ids:
            return
        self._db.write(
            lambda conn: conn.execute(
                runs.update()
                .where(runs.c.run_id.in_(ids), runs.c.status == RunStatus.RUNNING.value)
                .values(heartbeat_time=now_ms)
            )
        )

    def fail_dead(
        self, host: str, is_alive: Callable[[int], bool], stale_before_ms: int
    ) -> list[str]:
        running = self._db.read(
            lambda conn: conn.execute(
                sa.select(runs.c.run_id, runs.c.host, runs.c.pid, runs.c.heartbeat_time).where(
                    runs.c.status == RunStatus.RUNNING.value
                )
            ).all()
        )
        dead = [
            row.run_id
            for row in running
            if (row.host == host and row.pid is not None and not is_alive(row.pid))
            or (row.heartbeat_time or 0) < stale_before_ms
        ]
        if dead:
            end = now_ms()
            self._db.write(
                lambda conn: conn.execute(
                    runs.update()
                    .where(runs.c.run_id.in_(dead), runs.c.status == RunStatus.RUNNING.value)
                    .values(status=RunStatus.FAILED.value, end_time=end)
                )
            )
        return dead

    def search(self, query: RunQuery) -> list[Run]:
        return self._db.read(lambda conn: load_runs(conn, search_run_pks(conn, query)))

    def purge_deleted(self, older_than_ms: int | None = None) -> list[str]:
        condition = runs.c.lifecycle_stage == LifecycleStage.DELETED.value
        if older_than_ms is not None:
            condition = condition & (runs.c.deleted_time <= older_than_ms)

        def work(conn: Connection) -> list[str]:
            doomed = conn.execute(sa.select(runs.c.pk, runs.c.run_id).where(condition)).all()
            pks = [row.pk for row in doomed]
            for start in range(0, len(pks), 500):
                chunk = pks[start : start + 500]
                # Children first: SQLite only cascades with foreign_keys on, so do not rely on it.
                for table in _CHILD_TABLES:
                    conn.execute(table.delete().where(table.c.run_pk.in_(chunk)))
                conn.execute(runs.delete().where(runs.c.pk.in_(chunk)))
            return [row.run_id for row in doomed]

        return self._db.write(work)


_CHILD_TABLES = (params, tags, metrics, latest_metrics, artifacts)


def run_pk_map(conn: Connection, run_ids: Iterable[str]) -> Mapping[str, int]:
    """Integer keys for many run ids at once (writes to deleted runs are refused)."""
    ids = list(set(run_ids))
    rows = conn.execute(
        sa.select(runs.c.run_id, runs.c.pk, runs.c.lifecycle_stage).where(runs.c.run_id.in_(ids))
    ).all()
    found = {row.run_id: row for row in rows}
    for run_id in ids:
        if run_id not in found:
            resolve_run(conn, run_id)
        if found[run_id].lifecycle_stage == LifecycleStage.DELETED.value:
            resolve_run(conn, run_id, for_write=True)
    return {run_id: int(row.pk) for run_id, row in found.items()}
