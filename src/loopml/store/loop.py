"""SQL implementation of :class:`LoopRepository`.

The lock is a row per model. Taking it is one write transaction (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: ``SELECT … FOR UPDATE`` on the row, or a unique-key insert when there is none), so
two controllers never both hold it; a holder whose process died is recognised by its host and
pid, or by a heartbeat older than the caller's limit, and replaced.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.process import hostname, pid_alive
from loopml.entities import LoopIteration, LoopLock
from loopml.errors import AlreadyExists, InvalidInput, NotFound
from loopml.store.base import LoopRepository
from loopml.store.engine import Database
from loopml.store.tables import loop_iterations as _I
from loopml.store.tables import loop_locks as _L
from loopml.store.tables import loop_state as _S

_UPDATABLE = frozenset(
    {
        "status",
        "decision",
        "reason",
        "model_version",
        "data_version",
        "run_id",
        "record",
        "end_time",
    }
)


def _iteration(row: Any) -> LoopIteration:
    return LoopIteration(
        iteration_id=row.iteration_id,
        model_name=row.model_name,
        status=row.status,
        start_time=row.start_time,
        host=row.host,
        pid=row.pid,
        record=json.loads(row.record),
        decision=row.decision,
        reason=row.reason,
        model_version=row.model_version,
        data_version=row.data_version,
        run_id=row.run_id,
        end_time=row.end_time,
    )


def _lock(row: Any) -> LoopLock:
    return LoopLock(
        row.model_name, row.holder, row.host, row.pid, row.acquire_time, row.heartbeat_time
    )


def _get(conn: Connection, iteration_id: str) -> LoopIteration:
    if len(iteration_id) < 32:
        if len(iteration_id) < 8:
            raise InvalidInput(
                f"iteration id {iteration_id!r} is too short",
                field="iteration_id",
                hint="give at least 8 characters of the id (see loopml loop history)",
            )
        rows = conn.execute(
            _I.select().where(_I.c.iteration_id.startswith(iteration_id, autoescape=True)).limit(2)
        ).all()
        if len(rows) > 1:
            raise InvalidInput(
                f"iteration id prefix {iteration_id!r} is ambiguous",
                field="iteration_id",
                hint="give more characters",
            )
        row = rows[0] if rows else None
    else:
        row = conn.execute(_I.select().where(_I.c.iteration_id == iteration_id)).first()
    if row is None:
        raise NotFound(
            f"loop iteration {iteration_id!r} does not exist",
            field="iteration_id",
            value=iteration_id,
            hint="see loopml loop history",
        )
    return _iteration(row)


class SqlLoop(LoopRepository):
    """Loop iterations, locks and state in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_iteration(self, iteration: LoopIteration) -> LoopIteration:
        values = {
            "iteration_id": iteration.iteration_id,
            "model_name": iteration.model_name,
            "status": iteration.status,
            "decision": iteration.decision,
            "reason": iteration.reason,
            "model_version": iteration.model_version,
            "data_version": iteration.data_version,
            "run_id": iteration.run_id,
            "record": json.dumps(dict(iteration.record), default=str),
            "host": iteration.host,
            "pid": iteration.pid,
            "start_time": iteration.start_time,
            "end_time": iteration.end_time,
        }
        try:
            self._db.write(lambda conn: conn.execute(_I.insert().values(**values)))
        except sa.exc.IntegrityError:
            raise AlreadyExists(
                f"loop iteration {iteration.iteration_id!r} already exists",
                field="iteration_id",
            ) from None
        return iteration

    def update_iteration(self, iteration_id: str, **fields: Any) -> LoopIteration:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise InvalidInput(
                f"cannot update iteration field(s) {', '.join(sorted(unknown))}",
                field=sorted(unknown)[0],
            )
        values = dict(fields)
        if "record" in values:
            values["record"] = json.dumps(dict(values["record"]), default=str)

        def work(conn: Connection) -> LoopIteration:
            found = _get(conn, iteration_id)
            conn.execute(
                _I.update().where(_I.c.iteration_id == found.iteration_id).values(**values)
            )
            return _get(conn, found.iteration_id)

        return self._db.write(work)

    def iteration(self, iteration_id: str) -> LoopIteration:
        return self._db.read(lambda conn: _get(conn, iteration_id))

    def iterations(
        self, model_name: str | None = None, status: str | None = None, limit: int = 100
    ) -> builtins.list[LoopIteration]:
        query = _I.select().order_by(_I.c.start_time.desc(), _I.c.iteration_id.desc())
        if model_name is not None:
            query = query.where(_I.c.model_name == model_name)
        if status is not None:
            query = query.where(_I.c.status == status)
        query = query.limit(max(1, int(limit)))
        return self._db.read(lambda conn: [_iteration(row) for row in conn.execute(query)])

    def acquire_lock(
        self, model_name: str, holder: str, host: str, pid: int, stale_before: int
    ) -> tuple[bool, LoopLock | None]:
        def work(conn: Connection) -> tuple[bool, LoopLock | None]:
            now = now_ms()
            query = _L.select().where(_L.c.model_name == model_name)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            values = {
                "holder": holder,
                "host": host,
                "pid": pid,
                "acquire_time": now,
                "heartbeat_time": now,
            }
            if row is None:
                conn.execute(_L.insert().values(model_name=model_name, **values))
                return True, None
            current = _lock(row)
            dead = current.host == hostname() and not pid_alive(current.pid)
            if current.holder != holder and not dead and current.heartbeat_time >= stale_before:
                return False, current
            conn.execute(_L.update().where(_L.c.model_name == model_name).values(**values))
            return True, (None if current.holder == holder else current)

        try:
            return self._db.write(work)
        except sa.exc.IntegrityError:  # another controller inserted the row first
            return False, self.lock(model_name)

    def heartbeat(self, model_name: str, holder: str) -> bool:
        def work(conn: Connection) -> bool:
            done = conn.execute(
                _L.update()
                .where(_L.c.model_name == model_name, _L.c.holder == holder)
                .values(heartbeat_time=now_ms())
            )
            return bool(done.rowcount == 1)

        return self._db.write(work)

    def release_lock(self, model_name: str, holder: str) -> None:
        self._db.write(
            lambda conn: conn.execute(
                _L.delete().where(_L.c.model_name == model_name, _L.c.holder == holder)
            )
        )

    def lock(self, model_name: str) -> LoopLock | None:
        def work(conn: Connection) -> LoopLock | None:
            row = conn.execute(_L.select().where(_L.c.model_name == model_name)).first()
            return None if row is None else _lock(row)

        return self._db.read(work)

    def state(self, model_name: str) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            row = conn.execute(sa.select(_S.c.state).where(_S.c.model_name == model_name)).first()
            return {} if row is None else dict(json.loads(row[0]))

        return self._db.read(work)

    def save_state(self, model_name: str, state: Mapping[str, Any]) -> None:
        text = json.dumps(dict(state), default=str)

        def work(conn: Connection) -> None:
            done = conn.execute(
                _S.update()
                .where(_S.c.model_name == model_name)
                .values(state=text, update_time=now_ms())
            )
            if done.rowcount == 0:
                conn.execute(
                    _S.insert().values(model_name=model_name, state=text, update_time=now_ms())
                )

        self._db.write(work)
