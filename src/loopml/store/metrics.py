"""SQL implementation of :class:`MetricRepository`: one transaction per batch, bulk inserts.

The hot path: SQLite gets one ``executemany`` of plain tuples, PostgreSQL a ``COPY``; the
latest-value table is upserted once per (run, key) per batch, so search never scans history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml.entities import MetricPoint, MetricRow
from loopml.store.base import MetricRepository
from loopml.store.engine import Database
from loopml.store.runs import resolve_run, run_pk_map
from loopml.store.tables import latest_metrics, metrics

_Row = tuple[int, str, int, int, float | None]


class SqlMetrics(MetricRepository):
    """Metric history and latest values in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def log_rows(self, rows: Sequence[MetricRow]) -> int:
        if not rows:
            return 0

        def work(conn: Connection) -> int:
            pks = run_pk_map(conn, {row[0] for row in rows})
            history: list[_Row] = []
            append = history.append
            latest: dict[tuple[int, str], _Row] = {}
            for run_id, key, value, timestamp, step in rows:
                # value != value is the NaN test, inlined: this loop runs a million times.
                row = (pks[run_id], key, step, timestamp, None if value != value else value)
                append(row)
                best = latest.get(row[:2])
                if best is None or step > best[2] or (step == best[2] and timestamp >= best[3]):
                    latest[row[:2]] = row
            self._insert_history(conn, history)
            self._upsert_latest(conn, list(latest.values()))
            return len(history)

        return self._db.write(work)

    def _insert_history(self, conn: Connection, rows: list[_Row]) -> None:
        if self._db.is_sqlite:
            conn.exec_driver_sql(
                "INSERT INTO metrics (run_pk, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY metrics (run_pk, key, step, timestamp, value) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def _upsert_latest(self, conn: Connection, rows: list[_Row]) -> None:
        dialect: Any = sqlite if self._db.is_sqlite else postgresql
        statement = dialect.insert(latest_metrics)
        excluded = statement.excluded
        newer = (excluded.step > latest_metrics.c.step) | (
            (excluded.step == latest_metrics.c.step)
            & (excluded.timestamp >= latest_metrics.c.timestamp)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[latest_metrics.c.run_pk, latest_metrics.c.key],
            set_={c: excluded[c] for c in ("step", "timestamp", "value")},
            where=newer,
        )
        conn.execute(
            statement,
            [
                {"run_pk": pk, "key": key, "step": step, "timestamp": ts, "value": value}
                for pk, key, step, ts, value in rows
            ],
        )

    def history(self, run_id: str, key: str) -> list[MetricPoint]:
        def work(conn: Connection) -> list[MetricPoint]:
            pk = resolve_run(conn, run_id)
            query = (
                sa.select(metrics.c.value, metrics.c.timestamp, metrics.c.step)
                .where(metrics.c.run_pk == pk, metrics.c.key == key)
                .order_by(metrics.c.step, metrics.c.timestamp)
            )
            return [
                MetricPoint(key, math.nan if value is None else value, ts, step)
                for value, ts, step in conn.execute(query)
            ]

        return self._db.read(work)
