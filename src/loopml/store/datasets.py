"""SQL implementation of :class:`DatasetRepository`.

Version numbers are assigned inside the write transaction that inserts the version, under a lock on
the dataset row (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so
concurrent adds get 1, 2, 3… with no gaps or duplicates, and identical content gets the existing
version back.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml._util.ids import new_id
from loopml.entities import DataKind, DataRef, Dataset, DatasetVersionRecord
from loopml.entities.dataset import validate_alias, validate_dataset_name
from loopml.errors import NotFound
from loopml.store.base import DatasetRepository, NewVersion
from loopml.store.engine import Database
from loopml.store.runs import resolve_run
from loopml.store.tables import (
    dataset_aliases,
    dataset_blobs,
    dataset_versions,
    datasets,
    run_inputs,
    runs,
)

_V = dataset_versions
_SUMMARY = [c for c in _V.c if c.name != "profile"]


def _dataset(row: Any) -> Dataset:
    return Dataset(
        dataset_id=row.dataset_id,
        name=row.name,
        description=row.description,
        creation_time=row.creation_time,
        pinned_schema=json.loads(row.pinned_schema) if row.pinned_schema else None,
    )


def _record(row: Any, name: str, aliases: tuple[str, ...]) -> DatasetVersionRecord:
    profile = getattr(row, "profile", None)
    return DatasetVersionRecord(
        version_id=row.version_id,
        name=name,
        version=row.version,
        digest=row.digest,
        kind=DataKind(row.kind),
        blob_digest=row.blob_digest,
        rows=row.rows,
        size_bytes=row.size_bytes,
        num_files=row.num_files,
        schema=json.loads(row.schema) if row.schema else None,
        profile=json.loads(profile) if profile else None,
        description=row.description,
        tags=json.loads(row.tags) if row.tags else {},
        creation_time=row.creation_time,
        aliases=aliases,
    )


def _find_dataset(conn: Connection, name: str, *, lock: bool = False) -> Any:
    query = datasets.select().where(datasets.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(
            f"dataset {name!r} does not exist",
            field="name",
            value=name,
            hint="list datasets with `loopml data list`",
        )
    return row


def _aliases(conn: Connection, version_pk: int) -> tuple[str, ...]:
    query = sa.select(dataset_aliases.c.alias).where(dataset_aliases.c.version_pk == version_pk)
    return tuple(sorted(row[0] for row in conn.execute(query)))


class SqlDatasets(DatasetRepository):
    """Datasets and versions in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_version(self, name: str, new: NewVersion) -> tuple[DatasetVersionRecord, bool]:
        validate_dataset_name(name)

        def work(conn: Connection) -> tuple[DatasetVersionRecord, bool]:
            # Create-if-missing that two writers can race on; the row lock below serialises them.
            dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(datasets)
                .values(dataset_id=new_id(), name=name, creation_time=now_ms())
                .on_conflict_do_nothing(index_elements=[datasets.c.name])
            )
            dataset = _find_dataset(conn, name, lock=True)
            same = conn.execute(
                _V.select().where(_V.c.dataset_id == dataset.dataset_id, _V.c.digest == new.digest)
            ).first()
            if same is not None:
                return _record(same, name, _aliases(conn, same.pk)), False
            latest = conn.execute(
                sa.select(sa.func.max(_V.c.version)).where(_V.c.dataset_id == dataset.dataset_id)
            ).scalar()
            pk = conn.execute(
                _V.insert()
                .values(
                    version_id=new_id(),
                    dataset_id=dataset.dataset_id,
                    version=(latest or 0) + 1,
                    digest=new.digest,
                    kind=new.kind.value,
                    blob_digest=new.blob_digest,
                    rows=new.rows,
                    size_bytes=new.size_bytes,
                    num_files=new.num_files,
                    schema=json.dumps(new.schema) if new.schema is not None else None,
                    profile=json.dumps(new.profile) if new.profile is not None else None,
                    description=new.description,
                    tags=json.dumps(dict(new.tags)),
                    creation_time=now_ms(),
                )
                .returning(_V.c.pk)
            ).scalar_one()
            blobs = sorted(set(new.blobs) | {new.blob_digest})
            conn.execute(dataset_blobs.insert(), [{"version_pk": pk, "digest": d} for d in blobs])
            row = conn.execute(_V.select().where(_V.c.pk == pk)).one()
            return _record(row, name, ()), True

        return self._db.write(work)

    def get(self, name: str) -> Dataset:
        return _dataset(self._db.read(lambda conn: _find_dataset(conn, name)))

    def list(self) -> builtins.list[Dataset]:
        rows = self._db.read(
            lambda conn: conn.execute(datasets.select().order_by(datasets.c.name)).all()
        )
        return [_dataset(row) for row in rows]

    def version(self, ref: DataRef) -> DatasetVersionRecord:
        def work(conn: Connection) -> DatasetVersionRecord:
            dataset = _find_dataset(conn, ref.name)
            query = _V.select().where(_V.c.dataset_id == dataset.dataset_id)
            if ref.version is not None:
                query = query.where(_V.c.version == ref.version)
            elif ref.alias is not None:
                target = (
                    sa.select(dataset_aliases.c.version_pk)
                    .where(
                        dataset_aliases.c.dataset_id == dataset.dataset_id,
                        dataset_aliases.c.alias == ref.alias,
                    )
                    .scalar_subquery()
                )
                query = query.where(_V.c.pk == target)
            else:
                query = query.order_by(_V.c.version.desc()).limit(1)
            row = conn.execute(query).first()
            if row is None:
                raise NotFound(
                    f"dataset {ref.name!r} has no version {str(ref).partition('@')[2]!r}",
                    field="ref",
                    value=str(ref),
                    hint=f"list its versions with `loopml data show {ref.name}`",
                )
            return _record(row, ref.name, _aliases(conn, row.pk))

        return self._db.read(work)

    def versions(self, name: str) -> builtins.list[DatasetVersionRecord]:
        def work(conn: Connection) -> builtins.list[DatasetVersionRecord]:
            dataset = _find_dataset(conn, name)
            rows = conn.execute(
                sa.select(*_SUMMARY)
                .where(_V.c.dataset_id == dataset.dataset_id)
                .order_by(_V.c.version)
            ).all()
            aliases: dict[int, builtins.list[str]] = {}
            for alias, pk in conn.execute(
                sa.select(dataset_aliases.c.alias, dataset_aliases.c.version_pk).where(
                    dataset_aliases.c.dataset_id == dataset.dataset_id
                )
            ):
                aliases.setdefault(pk, []).append(alias)
            return [_record(row, name, tuple(sorted(aliases.get(row.pk, [])))) for row in rows]

        return self._db.read(work)

    def set_alias(self, name: str, alias: str, version: int | None) -> None:
        validate_alias(alias)

        def work(conn: Connection) -> None:
            dataset = _find_dataset(conn, name, lock=True)
            conn.execute(
                dataset_aliases.delete().where(
                    dataset_aliases.c.dataset_id == dataset.dataset_id,
                    dataset_aliases.c.alias == alias,
                )
            )
            if version is None:
                return
            pk = conn.execute(
                sa.select(_V.c.pk).where(
                    _V.c.dataset_id == dataset.dataset_id, _V.c.version == version
                )
            ).scalar()
            if pk is None:
                raise NotFound(
                    f"dataset {name!r} has no version {version}", field="version", value=version
                )
            conn.execute(
                dataset_aliases.insert().values(
                    dataset_id=dataset.dataset_id, alias=alias, version_pk=pk
                )
            )

        self._db.write(work)

    def pin_schema(self, name: str, schema: Mapping[str, Any] | None) -> Dataset:
        def work(conn: Connection) -> None:
            dataset = _find_dataset(conn, name, lock=True)
            conn.execute(
                datasets.update()
                .where(datasets.c.dataset_id == dataset.dataset_id)
                .values(pinned_schema=json.dumps(schema) if schema is not None else None)
            )

        self._db.write(work)
        return self.get(name)

    def link_input(self, run_id: str, version_id: str, role: str) -> None:
        def work(conn: Connection) -> None:
            run_pk = resolve_run(conn, run_id, for_write=True)
            version_pk = conn.execute(
                sa.select(_V.c.pk).where(_V.c.version_id == version_id)
            ).scalar()
            if version_pk is None:
                raise NotFound(f"data version {version_id!r} does not exist", field="version")
            exists = conn.execute(
                sa.select(run_inputs.c.role).where(
                    run_inputs.c.run_pk == run_pk,
                    run_inputs.c.version_pk == version_pk,
                    run_inputs.c.role == role,
                )
            ).first()
            if exists is None:
                conn.execute(
                    run_inputs.insert().values(run_pk=run_pk, version_pk=version_pk, role=role)
                )

        self._db.write(work)

    def inputs(self, run_id: str) -> builtins.list[tuple[DatasetVersionRecord, str]]:
        def work(conn: Connection) -> builtins.list[tuple[DatasetVersionRecord, str]]:
            run_pk = resolve_run(conn, run_id)
            query = (
                sa.select(*_SUMMARY, datasets.c.name.label("dataset_name"), run_inputs.c.role)
                .join(run_inputs, run_inputs.c.version_pk == _V.c.pk)
                .join(datasets, datasets.c.dataset_id == _V.c.dataset_id)
                .where(run_inputs.c.run_pk == run_pk)
                .order_by(datasets.c.name, _V.c.version)
            )
            return [
                (_record(row, row.dataset_name, _aliases(conn, row.pk)), row.role)
                for row in conn.execute(query)
            ]

        return self._db.read(work)

    def consumers(self, version_id: str) -> builtins.list[tuple[str, str]]:
        query = (
            sa.select(runs.c.run_id, run_inputs.c.role)
            .join(run_inputs, run_inputs.c.run_pk == runs.c.pk)
            .join(_V, _V.c.pk == run_inputs.c.version_pk)
            .where(_V.c.version_id == version_id)
            .order_by(runs.c.start_time, runs.c.pk)
        )
        return self._db.read(lambda conn: [(r.run_id, r.role) for r in conn.execute(query)])

    def tagged(self, key: str, value: str) -> builtins.list[DatasetVersionRecord]:
        # Tags are a JSON object in one column: a LIKE on the value's JSON text narrows the rows
        # in SQL, the parsed tags decide (the value may appear under another key).
        query = (
            sa.select(*_SUMMARY, datasets.c.name.label("dataset_name"))
            .join(datasets, datasets.c.dataset_id == _V.c.dataset_id)
            .where(_V.c.tags.contains(json.dumps(str(value)), autoescape=True))
            .order_by(datasets.c.name, _V.c.version)
        )

        def work(conn: Connection) -> builtins.list[DatasetVersionRecord]:
            return [
                _record(row, row.dataset_name, _aliases(conn, row.pk))
                for row in conn.execute(query)
                if json.loads(row.tags or "{}").get(key) == value
            ]

        return self._db.read(work)

    def locate(self, digest: str) -> builtins.list[str]:
        query = (
            sa.select(datasets.c.name, _V.c.version)
            .join(_V, _V.c.dataset_id == datasets.c.dataset_id)
            .join(dataset_blobs, dataset_blobs.c.version_pk == _V.c.pk)
            .where(dataset_blobs.c.digest == digest)
            .order_by(datasets.c.name, _V.c.version)
        )
        return self._db.read(lambda conn: [f"{n}@{v}" for n, v in conn.execute(query)])

    def referenced_digests(self) -> set[str]:
        query = sa.select(dataset_blobs.c.digest).distinct()
        return self._db.read(lambda conn: {row[0] for row in conn.execute(query)})
