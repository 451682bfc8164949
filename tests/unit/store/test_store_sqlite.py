"""The store conformance suite on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.store import Store, open_store
from loopml.testing.store import StoreConformance
from loopml.testing.store_datasets import DatasetStoreConformance
from loopml.testing.store_loop import LoopStoreConformance
from loopml.testing.store_models import ModelStoreConformance
from loopml.testing.store_monitors import MonitorStoreConformance
from loopml.testing.store_pipelines import PipelineStoreConformance
from loopml.testing.store_predictions import PredictionLogStoreConformance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield opened
    opened.close()


class TestSqliteStore(
    StoreConformance,
    DatasetStoreConformance,
    ModelStoreConformance,
    PipelineStoreConformance,
    PredictionLogStoreConformance,
    MonitorStoreConformance,
    LoopStoreConformance,
):
    pass


def test_load_many_runs_beyond_the_bound_parameter_limit(store: Store) -> None:
    from loopml.store.runs import load_runs
    from loopml.testing.store import new_run

    ids = [new_run(store, f"r{i}") for i in range(3)]
    real = store.db.read(
        lambda conn: [r[0] for r in conn.exec_driver_sql("SELECT pk FROM runs ORDER BY pk")]
    )
    # 40,000 keys: more than SQLite's 32,766 bound parameters if each were bound alone.
    wanted = [*range(10**9, 10**9 + 40_000), *reversed(real)]
    found = store.db.read(lambda conn: load_runs(conn, wanted))
    assert [r.info.run_id for r in found] == list(reversed(ids))


def test_migrations_build_exactly_the_schema_the_code_uses(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from loopml.store.tables import metadata

    def diff(conn: object) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    assert store.db.read(diff) == []
