"""``data.get`` / ``data.show`` / ``data.list``: read versions back."""

from __future__ import annotations

import builtins
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from loopml._util.hashing import hash_bytes
from loopml._util.paths import safe_member_join
from loopml.data.folder import Manifest, ManifestEntry
from loopml.data.tables import read_parquet
from loopml.data.versions import DatasetVersion
from loopml.entities import DataKind, parse_ref
from loopml.errors import IntegrityError
from loopml.workspace import Workspace, default_workspace


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset in ``data.list``: its name, how many versions, and the latest one."""

    name: str
    description: str | None
    versions: int
    latest: DatasetVersion | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "versions": self.versions,
            "latest": self.latest.to_dict() if self.latest else None,
        }


def show(ref: str, *, workspace: Workspace | None = None) -> DatasetVersion:
    """The version ``ref`` names (``name``, ``name@3``, ``name@latest``, ``name@alias``)."""
    ws = workspace or default_workspace()
    return DatasetVersion(ws.store.datasets.version(parse_ref(ref)))


def versions(name: str, *, workspace: Workspace | None = None) -> builtins.list[DatasetVersion]:
    """Every version of a dataset, oldest first."""
    ws = workspace or default_workspace()
    return [DatasetVersion(r) for r in ws.store.datasets.versions(parse_ref(name).name)]


def list(*, workspace: Workspace | None = None) -> builtins.list[DatasetSummary]:
    """Every dataset with its latest version."""
    ws = workspace or default_workspace()
    out = []
    for dataset in ws.store.datasets.list():
        found = ws.store.datasets.versions(dataset.name)
        latest = DatasetVersion(found[-1]) if found else None
        out.append(DatasetSummary(dataset.name, dataset.description, len(found), latest))
    return out


def get(
    ref: str | DatasetVersion,
    *,
    dst: str | os.PathLike[str] | None = None,
    as_arrow: bool = False,
    workspace: Workspace | None = None,
) -> Any:
    """A table version as a pandas DataFrame (Arrow with ``as_arrow``); a file or folder as a path.

    Every byte is verified against its digest before it is handed over.
    """
    ws = workspace or default_workspace()
    version = ref if isinstance(ref, DatasetVersion) else show(ref, workspace=ws)
    if version.kind is DataKind.TABLE:
        table = read_table(version, workspace=ws)
        return table if as_arrow else table.to_pandas()
    return materialize(version, dst, workspace=ws)


def read_table(
    version: DatasetVersion, columns: builtins.list[str] | None = None, *, workspace: Workspace
) -> pa.Table:
    """Download a table version's Parquet (verified) and read it (optionally some columns)."""
    with tempfile.TemporaryDirectory(dir=workspace.tmp_dir) as scratch:
        path = Path(scratch) / "data.parquet"
        workspace.blobs.get_file(version.record.blob_digest, path, context=f"data {version.ref}")
        return read_parquet(path, columns)


def manifest_of(version: DatasetVersion, workspace: Workspace) -> Manifest:
    """The file list of a file or folder version."""
    data = workspace.blobs.read_bytes(version.record.blob_digest, context=f"data {version.ref}")
    return Manifest.from_bytes(data)


def materialize(
    version: DatasetVersion, dst: str | os.PathLike[str] | None, *, workspace: Workspace
) -> Path:
    """Copy a file or folder version to ``dst`` (a new temp folder by default); return its path.

    Every file is checked against its own digest, whether it was stored alone or in a pack.
    """
    manifest = manifest_of(version, workspace)
    root = (
        Path(dst) if dst is not None else Path(tempfile.mkdtemp(prefix=f"loopml-{version.name}-"))
    )
    root.mkdir(parents=True, exist_ok=True)
    resolved = root.resolve()
    packed: dict[str, builtins.list[ManifestEntry]] = {}
    for entry in manifest.entries:
        target = safe_member_join(resolved, entry.path, field="dst")
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.pack is None:
            context = f"data {version.ref} file {entry.path}"
            workspace.blobs.get_file(entry.digest, target, context=context)
        else:
            packed.setdefault(entry.pack, []).append(entry)
    for pack, entries in packed.items():
        data = workspace.blobs.read_bytes(pack, context=f"data {version.ref} pack")
        for entry in entries:
            _write_member(resolved, entry, data, version.ref)
    if version.kind is DataKind.FILE:
        return resolved / manifest.entries[0].path
    return resolved


def _write_member(root: Path, entry: ManifestEntry, pack: bytes, ref: str) -> None:
    start = entry.offset or 0
    content = pack[start : start + entry.size]
    if len(content) != entry.size or hash_bytes(content) != entry.digest:
        raise IntegrityError(
            f"file {entry.path} of {ref} does not match its digest {entry.digest[:16]}…",
            field="digest",
            hint="run `loopml fsck` to find damaged blobs",
        )
    target = safe_member_join(root, entry.path, field="dst")
    partial = target.with_name(f".{target.name}.loopml-part")
    partial.write_bytes(content)
    partial.replace(target)
