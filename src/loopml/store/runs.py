"""SQL implementation of :class:`RunRepository`, and loading runs with their records."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml._util.process import hostname
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


# Columns in the order of RunInfo's fields, so rows convert positionally (this runs per search hit).
_INFO_COLUMNS = (
    runs.c.pk,
    runs.c.run_id,
    runs.c.experiment_id,
    runs.c.name,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.lifecycle_stage,
    runs.c.parent_run_id,
    runs.c.user,
    runs.c.host,
    runs.c.entry_point,
    runs.c.command,
    runs.c.git_commit,
    runs.c.git_branch,
    runs.c.git_dirty,
    runs.c.python_version,
    runs.c.packages,
)
_STATUSES = {s.value: s for s in RunStatus}
_STAGES = {s.value: s for s in LifecycleStage}


def load_runs(conn: Connection, pks: Sequence[int]) -> list[Run]:
    """Hydrate runs (in the given order) with params, latest metrics and tags, in four queries."""
    if not pks:
        return []
    infos: dict[int, RunInfo] = {}
    records: dict[str, dict[int, dict[str, Any]]] = {
        name: defaultdict(dict) for name in ("params", "tags", "metrics")
    }
    query = sa.select(*_INFO_COLUMNS).where(key_in(conn, runs.c.pk, pks))
    for row in conn.execute(query).all():
        infos[row[0]] = _info(row)
    for name, table in (("params", params), ("tags", tags), ("metrics", latest_metrics)):
        grouped = records[name]
        records_query = sa.select(table.c.run_pk, table.c.key, table.c.value).where(
            key_in(conn, table.c.run_pk, pks)
        )
        nan_for_null = name == "metrics"
        for record in conn.execute(records_query).all():
            value = record[2]
            grouped[record[0]][record[1]] = _NAN if value is None and nan_for_null else value
    return [
        Run(
            info=infos[pk],
            data=RunData(
                params=records["params"].get(pk, {}),
                metrics=records["metrics"].get(pk, {}),
                tags=records["tags"].get(pk, {}),
            ),
        )
        for pk in pks
        if pk in infos
    ]


def key_in(conn: Connection, column: sa.ColumnElement[int], keys: Sequence[int]) -> Any:
    """``column IN keys`` as one bound value (a JSON array on SQLite, an array on PostgreSQL).

    A plain ``IN (?, ?, …)`` binds one parameter per key: it hits the databases' parameter limits
    and costs a fresh statement compile for every search.
    """
    if conn.dialect.name == "sqlite":
        each = sa.func.json_each(sa.bindparam("keys_json", json.dumps(list(keys))))
        value: sa.ColumnClause[int] = sa.column("value")
        return column.in_(sa.select(value).select_from(each))
    array = sa.bindparam("keys_array", list(keys), type_=postgresql.ARRAY(sa.BigInteger))
    return column == sa.any_(array)


def _info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row[1],
        experiment_id=row[2],
        run_name=row[3],
        status=_STATUSES[row[4]],
        start_time=row[5],
        end_time=row[6],
        lifecycle_stage=_STAGES[row[7]],
        parent_run_id=row[8],
        user=row[9],
        host=row[10],
        entry_point=row[11],
        command=row[12],
        git_commit=row[13],
        git_branch=row[14],
        git_dirty=row[15],
        python_version=row[16],
        packages=json.loads(row[17]) if row[17] else {},
    )


def _row_values(info: RunInfo) -> dict[str, Any]:
    """The ``runs`` columns of a RunInfo (the inverse of :func:`_info`)."""
    values = {column.name: getattr(info, column.name, None) for column in _INFO_COLUMNS[1:]}
    values.update(
        name=info.run_name,
        status=info.status.value,
        lifecycle_stage=info.lifecycle_stage.value,
        packages=json.dumps(dict(info.packages), sort_keys=True),
    )
    return values


def _check_experiment_open(conn: Connection, experiment_id: str) -> None:
    stage = conn.execute(
        sa.select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == experiment_id)
    ).scalar()
    if stage is None:
        raise NotFound(f"experiment {experiment_id!r} does not exist", field="experiment_id")
    if stage == LifecycleStage.DELETED.value:
        raise Conflict(
            f"experiment {experiment_id} is deleted; runs cannot start in it",
            field="experiment_id",
            hint="restore it or use another experiment",
        )


class SqlRuns(RunRepository):
    """Runs in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, spec: RunSpec) -> Run:
        validate_name(spec.run_name, "run")
        tag_rows = [(k, validate_tag_value(k, v)) for k, v in spec.tags.items()]
        info = RunInfo(
            run_id=new_id(),
            experiment_id=spec.experiment_id,
            run_name=spec.run_name,
            status=RunStatus.RUNNING,
            start_time=spec.start_time,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            parent_run_id=spec.parent_run_id,
            user=spec.user,
            host=spec.host,
            entry_point=spec.entry_point,
            command=spec.command,
            git_commit=spec.git_commit,
            git_branch=spec.git_branch,
            git_dirty=spec.git_dirty,
            python_version=spec.python_version,
            packages=dict(spec.packages),
        )

        def work(conn: Connection) -> None:
            _check_experiment_open(conn, spec.experiment_id)
            if spec.parent_run_id is not None:
                resolve_run(conn, spec.parent_run_id)
            pk = conn.execute(
                runs.insert()
                .values(**_row_values(info), pid=spec.pid, heartbeat_time=spec.start_time)
                .returning(runs.c.pk)
            ).scalar_one()
            if tag_rows:
                conn.execute(
                    tags.insert(), [{"run_pk": pk, "key": k, "value": v} for k, v in tag_rows]
                )

        self._db.write(work)
        # Everything is known already: no need to read the run back.
        return Run(info=info, data=RunData(tags=dict(tag_rows)))

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
                # Resumed: this process owns the run now, so liveness checks look at it.
                values["end_time"] = None
                values["heartbeat_time"] = now_ms()
                values["host"] = hostname()
                values["pid"] = os.getpid()
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

        # Same host: the process id decides. Other hosts: only a stale heartbeat can.
        def is_dead(row: Any) -> bool:
            if row.host == host:
                return row.pid is not None and not is_alive(row.pid)
            return bool((row.heartbeat_time or 0) < stale_before_ms)

        dead = [row for row in running if is_dead(row)]
        if not dead:
            return []
        end = now_ms()

        def work(conn: Connection) -> list[str]:
            failed = []
            for row in dead:
                # Only if nothing changed since we looked (a resume takes the run over).
                changed = conn.execute(
                    runs.update()
                    .where(
                        runs.c.run_id == row.run_id,
                        runs.c.status == RunStatus.RUNNING.value,
                        runs.c.pid.is_(None) if row.pid is None else runs.c.pid == row.pid,
                        runs.c.heartbeat_time.is_(None)
                        if row.heartbeat_time is None
                        else runs.c.heartbeat_time == row.heartbeat_time,
                    )
                    .values(status=RunStatus.FAILED.value, end_time=end)
                ).rowcount
                if changed:
                    failed.append(row.run_id)
            return failed

        return self._db.write(work)

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
