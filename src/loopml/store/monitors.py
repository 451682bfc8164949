"""SQL implementation of :class:`MonitorRepository`.

A monitor run reads, computes for a while, then commits everything it found in one transaction
guarded by the monitor's ``revision``: if another run committed in between, this commit changes
nothing and raises Conflict, so each prediction segment is consumed exactly once.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml.entities import MonitorRecord, MonitorWindow
from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store.base import MonitorRepository, NewEvent
from loopml.store.engine import Database
from loopml.store.events import insert_event
from loopml.store.tables import monitor_windows as _W
from loopml.store.tables import monitors as _M


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), default=str, allow_nan=False)


def _record(row: Any) -> MonitorRecord:
    return MonitorRecord(
        name=row.name,
        model_name=row.model_name,
        alias=row.alias,
        config=json.loads(row.config),
        reference=None if row.reference is None else json.loads(row.reference),
        watermark=row.watermark,
        feedback_watermark=row.feedback_watermark,
        revision=row.revision,
        state=json.loads(row.state),
        creation_time=row.creation_time,
        update_time=row.update_time,
    )


def _window(row: Any) -> MonitorWindow:
    return MonitorWindow(
        monitor_name=row.monitor_name,
        window_key=row.window_key,
        start_time=row.start_time,
        end_time=row.end_time,
        rows=row.rows,
        complete=bool(row.complete),
        state=json.loads(row.state),
        result=json.loads(row.result),
        creation_time=row.creation_time,
        update_time=row.update_time,
    )


def _check_name(value: str, field: str) -> None:
    if not value or len(value) > 128:
        raise InvalidInput(f"{field} {value!r:.80} must have 1 to 128 characters", field=field)


def _get(conn: Connection, name: str) -> MonitorRecord:
    row = conn.execute(_M.select().where(_M.c.name == name)).first()
    if row is None:
        raise NotFound(
            f"monitor {name!r} does not exist",
            field="name",
            value=name,
            hint="see loopml monitor list",
        )
    return _record(row)


class SqlMonitors(MonitorRepository):
    """Monitors and monitor windows in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, record: MonitorRecord) -> MonitorRecord:
        _check_name(record.name, "name")
        _check_name(record.model_name, "model_name")
        now = now_ms()
        values = {
            "name": record.name,
            "model_name": record.model_name,
            "alias": record.alias,
            "config": _dumps(record.config),
            "reference": None if record.reference is None else _dumps(record.reference),
            "watermark": record.watermark,
            "feedback_watermark": int(record.feedback_watermark),
            "state": _dumps(record.state),
            "revision": 0,
            "creation_time": now,
            "update_time": now,
        }

        def work(conn: Connection) -> MonitorRecord:
            if conn.execute(sa.select(_M.c.name).where(_M.c.name == record.name)).first():
                raise AlreadyExists(
                    f"monitor {record.name!r} already exists",
                    field="name",
                    value=record.name,
                    hint="pick another name, or delete the monitor first",
                )
            conn.execute(_M.insert().values(**values))
            return _get(conn, record.name)

        return self._db.write(work)

    def get(self, name: str) -> MonitorRecord:
        return self._db.read(lambda conn: _get(conn, name))

    def list(self, model_name: str | None = None) -> builtins.list[MonitorRecord]:
        query = _M.select().order_by(_M.c.name)
        if model_name is not None:
            query = query.where(_M.c.model_name == model_name)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    def delete(self, name: str) -> None:
        def work(conn: Connection) -> None:
            _get(conn, name)
            conn.execute(_W.delete().where(_W.c.monitor_name == name))
            conn.execute(_M.delete().where(_M.c.name == name))

        self._db.write(work)

    def windows(
        self,
        name: str,
        since: int | None = None,
        until: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> builtins.list[MonitorWindow]:
        def work(conn: Connection) -> builtins.list[MonitorWindow]:
            _get(conn, name)
            query = _W.select().where(_W.c.monitor_name == name)
            if since is not None:
                query = query.where(_W.c.end_time >= since)
            if until is not None:
                query = query.where(_W.c.start_time <= until)
            found: builtins.list[MonitorWindow] = []
            if keys is not None:
                wanted = builtins.list(dict.fromkeys(keys))
                for start in range(0, len(wanted), 500):
                    chunk = query.where(_W.c.window_key.in_(wanted[start : start + 500]))
                    found.extend(_window(row) for row in conn.execute(chunk))
                found.sort(key=lambda w: (w.start_time, w.window_key))
                return found
            ordered = query.order_by(_W.c.start_time, _W.c.pk)
            return [_window(row) for row in conn.execute(ordered)]

        return self._db.read(work)

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
        changes: dict[str, Any] = {"revision": expected_revision + 1, "update_time": now_ms()}
        if watermark is not None:
            changes["watermark"] = watermark
        if feedback_watermark is not None:
            changes["feedback_watermark"] = int(feedback_watermark)
        if config is not None:
            changes["config"] = _dumps(config)
        if reference is not None:
            changes["reference"] = _dumps(reference)
        if state is not None:
            changes["state"] = _dumps(state)
        rows = [self._window_values(name, w) for w in windows]

        def work(conn: Connection) -> MonitorRecord:
            moved = conn.execute(
                _M.update()
                .where(_M.c.name == name, _M.c.revision == expected_revision)
                .values(**changes)
            )
            if moved.rowcount != 1:
                current = _get(conn, name)  # NotFound when it was deleted meanwhile
                raise Conflict(
                    f"monitor {name!r} moved to revision {current.revision} while this run "
                    f"worked from revision {expected_revision}",
                    field="revision",
                    value=expected_revision,
                    hint="run the monitor again: another run committed first",
                )
            for values in rows:
                updated = conn.execute(
                    _W.update()
                    .where(_W.c.monitor_name == name, _W.c.window_key == values["window_key"])
                    .values(**{k: v for k, v in values.items() if k != "creation_time"})
                )
                if updated.rowcount == 0:
                    conn.execute(_W.insert().values(**values))
            for event in events:
                insert_event(conn, event)
            return _get(conn, name)

        return self._db.write(work)

    @staticmethod
    def _window_values(name: str, window: MonitorWindow) -> dict[str, Any]:
        if window.monitor_name != name:
            raise InvalidInput(
                f"window {window.window_key!r} belongs to monitor {window.monitor_name!r}, "
                f"not {name!r}",
                field="monitor_name",
            )
        now = now_ms()
        return {
            "monitor_name": name,
            "window_key": window.window_key,
            "start_time": int(window.start_time),
            "end_time": int(window.end_time),
            "rows": int(window.rows),
            "complete": bool(window.complete),
            "state": _dumps(window.state),
            "result": _dumps(window.result),
            "creation_time": window.creation_time or now,
            "update_time": now,
        }
