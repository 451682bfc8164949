"""The LoopML error tree: one root, families named for what the caller does next.

Every error is built from fields (what was wrong, the value, how to fix it) so the CLI can print one
line, the HTTP server can answer with a status and a JSON body naming the field, and tests can match
on the message. Each family also subclasses the natural builtin, so ``except ValueError``
still works.
"""

from __future__ import annotations

from typing import Any


class LoopMLError(Exception):
    """Root of every error LoopML raises on purpose."""

    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able body for HTTP answers and ``--json`` output."""
        body: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.hint is not None:
            body["hint"] = self.hint
        return body


class InvalidInput(LoopMLError, ValueError):
    """The caller passed something malformed; fix the input and call again."""

    http_status = 400


class NotFound(LoopMLError, LookupError):
    """The named thing does not exist (or was deleted)."""

    http_status = 404


class AlreadyExists(LoopMLError):
    """Creating something whose name is taken."""

    http_status = 409


class Conflict(LoopMLError):
    """The request contradicts what is stored (an immutable value, a state that forbids it)."""

    http_status = 409


class IntegrityError(LoopMLError):
    """Stored data does not match its digest or the schema: something changed it behind our back."""

    http_status = 500


class BackendUnavailable(LoopMLError, ConnectionError):
    """A database or object store could not be reached or stayed locked too long."""

    http_status = 503


class ConfigError(InvalidInput):
    """A setting has a value we cannot use."""


def summary(error: BaseException) -> str:
    """``Type: first line of the message`` (just ``Type`` without one), for one-line reports of
    errors raised by code we call (a model, a step, a worker)."""
    text = str(error).strip()
    kind = type(error).__name__
    return f"{kind}: {text.splitlines()[0]}" if text else kind
