"""The model folder: flavor files plus ``MLmodel.json``, each file named with its BLAKE3 digest.

Digests are the point: the registry records every file's digest when a model is logged, and a
loader compares them before it reads a byte of the model, so a file changed afterwards (by
accident or on purpose) is refused instead of unpickled. ``read_verified`` reads a file once,
checks those very bytes and hands them on, so nothing can swap the file between check and load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml._util.hashing import folder_manifest as _folder_manifest
from loopml._util.hashing import hash_bytes, is_digest
from loopml._util.paths import safe_member_join
from loopml.errors import IntegrityError, InvalidInput
from loopml.models.signature import ModelSignature

MODEL_META_FILE = "MLmodel.json"
FORMAT_VERSION = 1
FLAVORS = ("sklearn", "xgboost", "lightgbm", "python")
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class ModelMeta:
    """What ``MLmodel.json`` holds: how to load the model, what it needs, and what it may run.

    ``executable`` is True when loading runs code stored in the files (pickle, cloudpickle);
    ``files`` maps every model file except ``MLmodel.json`` to its BLAKE3 digest.
    """

    flavor: str
    format: str
    executable: bool
    files: dict[str, str]
    signature: ModelSignature | None = None
    requirements: dict[str, str] = field(default_factory=dict)
    task: str | None = None
    classes: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    loopml_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "flavor": self.flavor,
            "format": self.format,
            "executable": self.executable,
            "files": dict(sorted(self.files.items())),
            "signature": self.signature.to_dict() if self.signature is not None else None,
            "requirements": dict(self.requirements),
            "task": self.task,
            "classes": self.classes,
            "extra": self.extra,
            "loopml_version": self.loopml_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMeta:
        """Rebuild from ``to_dict`` output; refuses anything a loader could be misled by."""
        try:
            version = data.get("format_version", FORMAT_VERSION)
            if version != FORMAT_VERSION:
                raise _malformed(
                    f"format_version {version!r} is not supported (this LoopML reads "
                    f"{FORMAT_VERSION})",
                    "upgrade LoopML to load this model",
                )
            flavor = data["flavor"]
            if flavor not in FLAVORS:
                raise _malformed(f"unknown flavor {flavor!r}", f"use one of {', '.join(FLAVORS)}")
            task = data.get("task")
            if task is not None and task not in TASKS:
                raise _malformed(f"unknown task {task!r}", f"use one of {', '.join(TASKS)}")
            files = dict(data["files"])
            for path, digest in files.items():
                if not _is_relative(path) or not is_digest(digest):
                    raise _malformed(
                        f"files entry {path!r} does not map a path to a BLAKE3 digest",
                        "files maps relative paths to 64-character hex digests",
                    )
            signature = data.get("signature")
            classes = data.get("classes")
            return cls(
                flavor=flavor,
                format=str(data["format"]),
                executable=_bool(data["executable"], "executable"),
                files=files,
                signature=ModelSignature.from_dict(signature) if signature is not None else None,
                requirements={
                    str(k): str(v) for k, v in dict(data.get("requirements", {})).items()
                },
                task=task,
                classes=list(classes) if classes is not None else None,
                extra=dict(data.get("extra") or {}),
                loopml_version=str(data.get("loopml_version", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise _malformed(f"missing or wrong field {exc}", None) from None


def _is_relative(path: object) -> bool:
    """A plain relative POSIX path that stays inside the folder."""
    return (
        isinstance(path, str)
        and "\x00" not in path
        and "\\" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
    )


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise _malformed(f"{name} must be true or false, not {value!r}", None)
    return value


def _malformed(why: str, hint: str | None) -> InvalidInput:
    return InvalidInput(f"{MODEL_META_FILE} is malformed: {why}", field=MODEL_META_FILE, hint=hint)


def write_meta(folder: str | os.PathLike[str], meta: ModelMeta) -> Path:
    """Write ``MLmodel.json`` into ``folder`` and return its path."""
    path = Path(folder) / MODEL_META_FILE
    text = json.dumps(meta.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_meta(folder: str | os.PathLike[str]) -> ModelMeta:
    """Read ``MLmodel.json`` from ``folder`` (this checks no digests: see ``load_model_folder``)."""
    path = Path(folder) / MODEL_META_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(
            f"{folder} has no {MODEL_META_FILE}",
            field=MODEL_META_FILE,
            hint="point at a folder written by loopml.models.save_model",
        ) from None
    return parse_meta(raw)


def parse_meta(raw: bytes) -> ModelMeta:
    """``ModelMeta`` from the bytes of an ``MLmodel.json``."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _malformed(f"it is not JSON ({exc})", None) from None
    if not isinstance(data, dict):
        raise _malformed("it is not a JSON object", None)
    return ModelMeta.from_dict(data)


def files_digest(files: Mapping[str, str]) -> str:
    """One digest of a path-to-digest manifest: sorted by path, so it is stable."""
    canonical = json.dumps(sorted(files.items()), separators=(",", ":"), ensure_ascii=False)
    return hash_bytes(canonical.encode("utf-8"))


def folder_manifest(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Every file of a model folder with its BLAKE3 digest (symlinks refused)."""
    return _folder_manifest(folder, "model file")


def read_verified(folder: str | os.PathLike[str], rel: str, meta: ModelMeta) -> bytes:
    """The bytes of one model file, after checking *those bytes* against ``meta.files``."""
    expected = meta.files.get(rel)
    if expected is None:
        raise IntegrityError(
            f"model file {rel!r} is not listed in {MODEL_META_FILE}",
            field=rel,
            hint="the folder was not written by save_model, or MLmodel.json was edited",
        )
    path = safe_member_join(Path(folder), rel, field="files")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IntegrityError(
            f"model file {rel!r} is missing: expected digest {expected}, found none",
            field=rel,
        ) from None
    found = hash_bytes(data)
    if found != expected:
        raise IntegrityError(
            f"model file {rel!r} changed: expected digest {expected}, found {found}",
            field=rel,
            value=found,
            hint="the file was modified after the model was saved; refusing to load it",
        )
    return data
