"""Argument checks for the generators: each failure names the argument and its allowed range."""

from __future__ import annotations

import math
from numbers import Integral, Real

from loopml.errors import InvalidInput


def check_count(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise InvalidInput(
            f"{name} must be an integer >= {minimum}, got {value!r}",
            field=name,
            value=value,
            hint=f"pass a whole number of at least {minimum}",
        )
    return int(value)


def check_fraction(name: str, value: object) -> float:
    """``value`` as a float in [0, 1] (NaN and bools refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or math.isnan(float(value))
        or not 0.0 <= float(value) <= 1.0
    ):
        raise InvalidInput(
            f"{name} must be a number in [0, 1], got {value!r}",
            field=name,
            value=value,
            hint="0 means no drift, 1 the strongest drift",
        )
    return float(value)
