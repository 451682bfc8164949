"""The models being served, and following their aliases as the registry moves them.

A slot follows one URI (``models:/churn@champion``). Swapping is one reference assignment: a
request takes the slot's current model once and uses it to the end, so requests in flight finish
on the old version while new ones get the new — none fails during a swap.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loopml.errors import LoopMLError
from loopml.models import LoadedModel
from loopml.registry.load import load_model, resolve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """One loaded model version and where it came from."""

    uri: str
    name: str
    version: int | None
    digest: str
    model: LoadedModel
    run_id: str | None
    data_version: str | None

    def describe(self) -> dict[str, Any]:
        signature = self.model.signature
        return {
            "uri": self.uri,
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "flavor": self.model.flavor,
            "task": self.model.task,
            "classes": self.model.classes,
            "signature": signature.to_dict() if signature is not None else None,
            "run_id": self.run_id,
            "data_version": self.data_version,
        }


def load_served(uri: str) -> Served:
    """Resolve ``uri`` in the registry and load the model (digests verified)."""
    resolved = resolve(uri)
    version = resolved.version
    return Served(
        uri=uri,
        name=version.name if version else resolved.uri,
        version=version.version if version else None,
        digest=resolved.digest,
        # the version just resolved, not the alias again: it may have moved in between
        model=load_model(resolved.uri),
        run_id=version.run_id if version else None,
        data_version=resolved.data_version,
    )


class Slot:
    """A URI and the model version it resolves to now."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._current: Served | None = None

    @property
    def current(self) -> Served | None:
        return self._current

    def load(self) -> Served:
        self._current = load_served(self.uri)
        return self._current

    def refresh(self) -> bool:
        """Swap in the version the URI resolves to now; True when it changed."""
        digest = resolve(self.uri).digest
        current = self._current
        if current is not None and current.digest == digest:
            return False
        fresh = load_served(self.uri)
        self._current = fresh  # one assignment: the swap is atomic for readers
        return True


class Router:
    """The primary slot, an optional canary (a share of traffic) and shadow (sees every row)."""

    def __init__(
        self, primary: str, canary: str | None, canary_percent: float, shadow: str | None
    ) -> None:
        self.primary = Slot(primary)
        self.canary = Slot(canary) if canary else None
        self.canary_share = canary_percent / 100.0
        self.shadow = Slot(shadow) if shadow else None
        self._random = random.Random()

    @property
    def slots(self) -> list[Slot]:
        return [s for s in (self.primary, self.canary, self.shadow) if s is not None]

    def load_all(self) -> None:
        for slot in self.slots:
            slot.load()

    @property
    def ready(self) -> bool:
        return all(slot.current is not None for slot in self.slots)

    def pick(self) -> tuple[Served, str]:
        """The model for one request and its role (``primary`` or ``canary``)."""
        canary = self.canary
        if (
            canary is not None
            and canary.current is not None
            and self._random.random() < self.canary_share
        ):
            return canary.current, "canary"
        current = self.primary.current
        if current is None:
            raise LoopMLError("no model loaded yet", field="model")
        return current, "primary"


class Follower:
    """Polls the registry and swaps each slot when its alias moves."""

    def __init__(
        self, router: Router, interval_s: float, on_swap: Callable[[Slot], None] | None = None
    ) -> None:
        self._router = router
        self._interval = interval_s
        self._on_swap = on_swap
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopml-follow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def check(self) -> None:
        """Refresh every slot once (a failed refresh keeps the model being served)."""
        for slot in self._router.slots:
            try:
                if slot.refresh() and self._on_swap is not None:
                    self._on_swap(slot)
            except Exception as exc:  # the registry is down or the new version is bad
                logger.warning("loopml serve: could not refresh %s: %s", slot.uri, exc)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()
