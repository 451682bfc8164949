"""SQL implementation of :class:`PipelineRepository`."""

from __future__ import annotations

import builtins
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml.entities import CacheEntry, StepRecord
from loopml.store.base import PipelineRepository
from loopml.store.engine import Database
from loopml.store.tables import pipeline_steps, step_cache

_S = pipeline_steps
_C = step_cache
_JSON_FIELDS = ("key_parts", "outputs")


def _record(row: Any) -> StepRecord:
    values = {c.name: getattr(row, c.name) for c in _S.c if c.name != "pk"}
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name]) if values[name] else None
    values["cached"] = bool(values["cached"])
    return StepRecord(**values)


def _upsert(conn: Connection, table: sa.Table, values: dict[str, Any], keys: list[str]) -> None:
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    update = {k: statement.excluded[k] for k in values if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=update))


class SqlPipelines(PipelineRepository):
    """Pipeline steps and the step cache in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def cache_get(self, cache_key: str) -> CacheEntry | None:
        row = self._db.read(
            lambda conn: conn.execute(_C.select().where(_C.c.cache_key == cache_key)).first()
        )
        if row is None:
            return None
        return CacheEntry(
            cache_key=row.cache_key,
            step_name=row.step_name,
            run_id=row.run_id,
            outputs=json.loads(row.outputs),
            creation_time=row.creation_time,
        )

    def cache_put(self, entry: CacheEntry) -> None:
        values = {
            "cache_key": entry.cache_key,
            "step_name": entry.step_name,
            "run_id": entry.run_id,
            "outputs": json.dumps(dict(entry.outputs), sort_keys=True),
            "creation_time": entry.creation_time or now_ms(),
        }
        self._db.write(lambda conn: _upsert(conn, _C, values, ["cache_key"]))

    def cache_delete(self, cache_key: str) -> None:
        self._db.write(lambda conn: conn.execute(_C.delete().where(_C.c.cache_key == cache_key)))

    def save_step(self, record: StepRecord) -> None:
        values: dict[str, Any] = {
            name: getattr(record, name) for name in record.__dataclass_fields__
        }
        for name in _JSON_FIELDS:
            value = values[name]
            values[name] = json.dumps(dict(value), sort_keys=True) if value is not None else None
        self._db.write(lambda conn: _upsert(conn, _S, values, ["pipeline_run_id", "step_name"]))

    def steps(self, pipeline_run_id: str) -> builtins.list[StepRecord]:
        query = _S.select().where(_S.c.pipeline_run_id == pipeline_run_id).order_by(_S.c.position)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    def previous_step(self, pipeline: str, step_name: str, before_run_id: str) -> StepRecord | None:
        query = (
            _S.select()
            .where(
                _S.c.pipeline == pipeline,
                _S.c.step_name == step_name,
                _S.c.pipeline_run_id != before_run_id,
                _S.c.status == "finished",
                _S.c.key_parts.is_not(None),
            )
            .order_by(_S.c.pk.desc())
            .limit(1)
        )
        row = self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _record(row)

    def referenced_digests(self) -> set[str]:
        def work(conn: Connection) -> set[str]:
            found: set[str] = set()
            for (outputs,) in conn.execute(sa.select(_C.c.outputs)):
                for saved in json.loads(outputs).values():
                    found.update(saved.get("files", {}).values())
            return found

        return self._db.read(work)
