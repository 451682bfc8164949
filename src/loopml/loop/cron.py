"""Five-field cron expressions (minute hour day-of-month month day-of-week), in UTC.

Enough for a retraining schedule: ``*``, ``*/n``, ``a-b``, ``a-b/n`` and lists; day-of-week 0
or 7 is Sunday. When both day fields are restricted, a day matching either counts (as cron).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loopml.errors import InvalidInput

_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_LOOKAHEAD_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = str(text).split()
        if len(parts) != 5:
            raise InvalidInput(
                f"cron {text!r} must have 5 fields (minute hour day month weekday)",
                field="cron",
                value=text,
                hint="e.g. '0 3 * * *' for 03:00 UTC every day",
            )
        sets = [
            _field(part, name, low, high)
            for part, (name, low, high) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(0 if d == 7 else d for d in sets[4])
        return cls(
            str(text),
            sets[0],
            sets[1],
            sets[2],
            sets[3],
            weekdays,
            parts[2] == "*",
            parts[4] == "*",
        )

    def matches(self, when: datetime) -> bool:
        if (
            when.minute not in self.minutes
            or when.hour not in self.hours
            or when.month not in self.months
        ):
            return False
        day = when.day in self.days
        weekday = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day and weekday
        return day or weekday

    def due_between(self, after_ms: int, until_ms: int) -> int | None:
        """The first matching minute in ``(after_ms, until_ms]`` (ms), or None."""
        start = datetime.fromtimestamp(after_ms / 1000, tz=UTC).replace(second=0, microsecond=0)
        minute = start + timedelta(minutes=1)
        end = datetime.fromtimestamp(until_ms / 1000, tz=UTC)
        for _ in range(_LOOKAHEAD_MINUTES):
            if minute > end:
                return None
            if self.matches(minute):
                return int(minute.timestamp() * 1000)
            minute += timedelta(minutes=1)
        return None


def _field(part: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                first, last = low, high
            elif "-" in body:
                a, b = body.split("-", 1)
                first, last = int(a), int(b)
            else:
                first = last = int(body)
        except ValueError:
            first, last, step = -1, -1, 0
        if step < 1 or first < low or last > high or first > last:
            raise InvalidInput(
                f"cron {name} field {part!r} is not valid ({low}-{high}, *, */n, a-b, lists)",
                field="cron",
                value=part,
            )
        values.update(range(first, last + 1, step))
    return frozenset(values)
