"""The process's connection to a metadata store, an artifact store and the metric queue.

Opened lazily on first use (so ``import loopml`` stays light), shared by the fluent API and
clients built without explicit URIs, and reset after ``fork`` so a child never reuses its
parent's connections or writer thread.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import replace
from functools import cached_property
from typing import Any

from loopml.artifacts import BlobStore
from loopml.config import Settings
from loopml.store import Store, open_store
from loopml.tracking.batching import MetricWriter


class Backend:
    """A store, a blob store and a metric writer built from one :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        store = open_store(self.settings.store_uri, busy_timeout=self.settings.db_busy_timeout)
        store.fail_dead_runs(self.settings.heartbeat_timeout)
        return store

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.artifact_uri)

    @cached_property
    def writer(self) -> MetricWriter:
        return MetricWriter(
            self.store.metrics.log_rows,
            interval=self.settings.flush_interval,
            max_points=self.settings.flush_max_points,
            heartbeat=self.store.runs.heartbeat,
            heartbeat_interval=self.settings.heartbeat_interval,
        )

    def close(self) -> None:
        """Write queued metrics and release connections."""
        if "writer" in self.__dict__:
            self.writer.close()
        if "store" in self.__dict__:
            self.store.close()


_lock = threading.Lock()
_default: Backend | None = None
_overrides: dict[str, Any] = {}


def default_backend() -> Backend:
    """The backend for the current settings, created on first use."""
    global _default
    backend = _default
    if backend is None:
        with _lock:
            if _default is None:
                settings = Settings.from_env()
                if _overrides:
                    settings = replace(settings, **_overrides)
                _default = Backend(settings)
            backend = _default
    return backend


def reset_default_backend(**overrides: Any) -> None:
    """Close the default backend; the next use re-reads settings (with ``overrides`` applied)."""
    global _default
    with _lock:
        old, _default = _default, None
        _overrides.clear()
        _overrides.update(overrides)
    if old is not None:
        old.close()


def _close_at_exit() -> None:
    if _default is not None:
        _default.close()


def _forget_in_child() -> None:
    global _default
    _default = None


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_forget_in_child)
