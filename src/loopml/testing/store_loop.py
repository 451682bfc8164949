"""Conformance suite for the loop repository (iterations, the iteration lock, state)."""

from __future__ import annotations

import pytest

from loopml._util.ids import new_id
from loopml._util.process import hostname
from loopml.entities import LoopIteration
from loopml.errors import InvalidInput, NotFound
from loopml.store import Store


def iteration(model: str = "churn", start: int = 1_000, **fields: object) -> LoopIteration:
    """A running iteration of ``model``."""
    values: dict[str, object] = {
        "iteration_id": new_id(),
        "model_name": model,
        "status": "running",
        "start_time": start,
        "host": "here",
        "pid": 1,
        "record": {"trigger": {"kind": "manual"}},
        **fields,
    }
    return LoopIteration(**values)  # type: ignore[arg-type]


class LoopStoreConformance:
    """Behaviour every loop repository must show."""

    def test_iterations_round_trip_newest_first(self, store: Store) -> None:
        first = store.loop.add_iteration(iteration(start=1_000))
        second = store.loop.add_iteration(iteration(start=2_000))
        store.loop.add_iteration(iteration("fraud", start=3_000))
        assert [i.iteration_id for i in store.loop.iterations("churn")] == [
            second.iteration_id,
            first.iteration_id,
        ]
        done = store.loop.update_iteration(
            first.iteration_id,
            status="finished",
            decision="promoted",
            model_version=2,
            record={"trigger": {"kind": "drift"}, "gates": []},
            end_time=5_000,
        )
        assert (done.status, done.decision, done.model_version) == ("finished", "promoted", 2)
        assert done.record["trigger"] == {"kind": "drift"}
        assert store.loop.iteration(first.iteration_id[:12]).iteration_id == first.iteration_id
        assert [i.iteration_id for i in store.loop.iterations(status="finished")] == [
            first.iteration_id
        ]
        with pytest.raises(NotFound, match="does not exist"):
            store.loop.iteration("f" * 32)
        with pytest.raises(InvalidInput, match="too short"):
            store.loop.iteration("abc")
        with pytest.raises(InvalidInput, match="cannot update"):
            store.loop.update_iteration(first.iteration_id, model_name="x")

    def test_one_holder_at_a_time_and_a_dead_holder_is_replaced(self, store: Store) -> None:
        me = hostname()
        assert store.loop.acquire_lock("churn", "a" * 32, me, 1, stale_before=0) == (True, None)
        ok, holder = store.loop.acquire_lock("churn", "b" * 32, "elsewhere", 2, stale_before=0)
        assert not ok and holder is not None and holder.holder == "a" * 32
        assert store.loop.heartbeat("churn", "a" * 32)
        assert not store.loop.heartbeat("churn", "b" * 32)
        # A holder on this host whose process is gone is replaced.
        dead_pid = 2**22 + 12345
        store.loop.release_lock("churn", "a" * 32)
        assert store.loop.lock("churn") is None
        store.loop.acquire_lock("churn", "c" * 32, me, dead_pid, stale_before=0)
        ok, previous = store.loop.acquire_lock("churn", "d" * 32, "x", 3, stale_before=0)
        assert ok and previous is not None and previous.holder == "c" * 32
        # A holder whose heartbeat is older than the limit is replaced too.
        holder_lock = store.loop.lock("churn")
        assert holder_lock is not None
        ok, previous = store.loop.acquire_lock(
            "churn", "e" * 32, "y", 4, stale_before=holder_lock.heartbeat_time + 1
        )
        assert ok and previous is not None and previous.holder == "d" * 32
        store.loop.release_lock("churn", "d" * 32)  # not the holder: nothing happens
        current = store.loop.lock("churn")
        assert current is not None and current.holder == "e" * 32

    def test_state_round_trip(self, store: Store) -> None:
        assert store.loop.state("churn") == {}
        store.loop.save_state("churn", {"latched": ["drift"], "last": 5})
        store.loop.save_state("churn", {"latched": [], "last": 6})
        assert store.loop.state("churn") == {"latched": [], "last": 6}
