"""Cache keys, and the reasons a step ran or was reused.

A key is the digest of the key parts: the code fingerprint (the step's source and the project
functions it calls), its constant arguments, the digests of its inputs and the materializer
versions. Keeping the parts (not only the digest) is what lets ``explain`` say *what* changed.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from typing import Any

from loopml._util.hashing import hash_bytes
from loopml.errors import InvalidInput
from loopml.pipelines.definition import StepCall
from loopml.pipelines.fingerprint import code_digests
from loopml.pipelines.materializers import materializer_fingerprint, save_value


def constant_value(name: str, value: Any, step: str) -> Any:
    """A constant argument as canonical JSON data (what the key and the run's params record)."""
    from loopml.data import DatasetVersion

    if isinstance(value, DatasetVersion):
        return {"data_version": value.ref, "digest": value.digest}
    if _json_able(value):
        return _canonical(value)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            from pathlib import Path

            saved = save_value(value, Path(scratch))
    except InvalidInput:
        raise InvalidInput(
            f"argument {name!r} of step {step!r} is a {type(value).__name__}, which cannot be "
            "part of a cache key",
            field=name,
            hint="pass JSON-able values, data versions, or the output of another step",
        ) from None
    return {"value_digest": saved.digest, "materializer": saved.materializer}


def _json_able(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_json_able(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v) for k, v in value.items())
    return False


def _canonical(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    return value


def key_parts(call: StepCall, input_digests: Mapping[str, str]) -> dict[str, Any]:
    """Everything a step's result depends on, as plain data."""
    return {
        "code": code_digests(call.step),
        "params": {k: constant_value(k, v, call.name) for k, v in sorted(call.constants.items())},
        "inputs": dict(sorted(input_digests.items())),
        "outputs": list(call.step.outputs),
        "materializers": materializer_fingerprint(),
    }


def cache_key(parts: Mapping[str, Any]) -> str:
    return hash_bytes(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode())


def _short(digest: Any) -> str:
    return f"{str(digest)[:8]}…" if digest else "none"


def _function(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1] if "<" not in qualified else qualified


def changes(current: Mapping[str, Any], previous: Mapping[str, Any]) -> list[str]:
    """What differs between two sets of key parts, in words."""
    found: list[str] = []
    old_code, new_code = previous.get("code", {}), current.get("code", {})
    for name in sorted(set(old_code) | set(new_code)):
        if name not in old_code:
            found.append(f"now uses `{_function(name)}`")
        elif name not in new_code:
            found.append(f"no longer uses `{_function(name)}`")
        elif old_code[name] != new_code[name]:
            what = "value" if str(new_code[name]).startswith("value:") else "source"
            found.append(f"{what} of `{_function(name)}` changed")
    old_params, new_params = previous.get("params", {}), current.get("params", {})
    for name in sorted(set(old_params) | set(new_params)):
        if old_params.get(name) != new_params.get(name):
            found.append(
                f"param `{name}` changed: {json.dumps(old_params.get(name))} → "
                f"{json.dumps(new_params.get(name))}"
            )
    old_inputs, new_inputs = previous.get("inputs", {}), current.get("inputs", {})
    for name in sorted(set(old_inputs) | set(new_inputs)):
        if old_inputs.get(name) != new_inputs.get(name):
            found.append(
                f"input `{name}` changed: digest {_short(old_inputs.get(name))} → "
                f"{_short(new_inputs.get(name))}"
            )
    if previous.get("outputs") != current.get("outputs"):
        found.append("declared outputs changed")
    if previous.get("materializers") != current.get("materializers"):
        found.append("materializer versions changed")
    return found
