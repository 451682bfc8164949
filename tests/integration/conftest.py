"""Fixtures for real services: an S3 endpoint served by moto on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from loopml.tracking import fluent

S3_BUCKET = "loopml-s3-tests"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on a free loopback port, for the whole test session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def make_bucket(moto_endpoint: str) -> Callable[[str], None]:
    """Create a bucket on the moto server (idempotent per name)."""
    made: set[str] = set()

    def make(name: str) -> None:
        if name in made:
            return
        client = boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)
        client.close()
        made.add(name)

    return make


@pytest.fixture
def s3_home(
    tmp_home: Path,
    moto_endpoint: str,
    make_bucket: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A fresh project whose artifact store is a new prefix of a bucket on the moto server."""
    make_bucket(S3_BUCKET)
    # Credentials and endpoint reach s3fs the way users give them: AWS's own variables.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    uri = f"s3://{S3_BUCKET}/{uuid.uuid4().hex}"
    monkeypatch.setenv("LOOPML_ARTIFACT_URI", uri)
    fluent.reset()
    return uri
