"""The blob-store conformance suite: local folder, S3 and every other backend pass the same tests.

Use it by subclassing next to two fixtures::

    @pytest.fixture
    def blob_store(tmp_path): return BlobStore(str(tmp_path / "store"))

    @pytest.fixture
    def corrupt(blob_store): return functools.partial(corrupt_blob, blob_store)

    class TestLocalBlobStore(BlobStoreConformance): ...
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loopml._util.hashing import hash_bytes
from loopml.artifacts import BlobStore
from loopml.errors import IntegrityError, InvalidInput, NotFound

Corrupt = Callable[[str], None]

CONTEXT = "run 0a1b2c artifact model/model.pkl"
BAD_DIGESTS = [
    "",
    "ab",
    "../../etc/passwd",
    "ab/../../../../etc/passwd" + "0" * 39,
    "A" * 64,
    "g" * 64,
    "0" * 63,
    "0" * 65,
    "0" * 62 + "/x",
]


def corrupt_blob(store: BlobStore, digest: str) -> None:
    """Damage a stored blob in place, keeping its size, through the store's own filesystem."""
    path = store.blob_path(digest)
    data = store.fs.cat_file(path)
    store.fs.pipe_file(path, bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00")
    store.fs.invalidate_cache(path)


def sample_bytes(size: int, seed: int = 7) -> bytes:
    """Reproducible incompressible bytes."""
    return random.Random(seed).randbytes(size)


class ChunkedStream:
    """A non-seekable stream that refuses unbounded reads, as a socket or a pipe would be."""

    def __init__(self, data: bytes, max_read: int = 64 * 1024 * 1024) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._max_read = max_read
        self.reads = 0

    def read(self, size: int = -1, /) -> bytes:
        """Hand out at most ``size`` bytes, and never read everything at once."""
        assert 0 < size <= self._max_read, f"unbounded read({size})"
        chunk = bytes(self._data[self._pos : self._pos + min(size, 1_000_003)])
        self._pos += len(chunk)
        self.reads += 1
        return chunk


def _op(store: BlobStore, name: str, digest: str, tmp_path: Path) -> object:
    if name == "open":
        with store.open(digest, context=CONTEXT) as reader:
            return reader.read()
    if name == "get_file":
        store.get_file(digest, tmp_path / "dst" / "file.bin", context=CONTEXT)
        return None
    if name in ("read_bytes", "verify"):
        return getattr(store, name)(digest, context=CONTEXT)
    return getattr(store, name)(digest)


class BlobStoreConformance:
    """Every BlobStore backend must pass these; needs ``blob_store`` and ``corrupt`` fixtures."""

    def test_put_bytes_roundtrips(self, blob_store: BlobStore) -> None:
        data = sample_bytes(100_003)
        ref = blob_store.put_bytes(data)
        assert (ref.digest, ref.size) == (hash_bytes(data), len(data))
        assert blob_store.exists(ref.digest)
        assert blob_store.read_bytes(ref.digest) == data

    def test_put_file_roundtrips(self, blob_store: BlobStore, tmp_path: Path) -> None:
        data = sample_bytes(9 * 1024 * 1024 + 7)
        source = tmp_path / "model.bin"
        source.write_bytes(data)
        ref = blob_store.put_file(source)
        assert (ref.digest, ref.size) == (hash_bytes(data), len(data))
        dst = tmp_path / "out" / "sub" / "model.bin"
        blob_store.get_file(ref.digest, dst)
        assert dst.read_bytes() == data

    def test_put_stream_reads_bounded_chunks(self, blob_store: BlobStore) -> None:
        data = sample_bytes(5 * 1024 * 1024 + 1)
        stream = ChunkedStream(data)
        ref = blob_store.put_stream(stream)
        assert ref.digest == hash_bytes(data)
        assert stream.reads > 1
        assert blob_store.read_bytes(ref.digest) == data

    def test_put_stream_text_refused(self, blob_store: BlobStore) -> None:
        with pytest.raises(InvalidInput, match="binary mode"):
            blob_store.put_stream(io.StringIO("text"))  # type: ignore[arg-type]

    def test_put_same_content_twice_stores_one_blob(
        self, blob_store: BlobStore, tmp_path: Path
    ) -> None:
        data = sample_bytes(4096)
        source = tmp_path / "a.bin"
        source.write_bytes(data)
        refs = {
            blob_store.put_bytes(data),
            blob_store.put_file(source),
            blob_store.put_stream(io.BytesIO(data)),
            blob_store.put_bytes(data),
        }
        assert len(refs) == 1
        assert [info.digest for info in blob_store.iter_blobs()] == [refs.pop().digest]

    def test_put_empty_file_roundtrips(self, blob_store: BlobStore, tmp_path: Path) -> None:
        source = tmp_path / "empty"
        source.write_bytes(b"")
        ref = blob_store.put_file(source)
        assert (ref.digest, ref.size) == (hash_bytes(b""), 0)
        assert blob_store.read_bytes(ref.digest) == b""
        assert blob_store.verify(ref.digest)
        blob_store.get_file(ref.digest, tmp_path / "copy")
        assert (tmp_path / "copy").read_bytes() == b""

    def test_put_file_missing_source_raises_not_found(
        self, blob_store: BlobStore, tmp_path: Path
    ) -> None:
        with pytest.raises(NotFound, match="does not exist"):
            blob_store.put_file(tmp_path / "nope.bin")

    def test_put_file_folder_refused(self, blob_store: BlobStore, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput, match="is a folder"):
            blob_store.put_file(tmp_path)

    def test_open_streams_in_small_reads(self, blob_store: BlobStore) -> None:
        data = sample_bytes(300_000)
        ref = blob_store.put_bytes(data)
        with blob_store.open(ref.digest) as reader:
            pieces = iter(lambda: reader.read(777), b"")
            assert b"".join(pieces) == data

    def test_open_corrupted_blob_raises_at_end(
        self, blob_store: BlobStore, corrupt: Corrupt
    ) -> None:
        ref = blob_store.put_bytes(sample_bytes(50_000))
        corrupt(ref.digest)
        with blob_store.open(ref.digest, context=CONTEXT) as reader:
            reader.read(10)
            with pytest.raises(IntegrityError, match=f"{ref.digest} \\({CONTEXT}\\) is corrupted"):
                reader.read()

    def test_read_bytes_corrupted_blob_raises_integrity_error(
        self, blob_store: BlobStore, corrupt: Corrupt
    ) -> None:
        ref = blob_store.put_bytes(b"weights")
        corrupt(ref.digest)
        with pytest.raises(
            IntegrityError, match=f"expected digest {ref.digest}, got .*loopml fsck"
        ):
            blob_store.read_bytes(ref.digest, context=CONTEXT)

    def test_get_file_corrupted_blob_leaves_no_dst(
        self, blob_store: BlobStore, corrupt: Corrupt, tmp_path: Path
    ) -> None:
        ref = blob_store.put_bytes(sample_bytes(70_000))
        corrupt(ref.digest)
        out = tmp_path / "out"
        with pytest.raises(IntegrityError, match=CONTEXT):
            blob_store.get_file(ref.digest, out / "model.pkl", context=CONTEXT)
        assert list(out.iterdir()) == []

    def test_get_file_corrupted_blob_keeps_existing_dst(
        self, blob_store: BlobStore, corrupt: Corrupt, tmp_path: Path
    ) -> None:
        dst = tmp_path / "out" / "model.pkl"
        dst.parent.mkdir()
        dst.write_bytes(b"previous")
        ref = blob_store.put_bytes(b"new weights")
        corrupt(ref.digest)
        with pytest.raises(IntegrityError, match="is corrupted"):
            blob_store.get_file(ref.digest, dst)
        assert dst.read_bytes() == b"previous"
        assert [p.name for p in dst.parent.iterdir()] == ["model.pkl"]

    def test_get_file_replaces_existing_dst(self, blob_store: BlobStore, tmp_path: Path) -> None:
        dst = tmp_path / "model.pkl"
        dst.write_bytes(b"previous, and longer")
        ref = blob_store.put_bytes(b"new")
        blob_store.get_file(ref.digest, dst)
        assert dst.read_bytes() == b"new"

    @pytest.mark.parametrize("operation", ["open", "read_bytes", "get_file", "verify"])
    def test_read_missing_blob_raises_not_found(
        self, blob_store: BlobStore, tmp_path: Path, operation: str
    ) -> None:
        digest = hash_bytes(b"never stored")
        with pytest.raises(NotFound, match=f"blob {digest} \\({CONTEXT}\\) is not in"):
            _op(blob_store, operation, digest, tmp_path)
        assert not (tmp_path / "dst" / "file.bin").exists()

    @pytest.mark.parametrize("digest", BAD_DIGESTS)
    @pytest.mark.parametrize(
        "operation",
        ["open", "read_bytes", "get_file", "exists", "delete", "verify", "blob_path"],
    )
    def test_digest_argument_invalid_refused(
        self, blob_store: BlobStore, tmp_path: Path, operation: str, digest: str
    ) -> None:
        with pytest.raises(InvalidInput, match="is not a blob digest"):
            _op(blob_store, operation, digest, tmp_path)

    def test_iter_blobs_lists_every_blob(self, blob_store: BlobStore) -> None:
        before = time.time()
        refs = {blob_store.put_bytes(sample_bytes(size, seed=size)) for size in (0, 1, 10_000)}
        infos = list(blob_store.iter_blobs())
        assert {(i.digest, i.size) for i in infos} == {(r.digest, r.size) for r in refs}
        assert all(before - 60 <= i.modified <= time.time() + 60 for i in infos)

    def test_iter_blobs_skips_foreign_files(self, blob_store: BlobStore) -> None:
        ref = blob_store.put_bytes(b"real")
        root = blob_store.root.rstrip("/")
        for stray in ("blobs/README", f"blobs/zz/{'0' * 62}", f"blobs/{ref.digest[:2]}/short"):
            path = f"{root}/{stray}"
            blob_store.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            blob_store.fs.pipe_file(path, b"stray")
        assert [info.digest for info in blob_store.iter_blobs()] == [ref.digest]

    def test_iter_blobs_empty_store_lists_nothing(self, blob_store: BlobStore) -> None:
        assert list(blob_store.iter_blobs()) == []

    def test_delete_removes_blob(self, blob_store: BlobStore) -> None:
        ref = blob_store.put_bytes(b"obsolete")
        assert blob_store.delete(ref.digest)
        assert not blob_store.exists(ref.digest)
        assert not blob_store.delete(ref.digest)
        with pytest.raises(NotFound, match=ref.digest):
            blob_store.read_bytes(ref.digest)

    def test_verify_detects_corruption(self, blob_store: BlobStore, corrupt: Corrupt) -> None:
        ref = blob_store.put_bytes(sample_bytes(1000))
        assert blob_store.verify(ref.digest)
        corrupt(ref.digest)
        assert not blob_store.verify(ref.digest)


class BulkPutConformance:
    """``put_many`` stores every file (deduplicated) exactly as ``put_file`` would."""

    def test_put_many_matches_put_file(self, blob_store: BlobStore, tmp_path: Path) -> None:
        folder = tmp_path / "many"
        folder.mkdir()
        paths = []
        for i in range(40):
            path = folder / f"f{i}.bin"
            path.write_bytes(sample_bytes(37 * i, seed=i % 7))
            paths.append(path)
        big = folder / "big.bin"  # above the in-memory threshold: streamed instead
        big.write_bytes(sample_bytes(5 * 2**20 + 3, seed=99))
        paths.append(big)
        refs = blob_store.put_many(paths)
        assert [r.digest for r in refs] == [hash_bytes(p.read_bytes()) for p in paths]
        for ref, path in zip(refs, paths, strict=True):
            assert blob_store.read_bytes(ref.digest) == path.read_bytes()
        again = blob_store.put_many(paths[:3])
        assert again == refs[:3]
