"""A workspace plus the metric queue: what tracking needs to record runs.

The metric writer belongs to tracking alone; the store and artifact store come from the shared
:mod:`loopml.workspace`, so data versions and runs logged by one process use one connection pool.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from functools import cached_property
from typing import Any

from loopml.artifacts import BlobStore
from loopml.config import Settings
from loopml.store import Store
from loopml.tracking.batching import MetricWriter
from loopml.workspace import Workspace, default_workspace, reset_default_workspace


class Backend:
    """A workspace (store + blobs) and the metric writer that feeds its store."""

    def __init__(self, settings: Settings | None = None, *, workspace: Workspace | None = None):
        if workspace is None:
            if settings is None:
                raise ValueError("Backend needs settings or a workspace")
            workspace = Workspace(settings)
        self.workspace = workspace

    @property
    def settings(self) -> Settings:
        return self.workspace.settings

    @property
    def store(self) -> Store:
        return self.workspace.store

    @property
    def blobs(self) -> BlobStore:
        return self.workspace.blobs

    @cached_property
    def writer(self) -> MetricWriter:
        writer = MetricWriter(
            self.store.metrics.log_rows,
            interval=self.settings.flush_interval,
            max_points=self.settings.flush_max_points,
            heartbeat=self.store.runs.heartbeat,
            heartbeat_interval=self.settings.heartbeat_interval,
        )
        _live_writers.add(writer)  # flushed at interpreter exit, whichever backend owns it
        return writer

    def close(self) -> None:
        """Write queued metrics, then release connections."""
        if "writer" in self.__dict__:
            self.writer.close()
        self.workspace.close()


_lock = threading.Lock()
_default: Backend | None = None
_live_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


def default_backend() -> Backend:
    """The backend over the default workspace (rebuilt when the workspace is reset)."""
    global _default
    workspace = default_workspace()
    backend = _default
    if backend is None or backend.workspace is not workspace:
        with _lock:
            if _default is None or _default.workspace is not workspace:
                _default = Backend(workspace=workspace)
            backend = _default
    return backend


def reset_default_backend(**overrides: Any) -> None:
    """Flush and close the default backend and workspace; re-read settings on next use."""
    global _default
    with _lock:
        old, _default = _default, None
    if old is not None and "writer" in old.__dict__:
        old.writer.close()
    reset_default_workspace(**overrides)


def _close_at_exit() -> None:
    # Registered after the workspace's own handler, so it runs first: flush, then close.
    for writer in list(_live_writers):
        writer.close()


def _forget_in_child() -> None:
    global _default
    _default = None


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_forget_in_child)
