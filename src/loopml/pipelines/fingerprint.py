"""The fingerprint of a step's code: its source and the source of the project functions it calls.

Source is compared as a syntax tree, so reformatting or editing a comment does not invalidate a
cache. A function "of the project" is one defined in a module outside the standard library,
``site-packages`` and LoopML: a change to a helper in ``features.py`` reruns the steps that call
it, while upgrading pandas does not (package versions are not part of the key; pin them).
"""

from __future__ import annotations

import ast
import inspect
import sys
import sysconfig
import textwrap
import types
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from loopml._util.hashing import hash_bytes

_EXCLUDED_ROOTS = tuple(
    str(Path(p).resolve())
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_LOOPML_ROOT = str(Path(__file__).resolve().parents[1])


def code_digests(func: Callable[..., Any]) -> dict[str, str]:
    """``module.qualname`` → syntax-tree digest, for ``func`` and the project code it calls."""
    found: dict[str, str] = {}
    _visit(func, found)
    return dict(sorted(found.items()))


def _visit(obj: Any, found: dict[str, str]) -> None:
    target = inspect.unwrap(getattr(obj, "func", obj)) if _is_step(obj) else inspect.unwrap(obj)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
    if name in found:
        return
    found[name] = _tree_digest(target)
    if inspect.isclass(target):
        members = [m for m in vars(target).values() if inspect.isfunction(m)]
        for member in members:
            _visit_calls(member, found)
        return
    _visit_calls(target, found)


def _visit_calls(func: Any, found: dict[str, str]) -> None:
    code = getattr(func, "__code__", None)
    namespace = getattr(func, "__globals__", {})
    if code is None:
        return
    closure = {
        n: c.cell_contents
        for n, c in zip(code.co_freevars, getattr(func, "__closure__", None) or (), strict=False)
        if _cell_filled(c)
    }
    for name in _names(code):
        for value in (closure.get(name), namespace.get(name)):
            if value is None:
                continue
            if isinstance(value, types.ModuleType) and is_project_module(value):
                for attribute in _names(code):
                    member = getattr(value, attribute, None)
                    if member is not None and _is_project_callable(member):
                        _visit(member, found)
            elif _is_project_callable(value):
                _visit(value, found)


def _cell_filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _is_step(obj: Any) -> bool:
    return type(obj).__name__ == "Step" and hasattr(obj, "func")


def _is_project_callable(value: Any) -> bool:
    if _is_step(value):
        return True
    if not (inspect.isfunction(value) or inspect.isclass(value)):
        return False
    module = sys.modules.get(getattr(value, "__module__", "") or "")
    return module is not None and is_project_module(module)


@cache
def _project_file(path: str) -> bool:
    resolved = str(Path(path).resolve())
    if resolved.startswith(_LOOPML_ROOT):
        return False
    return not resolved.startswith(_EXCLUDED_ROOTS)


def is_project_module(module: types.ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    if module.__name__ == "__main__":
        return True
    return bool(path) and _project_file(str(path))


def _tree_digest(obj: Any) -> str:
    """Digest of the syntax tree of ``obj``'s source (its bytecode when there is no source)."""
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        code = getattr(obj, "__code__", None)
        payload = code.co_code if code is not None else repr(obj).encode()
        return hash_bytes(payload)
    for node in ast.walk(tree):  # decorators' line numbers and positions do not matter
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(node, attribute):
                setattr(node, attribute, 0)
    return hash_bytes(ast.dump(tree, include_attributes=False).encode())
