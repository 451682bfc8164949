"""Byte streams in and out of the blob store: chunked reading and reads that check the digest."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from loopml._util.hashing import CHUNK_SIZE, BytesLike, StreamHasher
from loopml.errors import IntegrityError, InvalidInput, NotFound

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

FSCK_HINT = "run `loopml fsck --repair` to set damaged blobs aside, then log the artifact again"


class RawSource(Protocol):
    """What a stored blob is read through: a local file or an fsspec file."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...

    def close(self) -> None: ...


class ReadableStream(Protocol):
    """Any binary stream a caller hands to put_stream."""

    def read(self, size: int = ..., /) -> bytes: ...


def _about(digest: str, context: str) -> str:
    return f"blob {digest} ({context})" if context else f"blob {digest}"


def corrupted(digest: str, actual: str, context: str) -> IntegrityError:
    """The error for bytes that do not hash to the name they are stored under."""
    return IntegrityError(
        f"{_about(digest, context)} is corrupted: expected digest {digest}, got {actual}",
        field="digest",
        value=digest,
        hint=FSCK_HINT,
    )


def missing(digest: str, context: str, where: str) -> NotFound:
    """The error for a digest with no blob behind it."""
    return NotFound(
        f"{_about(digest, context)} is not in the artifact store {where}",
        field="digest",
        value=digest,
        hint="check the artifact store URI; `loopml gc` removes unreferenced blobs, "
        "`loopml fsck` lists missing ones",
    )


def read_chunks(source: ReadableStream) -> Iterator[BytesLike]:
    """Yield a stream's bytes in bounded chunks; a yielded view is reused after the next step."""
    if isinstance(source, io.BufferedReader | io.FileIO | io.BytesIO):
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        while count := source.readinto(buffer):
            yield view[:count]
        return
    while chunk := source.read(CHUNK_SIZE):
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidInput(
                f"the stream returned {type(chunk).__name__}, not bytes",
                field="fileobj",
                hint="open the file in binary mode ('rb')",
            )
        yield chunk


class VerifiedReader(io.RawIOBase):
    """Hashes every byte it hands out and raises IntegrityError at EOF if the digest differs."""

    def __init__(self, source: RawSource, digest: str, context: str) -> None:
        super().__init__()
        self._source = source
        self._digest = digest
        self._context = context
        self._hasher = StreamHasher()
        self._verified = False

    def readable(self) -> bool:
        """Reading is the only thing this stream does."""
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fill buffer from the blob, checking the digest once the end is reached."""
        view = memoryview(buffer).cast("B")
        count = self._source.readinto(view) or 0
        if count:
            self._hasher.update(view[:count])
        elif view.nbytes and not self._verified:
            actual = self._hasher.hexdigest()
            if actual != self._digest:
                raise corrupted(self._digest, actual, self._context)
            self._verified = True
        return count

    def readall(self) -> bytes:
        """Read to the end (and so verify) in large chunks rather than io's 8 KiB default."""
        data = bytearray()
        buffer = memoryview(bytearray(CHUNK_SIZE))
        while count := self.readinto(buffer):
            data += buffer[:count]
        return bytes(data)

    def close(self) -> None:
        """Close the underlying file too."""
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()
