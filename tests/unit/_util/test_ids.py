"""UUIDv7 ids sort by creation time, also within one millisecond."""

from __future__ import annotations

import time
import uuid

from loopml._util.ids import id_time_ms, new_id


def test_ids_are_uuid7_hex_in_creation_order() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(hex=ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_id_time_is_now() -> None:
    assert abs(id_time_ms(new_id()) - time.time() * 1000) < 1000
