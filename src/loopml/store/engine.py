"""Engines for SQLite (WAL, immediate write transactions, busy retries) and PostgreSQL.

Concurrency is the point of this module: many processes log into one SQLite file at once, so every
write transaction takes the write lock up front (``BEGIN IMMEDIATE``) and waits for it, and a
transaction that still meets a lock is retried as a whole instead of reaching the user.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from loopml.errors import BackendUnavailable, ConfigError

T = TypeVar("T")

_WRITE_OPTION = "loopml_write"
_TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "database schema has changed",
    "deadlock detected",
    "could not serialize access",
)


def normalise_url(uri: str) -> sa.URL:
    """Turn a user's store URI into a SQLAlchemy URL (psycopg 3 for PostgreSQL)."""
    if "://" not in uri:
        uri = f"sqlite:///{Path(uri).expanduser().resolve()}"
    try:
        url = sa.make_url(uri)
    except sa.exc.ArgumentError:
        raise ConfigError(
            f"store URI {uri!r} is not a database URL",
            field="LOOPML_STORE_URI",
            value=uri,
            hint="use sqlite:///path/to/loopml.db or postgresql://user@host/db",
        ) from None
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"store URI {uri!r} names an unsupported database {url.get_backend_name()!r}",
            field="LOOPML_STORE_URI",
            value=uri,
            hint="LoopML supports sqlite:/// and postgresql:// store URIs",
        )
    return url


class Database:
    """One engine plus the transaction discipline every repository uses."""

    def __init__(self, uri: str, *, busy_timeout: float = 60.0) -> None:
        self.url = normalise_url(uri)
        self.busy_timeout = busy_timeout
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, busy_timeout)
        else:
            self.engine = _postgres_engine(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, retried whole while the database is busy."""
        return self._retry(work, write=True)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one read transaction (a consistent snapshot)."""
        return self._retry(work, write=False)

    def _retry(self, work: Callable[[Connection], T], *, write: bool) -> T:
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.005
        while True:
            try:
                with self.engine.connect() as conn:
                    if write:
                        conn.execution_options(**{_WRITE_OPTION: True})
                    with conn.begin():
                        return work(conn)
            except sa.exc.OperationalError as exc:
                if not _is_transient(exc):
                    raise BackendUnavailable(
                        f"the metadata store at {self.safe_url} failed: {_first_line(exc)}",
                        hint="check that the database is running and reachable",
                    ) from exc
                if time.monotonic() > deadline:
                    raise BackendUnavailable(
                        f"the metadata store at {self.safe_url} stayed locked for "
                        f"{self.busy_timeout:.0f} s",
                        field="LOOPML_DB_BUSY_TIMEOUT",
                        hint="another process holds a long write; raise LOOPML_DB_BUSY_TIMEOUT "
                        "or use PostgreSQL for many concurrent writers",
                    ) from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.25)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close pooled connections (after a fork, or when done)."""
        self.engine.dispose()


def _is_transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _TRANSIENT_MARKERS)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _sqlite_engine(url: sa.URL, busy_timeout: float) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN so writes can take the lock up front.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            _set_wal(cursor, busy_timeout)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(cursor: Any, busy_timeout: float) -> None:
    # Switching a brand-new file to WAL needs an exclusive lock that the busy handler does not
    # always wait for; retry it here so that many processes can open a fresh store at once.
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + random.random() * 0.02)


def _postgres_engine(url: sa.URL) -> Engine:
    try:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except ImportError:
        raise BackendUnavailable(
            "PostgreSQL support is not installed",
            field="LOOPML_STORE_URI",
            hint='pip install "loopml[postgres]"',
        ) from None
