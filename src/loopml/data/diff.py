"""``data.diff``: what changed between two versions — rows, schema, statistics and drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loopml.data.get import manifest_of, read_table, show
from loopml.data.versions import DatasetVersion
from loopml.entities import DataKind
from loopml.errors import IntegrityError, InvalidInput
from loopml.stats import DriftResult, compare
from loopml.workspace import Workspace, default_workspace


@dataclass(frozen=True)
class DiffResult:
    """Two versions side by side; ``.drift.columns["x"].drifted`` says whether a column moved."""

    a: str
    b: str
    rows: dict[str, Any]
    schema_changes: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    drift: DriftResult | None = None
    files: dict[str, list[str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "rows": self.rows,
            "schema_changes": self.schema_changes,
            "columns": self.columns,
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "files": self.files,
        }


def diff(
    a: str | DatasetVersion,
    b: str | DatasetVersion,
    *,
    key: str | None = None,
    workspace: Workspace | None = None,
) -> DiffResult:
    """Compare version ``a`` (the reference) with ``b``; ``key`` counts rows added and removed."""
    ws = workspace or default_workspace()
    left = a if isinstance(a, DatasetVersion) else show(a, workspace=ws)
    right = b if isinstance(b, DatasetVersion) else show(b, workspace=ws)
    if (left.kind is DataKind.TABLE) != (right.kind is DataKind.TABLE):
        raise InvalidInput(
            f"cannot diff {left.ref} ({left.kind.value}) with {right.ref} ({right.kind.value})",
            field="b",
            hint="diff two table versions, or two file/folder versions",
        )
    if left.kind is not DataKind.TABLE:
        return _diff_files(left, right, ws)
    rows: dict[str, Any] = {"a": left.rows, "b": right.rows, "key": key}
    if key is not None:
        rows.update(_row_changes(left, right, key, ws))
    if left.profile is None or right.profile is None:
        raise IntegrityError(f"table version {left.ref} or {right.ref} has lost its profile")
    shared = [c for c in left.profile.columns if c in right.profile.columns]
    columns = {
        name: {
            "a": left.profile.columns[name].summary(),
            "b": right.profile.columns[name].summary(),
        }
        for name in shared
    }
    return DiffResult(
        a=left.ref,
        b=right.ref,
        rows=rows,
        schema_changes=_schema_changes(left, right),
        columns=columns,
        drift=compare(left.profile, right.profile),
    )


def _schema_changes(left: DatasetVersion, right: DatasetVersion) -> list[dict[str, Any]]:
    old = {c.name: c for c in (left.schema.columns if left.schema else ())}
    new = {c.name: c for c in (right.schema.columns if right.schema else ())}
    changes: list[dict[str, Any]] = []
    for name in old.keys() - new.keys():
        changes.append({"column": name, "change": "removed", "a": old[name].dtype, "b": None})
    for name in new.keys() - old.keys():
        changes.append({"column": name, "change": "added", "a": None, "b": new[name].dtype})
    for name in old.keys() & new.keys():
        if old[name].dtype != new[name].dtype:
            changes.append(
                {"column": name, "change": "dtype", "a": old[name].dtype, "b": new[name].dtype}
            )
        if old[name].nullable != new[name].nullable:
            changes.append(
                {
                    "column": name,
                    "change": "nullable",
                    "a": old[name].nullable,
                    "b": new[name].nullable,
                }
            )
    return sorted(changes, key=lambda c: (c["column"], c["change"]))


def _row_changes(
    left: DatasetVersion, right: DatasetVersion, key: str, ws: Workspace
) -> dict[str, int]:
    for version in (left, right):
        if version.schema is None or version.schema.column(key) is None:
            raise InvalidInput(
                f"key column {key!r} is not in {version.ref}", field="key", value=key
            )
    # Compared as text, so a key whose type changed between versions (int -> string) still matches.
    old = pc.unique(_key_text(read_table(left, [key], workspace=ws).column(key)))
    new = pc.unique(_key_text(read_table(right, [key], workspace=ws).column(key)))
    kept = pc.sum(pc.cast(pc.is_in(new, value_set=old), pa.int64())).as_py() or 0
    return {"added": len(new) - kept, "removed": len(old) - kept, "kept": kept}


def _key_text(column: pa.ChunkedArray) -> pa.Array:
    return pc.cast(column.combine_chunks(), pa.large_string())


def _diff_files(left: DatasetVersion, right: DatasetVersion, ws: Workspace) -> DiffResult:
    old = {e.path: e.digest for e in manifest_of(left, ws).entries}
    new = {e.path: e.digest for e in manifest_of(right, ws).entries}
    files = {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "modified": sorted(p for p in old.keys() & new.keys() if old[p] != new[p]),
    }
    rows = {"a": len(old), "b": len(new), "key": None}
    return DiffResult(a=left.ref, b=right.ref, rows=rows, files=files)
