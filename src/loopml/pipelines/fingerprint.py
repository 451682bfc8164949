"""The fingerprint of a step's code: its source and the source of the project functions it calls.

Source is compared as a syntax tree, so reformatting or editing a comment does not invalidate a
cache. A function "of the project" is one defined in a module outside the standard library,
``site-packages`` and LoopML: a change to a helper in ``features.py`` reruns the steps that call
it, while upgrading pandas does not (package versions are not part of the key; pin them).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
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


LOADED_PREFIX = "loopml_pipeline_"  # module names the CLI gives pipeline files it loads
_MISSING = object()
_MAX_CONSTANT = 10_000  # characters of repr: bigger module-level values are not fingerprinted


def code_digests(func: Callable[..., Any]) -> dict[str, str]:
    """``module.qualname`` → syntax-tree digest, for ``func`` and the project code it calls.

    Module-level constants the code reads (``THRESHOLD = 3``) count too, as ``value:`` digests.
    """
    walk = _Walk()
    walk.visit(func)
    return dict(sorted(walk.digests.items()))


def project_modules(func: Callable[..., Any]) -> list[types.ModuleType]:
    """The project's modules ``func`` reaches, directly or through the modules they import."""
    walk = _Walk()
    walk.visit(func)
    pending = list(walk.modules.values())
    seen = dict(walk.modules)
    while pending:
        module = pending.pop()
        for value in list(vars(module).values()):
            found = value if isinstance(value, types.ModuleType) else _module_of(value)
            if found is not None and found.__name__ not in seen and is_project_module(found):
                seen[found.__name__] = found
                pending.append(found)
    return [seen[name] for name in sorted(seen)]


def _module_of(value: Any) -> types.ModuleType | None:
    if not (inspect.isfunction(value) or inspect.isclass(value) or _is_step(value)):
        return None
    return sys.modules.get(getattr(value, "__module__", "") or "")


def label(module_name: str, name: str) -> str:
    """``module.name`` with the CLI's loading prefix removed, so a file's functions are keyed
    the same whether the CLI loaded it or Python imported it."""
    return f"{module_name.removeprefix(LOADED_PREFIX)}.{name}"


class _Walk:
    def __init__(self) -> None:
        self.digests: dict[str, str] = {}
        self.modules: dict[str, types.ModuleType] = {}

    def visit(self, obj: Any) -> None:
        target = inspect.unwrap(getattr(obj, "func", obj)) if _is_step(obj) else inspect.unwrap(obj)
        module_name = getattr(target, "__module__", None) or "?"
        key = label(module_name, getattr(target, "__qualname__", "?"))
        if key in self.digests:
            return
        self.digests[key] = _tree_digest(target)
        module = sys.modules.get(module_name)
        if module is not None and is_project_module(module):
            self.modules[module.__name__] = module
        if inspect.isclass(target):
            for member in vars(target).values():
                if inspect.isfunction(member):
                    self.calls(member)
            return
        self.calls(target)

    def calls(self, func: Any) -> None:
        code = getattr(func, "__code__", None)
        namespace = getattr(func, "__globals__", {})
        if code is None:
            return
        closure = {
            n: c.cell_contents
            for n, c in zip(
                code.co_freevars, getattr(func, "__closure__", None) or (), strict=False
            )
            if _cell_filled(c)
        }
        names = list(dict.fromkeys(_names(code)))
        module_name = namespace.get("__name__", "?")
        for name in names:
            value = closure.get(name, namespace.get(name, _MISSING))
            if value is _MISSING:
                value = _imported_inside(name)  # `import helpers` in the function's body
            if value is _MISSING:
                continue
            if isinstance(value, types.ModuleType):
                if is_project_module(value):
                    self.modules[value.__name__] = value
                    for attribute in names:
                        member = getattr(value, attribute, _MISSING)
                        self._member(value.__name__, attribute, member)
            elif _is_project_callable(value):
                self.visit(value)
            elif name in namespace and _is_constant(value):
                self.digests[label(module_name, name)] = _value_digest(value)

    def _member(self, module_name: str, name: str, member: Any) -> None:
        if member is _MISSING:
            return
        if _is_project_callable(member):
            self.visit(member)
        elif _is_constant(member):
            self.digests[label(module_name, name)] = _value_digest(member)


def _imported_inside(name: str) -> Any:
    """A project module a function imports in its own body (absent from its globals)."""
    module = sys.modules.get(name)
    if module is not None:
        return module if is_project_module(module) else _MISSING
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return _MISSING
    if spec is None or not spec.origin or not _project_file(spec.origin):
        return _MISSING
    try:
        return importlib.import_module(name)
    except Exception:  # a module that fails to import: the step itself will say so
        return _MISSING


def _is_constant(value: Any) -> bool:
    if isinstance(value, bool | int | float | str | bytes) or value is None:
        return len(repr(value)) <= _MAX_CONSTANT
    if isinstance(value, list | tuple | frozenset | set | dict):
        try:
            text = repr(value)
        except Exception:
            return False
        return len(text) <= _MAX_CONSTANT and all(
            _is_constant(v) for v in (value.values() if isinstance(value, dict) else value)
        )
    return False


def _value_digest(value: Any) -> str:
    text = repr(sorted(value, key=repr) if isinstance(value, set | frozenset) else value)
    return "value:" + hash_bytes(text.encode())


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
