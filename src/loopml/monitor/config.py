"""A monitor's settings: its window, tests, thresholds and alert rules, validated on the way in.

Everything here round-trips through JSON (``to_dict``/``from_dict``) because it is stored with
the monitor; a bad value is refused when the monitor is created, never at its hundredth run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from loopml.errors import InvalidInput
from loopml.monitor.alerts import AlertRule, default_rules, parse_rule
from loopml.stats import stattests

_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_WINDOW = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|rows?)\s*$", re.IGNORECASE)
_DISTANCE_TESTS = ("wasserstein", "psi", "jensen_shannon")


@dataclass(frozen=True)
class WindowSpec:
    """Windows of ``size`` milliseconds of prediction time (``time``) or ``size`` predictions."""

    kind: Literal["time", "rows"]
    size: int

    @classmethod
    def parse(cls, text: str | WindowSpec) -> WindowSpec:
        """``1h``, ``15m``, ``1d``, ``30s``, ``1w`` or ``1000rows``."""
        if isinstance(text, WindowSpec):
            return text
        match = _WINDOW.match(str(text))
        if match is None or int(match.group(1)) <= 0:
            raise InvalidInput(
                f"window {text!r} is not a duration or a row count",
                field="window",
                value=text,
                hint="use e.g. 1h, 15m, 1d or 1000rows",
            )
        count, unit = int(match.group(1)), match.group(2).lower()
        if unit.startswith("row"):
            return cls("rows", count)
        return cls("time", count * _UNITS_MS[unit])

    def __str__(self) -> str:
        if self.kind == "rows":
            return f"{self.size}rows"
        for unit in ("w", "d", "h", "m", "s"):
            if self.size % _UNITS_MS[unit] == 0:
                return f"{self.size // _UNITS_MS[unit]}{unit}"
        return f"{self.size}ms"


@dataclass(frozen=True)
class MonitorConfig:
    """How a monitor judges each window.

    ``reference``: a data version (``name@3``) or None for the training data of the version
    the alias serves, moved when the alias moves. ``thresholds="learned"`` learns each
    column's threshold from the spread of its statistic across chunks of the reference.
    ``min_rows``/``min_labels``: below them a window is "insufficient data", never an alarm.
    """

    window: WindowSpec = field(default_factory=lambda: WindowSpec("time", 3_600_000))
    reference: str | None = None
    tests: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] | Literal["learned"] = field(default_factory=dict)
    share_threshold: float = 0.5
    alerts: tuple[AlertRule, ...] = field(default_factory=default_rules)
    webhook: str | None = None
    multivariate: bool = True
    estimate: bool = True
    min_rows: int = 50
    min_labels: int = 50
    sample_rows: int = 2_000

    def __post_init__(self) -> None:
        check_config(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what the store keeps)."""
        return {
            "window": str(self.window),
            "reference": self.reference,
            "tests": dict(self.tests),
            "thresholds": self.thresholds
            if self.thresholds == "learned"
            else dict(self.thresholds),
            "share_threshold": self.share_threshold,
            "alerts": [rule.text for rule in self.alerts],
            "webhook": self.webhook,
            "multivariate": self.multivariate,
            "estimate": self.estimate,
            "min_rows": self.min_rows,
            "min_labels": self.min_labels,
            "sample_rows": self.sample_rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorConfig:
        """Inverse of ``to_dict``; unknown keys are refused by name."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                f"unknown monitor setting {unknown[0]!r}",
                field=unknown[0],
                hint=f"known settings: {', '.join(sorted(known))}",
            )
        values = dict(data)
        if "window" in values:
            values["window"] = WindowSpec.parse(values["window"])
        if "alerts" in values:
            values["alerts"] = parse_rules(values["alerts"])
        return cls(**values)

    def with_changes(self, **changes: Any) -> MonitorConfig:
        """A copy with some settings replaced (validated again)."""
        if "window" in changes:
            changes["window"] = WindowSpec.parse(changes["window"])
        if "alerts" in changes:
            changes["alerts"] = parse_rules(changes["alerts"])
        return replace(self, **changes)


def parse_rules(rules: Sequence[str | AlertRule] | str | None) -> tuple[AlertRule, ...]:
    """Alert rules from their text (``drift_share > 0.3``); None gives the defaults."""
    if rules is None:
        return default_rules()
    if isinstance(rules, str):
        rules = [rules]
    return tuple(rule if isinstance(rule, AlertRule) else parse_rule(rule) for rule in rules)


def check_config(config: MonitorConfig) -> None:
    """Refuse settings a run could not honour, naming the setting and the fix."""
    if not 0.0 < config.share_threshold <= 1.0:
        raise InvalidInput(
            f"share_threshold {config.share_threshold!r} must lie in (0, 1]",
            field="share_threshold",
            value=config.share_threshold,
        )
    known_tests = set(stattests.NUMERIC) | set(stattests.CATEGORICAL)
    for column, test in config.tests.items():
        if test not in known_tests:
            raise InvalidInput(
                f"no drift test named {test!r} (column {column!r})",
                field=f"tests.{column}",
                value=test,
                hint=f"use one of {', '.join(sorted(known_tests))}",
            )
    if isinstance(config.thresholds, str):
        if config.thresholds != "learned":
            raise InvalidInput(
                f"thresholds {config.thresholds!r} must be 'learned' or a mapping column → value",
                field="thresholds",
                value=config.thresholds,
            )
        learned_tests = [t for t in config.tests.values() if t not in _DISTANCE_TESTS]
        if learned_tests:
            raise InvalidInput(
                f"learned thresholds apply to distance tests, not {learned_tests[0]!r}",
                field="tests",
                hint=f"use one of {', '.join(_DISTANCE_TESTS)} with thresholds='learned'",
            )
    else:
        for column, value in config.thresholds.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise InvalidInput(
                    f"threshold of {column!r} must be a non-negative number, not {value!r}",
                    field=f"thresholds.{column}",
                    value=value,
                )
    for name in ("min_rows", "min_labels", "sample_rows"):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidInput(
                f"{name} must be a positive whole number, not {value!r}", field=name, value=value
            )
    if config.webhook is not None and not re.match(r"^https?://[^\s/]+", config.webhook):
        raise InvalidInput(
            f"webhook {config.webhook!r} must be an http:// or https:// URL",
            field="webhook",
            value=config.webhook,
        )


__all__ = ["MonitorConfig", "WindowSpec", "check_config", "parse_rules"]
