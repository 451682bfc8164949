"""SQL implementation of :class:`ModelRepository`: logged models and the registry.

Version numbers are assigned under a lock on the registered model's row (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so concurrent registrations get 1, 2, 3… with no
gaps or duplicates; the row keeps the highest number given, so a deleted version's number is
never given again (old events and CI summaries keep naming the model they named). An alias move
and the event recording it share one transaction, and a move may be a compare-and-set, so two
promotions racing cannot both believe they won.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import Event, GateSet, LoggedModel, ModelVersion, RegisteredModel
from loopml.entities.model import validate_model_alias, validate_model_name
from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store.base import AnyVersion, ModelRepository, NewEvent, NewLoggedModel, NewModelVersion
from loopml.store.engine import Database
from loopml.store.events import insert_event
from loopml.store.runs import resolve_run
from loopml.store.tables import (
    logged_models,
    model_aliases,
    model_gates,
    model_versions,
    registered_models,
    runs,
)

_L = logged_models
_R = registered_models
_V = model_versions
_A = model_aliases


def _logged(row: Any) -> LoggedModel:
    meta = json.loads(row.meta)
    classes = meta.get("classes")
    return LoggedModel(
        model_id=row.model_id,
        run_id=row.run_id,
        path=row.path,
        flavor=row.flavor,
        format=row.format,
        executable=bool(row.executable),
        digest=row.digest,
        files=json.loads(row.files),
        signature=meta.get("signature"),
        requirements=meta.get("requirements", {}),
        task=meta.get("task"),
        classes=tuple(classes) if classes is not None else None,
        creation_time=row.creation_time,
    )


def _version(row: Any, name: str, aliases: tuple[str, ...]) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=row.version,
        model_id=row.model_id,
        run_id=row.run_id,
        source=row.source,
        digest=row.digest,
        files=json.loads(row.files),
        flavor=row.flavor,
        format=row.format,
        executable=bool(row.executable),
        signature=json.loads(row.signature) if row.signature else None,
        task=row.task,
        target=row.target,
        data_version=row.data_version,
        git_commit=row.git_commit,
        evaluation_id=row.evaluation_id,
        description=row.description,
        tags=json.loads(row.tags),
        creation_time=row.creation_time,
        aliases=aliases,
    )


def _find(conn: Connection, name: str, *, lock: bool = False) -> Any:
    query = _R.select().where(_R.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(
            f"registered model {name!r} does not exist",
            field="name",
            value=name,
            hint="list models with `loopml models list`",
        )
    return row


def _alias_map(conn: Connection, model_pk: int) -> dict[str, int]:
    query = (
        sa.select(_A.c.alias, _V.c.version)
        .join(_V, _V.c.pk == _A.c.version_pk)
        .where(_A.c.model_pk == model_pk)
        .order_by(_A.c.alias)
    )
    return {alias: version for alias, version in conn.execute(query)}


def _registered(conn: Connection, row: Any) -> RegisteredModel:
    latest = conn.execute(
        sa.select(sa.func.max(_V.c.version)).where(_V.c.model_pk == row.model_pk)
    ).scalar()
    return RegisteredModel(
        name=row.name,
        description=row.description,
        tags=json.loads(row.tags),
        creation_time=row.creation_time,
        last_updated_time=row.last_updated_time,
        latest_version=latest,
        aliases=_alias_map(conn, row.model_pk),
    )


def _version_row(
    conn: Connection, model: Any, version: int | None = None, alias: str | None = None
) -> Any:
    query = _V.select().where(_V.c.model_pk == model.model_pk)
    if alias is not None and alias != "latest":
        query = query.join(_A, (_A.c.version_pk == _V.c.pk) & (_A.c.alias == alias))
        missing = f"model {model.name!r} has no alias {alias!r}"
        hint = f"set it with `loopml models alias {model.name} {alias} <version>`"
    elif version is not None:
        query = query.where(_V.c.version == version)
        missing = f"model {model.name!r} has no version {version}"
        hint = f"list versions with `loopml models versions {model.name}`"
    else:
        query = query.order_by(_V.c.version.desc()).limit(1)
        missing = f"model {model.name!r} has no versions yet"
        hint = "register one with loopml.log_model(..., registered_model_name=...)"
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(missing, field="version" if alias is None else "alias", hint=hint)
    return row


def _version_aliases(conn: Connection, version_pk: int) -> tuple[str, ...]:
    query = sa.select(_A.c.alias).where(_A.c.version_pk == version_pk).order_by(_A.c.alias)
    return tuple(row[0] for row in conn.execute(query))


def _merge_tags(current: str, changes: Mapping[str, str | None]) -> str:
    tags = json.loads(current)
    for key, value in changes.items():
        if not isinstance(key, str) or not key or len(key) > 250:
            raise InvalidInput(f"tag key {key!r} is not allowed", field="tags", value=key)
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = str(value)
    return json.dumps(tags, sort_keys=True)


def _ensure_model(conn: Connection, name: str) -> Any:
    """Create-if-missing that two writers can race on, then lock the row."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = now_ms()
    conn.execute(
        dialect.insert(_R)
        .values(name=name, tags="{}", creation_time=now, last_updated_time=now)
        .on_conflict_do_nothing(index_elements=[_R.c.name])
    )
    return _find(conn, name, lock=True)


class SqlModels(ModelRepository):
    """Logged and registered models in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- logged models -------------------------------------------------------------------------

    def log(self, new: NewLoggedModel) -> LoggedModel:
        meta = {
            "signature": new.signature,
            "requirements": dict(new.requirements),
            "task": new.task,
            "classes": list(new.classes) if new.classes is not None else None,
        }

        def work(conn: Connection) -> LoggedModel:
            run_pk = resolve_run(conn, new.run_id, for_write=True)
            conn.execute(_L.delete().where(_L.c.run_pk == run_pk, _L.c.path == new.path))
            model_id = new_id()
            conn.execute(
                _L.insert().values(
                    model_id=model_id,
                    run_pk=run_pk,
                    path=new.path,
                    flavor=new.flavor,
                    format=new.format,
                    executable=new.executable,
                    digest=new.digest,
                    files=json.dumps(dict(new.files), sort_keys=True),
                    meta=json.dumps(meta, default=str),
                    creation_time=now_ms(),
                )
            )
            return self._logged_where(conn, _L.c.model_id == model_id)

        return self._db.write(work)

    def _logged_where(self, conn: Connection, condition: Any) -> LoggedModel:
        row = conn.execute(
            sa.select(*_L.c, runs.c.run_id).join(runs, runs.c.pk == _L.c.run_pk).where(condition)
        ).first()
        if row is None:
            raise NotFound("logged model does not exist", field="model_id")
        return _logged(row)

    def logged(self, run_id: str, path: str) -> LoggedModel | None:
        def work(conn: Connection) -> LoggedModel | None:
            try:
                return self._logged_where(conn, (runs.c.run_id == run_id) & (_L.c.path == path))
            except NotFound:
                return None

        return self._db.read(work)

    def logged_by_id(self, model_id: str) -> LoggedModel:
        return self._db.read(lambda conn: self._logged_where(conn, _L.c.model_id == model_id))

    # -- registered models ---------------------------------------------------------------------

    def create(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        validate_model_name(name)
        tag_text = _merge_tags("{}", dict(tags or {}))

        def work(conn: Connection) -> RegisteredModel:
            if conn.execute(sa.select(_R.c.model_pk).where(_R.c.name == name)).first():
                raise AlreadyExists(
                    f"registered model {name!r} already exists",
                    field="name",
                    value=name,
                    hint="register a new version of it instead, or pick another name",
                )
            now = now_ms()
            conn.execute(
                _R.insert().values(
                    name=name,
                    description=description,
                    tags=tag_text,
                    creation_time=now,
                    last_updated_time=now,
                )
            )
            return _registered(conn, _find(conn, name))

        return self._db.write(work)

    def get(self, name: str) -> RegisteredModel:
        return self._db.read(lambda conn: _registered(conn, _find(conn, name)))

    def list(self) -> builtins.list[RegisteredModel]:
        return self._db.read(
            lambda conn: [
                _registered(conn, row) for row in conn.execute(_R.select().order_by(_R.c.name))
            ]
        )

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> RegisteredModel:
        def work(conn: Connection) -> RegisteredModel:
            row = _find(conn, name, lock=True)
            values: dict[str, Any] = {"last_updated_time": now_ms()}
            if description is not None:
                values["description"] = description
            if tags:
                values["tags"] = _merge_tags(row.tags, tags)
            conn.execute(_R.update().where(_R.c.model_pk == row.model_pk).values(**values))
            return _registered(conn, _find(conn, name))

        return self._db.write(work)

    def delete(self, name: str) -> None:
        def work(conn: Connection) -> None:
            row = _find(conn, name, lock=True)
            for table in (_A, model_gates, _V):
                conn.execute(table.delete().where(table.c.model_pk == row.model_pk))
            conn.execute(_R.delete().where(_R.c.model_pk == row.model_pk))

        self._db.write(work)

    # -- versions ------------------------------------------------------------------------------

    def add_version(self, name: str, new: NewModelVersion) -> ModelVersion:
        validate_model_name(name)
        tag_text = _merge_tags("{}", dict(new.tags))

        def work(conn: Connection) -> ModelVersion:
            logged = conn.execute(
                sa.select(*_L.c, runs.c.run_id, runs.c.git_commit)
                .join(runs, runs.c.pk == _L.c.run_pk)
                .where(_L.c.model_id == new.model_id)
            ).first()
            if logged is None:
                raise NotFound(
                    f"logged model {new.model_id!r} does not exist",
                    field="model_id",
                    value=new.model_id,
                    hint="log the model with loopml.log_model first",
                )
            model = _ensure_model(conn, name)
            number = int(model.last_version) + 1
            meta = json.loads(logged.meta)
            now = now_ms()
            pk = conn.execute(
                _V.insert()
                .values(
                    model_pk=model.model_pk,
                    version=number,
                    model_id=logged.model_id,
                    run_id=logged.run_id,
                    source=f"runs:/{logged.run_id}/{logged.path}",
                    digest=logged.digest,
                    files=logged.files,
                    flavor=logged.flavor,
                    format=logged.format,
                    executable=logged.executable,
                    signature=json.dumps(meta["signature"]) if meta.get("signature") else None,
                    task=meta.get("task"),
                    target=new.target,
                    data_version=new.data_version,
                    git_commit=logged.git_commit,
                    evaluation_id=new.evaluation_id,
                    description=new.description,
                    tags=tag_text,
                    creation_time=now,
                )
                .returning(_V.c.pk)
            ).scalar_one()
            conn.execute(
                _R.update()
                .where(_R.c.model_pk == model.model_pk)
                .values(last_updated_time=now, last_version=number)
            )
            return _version(conn.execute(_V.select().where(_V.c.pk == pk)).one(), name, ())

        return self._db.write(work)

    def version(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> ModelVersion:
        def work(conn: Connection) -> ModelVersion:
            row = _version_row(conn, _find(conn, name), version, alias)
            return _version(row, name, _version_aliases(conn, row.pk))

        return self._db.read(work)

    def versions(self, name: str) -> builtins.list[ModelVersion]:
        def work(conn: Connection) -> builtins.list[ModelVersion]:
            model = _find(conn, name)
            by_version: dict[int, builtins.list[str]] = {}
            for alias, number in _alias_map(conn, model.model_pk).items():
                by_version.setdefault(number, []).append(alias)
            rows = conn.execute(
                _V.select().where(_V.c.model_pk == model.model_pk).order_by(_V.c.version)
            )
            return [_version(row, name, tuple(by_version.get(row.version, ()))) for row in rows]

        return self._db.read(work)

    def versions_trained_on(self, data_version: str) -> builtins.list[ModelVersion]:
        def work(conn: Connection) -> builtins.list[ModelVersion]:
            rows = conn.execute(
                sa.select(*_V.c, _R.c.name.label("model_name"))
                .join(_R, _R.c.model_pk == _V.c.model_pk)
                .where(_V.c.data_version == data_version)
                .order_by(_V.c.pk)
            ).all()
            return [_version(row, row.model_name, _version_aliases(conn, row.pk)) for row in rows]

        return self._db.read(work)

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        evaluation_id: str | None = None,
        target: str | None = None,
    ) -> ModelVersion:
        def work(conn: Connection) -> ModelVersion:
            model = _find(conn, name, lock=True)
            row = _version_row(conn, model, version)
            values: dict[str, Any] = {}
            if description is not None:
                values["description"] = description
            if tags:
                values["tags"] = _merge_tags(row.tags, tags)
            if evaluation_id is not None:
                values["evaluation_id"] = evaluation_id
            if target is not None:
                values["target"] = target
            if values:
                conn.execute(_V.update().where(_V.c.pk == row.pk).values(**values))
            fresh = conn.execute(_V.select().where(_V.c.pk == row.pk)).one()
            return _version(fresh, name, _version_aliases(conn, row.pk))

        return self._db.write(work)

    def delete_version(self, name: str, version: int) -> None:
        def work(conn: Connection) -> None:
            model = _find(conn, name, lock=True)
            row = _version_row(conn, model, version)
            held = _version_aliases(conn, row.pk)
            if held:
                raise Conflict(
                    f"version {version} of {name!r} is still {', '.join(held)}",
                    field="version",
                    value=version,
                    hint=f"move the alias first (loopml models alias {name} {held[0]} <version>)",
                )
            conn.execute(_V.delete().where(_V.c.pk == row.pk))

        self._db.write(work)

    # -- aliases -------------------------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        event: NewEvent,
        if_current: int | AnyVersion | None = "any",
    ) -> Event:
        validate_model_alias(alias)

        def work(conn: Connection) -> Event:
            model = _find(conn, name, lock=True)
            current = _alias_map(conn, model.model_pk).get(alias)
            if if_current != "any" and current != if_current:
                raise Conflict(
                    f"alias {alias!r} of {name!r} moved to "
                    f"{'no version' if current is None else f'version {current}'} "
                    f"while this change expected "
                    f"{'none' if if_current is None else f'version {if_current}'}",
                    field="alias",
                    value=alias,
                    hint="read the alias again and retry",
                )
            conn.execute(_A.delete().where(_A.c.model_pk == model.model_pk, _A.c.alias == alias))
            if version is not None:
                target = _version_row(conn, model, version)
                conn.execute(
                    _A.insert().values(model_pk=model.model_pk, alias=alias, version_pk=target.pk)
                )
            conn.execute(
                _R.update()
                .where(_R.c.model_pk == model.model_pk)
                .values(last_updated_time=now_ms())
            )
            data = {
                **dict(event.data),
                "alias": alias,
                "from_version": current,
                "to_version": version,
            }
            return insert_event(
                conn,
                NewEvent(event.kind, event.subject, event.actor, event.reason, data),
            )

        return self._db.write(work)

    # -- gates ---------------------------------------------------------------------------------

    def set_gates(self, name: str, gates: Sequence[str], actor: str | None) -> GateSet:
        def work(conn: Connection) -> GateSet:
            model = _ensure_model(conn, validate_model_name(name))
            latest = conn.execute(
                sa.select(sa.func.max(model_gates.c.revision)).where(
                    model_gates.c.model_pk == model.model_pk
                )
            ).scalar()
            gate_set = GateSet(
                name=name,
                revision=(latest or 0) + 1,
                gates=tuple(gates),
                actor=actor,
                creation_time=now_ms(),
            )
            conn.execute(
                model_gates.insert().values(
                    model_pk=model.model_pk,
                    revision=gate_set.revision,
                    gates=json.dumps(list(gate_set.gates)),
                    actor=actor,
                    creation_time=gate_set.creation_time,
                )
            )
            return gate_set

        return self._db.write(work)

    def gates(self, name: str, revision: int | None = None) -> GateSet | None:
        def work(conn: Connection) -> GateSet | None:
            model = _find(conn, name)
            query = model_gates.select().where(model_gates.c.model_pk == model.model_pk)
            if revision is not None:
                query = query.where(model_gates.c.revision == revision)
            row = conn.execute(query.order_by(model_gates.c.revision.desc()).limit(1)).first()
            if row is None:
                return None
            return GateSet(
                name=name,
                revision=row.revision,
                gates=tuple(json.loads(row.gates)),
                actor=row.actor,
                creation_time=row.creation_time,
            )

        return self._db.read(work)

    def referenced_digests(self) -> set[str]:
        def work(conn: Connection) -> set[str]:
            found: set[str] = set()
            for (files,) in conn.execute(sa.select(_V.c.files)):
                found.update(json.loads(files).values())
            return found

        return self._db.read(work)
