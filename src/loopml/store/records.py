"""SQL implementation of :class:`RecordRepository`: params (immutable) and tags."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.entities.validation import validate_key, validate_param_value, validate_tag_value
from loopml.errors import Conflict, NotFound
from loopml.store.base import RecordRepository
from loopml.store.engine import Database
from loopml.store.runs import resolve_run
from loopml.store.tables import params, tags


class SqlRecords(RecordRepository):
    """Params and tags in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def log_params(self, run_id: str, values: Mapping[str, str]) -> None:
        clean = {validate_key(k, "param"): validate_param_value(k, v) for k, v in values.items()}
        if not clean:
            return

        def work(conn: Connection) -> None:
            pk = resolve_run(conn, run_id, for_write=True)
            stored = dict(
                conn.execute(
                    sa.select(params.c.key, params.c.value).where(
                        params.c.run_pk == pk, params.c.key.in_(list(clean))
                    )
                ).all()
            )
            for key, old in stored.items():
                if old != clean[key]:
                    raise Conflict(
                        f"param {key!r} of run {run_id} is already {old!r}; cannot change it to "
                        f"{clean[key]!r}",
                        field=f"params.{key}",
                        value=clean[key],
                        hint="params are immutable: log the new value under another key or "
                        "start a new run",
                    )
            new = [
                {"run_pk": pk, "key": k, "value": v} for k, v in clean.items() if k not in stored
            ]
            if new:
                conn.execute(params.insert(), new)

        self._db.write(work)

    def set_tags(self, run_id: str, values: Mapping[str, str]) -> None:
        clean = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in values.items()}
        if not clean:
            return

        def work(conn: Connection) -> None:
            pk = resolve_run(conn, run_id, for_write=True)
            conn.execute(tags.delete().where(tags.c.run_pk == pk, tags.c.key.in_(list(clean))))
            conn.execute(
                tags.insert(), [{"run_pk": pk, "key": k, "value": v} for k, v in clean.items()]
            )

        self._db.write(work)

    def delete_tag(self, run_id: str, key: str) -> None:
        def work(conn: Connection) -> None:
            pk = resolve_run(conn, run_id, for_write=True)
            deleted = conn.execute(tags.delete().where(tags.c.run_pk == pk, tags.c.key == key))
            if deleted.rowcount == 0:
                raise NotFound(f"run {run_id} has no tag {key!r}", field="key", value=key)

        self._db.write(work)
