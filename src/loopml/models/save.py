"""``save_model`` writes a model folder; ``load_model_folder`` reads one back, digests first.

Loading checks every file of the folder, ``MLmodel.json`` included, against the digests the
registry recorded *before* parsing any of them, and each flavor then loads from bytes it has just
checked again: a file whose digest differs is never unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from loopml._util.hashing import hash_bytes, is_digest
from loopml.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from loopml.models import flavors
from loopml.models.format import (
    MODEL_META_FILE,
    ModelMeta,
    folder_manifest,
    parse_meta,
    write_meta,
)
from loopml.models.loaded import LoadedModel
from loopml.models.signature import (
    ModelSignature,
    infer_signature,
    to_frame,
    validate_input,
)

INPUT_EXAMPLE_FILE = "input_example.json"
MAX_EXAMPLE_ROWS = 5


def save_model(
    model: Any,
    folder: str | os.PathLike[str],
    *,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    flavor: str | None = None,
) -> ModelMeta:
    """Write ``model`` into ``folder`` (new or empty) as its flavor's files plus ``MLmodel.json``.

    Without ``signature``, one is inferred from ``input_example`` and what ``model`` predicts for
    it. The first rows of the example are kept as ``input_example.json`` (records). The folder
    appears complete or not at all.
    """
    chosen = flavors.by_name(flavor) if flavor is not None else flavors.for_object(model)
    if not chosen.detect(model):
        raise InvalidInput(
            f"the {chosen.NAME} flavor cannot save a {flavors.class_path(model)}",
            field="flavor",
            value=flavor,
            hint="leave flavor unset to pick one from the model's type",
        )
    target = Path(folder)
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    scratch.mkdir()  # not mkdtemp: the folder keeps the umask's permissions, not 0700
    try:
        meta = _write(model, scratch, chosen, signature, input_example)
        if target.exists():
            target.rmdir()  # empty, checked above
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return meta


def _check_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(
            f"cannot save a model into {str(target)!r}: it exists and is not an empty folder",
            field="folder",
            value=str(target),
            hint="choose a new folder",
        )


def _write(
    model: Any,
    folder: Path,
    flavor: flavors.Flavor,
    signature: ModelSignature | None,
    example: Any,
) -> ModelMeta:
    saved = flavor.save(model, folder)
    extra = dict(saved.extra)
    if example is not None:
        extra["input_type"] = "ndarray" if isinstance(example, np.ndarray) else "dataframe"
        if signature is None:
            signature = _infer(model, flavor, saved, extra, example)
        else:
            validate_input(example, signature)  # an example its own signature refuses is a bug
        _write_example(folder, example, signature)
    meta = ModelMeta(
        flavor=flavor.NAME,
        format=saved.format,
        executable=saved.executable,
        files=folder_manifest(folder),
        signature=signature,
        requirements=saved.requirements,
        task=saved.task,
        classes=saved.classes,
        extra=extra,
        loopml_version=_loopml_version(),
    )
    write_meta(folder, meta)
    return meta


def _loopml_version() -> str:
    # not ``loopml.__version__``: importing the root package would reach every layer above this one
    try:
        return metadata.version("loopml")
    except metadata.PackageNotFoundError:
        return "unknown"


def _infer(
    model: Any,
    flavor: flavors.Flavor,
    saved: flavors.SavedFlavor,
    extra: dict[str, Any],
    example: Any,
) -> ModelSignature:
    inputs = infer_signature(example)
    predictor = flavor.predictor(model, saved.task, saved.classes, extra)
    try:
        output = predictor.predict(validate_input(example, inputs))
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInput(
            f"the model could not predict on input_example: {first_line}",
            field="input_example",
            hint="pass an example the model accepts, or pass signature= instead",
        ) from exc
    return infer_signature(example, output)


def _write_example(folder: Path, example: Any, signature: ModelSignature) -> None:
    frame = to_frame(example, field="input_example", columns=signature.input_names)
    head = frame.head(MAX_EXAMPLE_ROWS).astype(object)
    records = head.where(head.notna(), None).to_dict(orient="records")
    text = json.dumps(records, default=_json_value, ensure_ascii=False, allow_nan=False)
    (folder / INPUT_EXAMPLE_FILE).write_text(text, encoding="utf-8")


def _json_value(value: Any) -> Any:
    """numpy scalars as Python numbers, date-times as ISO 8601, anything else as its text."""
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def load_model_folder(
    folder: str | os.PathLike[str],
    *,
    expected_files: Mapping[str, str],
    meta: ModelMeta | None = None,
) -> LoadedModel:
    """Load a model folder after proving every file is the one recorded when it was logged.

    ``expected_files`` maps each relative path in the folder, ``MLmodel.json`` included, to its
    BLAKE3 digest (``folder_manifest`` of the folder as saved). A missing, extra or changed file
    raises ``IntegrityError`` naming the file and both digests, before any file is parsed. When
    ``meta`` is given (the registry's copy), it must equal the folder's ``MLmodel.json``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotFound(f"model folder {str(root)!r} does not exist", field="folder")
    expected = _expected(expected_files)
    _compare(expected, folder_manifest(root))
    raw = (root / MODEL_META_FILE).read_bytes()
    found = hash_bytes(raw)
    if found != expected[MODEL_META_FILE]:  # changed since the manifest was taken
        raise _changed(MODEL_META_FILE, expected[MODEL_META_FILE], found)
    on_disk = parse_meta(raw)
    listed = {k: v for k, v in expected.items() if k != MODEL_META_FILE}
    if on_disk.files != listed:
        raise IntegrityError(
            f"{MODEL_META_FILE} lists files that are not the ones in {str(root)!r}",
            field=MODEL_META_FILE,
            hint="the folder was assembled by hand or edited; save the model again",
        )
    if meta is not None and meta != on_disk:
        raise IntegrityError(
            f"the recorded model metadata differs from {MODEL_META_FILE} in {str(root)!r}",
            field=MODEL_META_FILE,
        )
    predictor = flavors.by_name(on_disk.flavor).load(root, on_disk)
    return LoadedModel(on_disk, predictor)


def _expected(files: Mapping[str, str]) -> dict[str, str]:
    if MODEL_META_FILE not in files:
        raise InvalidInput(
            f"expected_files does not list {MODEL_META_FILE}",
            field="expected_files",
            hint="pass the digest of every file in the model folder, MLmodel.json included",
        )
    for path, digest in files.items():
        if not is_digest(digest):
            raise InvalidInput(
                f"expected_files[{path!r}] is not a BLAKE3 digest: {digest!r}",
                field="expected_files",
                hint="digests are 64 lowercase hex characters",
            )
    return dict(files)


def _compare(expected: Mapping[str, str], found: Mapping[str, str]) -> None:
    differing = [p for p in sorted({*expected, *found}) if expected.get(p) != found.get(p)]
    if differing:
        path = differing[0]
        more = len(differing) - 1
        raise _changed(path, expected.get(path), found.get(path), more)


def _changed(path: str, expected: str | None, found: str | None, more: int = 0) -> IntegrityError:
    if found is None:
        what = "is missing"
    elif expected is None:
        what = "is not part of the model"
    else:
        what = "changed"
    others = f"; {more} more file(s) differ too" if more else ""
    return IntegrityError(
        f"model file {path!r} {what}: expected digest {expected or 'none'}, "
        f"found {found or 'none'}{others}",
        field=path,
        value=found,
        hint="refusing to load a model whose files differ from the ones recorded",
    )
