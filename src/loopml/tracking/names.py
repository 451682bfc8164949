"""Readable default run names (``brave-otter-417``), because ids are hard to talk about."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "agile", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "fast",
    "gentle", "glad", "grand", "keen", "kind", "lucid", "merry", "neat", "noble", "proud",
    "quick", "quiet", "rapid", "sharp", "shy", "sleek", "smart", "steady", "swift", "witty",
)  # fmt: skip
_NOUNS = (
    "badger", "bee", "crane", "deer", "dolphin", "eagle", "falcon", "finch", "fox", "gecko",
    "hare", "heron", "ibis", "koala", "lark", "lynx", "mole", "newt", "otter", "owl",
    "panda", "puffin", "quail", "raven", "robin", "seal", "swan", "tiger", "wren", "yak",
)  # fmt: skip


def random_run_name() -> str:
    """A short memorable name; uniqueness comes from the run id, not the name."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"
