"""Keeping the artifact store honest: ``fsck`` re-hashes blobs, ``gc`` removes unreferenced ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loopml.tracking.backend import Backend

Progress = Callable[[int, int], None]
GC_MIN_AGE_S = 3600.0


@dataclass(frozen=True)
class FsckProblem:
    """A blob whose bytes no longer match its name, and who refers to it."""

    digest: str
    references: list[tuple[str, str]]


@dataclass(frozen=True)
class FsckReport:
    checked: int
    problems: list[FsckProblem] = field(default_factory=list)
    missing: list[FsckProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing


@dataclass(frozen=True)
class GcReport:
    purged_runs: list[str]
    deleted_blobs: int
    freed_bytes: int
    kept_recent: int
    dry_run: bool


def fsck(backend: Backend, progress: Progress | None = None, repair: bool = False) -> FsckReport:
    """Re-hash every blob, and look for referenced blobs that are gone.

    With ``repair``, damaged blobs are moved to ``quarantine/``: logging or adding the same
    content again then stores a good copy (deduplication would otherwise keep the bad one).
    """
    blobs = backend.blobs
    infos = list(blobs.iter_blobs())
    problems = []
    for number, info in enumerate(infos, 1):
        if not blobs.verify(info.digest):
            problems.append(FsckProblem(info.digest, backend.store.locate(info.digest)))
            if repair:
                blobs.quarantine(info.digest)
        if progress is not None:
            progress(number, len(infos))
    present = {info.digest for info in infos}
    missing = [
        FsckProblem(digest, backend.store.locate(digest))
        for digest in sorted(backend.store.referenced_digests() - present)
    ]
    return FsckReport(checked=len(infos), problems=problems, missing=missing)


def gc(
    backend: Backend,
    *,
    dry_run: bool = False,
    min_age_s: float = GC_MIN_AGE_S,
    purge_runs_older_than_ms: int | None = None,
) -> GcReport:
    """Purge soft-deleted runs, then delete blobs nothing references and that are not recent.

    A blob written in the last ``min_age_s`` seconds is kept even when unreferenced: its run may
    be between uploading it and recording it in the manifest.
    """
    store = backend.store
    purged = [] if dry_run else store.runs.purge_deleted(purge_runs_older_than_ms)
    referenced = store.referenced_digests()
    cutoff = time.time() - min_age_s
    recent = 0
    candidates = []
    for info in backend.blobs.iter_blobs():
        if info.digest in referenced:
            continue
        if info.modified > cutoff:
            recent += 1
        else:
            candidates.append(info)
    if not dry_run and candidates:
        # Re-read the references: a run may have re-used one of these blobs meanwhile.
        referenced = store.referenced_digests()
        candidates = [info for info in candidates if info.digest not in referenced]
        for info in candidates:
            backend.blobs.delete(info.digest)
    freed = sum(info.size for info in candidates)
    return GcReport(purged, len(candidates), freed, recent, dry_run)
