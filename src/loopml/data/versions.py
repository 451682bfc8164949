"""``DatasetVersion``: what users hold after ``data.add`` or ``data.show``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from loopml.data.schema import Schema
from loopml.entities import DataKind, DatasetVersionRecord
from loopml.stats import TableProfile


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version: ``.name``, ``.version``, ``.digest``, ``.profile``, ``.schema``."""

    record: DatasetVersionRecord

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def version_id(self) -> str:
        return self.record.version_id

    @property
    def digest(self) -> str:
        return self.record.digest

    @property
    def kind(self) -> DataKind:
        return self.record.kind

    @property
    def rows(self) -> int | None:
        return self.record.rows

    @property
    def ref(self) -> str:
        """``name@version``, the address that never changes."""
        return self.record.ref

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.record.aliases

    @cached_property
    def profile(self) -> TableProfile | None:
        """Statistics of every column (tables only), mergeable with other profiles."""
        data = self.record.profile
        return TableProfile.from_dict(data) if data is not None else None

    @cached_property
    def schema(self) -> Schema | None:
        """The schema inferred when the version was added (tables only)."""
        data = self.record.schema
        return Schema.from_dict(data) if data is not None else None

    def to_dict(self, *, with_profile: bool = False) -> dict[str, Any]:
        """A JSON-able summary for ``--json`` output."""
        record = self.record
        body: dict[str, Any] = {
            "ref": record.ref,
            "name": record.name,
            "version": record.version,
            "version_id": record.version_id,
            "digest": record.digest,
            "kind": record.kind.value,
            "rows": record.rows,
            "size_bytes": record.size_bytes,
            "num_files": record.num_files,
            "aliases": list(record.aliases),
            "description": record.description,
            "tags": dict(record.tags),
            "creation_time": record.creation_time,
            "schema": record.schema,
        }
        if with_profile:
            body["profile"] = record.profile
        return body

    def __repr__(self) -> str:
        shape = f"{self.rows} rows" if self.rows is not None else f"{self.record.num_files} files"
        return (
            f"DatasetVersion({self.ref!r}, {self.kind.value}, {shape}, digest={self.digest[:12]})"
        )
