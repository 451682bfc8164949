import contextlib
import functools
import io
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from loopml._util.hashing import hash_bytes
from loopml.artifacts import BlobStore
from loopml.errors import IntegrityError, InvalidInput
from loopml.testing.artifacts import (
    BlobStoreConformance,
    BulkPutConformance,
    Corrupt,
    corrupt_blob,
    sample_bytes,
)


@pytest.fixture
def blob_store(tmp_path: Path) -> BlobStore:
    return BlobStore(str(tmp_path / "store"))


@pytest.fixture
def corrupt(blob_store: BlobStore) -> Corrupt:
    return functools.partial(corrupt_blob, blob_store)


class TestLocalBlobStore(BlobStoreConformance, BulkPutConformance):
    """The shared suite on a folder."""


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_put_bytes_lays_out_blobs_by_digest(blob_store: BlobStore, tmp_path: Path) -> None:
    ref = blob_store.put_bytes(b"abc")
    assert _tree(tmp_path / "store") == [f"blobs/{ref.digest[:2]}/{ref.digest[2:]}"]


def test_open_file_uri_works(tmp_path: Path) -> None:
    store = BlobStore((tmp_path / "s").as_uri())
    ref = store.put_bytes(b"via file://")
    assert (
        tmp_path / "s" / "blobs" / ref.digest[:2] / ref.digest[2:]
    ).read_bytes() == b"via file://"


@pytest.fixture
def planted(blob_store: BlobStore, tmp_path: Path) -> tuple[str, Path]:
    """A symlink planted at a blob's name, pointing at a file outside the store."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    digest = hash_bytes(b"secret")
    shard = tmp_path / "store" / "blobs" / digest[:2]
    shard.mkdir(parents=True)
    os.symlink(outside, shard / digest[2:])
    return digest, outside


def _call(store: BlobStore, operation: str, digest: str, dst: Path) -> object:
    if operation == "get_file":
        store.get_file(digest, dst)
        return None
    return getattr(store, operation)(digest)


@pytest.mark.parametrize(
    "operation", ["open", "read_bytes", "get_file", "verify", "exists", "delete"]
)
def test_blob_symlink_never_followed(
    blob_store: BlobStore, planted: tuple[str, Path], tmp_path: Path, operation: str
) -> None:
    digest, outside = planted
    with pytest.raises(IntegrityError, match="is a symlink inside the artifact store"):
        _call(blob_store, operation, digest, tmp_path / "dst")
    assert outside.read_bytes() == b"secret"
    assert not (tmp_path / "dst").exists()


def test_put_bytes_over_planted_symlink_refused(
    blob_store: BlobStore, planted: tuple[str, Path]
) -> None:
    digest, outside = planted
    with pytest.raises(IntegrityError, match=digest[2:]):
        blob_store.put_bytes(b"secret")
    assert outside.is_file()
    assert not outside.is_symlink()


def test_iter_blobs_skips_symlinks(blob_store: BlobStore, planted: tuple[str, Path]) -> None:
    ref = blob_store.put_bytes(b"real")
    assert [info.digest for info in blob_store.iter_blobs()] == [ref.digest]


def test_shard_symlink_outside_never_written(blob_store: BlobStore, tmp_path: Path) -> None:
    digest = hash_bytes(b"payload")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store" / "blobs").mkdir(parents=True)
    os.symlink(outside, tmp_path / "store" / "blobs" / digest[:2])
    with pytest.raises(IntegrityError, match="is a symlink"):
        blob_store.put_bytes(b"payload")
    assert list(outside.iterdir()) == []
    assert list(blob_store.iter_blobs()) == []


def test_tmp_symlink_outside_never_written(blob_store: BlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store").mkdir()
    os.symlink(outside, tmp_path / "store" / "tmp")
    with pytest.raises(IntegrityError, match="tmp is a symlink"):
        blob_store.put_bytes(b"payload")
    assert list(outside.iterdir()) == []


class _Observer(io.RawIOBase):
    """A stream that, between its reads, looks at what the store shows under blobs/ and tmp/."""

    def __init__(self, root: Path, data: bytes) -> None:
        self.root, self.source = root, io.BytesIO(data)
        self.seen_blobs: list[str] = []
        self.seen_tmp: list[str] = []

    def read(self, size: int = -1) -> bytes:
        self.seen_blobs.extend(_tree(self.root / "blobs") if (self.root / "blobs").exists() else [])
        self.seen_tmp.extend(_tree(self.root / "tmp") if (self.root / "tmp").exists() else [])
        return self.source.read(min(size, 256 * 1024))


def test_put_stream_never_shows_partial_blob(blob_store: BlobStore, tmp_path: Path) -> None:
    observer = _Observer(tmp_path / "store", sample_bytes(3 * 1024 * 1024))
    ref = blob_store.put_stream(observer)
    assert observer.seen_blobs == []
    assert observer.seen_tmp
    assert all(
        name.startswith("tmp") is False and name.endswith(".part") for name in observer.seen_tmp
    )
    assert _tree(tmp_path / "store") == [f"blobs/{ref.digest[:2]}/{ref.digest[2:]}"]


def test_put_file_never_shows_partial_blob(blob_store: BlobStore, tmp_path: Path) -> None:
    data = sample_bytes(64 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    blobs = tmp_path / "store" / "blobs"
    done = threading.Event()
    seen: set[tuple[str, int]] = set()

    def watch() -> None:
        while not done.is_set():
            for path in blobs.rglob("*") if blobs.exists() else []:
                with contextlib.suppress(FileNotFoundError):
                    if path.is_file():
                        seen.add((path.relative_to(blobs).as_posix(), path.stat().st_size))

    watcher = threading.Thread(target=watch, name="blob-watcher")
    watcher.start()
    try:
        ref = blob_store.put_file(source)
    finally:
        done.set()
        watcher.join()
    assert seen <= {(f"{ref.digest[:2]}/{ref.digest[2:]}", len(data))}


def test_put_stream_failure_leaves_nothing(blob_store: BlobStore, tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("peer went away")
            return b"x" * 1000

    with pytest.raises(ConnectionResetError, match="peer went away"):
        blob_store.put_stream(Broken())
    assert _tree(tmp_path / "store") == []


def test_put_dedup_refreshes_age_for_gc(blob_store: BlobStore, tmp_path: Path) -> None:
    ref = blob_store.put_bytes(b"kept")
    path = Path(blob_store.blob_path(ref.digest))
    os.utime(path, (0, 0))
    blob_store.put_bytes(b"kept")
    assert path.stat().st_mtime > time.time() - 600


def test_put_heals_truncated_blob(blob_store: BlobStore) -> None:
    ref = blob_store.put_bytes(b"complete content")
    Path(blob_store.blob_path(ref.digest)).write_bytes(b"compl")
    assert not blob_store.verify(ref.digest)
    blob_store.put_bytes(b"complete content")
    assert blob_store.verify(ref.digest)


class _Passthrough:
    """A plain stream object (no readinto), so put_stream takes its generic read path."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115

    def read(self, size: int = -1, /) -> bytes:
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()


@pytest.mark.parametrize("how", ["put_file", "put_stream"])
def test_put_large_file_memory_bounded(blob_store: BlobStore, tmp_path: Path, how: str) -> None:
    size = 200 * 1024 * 1024
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        out.truncate(size)
        for offset in range(0, size, 8 * 1024 * 1024):
            out.seek(offset)
            out.write(sample_bytes(4096, seed=offset))
    stream = _Passthrough(source)
    tracemalloc.start()
    try:
        ref = blob_store.put_file(source) if how == "put_file" else blob_store.put_stream(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stream.close()
    assert ref.size == size
    assert peak < 32 * 1024 * 1024
    assert blob_store.verify(ref.digest)


def test_get_file_into_folder_refused(blob_store: BlobStore, tmp_path: Path) -> None:
    ref = blob_store.put_bytes(b"x")
    with pytest.raises(InvalidInput, match="is a folder"):
        blob_store.get_file(ref.digest, tmp_path)
