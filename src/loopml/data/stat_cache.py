"""A local index (path, size, mtime, inode) → where the file's content is stored.

DVC's trick: re-adding a folder of 20,000 unchanged files costs a ``stat`` each. The index is a
small SQLite file (the standard library's ``sqlite3``, not the metadata store: it is a per-machine
cache, safe to delete) under ``<home>/cache/``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# (size, mtime_ns, inode) identifies an unchanged file on one machine.
Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class Stored:
    """Where a file's bytes live: its own blob, or a slice of a pack blob."""

    digest: str
    pack: str | None = None
    offset: int | None = None


class StatCache:
    """Stored locations of local files, keyed by absolute path, valid while the stamp matches."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS files_v2 (path TEXT PRIMARY KEY, size INTEGER, "
            "mtime_ns INTEGER, inode INTEGER, digest TEXT, pack TEXT, pack_offset INTEGER) "
            "WITHOUT ROWID"
        )

    def under(self, folder: Path) -> dict[str, tuple[Stamp, Stored]]:
        """Every cached file below ``folder``: path → (stamp, where it is stored)."""
        prefix = str(folder.resolve()).rstrip("/") + "/"
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, inode, digest, pack, pack_offset FROM files_v2 "
            "WHERE path >= ? AND path < ?",
            (prefix, prefix[:-1] + "0"),  # '0' sorts right after '/'
        )
        return {
            path: ((size, mtime, inode), Stored(digest, pack, offset))
            for path, size, mtime, inode, digest, pack, offset in rows
        }

    def get(self, path: Path, stamp: Stamp) -> Stored | None:
        """Where one file is stored, if it has not changed since it was cached."""
        row = self._conn.execute(
            "SELECT size, mtime_ns, inode, digest, pack, pack_offset FROM files_v2 WHERE path = ?",
            (str(path),),
        ).fetchone()
        return Stored(row[3], row[4], row[5]) if row and tuple(row[:3]) == stamp else None

    def put(self, entries: Iterable[tuple[str, Stamp, Stored]]) -> None:
        """Remember ``(path, stamp, stored)`` rows."""
        rows = [(p, *stamp, s.digest, s.pack, s.offset) for p, stamp, s in entries]
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO files_v2 VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )

    def close(self) -> None:
        self._conn.close()
