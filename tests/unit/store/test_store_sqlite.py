"""The store conformance suite on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.store import RunQuery, Store, open_store
from loopml.testing.store import StoreConformance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield opened
    opened.close()


class TestSqliteStore(StoreConformance):
    pass


def test_search_hydrates_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from loopml.store import runs as runs_module
    from loopml.testing.store import new_run, search

    names = [f"r{i}" for i in range(7)]
    for i, name in enumerate(names):
        run_id = new_run(store, name, start_time=1_000 + i)
        store.records.log_params(run_id, {"i": str(i)})
    monkeypatch.setattr(runs_module, "_CHUNK", 3)
    found = store.runs.search(RunQuery(order_by=("attributes.start_time",)))
    assert [r.info.run_name for r in found] == names
    assert [r.data.params["i"] for r in found] == [str(i) for i in range(7)]
    assert search(store, max_results=2) == ["r6", "r5"]
