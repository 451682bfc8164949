"""Blobs in an object store, where an upload appears whole or not at all: hash, then upload."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar

from loopml._util.hashing import (
    CHUNK_SIZE,
    BytesLike,
    StreamHasher,
    hash_bytes,
    hash_file,
    is_digest,
)
from loopml.artifacts._streams import RawSource, read_chunks
from loopml.artifacts.fs import FileSystem
from loopml.artifacts.refs import BlobInfo, BlobRef
from loopml.errors import BackendUnavailable, IntegrityError, LoopMLError

_P = ParamSpec("_P")
_R = TypeVar("_R")
_NETWORK_HINT = (
    "check the endpoint URL, credentials and network; S3 settings come from AWS_* variables, "
    "~/.aws/config or storage_options"
)


class _Upload(Protocol):
    """An fsspec file opened with autocommit=False: nothing appears until commit()."""

    def write(self, data: BytesLike, /) -> int: ...

    def close(self) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


def _guarded(action: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn a backend's own failures (network, credentials) into BackendUnavailable."""

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return func(*args, **kwargs)
            except (FileNotFoundError, LoopMLError):
                raise
            except Exception as exc:
                raise BackendUnavailable(
                    f"the artifact store could not {action}: {type(exc).__name__}: {exc}",
                    hint=_NETWORK_HINT,
                ) from exc

        return call

    return decorate


_TIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "modified", "created")


def _modified(info: Mapping[str, Any]) -> float:
    """A listing entry's age in epoch seconds; unknown counts as now, so gc spares it."""
    for key in _TIME_KEYS:
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value).timestamp()
    return time.time()


# Half of ``loopml gc``'s one-hour grace period: a reused blob younger than this is left alone.
REUSE_MAX_AGE_S = 1800.0


class RemoteBlobs:
    """The object-store half of BlobStore; digests are validated by the caller."""

    def __init__(self, fs: FileSystem, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    def path(self, digest: str) -> str:
        """The object key of a blob."""
        return f"{self.root}/blobs/{digest[:2]}/{digest[2:]}"

    @_guarded("store bytes")
    def put_bytes(self, data: bytes) -> BlobRef:
        """Upload bytes already in memory in one atomic PUT, unless already stored."""
        ref = BlobRef(hash_bytes(data), len(data))
        if not self._stored_recently(ref.digest):
            self.fs.pipe_file(self.path(ref.digest), data)
        return ref

    @_guarded("store a file")
    def put_file(self, path: str | os.PathLike[str]) -> BlobRef:
        """Hash the file, skip it if stored, else upload it while checking it did not change."""
        ref = BlobRef(hash_file(path), os.stat(path).st_size)
        if not self._stored_recently(ref.digest):
            with open(path, "rb") as source:
                self._upload(read_chunks(source), ref)
        return ref

    @_guarded("store a stream")
    def put_chunks(self, chunks: Iterable[BytesLike]) -> BlobRef:
        """Spool a stream to a local temp file while hashing (its key is known only at the end)."""
        hasher = StreamHasher()
        with tempfile.TemporaryFile() as spool:
            for chunk in chunks:
                hasher.update(chunk)
                spool.write(chunk)
            ref = BlobRef(hasher.hexdigest(), hasher.size)
            if not self._stored_recently(ref.digest):
                spool.seek(0)
                self._upload(read_chunks(spool), ref)
        return ref

    def _upload(self, chunks: Iterable[BytesLike], ref: BlobRef) -> None:
        target: _Upload = self.fs.open(self.path(ref.digest), "wb", autocommit=False)
        hasher = StreamHasher()
        try:
            for chunk in chunks:
                hasher.update(chunk)
                target.write(chunk)
            target.close()
        except BaseException:
            with contextlib.suppress(Exception):
                target.close()
            target.discard()
            raise
        if hasher.hexdigest() != ref.digest:
            target.discard()
            raise IntegrityError(
                f"the file changed while it was being stored (digest {ref.digest} when hashed, "
                f"{hasher.hexdigest()} when uploaded)",
                field="path",
                hint="store it again once nothing is writing to it",
            )
        target.commit()

    @_guarded("open a blob")
    def open_raw(self, digest: str) -> RawSource:
        """Open a blob for streaming reads."""
        path = self.path(digest)
        self.fs.invalidate_cache(path)
        source: RawSource = self.fs.open(path, "rb")
        return source

    def _stored_recently(self, digest: str) -> bool:
        """True when the blob is stored and young enough that ``gc`` will spare it.

        Object stores cannot touch an object's age cheaply, so an old blob being reused is
        uploaded again (a PUT renews it): otherwise ``gc`` could delete it between this upload
        and the run recording it.
        """
        info = self._info(digest)
        return info is not None and time.time() - _modified(info) < REUSE_MAX_AGE_S

    @_guarded("look up a blob")
    def exists(self, digest: str) -> bool:
        """True when the object is there (asking the store, not a stale listing cache)."""
        return self._info(digest) is not None

    def _info(self, digest: str) -> Mapping[str, Any] | None:
        """The object's fresh metadata, or None when no such object (file) is stored."""
        path = self.path(digest)
        self.fs.invalidate_cache(path)
        try:
            info: Mapping[str, Any] = self.fs.info(path)
        except FileNotFoundError:
            return None
        return info if info.get("type", "file") == "file" else None

    @_guarded("delete a blob")
    def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was already gone."""
        if not self.exists(digest):
            return False
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(digest))
        return True

    @_guarded("read a blob")
    def hash(self, digest: str) -> str:
        """Re-hash a stored blob by streaming it."""
        hasher = StreamHasher()
        source = self.open_raw(digest)
        try:
            buffer = memoryview(bytearray(CHUNK_SIZE))
            while count := source.readinto(buffer):
                hasher.update(buffer[:count])
        finally:
            source.close()
        return hasher.hexdigest()

    @_guarded("list blobs")
    def iter_blobs(self) -> Iterator[BlobInfo]:
        """List stored blobs from a fresh listing, skipping keys not named like a blob."""
        prefix = f"{self.root}/blobs/"
        self.fs.invalidate_cache(prefix.rstrip("/"))
        listing: Mapping[str, Mapping[str, Any]] = self.fs.find(prefix, detail=True)
        found = []
        for name, info in listing.items():
            rel = name[len(prefix) :] if name.startswith(prefix) else ""
            digest = rel.replace("/", "", 1)
            if info.get("type", "file") == "file" and rel[2:3] == "/" and is_digest(digest):
                found.append(BlobInfo(digest, int(info.get("size") or 0), _modified(info)))
        return iter(found)
