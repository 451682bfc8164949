"""The per-model iteration lock, held with a heartbeat for as long as an iteration runs."""

from __future__ import annotations

import threading
from types import TracebackType

from loopml._util.clock import now_ms
from loopml._util.process import hostname
from loopml.entities import LoopLock
from loopml.errors import Conflict
from loopml.workspace import Workspace

HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0  # a holder silent for this long on another host is presumed dead


class IterationLock:
    """``with IterationLock(ws, "churn", iteration_id):`` — Conflict when a live holder has it.

    ``previous`` is the holder that was replaced (its process died), so the caller can mark
    that holder's iteration failed.
    """

    def __init__(self, workspace: Workspace, model: str, holder: str, pid: int) -> None:
        self._ws = workspace
        self.model = model
        self.holder = holder
        self.pid = pid
        self.previous: LoopLock | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> IterationLock:
        ok, other = self._ws.store.loop.acquire_lock(
            self.model,
            self.holder,
            hostname(),
            self.pid,
            stale_before=now_ms() - int(STALE_AFTER_S * 1000),
        )
        if not ok:
            assert other is not None
            raise Conflict(
                f"an iteration of {self.model!r} is already running "
                f"(iteration {other.holder[:12]}, pid {other.pid} on {other.host})",
                field="model",
                value=self.model,
                hint="wait for it to finish (loopml loop history), or stop that controller",
            )
        self.previous = other
        self._thread = threading.Thread(
            target=self._beat, name="loopml-loop-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._ws.store.loop.heartbeat(self.model, self.holder)
            except Exception:  # the store is down for a moment: the next beat tries again
                continue

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._ws.store.loop.release_lock(self.model, self.holder)
