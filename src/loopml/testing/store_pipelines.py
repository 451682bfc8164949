"""Conformance suite for the pipeline repository (step records and the step cache)."""

from __future__ import annotations

from loopml.entities import CacheEntry, StepRecord
from loopml.store import Store


def step(run: str, name: str, position: int = 0, **fields: object) -> StepRecord:
    values: dict[str, object] = {"status": "finished", "key_parts": {"source": "s"}, **fields}
    return StepRecord(run, "training", name, position, **values)  # type: ignore[arg-type]


class PipelineStoreConformance:
    """Behaviour every pipeline repository must show."""

    def test_cache_put_get_replace_delete(self, store: Store) -> None:
        outputs = {"output": {"digest": "d", "files": {"data.parquet": "a" * 64}}}
        store.pipelines.cache_put(CacheEntry("k" * 64, "train", "r" * 32, outputs))
        found = store.pipelines.cache_get("k" * 64)
        assert found is not None and (found.run_id, found.outputs) == ("r" * 32, outputs)
        assert "a" * 64 in store.referenced_digests()
        store.pipelines.cache_put(CacheEntry("k" * 64, "train", "s" * 32, {}))
        replaced = store.pipelines.cache_get("k" * 64)
        assert replaced is not None and replaced.run_id == "s" * 32
        store.pipelines.cache_delete("k" * 64)
        assert store.pipelines.cache_get("k" * 64) is None

    def test_steps_are_upserted_and_listed_in_plan_order(self, store: Store) -> None:
        store.pipelines.save_step(step("p1", "train", 1, status="pending", key_parts=None))
        store.pipelines.save_step(step("p1", "ingest", 0))
        store.pipelines.save_step(step("p1", "train", 1, cached=True, reason="cache hit"))
        steps = store.pipelines.steps("p1")
        assert [(s.step_name, s.status, s.cached) for s in steps] == [
            ("ingest", "finished", False),
            ("train", "finished", True),
        ]
        assert steps[1].reason == "cache hit" and steps[0].key_parts == {"source": "s"}

    def test_previous_step_is_the_newest_finished_one_of_another_run(self, store: Store) -> None:
        store.pipelines.save_step(step("p1", "train", reason="first"))
        store.pipelines.save_step(step("p2", "train", reason="second"))
        store.pipelines.save_step(step("p3", "train", status="failed", reason="third"))
        previous = store.pipelines.previous_step("training", "train", "p4")
        assert previous is not None and previous.reason == "second"
        own = store.pipelines.previous_step("training", "train", "p2")
        assert own is not None and own.reason == "first"
        assert store.pipelines.previous_step("other", "train", "p4") is None
