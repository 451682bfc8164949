"""Path safety: user paths are normalised, and refused when they could leave their root."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from loopml.errors import InvalidInput

MAX_PATH_LEN = 1024
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_DECODE_ROUNDS = 8
_HINT = 'use a relative POSIX path inside the artifact root, such as "model/model.pkl"'


def _refuse(field: str, path: str, why: str) -> InvalidInput:
    return InvalidInput(f"{field} {path!r} is refused: {why}", field=field, value=path, hint=_HINT)


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F


def _unsafe_reason(text: str) -> str | None:
    """Why a (possibly decoded) path could escape or confuse its root, or None when it cannot."""
    if any(_is_control(char) for char in text):
        return "it contains a NUL or other control character"
    if "\\" in text:
        return "it contains a backslash (use '/' between folders)"
    if text.startswith("/") or _DRIVE.match(text):
        return "it is absolute"
    if text.startswith("~"):
        return "it starts with '~' (home folders are not expanded)"
    if ".." in text.split("/"):
        return "it contains a '..' component"
    return None


def _escape_reason(path: str) -> str | None:
    """Why percent escapes in the path are unsafe, decoding repeatedly to catch double encoding."""
    text = path
    for _ in range(_MAX_DECODE_ROUNDS):
        for code in _PERCENT_ESCAPE.findall(text):
            char = chr(int(code, 16))
            if char in "./\\" or _is_control(char):
                return f"it contains the percent escape %{code} (decodes to {char!r})"
        decoded = unquote(text)
        if decoded == text:
            return _unsafe_reason(text)
        text = decoded
    return "it is percent-encoded too many times"


def normalize_artifact_path(
    path: str, *, field: str = "artifact_path", allow_root: bool = False
) -> str:
    """Return the clean relative POSIX form of a user path, or refuse one that could escape."""
    if not isinstance(path, str):
        raise InvalidInput(
            f"{field} must be a string, not {type(path).__name__}", field=field, hint=_HINT
        )
    if len(path) > MAX_PATH_LEN:
        raise _refuse(field, path[:64] + "…", f"it is longer than {MAX_PATH_LEN} characters")
    reason = _unsafe_reason(path) or _escape_reason(path)
    if reason:
        raise _refuse(field, path, reason)
    clean = "/".join(part for part in path.split("/") if part not in ("", "."))
    if not clean and not allow_root:
        raise _refuse(field, path, "it names no file (it is empty or only '.')")
    return clean


def safe_local_join(root: Path, rel: str, *, field: str = "artifact_path") -> Path:
    """Join a user path under a local folder, following symlinks, and refuse it if it leaves."""
    real_root = Path(os.path.realpath(root))
    clean = normalize_artifact_path(rel, field=field, allow_root=True)
    target = Path(os.path.realpath(real_root / clean))
    if target != real_root and real_root not in target.parents:
        raise InvalidInput(
            f"{field} {rel!r} leads outside {str(root)!r} (a symlink points to {str(target)!r})",
            field=field,
            value=rel,
            hint="remove or replace the symlink, or copy the file into the folder",
        )
    return target


def safe_member_join(root: Path, rel: str, *, field: str = "path") -> Path:
    """Join a stored manifest member (a real file name, not a URL) under ``root``.

    Looser than :func:`normalize_artifact_path`: names such as ``~$report.docx`` or
    ``50%2e5.txt`` are legal files and come back as they went in; only what could escape
    (``..``, absolute paths, NUL, a symlink leading out) is refused.
    """
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\x00" in rel or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"{field} {rel!r} is refused: it could escape {root}", field=field)
    resolved_root = root.resolve()
    target = (resolved_root / rel).resolve()
    if target != resolved_root and resolved_root not in target.parents:
        raise InvalidInput(
            f"{field} {rel!r} is refused: it leads outside {resolved_root}", field=field
        )
    return target
