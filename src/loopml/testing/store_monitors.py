"""Conformance suite for the monitor repository (monitors, windows, compare-and-set commits)."""

from __future__ import annotations

import pytest

from loopml.entities import FeedbackLabel, MonitorRecord, MonitorWindow
from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store import NewEvent, Store


def monitor(name: str = "churn-drift", model: str = "churn", **fields: object) -> MonitorRecord:
    """A fresh monitor record of ``model`` with a small config."""
    values: dict[str, object] = {
        "name": name,
        "model_name": model,
        "alias": "champion",
        "config": {"window": {"kind": "time", "size": 3_600_000}},
        "reference": None,
        "watermark": None,
        "feedback_watermark": 0,
        "revision": 0,
        "state": {},
        "creation_time": 0,
        "update_time": 0,
        **fields,
    }
    return MonitorRecord(**values)  # type: ignore[arg-type]


def window(
    key: str, start: int, monitor_name: str = "churn-drift", **fields: object
) -> MonitorWindow:
    """A window of one hour starting at ``start``."""
    values: dict[str, object] = {
        "monitor_name": monitor_name,
        "window_key": key,
        "start_time": start,
        "end_time": start + 3_599_999,
        "rows": 10,
        "complete": False,
        "state": {"pieces": []},
        "result": {"status": "ok"},
        **fields,
    }
    return MonitorWindow(**values)  # type: ignore[arg-type]


class MonitorStoreConformance:
    """Behaviour every monitor repository must show."""

    def test_create_get_list_delete(self, store: Store) -> None:
        created = store.monitors.create(monitor(reference={"profile": {"x": 1}}))
        store.monitors.create(monitor("other", model="fraud"))
        assert created.revision == 0 and created.watermark is None
        assert created.config == {"window": {"kind": "time", "size": 3_600_000}}
        assert store.monitors.get("churn-drift").reference == {"profile": {"x": 1}}
        assert [m.name for m in store.monitors.list()] == ["churn-drift", "other"]
        assert [m.name for m in store.monitors.list("fraud")] == ["other"]
        with pytest.raises(AlreadyExists, match="already exists"):
            store.monitors.create(monitor())
        store.monitors.commit("churn-drift", 0, windows=[window("t:0", 0)])
        store.monitors.delete("churn-drift")
        with pytest.raises(NotFound, match="does not exist"):
            store.monitors.get("churn-drift")
        with pytest.raises(NotFound, match="does not exist"):
            store.monitors.delete("churn-drift")
        store.monitors.create(monitor())  # the name is free again, with no old windows
        assert store.monitors.windows("churn-drift") == []

    def test_commit_upserts_windows_and_moves_watermarks(self, store: Store) -> None:
        store.monitors.create(monitor())
        first = store.monitors.commit(
            "churn-drift",
            0,
            windows=[window("t:7200000", 7_200_000), window("t:0", 0, rows=5)],
            watermark="a" * 32,
            feedback_watermark=123,
            reference={"version": 1},
            state={"open": "r:1"},
        )
        assert first.state == {"open": "r:1"}
        assert (first.revision, first.watermark, first.feedback_watermark) == (1, "a" * 32, 123)
        assert first.reference == {"version": 1}
        second = store.monitors.commit(
            "churn-drift", 1, windows=[window("t:0", 0, rows=25, complete=True)]
        )
        assert second.watermark == "a" * 32 and second.feedback_watermark == 123
        found = store.monitors.windows("churn-drift")
        assert [(w.window_key, w.rows, w.complete) for w in found] == [
            ("t:0", 25, True),
            ("t:7200000", 10, False),
        ]
        assert found[0].creation_time <= found[0].update_time
        assert [w.window_key for w in store.monitors.windows("churn-drift", since=5_000_000)] == [
            "t:7200000"
        ]
        assert [w.window_key for w in store.monitors.windows("churn-drift", until=10)] == ["t:0"]
        picked = store.monitors.windows("churn-drift", keys=["t:7200000", "missing"])
        assert [w.window_key for w in picked] == ["t:7200000"]

    def test_a_stale_revision_commits_nothing(self, store: Store) -> None:
        store.monitors.create(monitor())
        store.monitors.commit("churn-drift", 0, watermark="a" * 32)
        with pytest.raises(Conflict, match="revision 1"):
            store.monitors.commit(
                "churn-drift",
                0,
                windows=[window("t:0", 0)],
                watermark="b" * 32,
                events=[NewEvent("monitor.alert", "monitor:churn-drift", None, None, {})],
            )
        assert store.monitors.get("churn-drift").watermark == "a" * 32
        assert store.monitors.windows("churn-drift") == []
        assert store.events.list(kind="monitor.alert") == []

    def test_events_land_with_the_commit(self, store: Store) -> None:
        store.monitors.create(monitor())
        alert = NewEvent("monitor.alert", "monitor:churn-drift", "loopml", "drift", {"share": 0.6})
        store.monitors.commit("churn-drift", 0, events=[alert])
        found = store.events.list(kind="monitor.alert")
        assert [(e.subject, e.data) for e in found] == [("monitor:churn-drift", {"share": 0.6})]

    def test_windows_of_another_monitor_are_refused(self, store: Store) -> None:
        store.monitors.create(monitor())
        with pytest.raises(InvalidInput, match="belongs to monitor"):
            store.monitors.commit("churn-drift", 0, windows=[window("t:0", 0, "other")])
        with pytest.raises(NotFound, match="does not exist"):
            store.monitors.commit("nobody", 0)
        with pytest.raises(NotFound, match="does not exist"):
            store.monitors.windows("nobody")

    def test_feedback_since_returns_labels_by_arrival(self, store: Store) -> None:
        ids = ["0" * 31 + str(i) for i in range(3)]
        store.predictions.add_feedback(
            [FeedbackLabel(ids[0], 1, 100), FeedbackLabel(ids[1], "no", 200)]
        )
        store.predictions.add_feedback([FeedbackLabel(ids[2], 0.5, 300)])
        assert [(f.prediction_id, f.label) for f in store.predictions.feedback_since(100)] == [
            (ids[1], "no"),
            (ids[2], 0.5),
        ]
        assert len(store.predictions.feedback_since(0, limit=2)) == 2
        assert store.predictions.feedback_since(300) == []

    def test_feedback_between_finds_labels_by_prediction_time(self, store: Store) -> None:
        from loopml._util.ids import new_id

        ids = [new_id() for _ in range(3)]
        times = [int(i[:12], 16) for i in ids]
        store.predictions.add_feedback([FeedbackLabel(i, n, 1) for n, i in enumerate(ids)])
        found = store.predictions.feedback_between(times[0], times[-1])
        assert sorted(found) == sorted(ids)
        assert found[ids[1]].label == 1
        assert store.predictions.feedback_between(times[-1] + 1, times[-1] + 10) == {}
