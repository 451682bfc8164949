"""Datasets and their immutable, numbered versions, addressed as ``name@3``, ``name@latest``,
``name@training``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from loopml.entities.names import LATEST, check_alias, check_name
from loopml.errors import InvalidInput


class DataKind(StrEnum):
    """What a version holds: a table (stored as Parquet), one file, or a folder of files."""

    TABLE = "table"
    FILE = "file"
    FOLDER = "folder"


@dataclass(frozen=True)
class Dataset:
    """A named series of versions; a pinned schema is checked on every new version."""

    dataset_id: str
    name: str
    description: str | None
    creation_time: int
    pinned_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DatasetVersionRecord:
    """One stored version as the store knows it (profile and schema as plain JSON data)."""

    version_id: str
    name: str
    version: int
    digest: str
    kind: DataKind
    blob_digest: str
    rows: int | None
    size_bytes: int
    num_files: int
    schema: Mapping[str, Any] | None
    profile: Mapping[str, Any] | None
    description: str | None
    tags: Mapping[str, str]
    creation_time: int
    aliases: tuple[str, ...] = field(default=())

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class DataRef:
    """A parsed ``name@selector``: a version number, ``latest`` or an alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        return f"{self.name}@{self.alias or LATEST}"


def validate_dataset_name(name: Any) -> str:
    """A dataset name: no path characters, so it can never become a path or a URL trick."""
    return check_name(name, "dataset")


def validate_alias(alias: Any) -> str:
    """An alias such as ``training`` or ``prod-2026``: not a number and not ``latest``."""
    return check_alias(alias)


def parse_ref(ref: Any) -> DataRef:
    """Parse ``name``, ``name@3``, ``name@latest`` or ``name@alias``."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(
            f"data reference must be a string like 'name@3', got {ref!r}", field="ref", value=ref
        )
    name, sep, selector = ref.strip().partition("@")
    validate_dataset_name(name)
    if not sep or selector in ("", LATEST):
        return DataRef(name)
    if selector.isdigit():
        version = int(selector)
        if version < 1:
            raise InvalidInput(f"versions start at 1, got {ref!r}", field="ref", value=ref)
        return DataRef(name, version=version)
    return DataRef(name, alias=validate_alias(selector))
