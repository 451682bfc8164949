"""SQL implementation of :class:`ExperimentRepository`."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import Experiment, LifecycleStage, ViewType
from loopml.entities.validation import validate_name
from loopml.errors import AlreadyExists, NotFound
from loopml.store.base import ExperimentRepository
from loopml.store.engine import Database
from loopml.store.tables import experiments, runs

_T = experiments


def _to_entity(row: Mapping[Any, Any]) -> Experiment:
    return Experiment(
        experiment_id=row["experiment_id"],
        name=row["name"],
        lifecycle_stage=LifecycleStage(row["lifecycle_stage"]),
        creation_time=row["creation_time"],
        last_update_time=row["last_update_time"],
    )


def view_condition(column: sa.ColumnElement[str], view: ViewType) -> sa.ColumnElement[bool]:
    """The WHERE clause selecting a lifecycle view."""
    if view is ViewType.ACTIVE_ONLY:
        return column == LifecycleStage.ACTIVE.value
    if view is ViewType.DELETED_ONLY:
        return column == LifecycleStage.DELETED.value
    return sa.true()


class SqlExperiments(ExperimentRepository):
    """Experiments in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str) -> Experiment:
        validate_name(name, "experiment")

        def work(conn: Connection) -> Experiment:
            if conn.execute(sa.select(_T.c.experiment_id).where(_T.c.name == name)).first():
                raise AlreadyExists(
                    f"experiment {name!r} already exists",
                    field="experiment_name",
                    value=name,
                    hint="pick another name, or use set_experiment() to reuse it",
                )
            now = now_ms()
            row = {
                "experiment_id": new_id(),
                "name": name,
                "lifecycle_stage": LifecycleStage.ACTIVE.value,
                "creation_time": now,
                "last_update_time": now,
            }
            conn.execute(_T.insert().values(**row))
            return _to_entity(row)

        try:
            return self._db.write(work)
        except sa.exc.IntegrityError:
            # Another process inserted the same name between our check and our insert.
            raise AlreadyExists(
                f"experiment {name!r} already exists", field="experiment_name", value=name
            ) from None

    def get(self, experiment_id: str) -> Experiment:
        row = self._db.read(
            lambda conn: conn.execute(
                _T.select().where(_T.c.experiment_id == experiment_id)
            ).first()
        )
        if row is None:
            raise NotFound(
                f"experiment {experiment_id!r} does not exist",
                field="experiment_id",
                value=experiment_id,
                hint="list experiments with `loopml experiments list`",
            )
        return _to_entity(row._mapping)

    def get_by_name(self, name: str) -> Experiment | None:
        row = self._db.read(lambda conn: conn.execute(_T.select().where(_T.c.name == name)).first())
        return None if row is None else _to_entity(row._mapping)

    def list(self, view: ViewType = ViewType.ACTIVE_ONLY) -> builtins.list[Experiment]:
        query = _T.select().where(view_condition(_T.c.lifecycle_stage, view))
        rows = self._db.read(lambda conn: conn.execute(query.order_by(_T.c.experiment_id)).all())
        return [_to_entity(row._mapping) for row in rows]

    def rename(self, experiment_id: str, new_name: str) -> Experiment:
        validate_name(new_name, "experiment")
        current = self.get(experiment_id)
        if current.name == new_name:
            return current

        def work(conn: Connection) -> None:
            if conn.execute(sa.select(_T.c.experiment_id).where(_T.c.name == new_name)).first():
                raise AlreadyExists(
                    f"cannot rename experiment {current.name!r}: {new_name!r} already exists",
                    field="new_name",
                    value=new_name,
                )
            conn.execute(
                _T.update()
                .where(_T.c.experiment_id == experiment_id)
                .values(name=new_name, last_update_time=now_ms())
            )

        self._db.write(work)
        return self.get(experiment_id)

    def set_lifecycle(self, experiment_id: str, deleted: bool) -> Experiment:
        current = self.get(experiment_id)
        stage = LifecycleStage.DELETED if deleted else LifecycleStage.ACTIVE
        if current.lifecycle_stage is stage:
            return current
        now = now_ms()
        active, gone = LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value
        in_experiment = runs.c.experiment_id == experiment_id

        def work(conn: Connection) -> None:
            conn.execute(
                _T.update()
                .where(_T.c.experiment_id == experiment_id)
                .values(lifecycle_stage=stage.value, last_update_time=now)
            )
            if deleted:
                # Stamp the runs this delete hides with its time, so a restore brings back
                # exactly them and not runs that were deleted on their own before.
                conn.execute(
                    runs.update()
                    .where(in_experiment, runs.c.lifecycle_stage == active)
                    .values(lifecycle_stage=gone, deleted_time=now)
                )
            else:
                conn.execute(
                    runs.update()
                    .where(
                        in_experiment,
                        runs.c.lifecycle_stage == gone,
                        runs.c.deleted_time == current.last_update_time,
                    )
                    .values(lifecycle_stage=active, deleted_time=None)
                )

        self._db.write(work)
        return self.get(experiment_id)
