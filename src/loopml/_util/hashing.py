"""Streaming BLAKE3 digests: one pass over the bytes, bounded memory, every core on big files."""

from __future__ import annotations

import os
from pathlib import Path

import blake3

from loopml.errors import IntegrityError

DIGEST_HEX_LEN = 64
CHUNK_SIZE = 4 * 1024 * 1024
MMAP_THRESHOLD = 16 * 1024 * 1024
_HEX_DIGITS = frozenset("0123456789abcdef")

BytesLike = bytes | bytearray | memoryview


def is_digest(value: object) -> bool:
    """True for a 64-character lowercase hex digest, so a digest can never smuggle in a path."""
    return isinstance(value, str) and len(value) == DIGEST_HEX_LEN and _HEX_DIGITS.issuperset(value)


def hash_bytes(data: BytesLike) -> str:
    """Digest bytes already in memory."""
    return blake3.blake3(data, max_threads=blake3.blake3.AUTO).hexdigest()


def hash_file(path: str | os.PathLike[str]) -> str:
    """Digest a file: memory-mapped and multithreaded when big, chunked reads when small."""
    if os.stat(path).st_size >= MMAP_THRESHOLD:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        hasher.update_mmap(path)
        return hasher.hexdigest()
    stream = StreamHasher()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb") as source:
        while count := source.readinto(buffer):
            stream.update(view[:count])
    return stream.hexdigest()


class StreamHasher:
    """Digest bytes as they flow past (uploads, downloads, verified reads) without keeping them."""

    def __init__(self) -> None:
        self._hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self.size = 0

    def update(self, data: BytesLike) -> None:
        """Add the next chunk."""
        self._hasher.update(data)
        self.size += memoryview(data).nbytes

    def hexdigest(self) -> str:
        """The digest of everything added so far."""
        return self._hasher.hexdigest()


def folder_manifest(
    folder: str | os.PathLike[str], what: str = "file", hint: str | None = None
) -> dict[str, str]:
    """Every file under ``folder`` (relative POSIX path) with its digest, sorted by path.

    A symlink or special file anywhere is refused (IntegrityError naming it as ``what``): it
    could point a check at one file and a reader at another.
    """
    root = Path(folder)
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise IntegrityError(
                    f"{what} {rel!r} is a symlink, which is not allowed here",
                    field=rel,
                    hint=hint or "replace the link with the file it points to",
                )
            if name in filenames:
                if not path.is_file():
                    raise IntegrityError(f"{what} {rel!r} is not a regular file", field=rel)
                found[rel] = hash_file(path)
    return dict(sorted(found.items()))
