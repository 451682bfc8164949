"""The one door to fsspec: turn an artifact URI into a filesystem and a root path inside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import fsspec
from fsspec import AbstractFileSystem as FileSystem
from fsspec.implementations.local import LocalFileSystem

from loopml.errors import BackendUnavailable, InvalidInput

__all__ = ["FileSystem", "is_local", "open_filesystem"]

_EXTRAS = {"s3": "s3", "s3a": "s3"}


def _protocol(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else "file"


def open_filesystem(
    uri: str, storage_options: Mapping[str, Any] | None = None
) -> tuple[FileSystem, str]:
    """Open the filesystem behind a local path, file:// or s3:// URI (or anything fsspec knows)."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(
            "artifact URI is empty",
            field="artifact_uri",
            value=uri,
            hint="set LOOPML_ARTIFACT_URI to a folder or a URI such as s3://bucket/prefix",
        )
    protocol = _protocol(uri)
    try:
        fs, root = fsspec.core.url_to_fs(uri, **dict(storage_options or {}))
    except ImportError as exc:
        extra = _EXTRAS.get(protocol)
        hint = f'pip install "loopml[{extra}]"' if extra else f"install the fsspec backend: {exc}"
        raise BackendUnavailable(
            f"the {protocol}:// artifact backend is not installed", field="artifact_uri", hint=hint
        ) from exc
    except ValueError as exc:
        raise InvalidInput(
            f"artifact URI {uri!r} cannot be opened: {exc}",
            field="artifact_uri",
            value=uri,
            hint="use a folder path, file://, s3://bucket/prefix or another fsspec protocol",
        ) from exc
    return fs, str(root).rstrip("/") or "/"


def is_local(fs: FileSystem) -> bool:
    """True when paths in fs are paths on this machine, so os-level renames and fsync apply."""
    return isinstance(fs, LocalFileSystem)
