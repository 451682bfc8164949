"""Fixtures for real services: an S3 endpoint served by moto on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer


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
