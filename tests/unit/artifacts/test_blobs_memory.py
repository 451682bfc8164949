"""The shared suite on fsspec's memory filesystem: the object-store code path without a server."""

import functools
import uuid
from collections.abc import Iterator

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
