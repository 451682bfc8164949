"""``load_model``: resolve a model URI, verify every file against the registry, then load.

Nothing is deserialised before its bytes match the digest recorded when the model was logged:
the blob store checks each file while copying it out, and the model folder is hashed again before
its flavor reads it. A loaded model is kept in memory by digest, so loading the champion again
costs one registry lookup and a ``stat`` of its files (a file changed on disk since is verified
again, and refused).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loopml.artifacts import BlobStore
from loopml.entities import ModelVersion, parse_model_uri
from loopml.errors import IntegrityError
from loopml.models import LoadedModel, files_digest, load_model_folder
from loopml.registry.versions import logged_model
from loopml.workspace import default_workspace

_CACHE_SIZE = 8


@dataclass(frozen=True)
class ResolvedModel:
    """What a URI points at now: its files and digest, and its version when registered."""

    uri: str
    label: str
    digest: str
    files: Mapping[str, str]
    version: ModelVersion | None = None
    task: str | None = None
    target: str | None = None
    data_version: str | None = None


def resolve(uri: str) -> ResolvedModel:
    """Look a model URI up in the registry (no file is read)."""
    parsed = parse_model_uri(uri)
    if parsed.scheme == "runs":
        logged = logged_model(str(parsed))
        return ResolvedModel(
            uri=logged.uri,
            label=logged.uri,
            digest=logged.digest,
            files=logged.files,
            task=logged.task,
        )
    version = default_workspace().store.models.version(parsed.name, parsed.version, parsed.alias)
    return ResolvedModel(
        uri=version.uri,
        label=f"model {version.name!r} version {version.version}",
        digest=version.digest,
        files=version.files,
        version=version,
        task=version.task,
        target=version.target,
        data_version=version.data_version,
    )


Stamps = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class _Entry:
    model: LoadedModel
    stamps: Stamps | None  # size and mtime of each local blob when it was verified


class _Cache:
    """Loaded models by (artifact store, digest), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str], threading.Lock] = {}

    def get(self, key: tuple[str, str]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def loading_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache(_CACHE_SIZE)


def load_model(uri: str) -> LoadedModel:
    """Load ``runs:/<run>/model``, ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.

    The result has ``.predict(df)`` (and ``.predict_proba(df)`` for classifiers); its input is
    checked against the model's signature.
    """
    resolved = resolve(uri)
    blobs = default_workspace().blobs
    key = (blobs.uri, resolved.digest)
    entry = _cache.get(key)
    if entry is not None and entry.stamps == _stamps(blobs, resolved.files):
        return entry.model
    with _cache.loading_lock(key):
        entry = _cache.get(key)
        stamps = _stamps(blobs, resolved.files)
        if entry is None or entry.stamps != stamps:
            # Files touched since they were verified (or never loaded): verify and load again.
            entry = _Entry(_load_verified(resolved), stamps)
            _cache.put(key, entry)
    return entry.model


def _stamps(blobs: BlobStore, files: Mapping[str, str]) -> Stamps | None:
    """Size and mtime of each local blob: a cheap way to notice a file changed under the cache."""
    stamps: Stamps = {}
    for digest in set(files.values()):
        path = blobs.local_path(digest)
        if path is None:
            return None
        try:
            info = path.stat()
        except OSError:
            return {}
        stamps[digest] = (info.st_size, info.st_mtime_ns)
    return stamps


def clear_cache() -> None:
    """Forget loaded models (tests; or to free memory)."""
    _cache.clear()


def _load_verified(resolved: ResolvedModel) -> LoadedModel:
    recorded = files_digest(resolved.files)
    if recorded != resolved.digest:
        raise IntegrityError(
            f"{resolved.label}: its file list has digest {recorded}, but {resolved.digest} was "
            "recorded; refusing to load it",
            field="model_uri",
            value=resolved.uri,
            hint="the registry record was changed outside LoopML; register the model again",
        )
    ws = default_workspace()
    folder = Path(tempfile.mkdtemp(prefix="model-", dir=ws.tmp_dir))
    try:
        ws.blobs.get_files(resolved.files, folder, context=resolved.label)
        return load_model_folder(folder, expected_files=resolved.files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
