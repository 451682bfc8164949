"""Turning errors into one line on stderr and an exit code; tracebacks only with ``--debug``."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from loopml.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    IntegrityError,
    InvalidInput,
    LoopMLError,
    NotFound,
)

EXIT_CODES: tuple[tuple[type[LoopMLError], int], ...] = (
    (InvalidInput, 2),
    (NotFound, 3),
    (AlreadyExists, 4),
    (Conflict, 4),
    (IntegrityError, 5),
    (BackendUnavailable, 6),
)


def exit_code(error: LoopMLError) -> int:
    """The process exit code for an error family (1 for anything else)."""
    for family, code in EXIT_CODES:
        if isinstance(error, family):
            return code
    return 1


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop a command with one line on stderr."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def report(error: BaseException, debug: bool) -> int:
    """Print an error as one line (plus the traceback with --debug); return the exit code."""
    if debug:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, LoopMLError):
        # One line: multi-line detail (such as a filter with a caret under the problem) is
        # folded; --debug prints the whole message with the traceback above.
        lines = [ln.strip() for ln in str(error).splitlines() if ln.strip().strip("^")]
        print(f"error: {' | '.join(lines)}", file=sys.stderr)
        return exit_code(error)
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    print(
        f"error: unexpected {type(error).__name__}: {first} (rerun with --debug for details)",
        file=sys.stderr,
    )
    return 1
