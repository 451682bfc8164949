"""``loopml.serve.Client``: predictions and feedback over HTTP, with the standard library only."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.errors import BackendUnavailable, InvalidInput


class PredictionError(InvalidInput):
    """The server refused a request (4xx): its message and the field it named."""


class Client:
    """Talks to ``loopml serve``: ``Client(url).predict(df)``, ``.feedback(ids, labels)``."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        from loopml.config import Settings

        self.url = url.rstrip("/")
        # the same LOOPML_SERVE_TOKEN the server reads, unless given
        self.token = token if token is not None else Settings.from_env().serve_token
        self.timeout = timeout

    def predict(self, data: Any) -> dict[str, Any]:
        """Predictions for a DataFrame (or a list of records): the server's JSON answer."""
        if hasattr(data, "to_dict"):
            records = json.loads(data.to_json(orient="records", date_format="iso"))
        elif isinstance(data, Sequence) and all(isinstance(r, Mapping) for r in data):
            records = [dict(r) for r in data]
        else:
            raise InvalidInput(
                f"cannot send a {type(data).__name__}",
                field="data",
                hint="pass a pandas DataFrame or a list of dicts",
            )
        return self._post("/predict", {"instances": records})

    def feedback(self, prediction_ids: Sequence[str], labels: Sequence[Any]) -> int:
        """Send the true labels of earlier predictions; returns how many were accepted."""
        if len(prediction_ids) != len(labels):
            raise InvalidInput(
                f"{len(prediction_ids)} ids but {len(labels)} labels", field="labels"
            )
        plain = [_plain(label) for label in labels]
        for index, label in enumerate(plain):
            if isinstance(label, float) and not math.isfinite(label):
                raise InvalidInput(
                    f"label {index} is {label}: only finite numbers, text or true/false",
                    field="labels",
                )
        body = {
            "labels": [
                {"prediction_id": i, "label": label}
                for i, label in zip(prediction_ids, plain, strict=True)
            ]
        }
        return int(self._post("/feedback", body)["accepted"])

    def model(self) -> dict[str, Any]:
        return self._get("/model")

    def ready(self) -> bool:
        try:
            self._get("/ready")
        except (PredictionError, BackendUnavailable):
            return False
        return True

    def _get(self, path: str) -> dict[str, Any]:
        return self._send(urllib.request.Request(self.url + path, headers=self._headers()))

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={**self._headers(), "Content-Type": "application/json"},
            method="POST",
        )
        return self._send(request)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _send(self, request: urllib.request.Request) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read())
            except ValueError:
                body = {"message": exc.reason}
            raise PredictionError(
                f"{exc.code}: {body.get('message', exc.reason)}", field=body.get("field")
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise BackendUnavailable(
                f"the prediction server at {self.url} did not answer: {exc}",
                hint="is `loopml serve` running there?",
            ) from None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
