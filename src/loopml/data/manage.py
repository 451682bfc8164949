"""Aliases, schemas (infer, pin, edit) and validation of a dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopml.data.schema import Schema, Violation, validate_table
from loopml.data.sources import TableSource, classify
from loopml.data.versions import DatasetVersion
from loopml.entities import parse_ref
from loopml.entities.dataset import validate_alias
from loopml.errors import InvalidInput, NotFound
from loopml.workspace import Workspace, default_workspace


def set_alias(ref: str, alias: str, *, workspace: Workspace | None = None) -> DatasetVersion:
    """Point ``alias`` (``training``, ``prod``…) at the version ``ref`` names; return it."""
    ws = workspace or default_workspace()
    validate_alias(alias)
    record = ws.store.datasets.version(parse_ref(ref))
    ws.store.datasets.set_alias(record.name, alias, record.version)
    return DatasetVersion(ws.store.datasets.version(parse_ref(f"{record.name}@{alias}")))


def remove_alias(name: str, alias: str, *, workspace: Workspace | None = None) -> None:
    ws = workspace or default_workspace()
    ws.store.datasets.set_alias(parse_ref(name).name, alias, None)


def schema_of(ref: str, *, workspace: Workspace | None = None) -> Schema:
    """The pinned schema of a dataset, or the inferred schema of the version ``ref`` names."""
    ws = workspace or default_workspace()
    parsed = parse_ref(ref)
    pinned = ws.store.datasets.get(parsed.name).pinned_schema
    if pinned is not None and "@" not in ref:
        return Schema.from_dict(pinned)
    record = ws.store.datasets.version(parsed)
    if record.schema is None:
        raise NotFound(
            f"{record.ref} is a {record.kind.value} version and has no schema", field="ref"
        )
    return Schema.from_dict(record.schema)


def pin_schema(
    name: str,
    schema: Schema | Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
) -> Schema:
    """Pin a schema (by default the latest version's inferred one); new versions must satisfy it."""
    ws = workspace or default_workspace()
    dataset = parse_ref(name).name
    if schema is None:
        chosen = schema_of(f"{dataset}@latest", workspace=ws)
    elif isinstance(schema, Schema):
        chosen = schema
    else:
        chosen = Schema.from_dict(schema)
    ws.store.datasets.pin_schema(dataset, chosen.to_dict())
    return chosen


def unpin_schema(name: str, *, workspace: Workspace | None = None) -> None:
    ws = workspace or default_workspace()
    ws.store.datasets.pin_schema(parse_ref(name).name, None)


def validate(
    data: Any, schema: Schema | Mapping[str, Any] | str, *, workspace: Workspace | None = None
) -> list[Violation]:
    """Every violation of ``schema`` (a Schema, its dict, or a dataset reference) in ``data``."""
    if isinstance(schema, str):
        resolved = schema_of(schema, workspace=workspace)
    elif isinstance(schema, Schema):
        resolved = schema
    else:
        resolved = Schema.from_dict(schema)
    source = classify(data)
    if not isinstance(source, TableSource):
        raise InvalidInput("only tables can be validated against a schema", field="data")
    return validate_table(source.table, resolved)


def lineage(ref: str, *, workspace: Workspace | None = None) -> list[dict[str, Any]]:
    """Runs that used the version ``ref`` names, with their role, name and status."""
    ws = workspace or default_workspace()
    record = ws.store.datasets.version(parse_ref(ref))
    out = []
    for run_id, role in ws.store.datasets.consumers(record.version_id):
        run = ws.store.runs.get(run_id)
        out.append(
            {
                "run_id": run_id,
                "role": role,
                "run_name": run.info.run_name,
                "status": run.info.status.value,
                "experiment_id": run.info.experiment_id,
            }
        )
    return out
