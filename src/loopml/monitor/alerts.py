"""Alert rules over a window's signals, and the webhook that carries fired alerts out.

A rule is ``<signal> <op> <number>``, e.g. ``drift_share > 0.3``, ``estimated_f1 < 0.8``,
``f1 drop > 0.05`` (``<metric> drop`` is the signal ``<metric>_drop``: how much worse than at
registration, so for an error metric such as ``rmse`` its rise). A rule whose signal a window
does not have (no labels yet, a regressor has no ``estimated_f1``) is not evaluated: it never
fires on missing evidence.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.errors import InvalidInput

logger = logging.getLogger(__name__)

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_RULE = re.compile(
    r"^\s*(?P<signal>[A-Za-z_][\w.:-]*)(?:\s+(?P<drop>drop))?\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
WINDOW_SIGNALS = frozenset(
    {
        "rows",
        "labels",
        "drift_share",
        "drifted_features",
        "dataset_drift",
        "prediction_drift",
        "prediction_drift_score",
        "multivariate_drift",
        "multivariate_auc",
        "new_categories",
        "schema_changes",
        "missing_share",
        "missing_share_increase",
    }
)


def known_signal(signal: str) -> bool:
    """A signal some window can carry: the fixed ones, metrics, their estimates and drops."""
    from loopml.stats.metrics import HIGHER_IS_BETTER

    if signal in WINDOW_SIGNALS:
        return True
    name = signal.removesuffix("_drop").removeprefix("estimated_")
    return name in HIGHER_IS_BETTER


DEFAULT_RULES = (
    "dataset_drift == 1",
    "prediction_drift == 1",
    "multivariate_drift == 1",
    "new_categories > 0",
    "schema_changes > 0",
    "missing_share_increase > 0.2",
    "f1 drop > 0.05",
    "estimated_f1 drop > 0.05",
    "r2 drop > 0.05",
)


@dataclass(frozen=True)
class AlertRule:
    """One parsed rule; ``text`` is the form it was written in."""

    text: str
    signal: str
    op: str
    threshold: float

    def check(self, signals: Mapping[str, Any]) -> Alert | None:
        """The alert when the signal is present and the comparison holds, else None."""
        value = signals.get(self.signal)
        if value is None or isinstance(value, bool | str):
            if isinstance(value, bool):
                value = float(value)
            else:
                return None
        number = float(value)
        if math.isnan(number) or not _OPS[self.op](number, self.threshold):
            return None
        return Alert(self.text, self.signal, number, self.op, self.threshold)


@dataclass(frozen=True)
class Alert:
    """A rule that fired, with the value that made it fire."""

    rule: str
    signal: str
    value: float
    op: str
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "signal": self.signal,
            "value": self.value if math.isfinite(self.value) else None,
            "op": self.op,
            "threshold": self.threshold,
        }


def parse_rule(text: str) -> AlertRule:
    """``drift_share > 0.3`` → AlertRule; a malformed rule names the expected form."""
    match = _RULE.match(str(text))
    if match is None:
        raise InvalidInput(
            f"alert rule {text!r} is not '<signal> <op> <number>'",
            field="alerts",
            value=text,
            hint="e.g. 'drift_share > 0.3', 'estimated_f1 < 0.8' or 'f1 drop > 0.05'",
        )
    signal = match.group("signal") + ("_drop" if match.group("drop") else "")
    if not known_signal(signal):
        raise InvalidInput(
            f"alert rule {text!r} names no signal a window has ({signal!r})",
            field="alerts",
            value=text,
            hint="signals: " + ", ".join(sorted(WINDOW_SIGNALS)) + ", a metric such as f1, "
            "estimated_f1, and '<metric> drop'",
        )
    return AlertRule(
        " ".join(str(text).split()), signal, match.group("op"), float(match.group("value"))
    )


def default_rules() -> tuple[AlertRule, ...]:
    """The rules a monitor gets when none are given (see ``DEFAULT_RULES``)."""
    return tuple(parse_rule(text) for text in DEFAULT_RULES)


def check_rules(rules: Sequence[AlertRule], signals: Mapping[str, Any]) -> list[Alert]:
    """Every rule that fires on these signals, in rule order."""
    return [alert for rule in rules if (alert := rule.check(signals)) is not None]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook goes to the configured URL only: a redirect elsewhere is a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_webhook(
    url: str, payload: Mapping[str, Any], *, attempts: int = 3, timeout: float = 5.0
) -> str | None:
    """POST ``payload`` as JSON to ``url``, retrying with backoff; None on success, else why not.

    Only ``url`` is ever contacted (redirects are not followed); a failure is returned, not
    raised, because an unreachable webhook must not lose the results it reports on.
    """
    body = json.dumps(payload, default=str).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    problem = "not attempted"
    for attempt in range(max(1, attempts)):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with opener.open(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return None
                problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            exc.close()
            problem = f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                break  # the receiver refuses this payload: retrying will not help
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt + 1 < attempts:
            time.sleep(0.5 * 2**attempt)
    logger.warning("loopml monitor: webhook %s failed: %s", url, problem)
    return problem
