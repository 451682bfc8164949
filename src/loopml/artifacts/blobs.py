"""Content-addressed blobs: each content stored once under its BLAKE3 digest, verified on read."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from loopml._util.hashing import CHUNK_SIZE, BytesLike, is_digest
from loopml._util.paths import safe_member_join
from loopml.artifacts._bulk import put_many_local
from loopml.artifacts._local import LocalBlobs
from loopml.artifacts._remote import RemoteBlobs
from loopml.artifacts._streams import (
    ReadableStream,
    VerifiedReader,
    missing,
    read_chunks,
)
from loopml.artifacts.fs import is_local, open_filesystem
from loopml.artifacts.refs import BlobInfo, BlobRef
from loopml.errors import InvalidInput, NotFound

__all__ = ["BlobInfo", "BlobRef", "BlobStore"]


def _check(digest: str) -> str:
    """Refuse anything but a 64-hex digest, so a digest can never become a traversal path."""
    if not is_digest(digest):
        raise InvalidInput(
            f"{str(digest)[:80]!r} is not a blob digest (64 lowercase hex characters)",
            field="digest",
            value=digest,
            hint="pass the digest returned by put_* or recorded in the manifest",
        )
    return digest


def _check_source(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise NotFound(
            f"file to store {str(path)!r} does not exist",
            field="path",
            value=str(path),
            hint="check the path (relative paths start from the current folder)",
        ) from exc
    if stat.S_ISDIR(mode):
        raise InvalidInput(
            f"{str(path)!r} is a folder, not a file",
            field="path",
            value=str(path),
            hint="store each file, or log the whole folder with log_artifacts",
        )


class BlobStore:
    """Blobs under one root URI (local folder, s3://bucket/prefix, any fsspec URI).

    Layout: ``blobs/<2 hex>/<62 hex>`` for stored content, ``tmp/`` for local in-flight writes.
    """

    def __init__(self, uri: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.uri = uri
        self.fs, self.root = open_filesystem(uri, storage_options)
        self._backend: LocalBlobs | RemoteBlobs = (
            LocalBlobs(self.root) if is_local(self.fs) else RemoteBlobs(self.fs, self.root)
        )

    def __repr__(self) -> str:
        return f"BlobStore({self.uri!r})"

    def blob_path(self, digest: str) -> str:
        """Where a blob lives inside ``self.fs``, for fsck reports and test helpers."""
        return str(self._backend.path(_check(digest)))

    def local_path(self, digest: str) -> Path | None:
        """The file holding a blob when the store is a local folder (None for remote stores)."""
        if isinstance(self._backend, LocalBlobs):
            return Path(self._backend.path(_check(digest)))
        return None

    def put_file(self, path: str | os.PathLike[str]) -> BlobRef:
        """Store a file's content with bounded memory and return its digest and size."""
        source = Path(path)
        _check_source(source)
        return self._backend.put_file(source)

    def put_many(self, paths: Sequence[str | os.PathLike[str]], workers: int = 8) -> list[BlobRef]:
        """Store many files at once (a folder being versioned), synced once at the end."""
        sources = [Path(p) for p in paths]
        for source in sources:
            _check_source(source)
        if isinstance(self._backend, LocalBlobs):
            return put_many_local(self._backend, sources)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loopml-put") as pool:
            return list(pool.map(self._backend.put_file, sources))

    def put_bytes(self, data: BytesLike) -> BlobRef:
        """Store bytes already in memory."""
        return self._backend.put_bytes(bytes(data))

    def put_stream(self, fileobj: ReadableStream) -> BlobRef:
        """Store everything a binary stream yields, reading it in bounded chunks."""
        return self._backend.put_chunks(read_chunks(fileobj))

    def open(self, digest: str, *, context: str = "") -> BinaryIO:
        """A reader that raises IntegrityError at the end if the bytes do not match the digest.

        Read it to the end before trusting what it gave; to load a model, use ``get_file``
        or ``read_bytes``, which verify before handing anything over.
        """
        return self._reader(digest, context)

    def read_bytes(self, digest: str, *, context: str = "") -> bytes:
        """A blob's bytes, verified before they are returned."""
        with self.open(digest, context=context) as reader:
            return reader.read()

    def get_file(self, digest: str, dst: str | os.PathLike[str], *, context: str = "") -> None:
        """Download a blob to dst through a temp file beside it, so a bad blob leaves no dst."""
        target = Path(dst)
        if target.is_dir():
            raise InvalidInput(
                f"download destination {str(target)!r} is a folder",
                field="dst",
                value=str(target),
                hint="pass the path of the file to write, e.g. folder/model.pkl",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".loopml-{secrets.token_hex(8)}.part"
        try:
            with self._reader(digest, context) as source, open(tmp, "xb") as out:
                buffer = bytearray(CHUNK_SIZE)
                view = memoryview(buffer)
                while count := source.readinto(buffer):
                    out.write(view[:count])
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def get_files(
        self, files: Mapping[str, str], folder: str | os.PathLike[str], *, context: str = ""
    ) -> Path:
        """Download a manifest (relative path → digest) into ``folder``, each file verified.

        Paths are joined safely: a manifest cannot write outside ``folder``. The folder exists
        afterwards even for an empty manifest.
        """
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        for path, digest in sorted(files.items()):
            where = f"{context}, file {path}" if context else f"file {path}"
            self.get_file(digest, safe_member_join(root, path), context=where)
        return root

    def exists(self, digest: str) -> bool:
        """True when a blob with this digest is stored."""
        return self._backend.exists(_check(digest))

    def delete(self, digest: str) -> bool:
        """Remove a blob (for ``loopml gc``); False when it was already gone."""
        return self._backend.delete(_check(digest))

    def quarantine(self, digest: str) -> bool:
        """Move a damaged blob aside (``quarantine/``), so storing the content again repairs it."""
        checked = _check(digest)
        if not self._backend.exists(checked):
            return False
        source = self._backend.path(checked)
        target = f"{self.root.rstrip('/')}/quarantine/{checked}"
        self.fs.makedirs(f"{self.root.rstrip('/')}/quarantine", exist_ok=True)
        self.fs.mv(str(source), target)
        return True

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob with its size and age, for ``loopml gc`` and ``loopml fsck``."""
        return self._backend.iter_blobs()

    def verify(self, digest: str, *, context: str = "") -> bool:
        """Re-hash a stored blob: False when its bytes no longer match its name."""
        try:
            return self._backend.hash(_check(digest)) == digest
        except FileNotFoundError as exc:
            raise missing(digest, context, self.uri) from exc

    def _reader(self, digest: str, context: str) -> io.BufferedReader:
        try:
            raw = self._backend.open_raw(_check(digest))
        except FileNotFoundError as exc:
            raise missing(digest, context, self.uri) from exc
        return io.BufferedReader(VerifiedReader(raw, digest, context), buffer_size=256 * 1024)
