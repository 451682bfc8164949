"""schemathesis against the server's own OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from loopml.serve.app import create_app
from loopml.serve.options import ServeOptions

pytestmark = pytest.mark.slow


def test_no_generated_request_gets_a_server_error(registered: str) -> None:
    # schemathesis calls the app as http://testserver: accept that Host name
    app = create_app(
        ServeOptions(model_uri=registered, max_body_bytes=65_536, allowed_hosts=("testserver",))
    )
    server = app.state.server
    server.start()
    deadline = time.monotonic() + 30
    while not server.router.ready:
        assert time.monotonic() < deadline and server.load_error is None, server.load_error
        time.sleep(0.02)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.path for op in operations} >= {"/predict", "/feedback", "/model", "/ready"}
        for operation in operations:
            _fuzz(operation)
    finally:
        server.stop()


def _fuzz(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, (case.body, response.text)
        if response.status_code >= 400:
            body = response.json()
            assert body.get("message") or body.get("detail"), response.text

    check()
