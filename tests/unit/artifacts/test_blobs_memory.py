"""The shared suite on fsspec's memory filesystem: the object-store code path without a server."""

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from loopml.artifacts import BlobStore
from loopml.testing.artifacts import BlobStoreConformance, BulkPutConformance, Corrupt, corrupt_blob


@pytest.fixture
def blob_store() -> Iterator[BlobStore]:
    prefix = f"loopml-test-{uuid.uuid4().hex}"
    yield BlobStore(f"memory://{prefix}")
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{prefix}"):
        fs.rm(f"/{prefix}", recursive=True)


@pytest.fixture
def corrupt(blob_store: BlobStore) -> Corrupt:
    return functools.partial(corrupt_blob, blob_store)


class TestMemoryBlobStore(BlobStoreConformance, BulkPutConformance):
    """The shared suite on memory://."""


def test_reused_old_blob_is_uploaded_again(
    blob_store: BlobStore, corrupt: Corrupt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopml.artifacts import _remote

    source = tmp_path / "a.bin"
    source.write_bytes(b"y" * 1000)
    ref = blob_store.put_file(source)
    corrupt(ref.digest)
    # Older than the reuse window: the object store cannot touch its age, so it is re-PUT —
    # which renews it for gc (and, here, visibly repairs the corrupted copy).
    monkeypatch.setattr(_remote, "REUSE_MAX_AGE_S", -1.0)
    assert blob_store.put_file(source) == ref
    assert blob_store.verify(ref.digest)
