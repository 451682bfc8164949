"""The prediction server's HTTP contract: answers, refusals (never a 500), metrics, following."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

import loopml
from loopml.predictions.log import read_predictions
from loopml.registry import set_alias

from .conftest import FEATURES, training_frame

ROW = {"age": 40, "income": 55.0}


def test_predict_records_and_columns(serve: Callable[..., TestClient]) -> None:
    client = serve()
    answer = client.post("/predict", json={"instances": [ROW, {"age": 70, "income": 80.0}]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["predictions"]) == 2 and len(set(body["prediction_ids"])) == 2
    assert body["model"] == {"name": "churn", "version": 1, "role": "primary"}
    assert body["classes"] == [0, 1] and len(body["probabilities"][0]) == 2
    columns = client.post("/predict", json={"columns": FEATURES, "data": [[40, 55.0]]})
    assert columns.json()["probabilities"] == body["probabilities"][:1]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"instances": [{"age": 40}]}, 422, "income"),
        ({"instances": [{**ROW, "extra": 1}]}, 422, "extra"),
        ({"instances": [{"age": "old", "income": 1.0}]}, 422, "age"),
        ({"instances": [{"age": 40, "income": "Infinity"}]}, 422, "income"),
        ({"instances": []}, 422, "instances"),
        ({"instances": "rows"}, 422, "instances"),
        ({"columns": ["age"], "data": [[1, 2]]}, 422, "data"),
        ({"rows": []}, 422, "body"),
        ([1, 2], 422, "body"),
    ],
)
def test_bad_bodies_are_named_4xx(
    serve: Callable[..., TestClient], payload: Any, status: int, field: str
) -> None:
    answer = serve().post("/predict", json=payload)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert field in (body["field"] or "") or field in body["message"], body
    assert body["message"]


def test_transport_problems_are_4xx(serve: Callable[..., TestClient]) -> None:
    client = serve(max_body_bytes=1000)
    invalid = client.post(
        "/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (invalid.status_code, invalid.json()["field"]) == (400, "body")
    wrong_type = client.post("/predict", content=b"age=1", headers={"content-type": "text/plain"})
    assert (wrong_type.status_code, wrong_type.json()["field"]) == (415, "content-type")
    big = client.post("/predict", json={"instances": [ROW] * 100})
    assert big.status_code == 413
    nan = client.post(
        "/predict",
        content=b'{"instances": [{"age": NaN, "income": 1}]}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 400


def test_health_ready_model_metrics(serve: Callable[..., TestClient]) -> None:
    client = serve()
    assert client.get("/health").json() == {"status": "ok"}
    model = client.get("/model").json()
    assert (model["name"], model["version"], model["flavor"]) == ("churn", 1, "sklearn")
    assert [c["name"] for c in model["signature"]["inputs"]] == FEATURES
    client.post("/predict", json={"instances": [ROW]})
    client.post("/predict", json={"instances": []})
    text = client.get("/metrics").text
    assert 'loopml_requests_total{endpoint="/predict",status="200"} 1' in text
    assert 'loopml_requests_total{endpoint="/predict",status="422"} 1' in text
    assert "loopml_predict_latency_ms_bucket" in text
    assert "loopml_predictions_logged_total 1" in text
    assert client.get("/openapi.json").json()["paths"]["/predict"]["post"]["requestBody"]


def test_predictions_are_logged_and_joined_with_feedback(
    serve: Callable[..., TestClient],
) -> None:
    client = serve()
    ids = client.post("/predict", json={"instances": [ROW, ROW]}).json()["prediction_ids"]
    accepted = client.post("/feedback", json={"labels": [{"prediction_id": ids[0], "label": 1}]})
    assert accepted.json() == {"accepted": 1}
    bad = client.post("/feedback", json={"labels": [{"prediction_id": "x", "label": 1}]})
    assert (bad.status_code, bad.json()["field"]) == (422, "labels[0].prediction_id")
    client.app.state.server.logs["churn"].flush()  # type: ignore[attr-defined]
    logged = read_predictions("churn").set_index("prediction_id")
    assert logged.loc[ids[0], "label"] == 1 and logged.loc[ids[1], "label"] is None
    assert logged.loc[ids[0], "model_version"] == 1


def test_a_promotion_is_followed_and_logged_with_the_version(
    serve: Callable[..., TestClient],
) -> None:
    client = serve()
    frame = training_frame(seed=1)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=0.01).fit(frame[FEATURES], frame.label)
    loopml.log_model(model, input_example=frame[FEATURES].head(), registered_model_name="churn")
    set_alias("churn", "champion", 2)
    server = client.app.state.server  # type: ignore[attr-defined]
    server.follower.check()
    answer = client.post("/predict", json={"instances": [ROW]}).json()
    assert answer["model"]["version"] == 2
    server.logs["churn"].flush()
    logged = read_predictions("churn").set_index("prediction_id")
    assert logged.loc[answer["prediction_ids"][0], "model_version"] == 2
    assert "loopml_model_swaps_total 1" in client.get("/metrics").text


def test_canary_and_shadow(serve: Callable[..., TestClient]) -> None:
    client = serve(canary_uri="models:/churn/1", canary_percent=100.0, shadow_uri="models:/churn/1")
    answer = client.post("/predict", json={"instances": [ROW]}).json()
    assert answer["model"]["role"] == "canary"
    server = client.app.state.server  # type: ignore[attr-defined]
    server.shadow_pool.shutdown(wait=True)
    server.logs["churn"].flush()
    roles = read_predictions("churn").query(f"prediction_id == '{answer['prediction_ids'][0]}'")
    assert sorted(roles["role"]) == ["canary", "shadow"]


def test_micro_batching_answers_each_request_its_rows(serve: Callable[..., TestClient]) -> None:
    client = serve(max_batch_size=8, max_latency_ms=50)
    plain = serve()
    rows = [{"age": 20 + i, "income": 40.0 + i} for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda r: client.post("/predict", json={"instances": [r]}), rows))
    assert [a.status_code for a in answers] == [200] * 8
    expected = plain.post("/predict", json={"instances": rows}).json()["probabilities"]
    for answer, probabilities in zip(answers, expected, strict=True):
        assert answer.json()["probabilities"][0] == pytest.approx(probabilities)


def test_the_host_header_is_checked_and_a_token_is_required(
    serve: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = serve()
    rebinding = client.post("/predict", json={"instances": [ROW]}, headers={"host": "evil.com"})
    assert (rebinding.status_code, rebinding.json()["field"]) == (400, "host")
    monkeypatch.setenv("LOOPML_SERVE_TOKEN", "s3cret")
    from loopml.workspace import reset_default_workspace

    reset_default_workspace()
    guarded = serve()
    assert guarded.post("/predict", json={"instances": [ROW]}).status_code == 401
    assert guarded.get("/health").status_code == 200
    ok = guarded.post(
        "/predict", json={"instances": [ROW]}, headers={"authorization": "Bearer s3cret"}
    )
    assert ok.status_code == 200
