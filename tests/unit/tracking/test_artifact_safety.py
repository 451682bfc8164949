"""Every artifact operation refuses escaping paths; a corrupted blob is caught on read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import loopml
from loopml.errors import IntegrityError, InvalidInput

TRAVERSALS = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "C:\\Windows\\evil",
    "a\\..\\..\\escape",
    "%2e%2e/escape.txt",
    "%2E%2E%2Fescape.txt",
    "..%2fescape.txt",
    "%252e%252e/escape",
    "bad\x00name",
]


@pytest.fixture
def run_id(tmp_home: Path, tmp_path: Path) -> str:
    (tmp_path / "ok.txt").write_text("ok")
    with loopml.start_run() as run:
        loopml.log_artifact(tmp_path / "ok.txt")
    return run.run_id


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_every_operation_refuses_traversal(run_id: str, tmp_path: Path, bad: str) -> None:
    client = loopml.LoopMLClient()
    sentinel = tmp_path.parent / "escape.txt"
    before = sorted(os.listdir(tmp_path.parent))
    source = tmp_path / "ok.txt"
    operations = [
        lambda: client.log_artifact(run_id, source, bad),
        lambda: client.log_artifacts(run_id, tmp_path, bad),
        lambda: client.log_text(run_id, "x", bad),
        lambda: client.log_dict(run_id, {"a": 1}, bad),
        lambda: client.list_artifacts(run_id, bad),
        lambda: client.download_artifacts(run_id, bad, tmp_path / "dl"),
    ]
    for operation in operations:
        with pytest.raises(InvalidInput, match=r"artifact|path"):
            operation()
    assert not sentinel.exists()
    assert sorted(os.listdir(tmp_path.parent)) == before
    assert [f.path for f in client.list_artifacts(run_id)] == ["ok.txt"]


def test_log_folder_with_symlink_outside_is_refused(run_id: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "fine.txt").write_text("fine")
    (folder / "link.txt").symlink_to(secret)
    client = loopml.LoopMLClient()
    with pytest.raises(InvalidInput, match=r"escape|outside"):
        client.log_artifacts(run_id, folder)
    assert [f.path for f in client.list_artifacts(run_id)] == ["ok.txt"]


def test_download_never_writes_through_symlink_outside(run_id: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "ok.txt").symlink_to(outside / "victim.txt")
    with pytest.raises(InvalidInput, match=r"escape|outside"):
        loopml.download_artifacts(run_id, "ok.txt", dst)
    assert not (outside / "victim.txt").exists()


def test_corrupted_blob_is_detected_on_download(
    run_id: str, tmp_home: Path, tmp_path: Path
) -> None:
    entry = loopml.LoopMLClient().list_artifacts(run_id)[0]
    assert entry.digest is not None
    blob = tmp_home / "artifacts" / "blobs" / entry.digest[:2] / entry.digest[2:]
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(
        IntegrityError, match=rf"{entry.digest[:12]}.*run {run_id} artifact ok\.txt"
    ):
        loopml.download_artifacts(run_id, "ok.txt", tmp_path / "dl")
    assert not (tmp_path / "dl" / "ok.txt").exists()
