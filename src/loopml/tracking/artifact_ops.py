"""Logging, listing and downloading a run's artifacts through the blob store and its manifest.

User paths are normalised and refused when they escape (``../``, absolute, encoded dots, NUL,
backslashes); folders being logged may not smuggle in files through symlinks pointing outside;
downloads verify every digest and never write outside the destination.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from loopml._util.paths import normalize_artifact_path, safe_local_join
from loopml.artifacts import BlobStore
from loopml.entities import ArtifactFile
from loopml.errors import InvalidInput, NotFound
from loopml.store import ArtifactRecord, Store

Progress = Callable[[int, int], None]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def log_file(
    store: Store, blobs: BlobStore, run_id: str, local_path: Path, artifact_path: str | None
) -> str:
    """Store one file under ``artifact_path/<file name>``; return its artifact path."""
    prefix = normalize_artifact_path(artifact_path or "", allow_root=True)
    if not local_path.is_file():
        raise InvalidInput(
            f"cannot log {local_path}: it is not a readable file",
            field="local_path",
            value=str(local_path),
        )
    path = _join(prefix, normalize_artifact_path(local_path.name, field="local_path"))
    ref = blobs.put_file(local_path)
    store.artifacts.record(run_id, [ArtifactRecord(path, ref.digest, ref.size)])
    return path


def log_folder(
    store: Store,
    blobs: BlobStore,
    run_id: str,
    local_dir: Path,
    artifact_path: str | None,
    progress: Progress | None = None,
) -> list[str]:
    """Store every file of a folder; a symlink pointing outside it is refused before any upload."""
    prefix = normalize_artifact_path(artifact_path or "", allow_root=True)
    if not local_dir.is_dir():
        raise InvalidInput(
            f"cannot log {local_dir}: it is not a folder", field="local_dir", value=str(local_dir)
        )
    root = local_dir.resolve()
    files: list[tuple[str, Path]] = []
    for folder, _dirs, names in os.walk(local_dir):
        for name in sorted(names):
            rel = Path(folder, name).relative_to(local_dir).as_posix()
            files.append((rel, safe_local_join(root, rel)))
    total = sum(path.stat().st_size for _rel, path in files)
    done = 0
    records = []
    for rel, path in files:
        ref = blobs.put_file(path)
        records.append(
            ArtifactRecord(_join(prefix, normalize_artifact_path(rel)), ref.digest, ref.size)
        )
        done += ref.size
        if progress is not None:
            progress(done, total)
    store.artifacts.record(run_id, records)
    return [r.path for r in records]


def log_bytes(store: Store, blobs: BlobStore, run_id: str, data: bytes, artifact_file: str) -> str:
    """Store in-memory content (text, a dict, a figure) as one artifact file."""
    path = normalize_artifact_path(artifact_file, field="artifact_file")
    ref = blobs.put_bytes(data)
    store.artifacts.record(run_id, [ArtifactRecord(path, ref.digest, ref.size)])
    return path


def dict_bytes(value: Any, artifact_file: str) -> bytes:
    """Serialise a dict as YAML for .yaml/.yml names, JSON otherwise."""
    if artifact_file.endswith((".yaml", ".yml")):
        return yaml.safe_dump(value, sort_keys=False).encode()
    return json.dumps(value, indent=2, default=str).encode()


def figure_bytes(figure: Any, artifact_file: str) -> bytes:
    """Render a matplotlib figure in the format its file name asks for (PNG by default)."""
    if not hasattr(figure, "savefig"):
        raise InvalidInput(
            f"log_figure needs a matplotlib Figure, got {type(figure).__name__}", field="figure"
        )
    suffix = Path(artifact_file).suffix.lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix)
    return buffer.getvalue()


def list_children(files: list[ArtifactFile], path: str | None) -> list[ArtifactFile]:
    """The direct children (files and folders) of ``path`` in a run's manifest."""
    prefix = normalize_artifact_path(path or "", allow_root=True)
    base = f"{prefix}/" if prefix else ""
    children: dict[str, ArtifactFile] = {}
    for entry in files:
        if not entry.path.startswith(base) or entry.path == prefix:
            continue
        head, sep, _rest = entry.path[len(base) :].partition("/")
        child = base + head
        if sep:
            if child not in children:
                children[child] = ArtifactFile(path=child, is_dir=True)
        else:
            children[child] = entry
    return sorted(children.values(), key=lambda f: f.path)


def download(
    store: Store,
    blobs: BlobStore,
    run_id: str,
    artifact_path: str | None,
    dst_path: str | os.PathLike[str] | None,
) -> Path:
    """Copy a file or folder of a run's artifacts to ``dst_path`` (a new temp folder by default)."""
    wanted = normalize_artifact_path(artifact_path or "", allow_root=True)
    files = store.artifacts.list(run_id)
    exact = [f for f in files if f.path == wanted]
    selected = exact or [f for f in files if not wanted or f.path.startswith(wanted + "/")]
    if not selected:
        raise NotFound(
            f"run {run_id} has no artifact {wanted!r}",
            field="artifact_path",
            value=wanted,
            hint=f"list them with `loopml runs show {run_id}`",
        )
    dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="loopml-"))
    dst.mkdir(parents=True, exist_ok=True)
    root = dst.resolve()
    for entry in selected:
        target = safe_local_join(root, entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.digest is not None:  # manifest entries always carry one; folders never do
            blobs.get_file(entry.digest, target, context=f"run {run_id} artifact {entry.path}")
    return safe_local_join(root, wanted) if wanted else root
