"""Create and upgrade the schema with Alembic, safely when several processes open a store at once.

The fast path reads ``alembic_version`` and returns when it is already ``HEAD``; otherwise the
upgrade runs under a lock (a file lock beside a SQLite database, an advisory lock on PostgreSQL) and
re-checks the version inside it, so four processes opening an empty store end with one schema.

Alembic is imported only on the slow path (a declared lazy seam): it costs ~120 ms at import, and
every process that logs a metric opens a store that is almost always at ``HEAD`` already.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import Conflict
from loopml.store.engine import Database
from loopml.store.migrations import HEAD

if TYPE_CHECKING:
    from alembic.config import Config

_ADVISORY_KEY = 0x100B_1D_0001


def current_revision(db: Database) -> str | None:
    """The schema revision stored in the database, or None for an empty one."""

    def read(conn: Connection) -> str | None:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    return db.read(read)


def upgrade(db: Database) -> bool:
    """Bring the schema to ``HEAD``; return True when this call changed it."""
    if current_revision(db) == HEAD:
        return False
    with _migration_lock(db):
        revision = current_revision(db)
        if revision == HEAD:
            return False
        if revision is not None and revision not in _known_revisions():
            raise Conflict(
                f"the store's schema revision {revision!r} is newer than this LoopML knows",
                hint="upgrade LoopML (pip install -U loopml) before opening this store",
            )
        from alembic import command

        with db.engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return True


def script_head() -> str | None:
    """The newest revision among the migration scripts (a test keeps ``HEAD`` equal to it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


@contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    if db.is_sqlite:
        database = db.url.database
        if not database or database == ":memory:":
            yield
            return
        lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_ADVISORY_KEY})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_ADVISORY_KEY})")
                conn.commit()
