"""Profiling Arrow tables: threads change nothing but the time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from loopml.data import tables


def _table(rows: int) -> pa.Table:
    rng = np.random.default_rng(11)
    floats = rng.normal(size=rows)
    floats[rng.random(rows) < 0.05] = np.nan
    floats[:3] = [np.inf, -np.inf, 0.0]
    return pa.table(
        {
            "floats": floats,
            "ints": rng.integers(0, 1_000, rows),
            "text": rng.choice(["a", "b", "c"], rows),
            "flags": rng.random(rows) < 0.3,
            "when": pa.array(rng.integers(0, 10**9, rows), pa.timestamp("s")),
            "chunked": pa.chunked_array([rng.normal(size=rows // 2), rng.normal(size=rows // 2)]),
        }
    )


def test_threaded_profile_equals_the_serial_one(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(tables.PARALLEL_MIN_ROWS + 2)
    monkeypatch.setattr(tables, "_threads", lambda: 4)
    threaded = tables.profile_arrow(table)
    monkeypatch.setattr(tables, "_threads", lambda: 1)
    serial = tables.profile_arrow(table)
    assert list(threaded.columns) == table.column_names
    assert threaded.to_dict() == serial.to_dict()
    floats = threaded.columns["floats"]
    assert (floats.kind, floats.count, floats.infinities) == ("numeric", table.num_rows, 2)
    assert threaded.columns["text"].kind == "categorical"
