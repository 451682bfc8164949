"""``data.add``: version a table, a file or a folder, with statistics and a schema.

Nothing is recorded until every blob is stored and the pinned schema (if any) is satisfied, so bad
input or a crash leaves the dataset exactly as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.data.folder import Progress, file_manifest, folder_manifest
from loopml.data.schema import Schema, infer_schema, summarize, validate_table
from loopml.data.sources import PathSource, TableSource, classify
from loopml.data.stat_cache import StatCache
from loopml.data.tables import profile_arrow, write_parquet
from loopml.data.versions import DatasetVersion
from loopml.entities import DataKind, DataRef, DatasetVersionRecord
from loopml.entities.dataset import validate_dataset_name
from loopml.entities.validation import validate_key, validate_tag_value
from loopml.errors import InvalidInput, NotFound
from loopml.store import NewVersion
from loopml.workspace import Workspace, default_workspace


def add(
    name: str,
    source: Any,
    *,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    progress: Progress | None = None,
    workspace: Workspace | None = None,
) -> DatasetVersion:
    """Store a new version of ``name`` (or return the existing one with identical content)."""
    validate_dataset_name(name)
    clean_tags = {validate_key(k, "tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}
    ws = workspace or default_workspace()
    classified = classify(source)
    if isinstance(classified, TableSource):
        new = _table_version(ws, name, classified, clean_tags, description)
    else:
        found = _path_version(ws, name, classified, clean_tags, description, progress)
        if isinstance(found, DatasetVersionRecord):
            return DatasetVersion(found)
        new = found
    record, _created = ws.store.datasets.add_version(name, new)
    return DatasetVersion(record)


def _pinned(ws: Workspace, name: str) -> Schema | None:
    try:
        pinned = ws.store.datasets.get(name).pinned_schema
    except NotFound:
        return None
    return Schema.from_dict(pinned) if pinned is not None else None


def _table_version(
    ws: Workspace,
    name: str,
    source: TableSource,
    tags: dict[str, str],
    description: str | None,
) -> NewVersion:
    table = source.table
    pinned = _pinned(ws, name)
    if pinned is not None:
        violations = validate_table(table, pinned)
        if violations:
            raise InvalidInput(
                f"the data does not match the pinned schema of {name!r}: {summarize(violations)}",
                field="source",
                hint=f"fix the data, or change the schema with `loopml data schema {name} --edit`",
            )
    profile = profile_arrow(table)
    schema = infer_schema(table, profile)
    with tempfile.TemporaryDirectory(dir=ws.tmp_dir) as scratch:
        path = Path(scratch) / "data.parquet"
        write_parquet(table, path)
        ref = ws.blobs.put_file(path)
    return NewVersion(
        digest=ref.digest,
        kind=DataKind.TABLE,
        blob_digest=ref.digest,
        blobs=[ref.digest],
        size_bytes=ref.size,
        num_files=1,
        rows=table.num_rows,
        schema=schema.to_dict(),
        profile=profile.to_dict(),
        description=description,
        tags=tags,
    )


def _path_version(
    ws: Workspace,
    name: str,
    source: PathSource,
    tags: dict[str, str],
    description: str | None,
    progress: Progress | None,
) -> NewVersion | DatasetVersionRecord:
    cache = StatCache(ws.settings.home / "cache" / "stat-index.db")
    try:
        if source.is_folder:
            manifest = folder_manifest(source.path, ws.blobs, cache, progress)
            kind = DataKind.FOLDER
        else:
            manifest = file_manifest(source.path, ws.blobs, cache)
            kind = DataKind.FILE
    finally:
        cache.close()
    existing = _existing(ws, name, manifest.digest)
    if existing is not None:
        return existing  # unchanged content: a stat per file and nothing else
    manifest_ref = ws.blobs.put_bytes(manifest.to_bytes())
    return NewVersion(
        digest=manifest.digest,
        kind=kind,
        blob_digest=manifest_ref.digest,
        blobs=sorted(manifest.blobs),
        size_bytes=manifest.size,
        num_files=len(manifest.entries),
        description=description,
        tags=tags,
    )


def _existing(ws: Workspace, name: str, digest: str) -> DatasetVersionRecord | None:
    try:
        versions = ws.store.datasets.versions(name)
    except NotFound:
        return None
    same = next((v for v in versions if v.digest == digest), None)
    return ws.store.datasets.version(DataRef(name, version=same.version)) if same else None
