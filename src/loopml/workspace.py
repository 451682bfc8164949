"""The process's open project: settings, the metadata store and the artifact store.

Opened lazily on first use (so ``import loopml`` stays light) and shared by every part of the
package that records something (tracking, data versions, the registry …), so one process holds one
pool of connections. Reset after ``fork`` so a child never reuses its parent's connections.
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


class Workspace:
    """A store and a blob store built from one :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        store = open_store(self.settings.store_uri, busy_timeout=self.settings.db_busy_timeout)
        # "The next store open" is where runs of processes that died are marked FAILED.
        store.fail_dead_runs(self.settings.heartbeat_timeout)
        return store

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.artifact_uri)

    @property
    def tmp_dir(self) -> str:
        """A scratch folder inside the home (same disk as local blobs, so renames stay cheap)."""
        folder = self.settings.home / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)

    def close(self) -> None:
        """Release pooled connections."""
        if "store" in self.__dict__:
            self.store.close()


_lock = threading.Lock()
_default: Workspace | None = None
_overrides: dict[str, Any] = {}


def default_workspace() -> Workspace:
    """The workspace for the current settings, created on first use."""
    global _default
    workspace = _default
    if workspace is None:
        with _lock:
            if _default is None:
                settings = Settings.from_env()
                if _overrides:
                    settings = replace(settings, **_overrides)
                _default = Workspace(settings)
            workspace = _default
    return workspace


def reset_default_workspace(**overrides: Any) -> None:
    """Close the default workspace; the next use re-reads settings (with ``overrides``)."""
    global _default
    with _lock:
        old, _default = _default, None
        _overrides.clear()
        _overrides.update(overrides)
    if old is not None:
        old.close()


def _forget_in_child() -> None:
    global _default
    _default = None


def _close_at_exit() -> None:
    if _default is not None:
        _default.close()


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_forget_in_child)
