"""SQL implementation of :class:`ArtifactIndex`: run manifests (path → blob digest)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml._util.clock import now_ms
from loopml.entities import ArtifactFile
from loopml.store.base import ArtifactIndex, ArtifactRecord
from loopml.store.engine import Database
from loopml.store.runs import resolve_run
from loopml.store.tables import artifacts, runs


class SqlArtifactIndex(ArtifactIndex):
    """Artifact manifests in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, run_id: str, files: Sequence[ArtifactRecord]) -> None:
        if not files:
            return
        created = now_ms()

        def work(conn: Connection) -> None:
            pk = resolve_run(conn, run_id, for_write=True)
            paths = [f.path for f in files]
            for start in range(0, len(paths), 500):
                conn.execute(
                    artifacts.delete().where(
                        artifacts.c.run_pk == pk, artifacts.c.path.in_(paths[start : start + 500])
                    )
                )
            conn.execute(
                artifacts.insert(),
                [
                    {
                        "run_pk": pk,
                        "path": f.path,
                        "digest": f.digest,
                        "size": f.size,
                        "created_time": created,
                    }
                    for f in files
                ],
            )

        self._db.write(work)

    def list(self, run_id: str) -> builtins.list[ArtifactFile]:
        def work(conn: Connection) -> builtins.list[ArtifactFile]:
            pk = resolve_run(conn, run_id)
            query = (
                sa.select(artifacts.c.path, artifacts.c.size, artifacts.c.digest)
                .where(artifacts.c.run_pk == pk)
                .order_by(artifacts.c.path)
            )
            return [
                ArtifactFile(path=path, is_dir=False, file_size=size, digest=digest)
                for path, size, digest in conn.execute(query)
            ]

        return self._db.read(work)

    def referenced_digests(self) -> set[str]:
        query = sa.select(artifacts.c.digest).distinct()
        return self._db.read(lambda conn: {row[0] for row in conn.execute(query)})

    def locate(self, digest: str) -> builtins.list[tuple[str, str]]:
        query = (
            sa.select(runs.c.run_id, artifacts.c.path)
            .join(runs, runs.c.pk == artifacts.c.run_pk)
            .where(artifacts.c.digest == digest)
        )
        return self._db.read(lambda conn: [(r.run_id, r.path) for r in conn.execute(query)])
