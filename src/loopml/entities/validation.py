"""Checks on user-given names, keys and values, shared by every store implementation."""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

from loopml.errors import InvalidInput

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 8000
MAX_TAG_VALUE_LENGTH = 64_000
MAX_NAME_LENGTH = 256
_KEY_RE = re.compile(r"^[A-Za-z0-9_\-. /:]+$")


def validate_key(key: Any, kind: str) -> str:
    """A metric, param or tag key: short, printable, no path tricks (``..``)."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(
            f"{kind} key must be a non-empty string, got {key!r}",
            field=f"{kind}.key",
            value=key,
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{kind} key {key[:40]!r}… is {len(key)} characters long; the limit is "
            f"{MAX_KEY_LENGTH}",
            field=f"{kind}.key",
            value=key,
        )
    if not _KEY_RE.match(key) or ".." in key or key.startswith("/"):
        raise InvalidInput(
            f"{kind} key {key!r} has characters that are not allowed",
            field=f"{kind}.key",
            value=key,
            hint="use letters, digits, '_', '-', '.', ' ', ':' and '/' (no '..' or leading '/')",
        )
    return key


def validate_metric_value(key: str, value: Any) -> float:
    """A metric value as a float; NaN and infinities are allowed, strings and None are not."""
    if isinstance(value, bool) or not isinstance(value, Real):
        try:
            # numpy scalars and 0-d arrays convert cleanly; anything else is a user error.
            if hasattr(value, "item") and not isinstance(value, bool):
                return validate_metric_value(key, value.item())
        except (TypeError, ValueError):
            pass
        raise InvalidInput(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r}",
            field=f"metrics.{key}",
            value=value,
            hint="log numbers with log_metric; log text with set_tag or log_text",
        )
    return float(value)


def validate_step(key: str, step: Any) -> int:
    """A metric step: a whole number (numpy integers included)."""
    if isinstance(step, bool):
        raise InvalidInput(f"step of metric {key!r} must be an integer, got {step!r}", field="step")
    try:
        as_int = int(step)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"step of metric {key!r} must be an integer, got {step!r}", field="step", value=step
        ) from None
    if as_int != step and not (isinstance(step, float) and math.isfinite(step)):
        raise InvalidInput(f"step of metric {key!r} must be an integer, got {step!r}", field="step")
    return as_int


def validate_param_value(key: str, value: Any) -> str:
    """A param value as text (MLflow stores params as strings, so do we)."""
    text = str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInput(
            f"param {key!r} value is {len(text)} characters long; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH}",
            field=f"params.{key}",
            hint="log large values as an artifact with log_text or log_dict",
        )
    return text


def validate_tag_value(key: str, value: Any) -> str:
    """A tag value as text."""
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInput(
            f"tag {key!r} value is {len(text)} characters long; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}",
            field=f"tags.{key}",
        )
    return text


def validate_name(name: Any, kind: str) -> str:
    """An experiment or run name: non-empty printable text of bounded length."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            f"{kind} name must be a non-empty string, got {name!r}", field=f"{kind}_name"
        )
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise InvalidInput(
            f"{kind} name {name[:40]!r} is too long or has control characters",
            field=f"{kind}_name",
            hint=f"use at most {MAX_NAME_LENGTH} printable characters",
        )
    return name
