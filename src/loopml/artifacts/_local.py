"""Blobs in a local folder: temp file, fsync, rename; links inside the store are refused."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from loopml._util.hashing import BytesLike, StreamHasher, hash_file, is_digest
from loopml.artifacts._streams import FSCK_HINT, RawSource, read_chunks
from loopml.artifacts.refs import BlobInfo, BlobRef
from loopml.errors import IntegrityError

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def _refuse_link(path: Path) -> IntegrityError:
    return IntegrityError(
        f"{path} is a symlink inside the artifact store; LoopML never follows links there",
        field="digest",
        value=str(path),
        hint=f"remove the link (it may point outside the store), then {FSCK_HINT}",
    )


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags | _O_BINARY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _kernel_copy(path: str | os.PathLike[str], out_fd: int) -> None:
    """Copy a file into an open descriptor inside the kernel (``copy_file_range``).

    Writing into the staging file already open avoids ``copyfile``'s reopen-and-truncate,
    which makes ext4 flush on close.
    """
    with open(path, "rb") as source:
        in_fd = source.fileno()
        remaining = os.fstat(in_fd).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(in_fd, out_fd, min(remaining, 1 << 30))
                if copied == 0:
                    break
                remaining -= copied
        except OSError:  # another filesystem or an old kernel: copy in user space
            os.lseek(out_fd, 0, os.SEEK_SET)
            os.ftruncate(out_fd, 0)
            source.seek(0)
            with open(out_fd, "wb", closefd=False) as out:
                shutil.copyfileobj(source, out, 8 * 2**20)


class LocalBlobs:
    """The local half of BlobStore; digests are validated by the caller."""

    def __init__(self, root: str) -> None:
        self.root = Path(os.path.realpath(root))

    def path(self, digest: str) -> Path:
        """Where a blob lives, refusing any link on the way so nothing outside is touched."""
        blobs = self.root / "blobs"
        shard = blobs / digest[:2]
        path = shard / digest[2:]
        for part in (blobs, shard, path):
            if part.is_symlink():
                raise _refuse_link(part)
        return path

    def put_file(self, path: str | os.PathLike[str]) -> BlobRef:
        """Copy a file in with the kernel's copy, then name it by hashing the private copy."""
        if not stat.S_ISREG(os.stat(path).st_mode):
            with open(path, "rb") as source:
                return self.put_chunks(read_chunks(source))
        with self._staging() as (tmp, fd):
            try:
                _kernel_copy(path, fd)
                # Flush the copy to disk while hashing it (both read the page cache; neither
                # waits for the other). Hash what was written, not the source, so a file edited
                # meanwhile cannot leave a blob whose bytes differ from its name.
                syncing = threading.Thread(target=os.fsync, args=(fd,), daemon=True)
                syncing.start()
                try:
                    ref = BlobRef(hash_file(tmp), tmp.stat().st_size)
                finally:
                    syncing.join()
            finally:
                os.close(fd)
            self._publish(tmp, ref)
            return ref

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store bytes already in memory."""
        return self.put_chunks((data,))

    def put_chunks(self, chunks: Iterable[BytesLike]) -> BlobRef:
        """Stream into tmp/ while hashing, fsync, then rename into place (or drop it: dedup)."""
        hasher = StreamHasher()
        with self._staging() as (tmp, fd):
            with open(fd, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            ref = BlobRef(hasher.hexdigest(), hasher.size)
            self._publish(tmp, ref)
            return ref

    @contextlib.contextmanager
    def _staging(self) -> Iterator[tuple[Path, int]]:
        """A fresh private file under tmp/ (path and open fd), removed unless renamed away."""
        tmp_dir = self.root / "tmp"
        if tmp_dir.is_symlink():
            raise _refuse_link(tmp_dir)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{secrets.token_hex(16)}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
        try:
            yield tmp, fd
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _publish(self, tmp: Path, ref: BlobRef) -> None:
        final = self.path(ref.digest)
        try:
            existing = final.stat().st_size
        except FileNotFoundError:
            existing = None
        if existing == ref.size:
            # Already stored: refresh its age so `loopml gc` spares it until the caller records it.
            with contextlib.suppress(OSError):
                os.utime(final)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        if os.name == "posix":  # make the rename itself durable
            _fsync_path(final.parent, os.O_RDONLY)

    def open_raw(self, digest: str) -> RawSource:
        """Open a blob for reading without following a link planted at its name."""
        fd = os.open(self.path(digest), os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        return open(fd, "rb", buffering=0)

    def exists(self, digest: str) -> bool:
        """True when the blob file is there."""
        return self.path(digest).is_file()

    def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was already gone."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def hash(self, digest: str) -> str:
        """Re-hash a stored blob (memory-mapped, multithreaded)."""
        return hash_file(self.path(digest))

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """List stored blobs, skipping links and anything not named like a blob."""
        blobs = self.root / "blobs"
        if blobs.is_symlink() or not blobs.is_dir():
            return
        with os.scandir(blobs) as shards:
            for shard in shards:
                if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                    yield from _iter_shard(shard)


def _iter_shard(shard: os.DirEntry[str]) -> Iterator[BlobInfo]:
    with os.scandir(shard.path) as entries:
        for entry in entries:
            digest = shard.name + entry.name
            if not is_digest(digest) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield BlobInfo(digest, info.st_size, info.st_mtime)
