"""Names a package exports but imports only on first use (PEP 562 ``__getattr__``).

``import loopml`` must stay light; so must ``loopml.registry`` for a server that only loads models.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_getattr(
    package: str, names: Mapping[str, str], submodules: Sequence[str] = ()
) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving ``names`` (name → defining module) and submodules."""

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    return __getattr__
