"""Files and folders as versions: a manifest (path → digest, size, where stored).

Small files are stored in pack blobs (concatenated, like git's packfiles): creating one file per
4 KiB blob is what made a 20,000-file add slow, since the filesystem serialises file creation.
Each file keeps its own digest, verified when it is read back; the version's identity is the
digest of the content listing alone (path, digest, size), so it does not depend on packing.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from loopml._util.hashing import hash_bytes
from loopml._util.paths import safe_member_join
from loopml.artifacts import BlobStore
from loopml.data.stat_cache import Stamp, StatCache, Stored
from loopml.errors import InvalidInput

Progress = Callable[[int, int], None]
PACK_FILE_MAX = 64 * 1024  # files up to this size go into packs
PACK_MAX_BYTES = 64 * 2**20  # a pack is closed once it reaches this size
_LOOSE_BATCH = 5_000
_READ_AHEAD = 256


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a versioned folder, and where its bytes are stored."""

    path: str
    digest: str
    size: int
    pack: str | None = None
    offset: int | None = None


@dataclass(frozen=True)
class Manifest:
    """Every file of a version, sorted by path."""

    entries: tuple[ManifestEntry, ...]

    def to_bytes(self) -> bytes:
        files = [
            [e.path, e.digest, e.size]
            if e.pack is None
            else [e.path, e.digest, e.size, e.pack, e.offset]
            for e in self.entries
        ]
        return json.dumps({"format": 2, "files": files}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        files = json.loads(data)["files"]
        return cls(tuple(ManifestEntry(*f) for f in files))

    @property
    def digest(self) -> str:
        """The content's identity: paths, digests and sizes only (not where they are stored)."""
        listing = [[e.path, e.digest, e.size] for e in self.entries]
        return hash_bytes(json.dumps({"files": listing}, separators=(",", ":")).encode())

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def blobs(self) -> set[str]:
        """Every blob the version needs: packs and loose files."""
        return {e.pack or e.digest for e in self.entries}


def walk(folder: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(relative path, path, stat) of every file; a symlink pointing outside is refused."""
    root = folder.resolve()
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                path = Path(entry.path)
                rel = path.relative_to(folder).as_posix()
                if entry.is_symlink():
                    target = safe_member_join(root, rel, field="source")
                    if target.is_file():
                        yield rel, target, target.stat()
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    yield rel, path, entry.stat(follow_symlinks=False)


def stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ino)


_Fresh = tuple[str, Path, Stamp]


def folder_manifest(
    folder: Path, blobs: BlobStore, cache: StatCache, progress: Progress | None = None
) -> Manifest:
    """The manifest of a folder, storing only files whose stamp changed since the last add."""
    folder = folder.resolve()
    files = sorted(walk(folder), key=lambda item: item[0])
    if not files:
        raise InvalidInput(f"folder {folder} has no files to version", field="source")
    stored, fresh = _from_cache(folder, files, blobs, cache)
    done = len(stored)
    if progress is not None:
        progress(done, len(files))
    small = [f for f in fresh if f[2][0] <= PACK_FILE_MAX]
    large = [f for f in fresh if f[2][0] > PACK_FILE_MAX]
    for batch in _store_packs(small, blobs) + _store_loose(large, blobs):
        cache.put((str(folder / rel), st, where) for rel, st, where in batch)
        stored.update({rel: (st[0], where) for rel, st, where in batch})
        done += len(batch)
        if progress is not None:
            progress(done, len(files))
    entries = []
    for rel, _path, _info in files:
        size, where = stored[rel]
        entries.append(ManifestEntry(rel, where.digest, size, where.pack, where.offset))
    return Manifest(tuple(entries))


def _from_cache(
    folder: Path,
    files: Sequence[tuple[str, Path, os.stat_result]],
    blobs: BlobStore,
    cache: StatCache,
) -> tuple[dict[str, tuple[int, Stored]], list[_Fresh]]:
    """Split files into those stored already (per the stat cache) and those to store now."""
    known = cache.under(folder)
    stored: dict[str, tuple[int, Stored]] = {}
    fresh: list[_Fresh] = []
    for rel, path, info in files:
        current = stamp(info)
        entry = known.get(str(folder / rel))
        if entry is not None and entry[0] == current:
            stored[rel] = (info.st_size, entry[1])
        else:
            fresh.append((rel, path, current))
    # A cached blob may be gone (another artifact store, gc): those files are stored again.
    units = {where.pack or where.digest for _size, where in stored.values()}
    missing = {unit for unit in units if not blobs.exists(unit)}
    if missing:
        paths = {rel: path for rel, path, _info in files}
        for rel in [r for r, (_s, w) in stored.items() if (w.pack or w.digest) in missing]:
            del stored[rel]
            fresh.append((rel, paths[rel], stamp(paths[rel].stat())))
    return stored, fresh


def _store_loose(large: list[_Fresh], blobs: BlobStore) -> list[list[tuple[str, Stamp, Stored]]]:
    batches = []
    for start in range(0, len(large), _LOOSE_BATCH):
        batch = large[start : start + _LOOSE_BATCH]
        refs = blobs.put_many([path for _rel, path, _st in batch])
        batches.append(
            [
                (rel, (ref.size, st[1], st[2]), Stored(ref.digest))
                for (rel, _p, st), ref in zip(batch, refs, strict=True)
            ]
        )
    return batches


def _store_packs(small: list[_Fresh], blobs: BlobStore) -> list[list[tuple[str, Stamp, Stored]]]:
    """Concatenate small files into pack blobs of up to ``PACK_MAX_BYTES`` (read in parallel)."""
    batches: list[list[tuple[str, Stamp, Stored]]] = []
    buffer = bytearray()
    pending: list[tuple[str, Stamp, str, int]] = []

    def close_pack() -> None:
        if not pending:
            return
        pack = blobs.put_bytes(bytes(buffer)).digest
        batches.append([(rel, st, Stored(d, pack, off)) for rel, st, d, off in pending])
        buffer.clear()
        pending.clear()

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="loopml-read") as pool:
        for (rel, _path, st), data in zip(small, _read_all(pool, small), strict=True):
            pending.append((rel, (len(data), st[1], st[2]), hash_bytes(data), len(buffer)))
            buffer += data
            if len(buffer) >= PACK_MAX_BYTES:
                close_pack()
        close_pack()
    return batches


def _read_all(pool: ThreadPoolExecutor, files: list[_Fresh]) -> Iterator[bytes]:
    """File contents in order, read ahead by a bounded window (cold reads dominate)."""
    window: deque[Future[bytes]] = deque()
    for _rel, path, _st in files:
        window.append(pool.submit(path.read_bytes))
        if len(window) >= _READ_AHEAD:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


def file_manifest(path: Path, blobs: BlobStore, cache: StatCache) -> Manifest:
    """A one-entry manifest for a single file (re-hashed only when its stamp changed)."""
    path = path.resolve()
    info = path.stat()
    where = cache.get(path, stamp(info))
    if where is None or where.pack is not None or not blobs.exists(where.digest):
        where = Stored(blobs.put_file(path).digest)
        cache.put([(str(path), stamp(info), where)])
    return Manifest((ManifestEntry(path.name, where.digest, info.st_size),))
