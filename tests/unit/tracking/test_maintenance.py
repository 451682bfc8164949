"""fsck and gc across run artifacts and data versions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import loopml
from loopml.tracking import maintenance
from loopml.tracking.backend import default_backend


def test_gc_keeps_data_and_artifacts_and_drops_orphans(tmp_home: Path, tmp_path: Path) -> None:
    loopml.data.add("d", pd.DataFrame({"a": [1, 2, 3]}))
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    loopml.data.add("files", folder)
    with loopml.start_run() as kept:
        loopml.log_text("keep", "k.txt")
    with loopml.start_run() as doomed:
        loopml.log_text("only here", "d.txt")
    backend = default_backend()
    orphan = backend.blobs.put_bytes(b"nobody refers to me")
    loopml.LoopMLClient().delete_run(doomed.run_id)

    report = maintenance.gc(backend, min_age_s=0)
    assert report.purged_runs == [doomed.run_id]
    assert report.deleted_blobs == 2  # the deleted run's file and the orphan
    assert not backend.blobs.exists(orphan.digest)
    assert loopml.data.get("d@1")["a"].tolist() == [1, 2, 3]
    assert (loopml.data.get("files@1", dst=tmp_path / "out") / "x.txt").read_text() == "x"
    path = loopml.download_artifacts(kept.run_id, "k.txt", tmp_path / "dl")
    assert path.read_text() == "keep"
    assert maintenance.fsck(backend).ok


def test_fsck_repair_lets_a_new_log_fix_a_corrupt_blob(tmp_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "w.bin"
    source.write_bytes(b"weights" * 100)
    with loopml.start_run() as run:
        loopml.log_artifact(source)
    backend = default_backend()
    digest = loopml.LoopMLClient().list_artifacts(run.run_id)[0].digest
    assert digest is not None
    Path(backend.blobs.blob_path(digest)).write_bytes(b"bit rot")
    report = maintenance.fsck(backend, repair=True)
    assert [p.digest for p in report.problems] == [digest]
    with loopml.start_run():
        loopml.log_artifact(source)  # stores a good copy again
    out = loopml.download_artifacts(run.run_id, "w.bin", tmp_path / "dl")
    assert out.read_bytes() == b"weights" * 100
    assert maintenance.fsck(backend).ok


def test_fsck_finds_missing_data_blob(tmp_home: Path) -> None:
    version = loopml.data.add("d", pd.DataFrame({"a": [1]}))
    backend = default_backend()
    backend.blobs.delete(version.record.blob_digest)
    report = maintenance.fsck(backend)
    assert [p.digest for p in report.missing] == [version.record.blob_digest]
    assert report.missing[0].references == [("data", "d@1")]
