"""Cases a review found: odd inputs, batches with a bad request, hosts, metrics, the log."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from loopml.errors import InvalidInput
from loopml.predictions.log import read_predictions
from loopml.serve import Client
from loopml.serve.options import ServeOptions

ROW = {"age": 40, "income": 55.0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"instances": [{"age": 40, "income": 1' + b"0" * 400 + b"}]}", "income"),
        (b'{"instances": [{"age": 1' + b"0" * 30 + b', "income": 1.0}]}', "age"),
        (b'{"instances": [{"age": 40, "income": "\\ud800"}]}', None),
        (b'{"columns": ["age", "\\udfff"], "data": [[1, 2]]}', None),
    ],
)
def test_odd_numbers_and_text_are_4xx(
    serve: Callable[..., TestClient], body: bytes, field: str | None
) -> None:
    answer = serve().post("/predict", content=body, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    if field is not None:
        assert answer.json()["field"] == field


def test_a_bad_request_does_not_fail_the_batch_it_joined(
    serve: Callable[..., TestClient],
) -> None:
    client = serve(max_batch_size=16, max_latency_ms=200)
    bodies = [{"instances": [ROW]}, {"instances": [{"age": 40, "income": None}]}] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda b: client.post("/predict", json=b), bodies))
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 422] * 3
    assert answers[1].json()["field"] == "income"


@pytest.mark.parametrize(
    ("host", "header", "allowed"),
    [
        ("::1", "[::1]:8080", True),
        ("127.0.0.2", "127.0.0.2:8080", True),
        ("127.0.0.1", "localhost:8080", True),
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "evil.com", False),
        ("127.0.0.1", "evil.com:8080", False),
        ("127.0.0.1", "", False),
    ],
)
def test_host_headers(host: str, header: str, allowed: bool) -> None:
    assert ServeOptions("models:/m/1", host=host).host_allowed(header) is allowed


def test_insecure_keeps_the_host_check_and_ports_are_checked(
    serve: Callable[..., TestClient],
) -> None:
    client = serve(insecure=True)
    answer = client.get("/model", headers={"host": "evil.com"})
    assert answer.status_code == 400
    with pytest.raises(InvalidInput, match="--port must be between 1 and 65535"):
        ServeOptions("models:/m/1", port=70000)


def test_metrics_stay_bounded_and_valid(serve: Callable[..., TestClient]) -> None:
    client = serve()
    client.get('/a"b')
    client.post("/feedback", json={"labels": [{"prediction_id": "x", "label": 1}] * 3})
    assert client.put("/predict").status_code == 405
    text = client.get("/metrics").text
    assert '"b' not in text and 'endpoint="other",status="404"' in text
    assert 'kind="feedback"' in text and "labels[" not in text


def test_the_log_holds_validated_values(serve: Callable[..., TestClient]) -> None:
    client = serve()
    answer = client.post("/predict", json={"instances": [{"age": "41", "income": "55.5"}]})
    assert answer.status_code == 200, answer.text
    client.app.state.server.logs["churn"].flush()  # type: ignore[attr-defined]
    logged = read_predictions("churn")
    assert logged["input.income"].tolist() == [55.5]
    assert logged.attrs["classes"] == [0, 1]


def test_the_client_reads_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOOPML_SERVE_TOKEN", "tok")
    assert Client("http://127.0.0.1:1").token == "tok"
    assert Client("http://127.0.0.1:1", token="other").token == "other"
    with pytest.raises(InvalidInput, match="label 0 is nan"):
        Client("http://127.0.0.1:1").feedback(["a" * 32], [float("nan")])
