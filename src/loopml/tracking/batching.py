"""The metric queue: logging appends to memory, a background thread writes batches.

A ``log_metric`` call costs a tuple and a lock; the writer thread turns everything queued into one
transaction every ``interval`` seconds or every ``max_points`` points, and ``flush()`` waits until
every point queued before it is durable. A crash loses at most the points queued since the last
completed flush. The same thread sends run heartbeats, so a run whose process died can be told
from a run that is merely quiet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from loopml.entities import MetricRow

logger = logging.getLogger(__name__)

QueuedPoint = MetricRow
BatchSink = Callable[[Sequence[MetricRow]], int]
HeartbeatSink = Callable[[Iterable[str], int], None]


class MetricWriter:
    """Buffers metric points and writes them in batches from one daemon thread."""

    def __init__(
        self,
        sink: BatchSink,
        *,
        interval: float = 1.0,
        max_points: int = 10_000,
        heartbeat: HeartbeatSink | None = None,
        heartbeat_interval: float = 30.0,
    ) -> None:
        self._sink = sink
        self._interval = interval
        self.max_points = max_points
        self._high_water = max_points * 20
        self._heartbeat = heartbeat
        self._heartbeat_interval = heartbeat_interval
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._pending: list[QueuedPoint] = []
        self._queued = 0  # points ever queued
        self._done = 0  # points ever handed to the sink (written or failed)
        self._errors: list[BaseException] = []
        self._watched: dict[str, int] = {}
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, point: QueuedPoint) -> None:
        """Queue one point (the hot path of ``log_metric``)."""
        with self._lock:
            self._pending.append(point)
            self._queued += 1
            size = len(self._pending)
        if size >= self.max_points:
            self._kick(size)

    def add_many(self, points: Sequence[QueuedPoint]) -> None:
        """Queue several points at once."""
        if not points:
            return
        with self._lock:
            self._pending.extend(points)
            self._queued += len(points)
            size = len(self._pending)
        if size >= self.max_points:
            self._kick(size)

    def _kick(self, size: int) -> None:
        if not self._wake.is_set():  # once per crossing, not on every point until it drains
            self._ensure_thread()
            self._wake.set()
        if size >= self._high_water:
            # Back-pressure: never let memory grow without bound when logging outruns the DB.
            with self._lock:
                target = self._queued - self.max_points
                while self._done < target and not self._closed:
                    self._written.wait(0.5)

    def flush(self) -> None:
        """Block until every point queued before this call is written; raise the first failure."""
        with self._lock:
            target = self._queued
            if self._done >= target and not self._errors:
                return
        self._ensure_thread()
        self._wake.set()
        with self._lock:
            while self._done < target:
                self._written.wait(0.5)
                if self._thread is None or not self._thread.is_alive():
                    break
            errors, self._errors = self._errors, []
        if self._done < target:
            self._write_pending()
        if errors:
            raise errors[0]

    def watch(self, run_id: str) -> None:
        """Send heartbeats for this run until :meth:`unwatch`."""
        with self._lock:
            self._watched[run_id] = self._watched.get(run_id, 0) + 1
        self._ensure_thread()

    def unwatch(self, run_id: str) -> None:
        with self._lock:
            count = self._watched.get(run_id, 0) - 1
            if count > 0:
                self._watched[run_id] = count
            else:
                self._watched.pop(run_id, None)

    def close(self) -> None:
        """Write what is queued and stop the thread (at exit and on reset)."""
        try:
            self.flush()
        finally:
            self._closed = True
            self._wake.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._closed = False
                self._thread = threading.Thread(
                    target=self._run, name="loopml-metric-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._write_pending()
            now = time.monotonic()
            if self._heartbeat is not None and now - last_beat >= self._heartbeat_interval:
                last_beat = now
                self._beat()

    def _beat(self) -> None:
        with self._lock:
            watched = list(self._watched)
        if watched and self._heartbeat is not None:
            try:
                self._heartbeat(watched, time.time_ns() // 1_000_000)
            except Exception:
                logger.warning("loopml: heartbeat failed", exc_info=True)

    def _write_pending(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        errors: list[BaseException] = []
        try:
            self._sink(batch)
        except Exception:
            errors = self._write_per_run(batch)
        with self._lock:
            self._done += len(batch)
            self._errors.extend(errors)
            self._written.notify_all()

    def _write_per_run(self, batch: list[QueuedPoint]) -> list[BaseException]:
        """After a failed batch, write each run's points alone so one bad run loses only its own."""
        by_run: dict[str, list[QueuedPoint]] = {}
        for point in batch:
            by_run.setdefault(point[0], []).append(point)
        errors: list[BaseException] = []
        for run_id, points in by_run.items():
            try:
                self._sink(points)
            except Exception as exc:
                logger.warning(
                    "loopml: dropped %d metric points of run %s: %s", len(points), run_id, exc
                )
                errors.append(exc)
        return errors
