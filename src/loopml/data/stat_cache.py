"""A local index (path, size, mtime, inode) → digest, so an unchanged file is never re-hashed.

DVC's trick: re-adding a folder of 20,000 unchanged files costs a ``stat`` each. The index is a
small SQLite file (the standard library's ``sqlite3``, not the metadata store: it is a per-machine
cache, safe to delete) under ``<home>/cache/``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

# (size, mtime_ns, inode) identifies an unchanged file on one machine.
Stamp = tuple[int, int, int]


class StatCache:
    """Digests of local files, keyed by absolute path and valid while the stamp matches."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, "
            "mtime_ns INTEGER, inode INTEGER, digest TEXT) WITHOUT ROWID"
        )

    def under(self, folder: Path) -> dict[str, tuple[Stamp, str]]:
        """Every cached file below ``folder``: path → (stamp, digest)."""
        prefix = str(folder.resolve()).rstrip("/") + "/"
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, inode, digest FROM files WHERE path >= ? AND path < ?",
            (prefix, prefix[:-1] + "0"),  # '0' sorts right after '/'
        )
        return {path: ((size, mtime, inode), digest) for path, size, mtime, inode, digest in rows}

    def get(self, path: Path, stamp: Stamp) -> str | None:
        """The digest of one file if it has not changed since it was cached."""
        row = self._conn.execute(
            "SELECT size, mtime_ns, inode, digest FROM files WHERE path = ?", (str(path),)
        ).fetchone()
        return row[3] if row and tuple(row[:3]) == stamp else None

    def put(
        self, entries: Mapping[str, tuple[Stamp, str]] | Iterable[tuple[str, Stamp, str]]
    ) -> None:
        """Remember digests (``path → (stamp, digest)`` or ``(path, stamp, digest)`` rows)."""
        rows = (
            [(p, *stamp, d) for p, (stamp, d) in entries.items()]
            if isinstance(entries, Mapping)
            else [(p, *stamp, d) for p, stamp, d in entries]
        )
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._conn.close()
