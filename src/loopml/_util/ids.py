"""Time-ordered ids (UUIDv7, RFC 9562) so listing by creation is an index scan."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """Return a 32-character lowercase hex UUIDv7, monotonic within this process."""
    global _last_ms, _counter
    with _lock:
        now = time.time_ns() // 1_000_000
        if now > _last_ms:
            _last_ms = now
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            # Same (or earlier) millisecond: keep order with the 12-bit counter, borrowing a
            # millisecond when it overflows.
            _counter += 1
            if _counter > 0xFFF:
                _last_ms += 1
                _counter = 0
        ms, counter = _last_ms, _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return f"{value:032x}"


def id_time_ms(value: str) -> int:
    """The millisecond timestamp embedded in an id from :func:`new_id`."""
    return int(value[:12], 16)


def new_id_at(ms: int) -> str:
    """A UUIDv7 for the millisecond ``ms`` (replayed or imported events keep their own time)."""
    rand = int.from_bytes(os.urandom(10), "big")
    counter, tail = (rand >> 62) & 0xFFF, rand & ((1 << 62) - 1)
    value = (int(ms) << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | tail
    return f"{value:032x}"
