"""The shared blob-store suite against S3, served by a moto server on 127.0.0.1."""

import functools
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopml._util.hashing import hash_bytes
from loopml.artifacts import BlobStore
from loopml.artifacts import _remote as remote
from loopml.errors import BackendUnavailable, IntegrityError
from loopml.testing.artifacts import BlobStoreConformance, BulkPutConformance, Corrupt, corrupt_blob

pytestmark = pytest.mark.s3

BUCKET = "loopml-artifacts"


@pytest.fixture(scope="module")
def s3_options(moto_endpoint: str, make_bucket: Callable[[str], None]) -> dict[str, Any]:
    make_bucket(BUCKET)
    return {
        "endpoint_url": moto_endpoint,
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }


@pytest.fixture
def blob_store(s3_options: dict[str, Any]) -> BlobStore:
    return BlobStore(f"s3://{BUCKET}/{uuid.uuid4().hex}", storage_options=s3_options)


@pytest.fixture
def corrupt(blob_store: BlobStore) -> Corrupt:
    return functools.partial(corrupt_blob, blob_store)


class TestS3BlobStore(BlobStoreConformance, BulkPutConformance):
    """The shared suite on s3://."""


def test_put_file_existing_blob_not_uploaded_again(
    blob_store: BlobStore, corrupt: Corrupt, tmp_path: Path
) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)
    ref = blob_store.put_file(source)
    corrupt(ref.digest)  # a re-upload would repair it, so a still-bad blob proves it was skipped
    assert blob_store.put_file(source) == ref
    assert not blob_store.verify(ref.digest)


def test_put_file_changed_during_upload_leaves_nothing(
    blob_store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"after the change")
    stale = hash_bytes(b"when it was hashed")
    monkeypatch.setattr(remote, "hash_file", lambda _path: stale)
    with pytest.raises(IntegrityError, match="changed while it was being stored"):
        blob_store.put_file(source)
    assert not blob_store.exists(stale)
    assert list(blob_store.iter_blobs()) == []


@pytest.mark.parametrize("operation", ["exists", "put_bytes", "iter_blobs"])
def test_unreachable_endpoint_raises_backend_unavailable(
    s3_options: dict[str, Any], operation: str
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    options = {**s3_options, "endpoint_url": f"http://127.0.0.1:{port}"}
    options["config_kwargs"] = {"retries": {"max_attempts": 1}, "connect_timeout": 2}
    store = BlobStore(f"s3://{BUCKET}/unreachable", storage_options=options)
    store.fs.retries = 1
    calls = {
        "exists": lambda: store.exists(hash_bytes(b"x")),
        "put_bytes": lambda: store.put_bytes(b"x"),
        "iter_blobs": lambda: list(store.iter_blobs()),
    }
    with pytest.raises(BackendUnavailable, match=r"artifact store could not .*EndpointConnection"):
        calls[operation]()
