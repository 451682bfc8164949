"""SQL implementation of :class:`EventRepository`: an append-only log of decisions."""

from __future__ import annotations

import builtins
import json
from typing import Any

from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import Event
from loopml.store.base import EventRepository, NewEvent
from loopml.store.engine import Database
from loopml.store.tables import events


def insert_event(conn: Connection, new: NewEvent) -> Event:
    """Append an event inside the caller's transaction (so a decision and its record agree)."""
    event = Event(
        event_id=new_id(),
        time=now_ms(),
        kind=new.kind,
        subject=new.subject,
        actor=new.actor,
        reason=new.reason,
        data=dict(new.data),
    )
    conn.execute(
        events.insert().values(
            event_id=event.event_id,
            time=event.time,
            kind=event.kind,
            subject=event.subject,
            actor=event.actor,
            reason=event.reason,
            data=json.dumps(event.data, default=str),
        )
    )
    return event


def _event(row: Any) -> Event:
    return Event(
        event_id=row.event_id,
        time=row.time,
        kind=row.kind,
        subject=row.subject,
        actor=row.actor,
        reason=row.reason,
        data=json.loads(row.data),
    )


class SqlEvents(EventRepository):
    """Events in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, new: NewEvent) -> Event:
        return self._db.write(lambda conn: insert_event(conn, new))

    def list(
        self, subject: str | None = None, kind: str | None = None, limit: int = 100
    ) -> builtins.list[Event]:
        query = events.select().order_by(events.c.pk.desc()).limit(limit)
        if subject is not None:
            query = query.where(events.c.subject == subject)
        if kind is not None:
            query = query.where(events.c.kind == kind)
        return self._db.read(lambda conn: [_event(row) for row in conn.execute(query)])
