"""SQL implementation of :class:`EvaluationRepository`.

A result is stored as JSON: it is written once, read whole, and its shape belongs to the
evaluation layer, not to the schema. It is found by the model's digest (not its URI) so an
evaluation of ``runs:/…/model`` still counts once that model is registered as a version.
"""

from __future__ import annotations

import builtins
import json
import math
from typing import Any

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import EvaluationRecord
from loopml.errors import NotFound
from loopml.store.base import EvaluationRepository, NewEvaluation
from loopml.store.engine import Database
from loopml.store.tables import evaluations

_E = evaluations


def _record(row: Any) -> EvaluationRecord:
    return EvaluationRecord(
        evaluation_id=row.evaluation_id,
        run_id=row.run_id,
        model_uri=row.model_uri,
        model_digest=row.model_digest,
        data_version=row.data_version,
        task=row.task,
        target=row.target,
        n_rows=row.n_rows,
        result=json.loads(row.result),
        creation_time=row.creation_time,
    )


def _json_safe(value: Any) -> Any:
    """NaN and infinity are not JSON: store them as null (an undefined metric)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


class SqlEvaluations(EvaluationRepository):
    """Evaluations in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, new: NewEvaluation) -> EvaluationRecord:
        record = EvaluationRecord(
            evaluation_id=new_id(),
            run_id=new.run_id,
            model_uri=new.model_uri,
            model_digest=new.model_digest,
            data_version=new.data_version,
            task=new.task,
            target=new.target,
            n_rows=new.n_rows,
            result=_json_safe(dict(new.result)),
            creation_time=now_ms(),
        )
        values = {f: getattr(record, f) for f in _E.c.keys() if f != "pk"}  # noqa: SIM118
        values["result"] = json.dumps(record.result, allow_nan=False)
        self._db.write(lambda conn: conn.execute(_E.insert().values(**values)))
        return record

    def get(self, evaluation_id: str) -> EvaluationRecord:
        row = self._db.read(
            lambda conn: conn.execute(
                _E.select().where(_E.c.evaluation_id == evaluation_id)
            ).first()
        )
        if row is None:
            raise NotFound(
                f"evaluation {evaluation_id!r} does not exist",
                field="evaluation_id",
                value=evaluation_id,
            )
        return _record(row)

    def find(self, model_digest: str, data_version: str | None = None) -> EvaluationRecord | None:
        query = _E.select().where(_E.c.model_digest == model_digest)
        if data_version is not None:
            query = query.where(_E.c.data_version == data_version)
        query = query.order_by(_E.c.pk.desc()).limit(1)
        row = self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _record(row)

    def for_run(self, run_id: str) -> builtins.list[EvaluationRecord]:
        query = _E.select().where(_E.c.run_id == run_id).order_by(_E.c.pk)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    def for_data(self, data_version: str) -> builtins.list[EvaluationRecord]:
        query = _E.select().where(_E.c.data_version == data_version).order_by(_E.c.pk)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])
