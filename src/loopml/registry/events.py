"""Who is acting, and how a registered model's events are named."""

from __future__ import annotations

import getpass


def actor() -> str | None:
    """The user recorded on events (the login name of this process)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def subject(name: str) -> str:
    """The subject of a registered model's events: ``model:<name>``."""
    return f"model:{name}"
