"""SQL implementation of :class:`PredictionLogRepository`: segments of the log and feedback."""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.hashing import is_digest
from loopml.entities import FeedbackLabel, PredictionSegment
from loopml.errors import AlreadyExists, InvalidInput, NotFound
from loopml.store.base import PredictionLogRepository
from loopml.store.engine import Database
from loopml.store.tables import feedback, prediction_segments

_P = prediction_segments
_F = feedback
# Ids per lookup statement: each batch is bound as one value (a JSON or array parameter).
_ID_BATCH = 10_000


def _segment(row: Any) -> PredictionSegment:
    return PredictionSegment(
        segment_id=row.segment_id,
        model_name=row.model_name,
        model_versions=tuple(json.loads(row.model_versions)),
        start_time=row.start_time,
        end_time=row.end_time,
        rows=row.rows,
        blob_digest=row.blob_digest,
        size_bytes=row.size_bytes,
        profile=json.loads(row.profile) if row.profile else None,
        creation_time=row.creation_time,
    )


def _check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 32:
        raise InvalidInput(
            f"{field} must be a non-empty string of at most 32 characters, got {value!r:.80}",
            field=field,
            value=value,
        )
    return value


def _json_label(label: Any, prediction_id: str) -> str:
    """A label as JSON: a string, an integer, a finite float or a boolean."""
    if type(label).__module__ == "numpy" and hasattr(label, "item"):
        label = label.item()
    if isinstance(label, float) and not math.isfinite(label):
        raise InvalidInput(
            f"the label of prediction {prediction_id!r} is {label!r}",
            field="label",
            value=label,
            hint="send a finite number, a string or a boolean",
        )
    if not isinstance(label, str | int | float | bool):
        raise InvalidInput(
            f"the label of prediction {prediction_id!r} is a {type(label).__name__}",
            field="label",
            value=repr(label)[:80],
            hint="labels are strings, numbers or booleans",
        )
    return json.dumps(label)


def _id_in(conn: Connection, column: sa.ColumnElement[str], ids: Sequence[str]) -> Any:
    """``column IN ids`` as one bound value, whatever the number of ids."""
    if conn.dialect.name == "sqlite":
        each = sa.func.json_each(sa.bindparam("ids_json", json.dumps(list(ids))))
        value: sa.ColumnClause[str] = sa.column("value")
        return column.in_(sa.select(value).select_from(each))
    array = sa.bindparam("ids_array", list(ids), type_=postgresql.ARRAY(sa.String))
    return column == sa.any_(array)


class SqlPredictionLog(PredictionLogRepository):
    """Prediction log segments and feedback labels in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_segment(self, segment: PredictionSegment) -> None:
        _check_id(segment.segment_id, "segment_id")
        if not segment.model_name or len(segment.model_name) > 128:
            raise InvalidInput(
                f"model name {segment.model_name!r:.80} must have 1 to 128 characters",
                field="model_name",
                value=segment.model_name,
            )
        if not is_digest(segment.blob_digest):
            raise InvalidInput(
                f"{segment.blob_digest!r:.80} is not a blob digest",
                field="blob_digest",
                value=segment.blob_digest,
            )
        if segment.end_time < segment.start_time:
            raise InvalidInput(
                f"segment ends ({segment.end_time}) before it starts ({segment.start_time})",
                field="end_time",
                value=segment.end_time,
            )
        values = {
            "segment_id": segment.segment_id,
            "model_name": segment.model_name,
            "model_versions": json.dumps(sorted({int(v) for v in segment.model_versions})),
            "start_time": segment.start_time,
            "end_time": segment.end_time,
            "rows": segment.rows,
            "blob_digest": segment.blob_digest,
            "size_bytes": segment.size_bytes,
            "profile": None if segment.profile is None else json.dumps(dict(segment.profile)),
            "creation_time": segment.creation_time or now_ms(),
        }
        try:
            self._db.write(lambda conn: conn.execute(_P.insert().values(**values)))
        except sa.exc.IntegrityError:
            raise AlreadyExists(
                f"prediction segment {segment.segment_id!r} already exists",
                field="segment_id",
                value=segment.segment_id,
            ) from None

    def segments(
        self,
        model_name: str,
        since: int | None = None,
        until: int | None = None,
        after_segment_id: str | None = None,
        created_since: int | None = None,
    ) -> builtins.list[PredictionSegment]:
        def work(conn: Connection) -> builtins.list[PredictionSegment]:
            query = _P.select().where(_P.c.model_name == model_name)
            if since is not None:
                query = query.where(_P.c.end_time >= since)
            if until is not None:
                query = query.where(_P.c.start_time <= until)
            if created_since is not None:
                query = query.where(_P.c.creation_time >= created_since)
            if after_segment_id is not None:
                after = conn.execute(
                    sa.select(_P.c.pk).where(_P.c.segment_id == after_segment_id)
                ).scalar()
                if after is None:
                    raise NotFound(
                        f"prediction segment {after_segment_id!r} does not exist",
                        field="after_segment_id",
                        value=after_segment_id,
                    )
                query = query.where(_P.c.pk > after)
            return [_segment(row) for row in conn.execute(query.order_by(_P.c.pk))]

        return self._db.read(work)

    def segments_at(self, time_ms: int, slack_ms: int = 0) -> builtins.list[PredictionSegment]:
        low, high = int(time_ms) - max(0, int(slack_ms)), int(time_ms) + max(0, int(slack_ms))
        # The model names by a loose index scan (each step one seek on the (model_name, end_time)
        # index), then one range of that index per model: never a scan of the whole log.
        first = sa.select(sa.func.min(_P.c.model_name).label("name")).cte(
            "model_names", recursive=True
        )
        following = (
            sa.select(_P.c.model_name)
            .where(_P.c.model_name > first.c.name)
            .order_by(_P.c.model_name)
            .limit(1)
            .scalar_subquery()
        )
        names = first.union_all(sa.select(following).where(first.c.name.is_not(None)))
        query = (
            _P.select()
            .where(
                _P.c.model_name.in_(sa.select(names.c.name).where(names.c.name.is_not(None))),
                _P.c.end_time >= low,
                _P.c.start_time <= high,
            )
            .order_by(_P.c.pk)
        )
        return self._db.read(lambda conn: [_segment(row) for row in conn.execute(query)])

    def add_feedback(self, labels: Sequence[FeedbackLabel]) -> int:
        latest: dict[str, dict[str, Any]] = {}
        for item in labels:
            prediction_id = _check_id(item.prediction_id, "prediction_id")
            # One row per id: the last label given wins (and ON CONFLICT allows one per statement).
            latest.pop(prediction_id, None)
            latest[prediction_id] = {
                "prediction_id": prediction_id,
                "label": _json_label(item.label, prediction_id),
                "time": int(item.time),
            }
        if not latest:
            return 0
        rows = list(latest.values())

        def work(conn: Connection) -> None:
            dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(_F)
            statement = statement.on_conflict_do_update(
                index_elements=["prediction_id"],
                set_={"label": statement.excluded.label, "time": statement.excluded.time},
            )
            for start in range(0, len(rows), _ID_BATCH):
                conn.execute(statement, rows[start : start + _ID_BATCH])

        self._db.write(work)
        return len(labels)

    def feedback(self, prediction_ids: Sequence[str]) -> dict[str, FeedbackLabel]:
        wanted = list(dict.fromkeys(prediction_ids))

        def work(conn: Connection) -> dict[str, FeedbackLabel]:
            found: dict[str, FeedbackLabel] = {}
            for start in range(0, len(wanted), _ID_BATCH):
                query = sa.select(_F.c.prediction_id, _F.c.label, _F.c.time).where(
                    _id_in(conn, _F.c.prediction_id, wanted[start : start + _ID_BATCH])
                )
                for row in conn.execute(query):
                    found[row.prediction_id] = FeedbackLabel(
                        row.prediction_id, json.loads(row.label), row.time
                    )
            return found

        if not wanted:
            return {}
        return self._db.read(work)

    def feedback_since(self, after_time: int, limit: int = 100_000) -> builtins.list[FeedbackLabel]:
        query = (
            sa.select(_F.c.prediction_id, _F.c.label, _F.c.time)
            .where(_F.c.time > int(after_time))
            .order_by(_F.c.time, _F.c.prediction_id)
            .limit(max(1, int(limit)))
        )
        return self._db.read(
            lambda conn: [
                FeedbackLabel(row.prediction_id, json.loads(row.label), row.time)
                for row in conn.execute(query)
            ]
        )

    def feedback_between(self, start_ms: int, end_ms: int) -> dict[str, FeedbackLabel]:
        low = f"{max(0, int(start_ms)):012x}" + "0" * 20
        high = f"{max(0, int(end_ms)):012x}" + "f" * 20
        query = sa.select(_F.c.prediction_id, _F.c.label, _F.c.time).where(
            _F.c.prediction_id >= low, _F.c.prediction_id <= high
        )
        return self._db.read(
            lambda conn: {
                row.prediction_id: FeedbackLabel(row.prediction_id, json.loads(row.label), row.time)
                for row in conn.execute(query)
            }
        )

    def referenced_digests(self) -> set[str]:
        return self._db.read(
            lambda conn: {row[0] for row in conn.execute(sa.select(_P.c.blob_digest).distinct())}
        )
