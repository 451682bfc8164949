"""The metric writer: batches, flush guarantees, failures surfaced on flush, back-pressure."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from loopml.entities import MetricPoint, MetricRow
from loopml.tracking.batching import MetricWriter


class Sink:
    def __init__(self, fail_for: str | None = None) -> None:
        self.batches: list[int] = []
        self.points: list[MetricPoint] = []
        self.fail_for = fail_for
        self.lock = threading.Lock()

    def __call__(self, batch: Sequence[MetricRow]) -> int:
        if any(row[0] == self.fail_for for row in batch):
            raise LookupError(f"run {self.fail_for} is gone")
        with self.lock:
            self.batches.append(len(batch))
            self.points.extend(MetricPoint(k, v, t, s) for _r, k, v, t, s in batch)
        return len(batch)


def test_flush_writes_everything_queued_before_it() -> None:
    sink = Sink()
    writer = MetricWriter(sink, interval=60, max_points=1_000)
    for i in range(2_500):
        writer.add(("r", "m", float(i), 1, i))
    writer.flush()
    assert [p.step for p in sink.points] == list(range(2_500))
    writer.close()


def test_full_queue_triggers_background_batches() -> None:
    sink = Sink()
    writer = MetricWriter(sink, interval=60, max_points=100)
    writer.add_many([("r", "m", 1.0, 1, i) for i in range(1_000)])
    writer.flush()
    assert sum(sink.batches) == 1_000
    writer.close()


def test_sink_failure_surfaces_on_flush() -> None:
    writer = MetricWriter(Sink(fail_for="gone"), interval=60, max_points=10)
    writer.add(("gone", "m", 1.0, 1, 0))
    with pytest.raises(LookupError, match="run gone is gone"):
        writer.flush()
    writer.flush()  # the error is reported once
    writer.close()


def test_heartbeat_reports_watched_runs() -> None:
    beats: list[list[str]] = []
    done = threading.Event()

    def beat(run_ids: object, now: int) -> None:
        beats.append(sorted(run_ids))  # type: ignore[call-overload]
        done.set()

    writer = MetricWriter(Sink(), interval=0.01, heartbeat=beat, heartbeat_interval=0.01)
    writer.watch("a")
    assert done.wait(5)
    writer.unwatch("a")
    writer.close()
    assert beats[0] == ["a"]


def test_one_bad_run_loses_only_its_own_points() -> None:
    sink = Sink(fail_for="gone")
    writer = MetricWriter(sink, interval=60, max_points=1_000)
    writer.add_many([("good", "m", 1.0, 1, i) for i in range(5)])
    writer.add(("gone", "m", 1.0, 1, 0))
    with pytest.raises(LookupError, match="run gone is gone"):
        writer.flush()
    assert [p.step for p in sink.points] == [0, 1, 2, 3, 4]
    writer.close()
