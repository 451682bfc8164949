"""Alert rules, and the webhook that carries fired alerts to the configured receiver only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

import loopml.monitor as monitor
from loopml.errors import InvalidInput
from loopml.monitor.alerts import check_rules, parse_rule, post_webhook

from .conftest import T0, Project, make_frame


def test_rules_parse_and_fire_only_on_present_signals() -> None:
    rules = [parse_rule(t) for t in ("drift_share > 0.3", "f1 drop > 0.05", "estimated_f1 < 0.8")]
    assert [r.signal for r in rules] == ["drift_share", "f1_drop", "estimated_f1"]
    fired = check_rules(rules, {"drift_share": 0.5, "estimated_f1": 0.9})
    assert [(a.rule, a.value) for a in fired] == [("drift_share > 0.3", 0.5)]
    assert check_rules(rules, {}) == []  # missing evidence never fires
    with pytest.raises(InvalidInput, match="is not '<signal> <op> <number>'"):
        parse_rule("drift_share is high")


class _Receiver(BaseHTTPRequestHandler):
    received: list[Any] = []  # noqa: RUF012 - shared with the test on purpose
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        if type(self).status in (301, 302, 307):
            self.send_header("Location", "http://example.invalid/elsewhere")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_fired_alerts_are_posted_once(project: Project, receiver: tuple[str, Any]) -> None:
    url, handler = receiver
    monitor.create("m", "churn", window="1h", webhook=url, alerts=["drift_share > 0.3"])
    project.log(make_frame(1, 600, shift=3.0), T0, step_ms=1_000)
    (window,) = monitor.run("m")
    assert [a["rule"] for a in window.alerts] == ["drift_share > 0.3"]
    (payload,) = handler.received
    assert payload["monitor"] == "m" and payload["alerts"][0]["window"] == window.key
    monitor.run("m")
    assert len(handler.received) == 1


def test_a_redirect_is_not_followed_and_a_dead_hook_loses_nothing(
    receiver: tuple[str, Any],
) -> None:
    url, handler = receiver
    handler.status = 302
    problem = post_webhook(url, {"x": 1}, attempts=1)
    assert problem is not None and "302" in problem
    assert post_webhook("http://127.0.0.1:9/none", {"x": 1}, attempts=2, timeout=0.5) is not None


def test_webhook_failure_is_recorded_and_results_are_kept(project: Project) -> None:
    from loopml.workspace import default_workspace

    monitor.create(
        "m", "churn", window="1h", webhook="http://127.0.0.1:9/dead", alerts=["rows > 10"]
    )
    project.log(make_frame(1, 100), T0, step_ms=1_000)
    (window,) = monitor.run("m")
    assert window.alerts and monitor.results("m")[0].key == window.key
    failed = default_workspace().store.events.list(kind="monitor.webhook_failed")
    assert failed and failed[0].data["url"] == "http://127.0.0.1:9/dead"


def test_a_webhook_must_be_http() -> None:
    from loopml.monitor.config import MonitorConfig

    with pytest.raises(InvalidInput, match="must be an http"):
        MonitorConfig(webhook="file:///etc/passwd")


def test_a_rule_on_a_signal_no_window_has_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names no signal a window has"):
        parse_rule("bogus_signal > 1")
    assert parse_rule("estimated_roc_auc drop > 0.02").signal == "estimated_roc_auc_drop"


def test_overrides_must_name_the_models_features(project: Project) -> None:
    with pytest.raises(InvalidInput, match="which the model does not take"):
        monitor.create("m", "churn", tests={"nosuchcol": "psi"})
    import loopml

    with pytest.raises(InvalidInput, match="non-negative number"):
        loopml.drift(make_frame(1, 100), make_frame(2, 100), thresholds={"age": -1})
