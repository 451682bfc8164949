"""Names and aliases users give datasets and models: no path characters, so a name can never
become a path or a URL trick, and aliases that cannot be mistaken for version numbers."""

from __future__ import annotations

import re
from typing import Any

from loopml.errors import InvalidInput

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
LATEST = "latest"


def check_name(name: Any, kind: str) -> str:
    """A dataset or model name (``kind`` says which, for the message)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not allowed",
            field="name",
            value=name,
            hint="use 1-128 letters, digits, '_', '-' or '.', starting with a letter or digit "
            "(no '/', '\\', '@' or spaces)",
        )
    return name


def check_alias(alias: Any) -> str:
    """An alias such as ``training`` or ``champion``: not a number and not ``latest``."""
    if not isinstance(alias, str) or not ALIAS_RE.match(alias) or alias == LATEST:
        raise InvalidInput(
            f"alias {alias!r} is not allowed",
            field="alias",
            value=alias,
            hint="start with a letter; use letters, digits, '_' or '-'; 'latest' is reserved",
        )
    return alias
