"""Files and folders as versions: a manifest (path → digest, size) whose own digest names them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from loopml._util.hashing import hash_bytes
from loopml._util.paths import safe_member_join
from loopml.artifacts import BlobStore
from loopml.data.stat_cache import Stamp, StatCache
from loopml.errors import InvalidInput

Progress = Callable[[int, int], None]
_BATCH = 5_000


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a versioned folder."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """Every file of a version, sorted by path; canonical bytes, so equal folders hash equal."""

    entries: tuple[ManifestEntry, ...]

    def to_bytes(self) -> bytes:
        files = [[e.path, e.digest, e.size] for e in self.entries]
        return json.dumps({"format": 1, "files": files}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        files = json.loads(data)["files"]
        return cls(tuple(ManifestEntry(p, d, s) for p, d, s in files))

    @property
    def digest(self) -> str:
        return hash_bytes(self.to_bytes())

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


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


def folder_manifest(
    folder: Path, blobs: BlobStore, cache: StatCache, progress: Progress | None = None
) -> tuple[Manifest, set[str]]:
    """The manifest of a folder, storing only the files whose stamp changed since last time.

    Also returns the paths whose digest came from the cache: their blobs were stored by an
    earlier add and may need checking if this turns out to be a new version.
    """
    folder = folder.resolve()
    files = sorted(walk(folder), key=lambda item: item[0])
    if not files:
        raise InvalidInput(f"folder {folder} has no files to version", field="source")
    known = cache.under(folder)
    digests: dict[str, tuple[str, int]] = {}
    fresh: list[tuple[str, Path, Stamp]] = []
    from_cache: set[str] = set()
    for rel, path, info in files:
        entry = known.get(str(folder / rel))
        current = stamp(info)
        if entry is not None and entry[0] == current:
            digests[rel] = (entry[1], info.st_size)
            from_cache.add(rel)
        else:
            fresh.append((rel, path, current))
    done = len(digests)
    if progress is not None:
        progress(done, len(files))
    for start in range(0, len(fresh), _BATCH):
        batch = fresh[start : start + _BATCH]
        refs = blobs.put_many([path for _rel, path, _stamp in batch])
        cache.put(
            (str(folder / rel), st, ref.digest)
            for (rel, _path, st), ref in zip(batch, refs, strict=True)
        )
        for (rel, _path, _st), ref in zip(batch, refs, strict=True):
            digests[rel] = (ref.digest, ref.size)
        done += len(batch)
        if progress is not None:
            progress(done, len(files))
    entries = tuple(ManifestEntry(rel, *digests[rel]) for rel, _p, _i in files)
    return Manifest(entries), from_cache


def file_manifest(path: Path, blobs: BlobStore, cache: StatCache) -> Manifest:
    """A one-entry manifest for a single file (re-hashed only when its stamp changed)."""
    path = path.resolve()
    info = path.stat()
    digest = cache.get(path, stamp(info))
    if digest is None or not blobs.exists(digest):
        ref = blobs.put_file(path)
        digest = ref.digest
        cache.put([(str(path), stamp(info), digest)])
    return Manifest((ManifestEntry(path.name, digest, info.st_size),))
