"""Materializers: how a value passing between steps becomes a folder of files and back.

A step's output is cached by content, so saving must be deterministic (the same value gives the
same bytes, in this process or another one) and loading must be safe: ``load_value`` checks every
file of the folder against the digests recorded at save time before any of them is parsed, and no
built-in format runs stored code except ``model``, whose loader checks the bytes it unpickles
again. Object-dtype arrays are refused rather than pickled.

``SavedValue.digest`` is the BLAKE3 digest of the canonical JSON (sorted keys, no spaces, UTF-8)
of ``{"materializer", "version", "meta", "files"}``. ``meta`` is part of it because it can decide
what is loaded: ``(1, 2)`` and ``[1, 2]`` write the same JSON file and differ only in their meta,
and a data version writes no file at all.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml._util import hashing
from loopml._util.hashing import hash_bytes, is_digest
from loopml._util.paths import safe_member_join
from loopml.data import DatasetVersion, show
from loopml.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from loopml.models import LoadedModel, folder_manifest, load_model_folder, save_model
from loopml.models import flavors as model_flavors

PARQUET_FILE = "data.parquet"
ARROW_SCHEMA_FILE = "schema.arrow"
NUMPY_FILE = "array.npy"
JSON_FILE = "value.json"
MODEL_DIR = "model"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_FIX_HINT = (
    "register a materializer for it with loopml.pipelines.materializers.register_materializer, "
    "or return a DataFrame, a numpy array or a JSON-able value instead"
)


class Materializer(Protocol):
    """Writes one kind of value into a folder and reads it back.

    ``name`` and ``version`` are recorded with every saved value and are part of the cache key:
    bump ``version`` whenever the files written for the same value change. ``save`` writes into
    an existing empty folder and returns small JSON-able metadata that ``load`` needs.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def can_save(self, value: Any) -> bool: ...

    def save(self, value: Any, folder: Path) -> dict[str, Any]: ...

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class SavedValue:
    """What was written for a value: enough to verify its folder and load it back.

    ``files`` maps every file written (relative POSIX path, sorted) to its BLAKE3 digest;
    ``digest`` covers the materializer's name and version, ``meta`` and ``files`` (see the
    module docstring), so equal values give equal digests.
    """

    materializer: str
    version: str
    meta: Mapping[str, Any]
    files: Mapping[str, str]
    digest: str

    def __hash__(self) -> int:  # the fields hold dicts; the digest stands for all of them
        return hash(self.digest)

    def to_dict(self) -> dict[str, Any]:
        return {
            "materializer": self.materializer,
            "version": self.version,
            "meta": _plain_json(self.meta, "meta"),
            "files": dict(sorted(self.files.items())),
            "digest": self.digest,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SavedValue:
        """Rebuild from ``to_dict`` output; refuses a record whose digest does not match it."""
        try:
            name, version = data["materializer"], data["version"]
            meta, files, digest = data["meta"], data["files"], data["digest"]
        except (KeyError, TypeError) as exc:
            raise _malformed(f"missing field {exc}") from None
        if not isinstance(name, str) or not isinstance(version, str):
            raise _malformed("materializer and version must be strings")
        if not isinstance(meta, Mapping) or not isinstance(files, Mapping):
            raise _malformed("meta and files must be objects")
        for path, file_digest in files.items():
            if not _is_member(path) or not is_digest(file_digest):
                raise _malformed(f"files entry {path!r} does not map a path to a BLAKE3 digest")
        saved = _saved(name, version, meta, files)
        if saved.digest != digest:
            raise IntegrityError(
                f"saved value record does not match its digest: expected {digest}, "
                f"found {saved.digest}",
                field="digest",
                value=saved.digest,
                hint="the record was edited after it was written",
            )
        return saved


def _saved(
    name: str, version: str, meta: Mapping[str, Any], files: Mapping[str, str]
) -> SavedValue:
    plain_meta = _plain_json(meta, "meta")
    plain_files = dict(sorted(files.items()))
    body = {"materializer": name, "version": version, "meta": plain_meta, "files": plain_files}
    digest = hash_bytes(_canonical(body))
    return SavedValue(name, version, plain_meta, plain_files, digest)


def _canonical(value: Any) -> bytes:
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _plain_json(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    """A deep copy made of plain JSON types (tuples become lists), or InvalidInput."""
    try:
        plain = json.loads(_canonical(dict(value)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{field} is not JSON: {exc}",
            field=field,
            hint="a materializer's save must return strings, numbers, booleans, None, lists "
            "and dicts",
        ) from None
    assert isinstance(plain, dict)
    return plain


def _malformed(why: str) -> InvalidInput:
    return InvalidInput(f"saved value record is malformed: {why}", field="saved")


def _is_member(path: object) -> bool:
    return (
        isinstance(path, str)
        and "\x00" not in path
        and "\\" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
    )


# --- built-ins --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataVersionMaterializer:
    """A ``DatasetVersion``: its address and digest only; the data stays in the dataset store."""

    name: str = "data_version"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, DatasetVersion)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        return {"ref": value.ref, "version_id": value.version_id, "digest": value.digest}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        found = show(str(meta["ref"]))
        if found.digest != meta["digest"] or found.version_id != meta["version_id"]:
            raise IntegrityError(
                f"data version {meta['ref']} changed: expected digest {meta['digest']}, "
                f"found {found.digest}",
                field="ref",
                value=found.digest,
                hint="the dataset was deleted and added again; run the step that produced it again",
            )
        return found


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Every option fixed, so equal tables give equal bytes; Parquet records no timestamp."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        store_schema=True,
        write_page_index=False,
    )


def _table_from_pandas(frame: pd.DataFrame) -> pa.Table:
    levels = getattr(frame.columns, "levels", [frame.columns])
    for level in levels:  # what pyarrow would only warn about, then store as strings
        if level.dtype == object and "mixed" in pd.api.types.infer_dtype(level, skipna=False):
            raise InvalidInput(
                f"the DataFrame's column names mix types ({list(level)[:5]!r}), "
                "which Parquet would turn into strings",
                field="output",
                hint="give the columns names of one type, such as all strings",
            )
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError) as exc:
        raise InvalidInput(
            f"the DataFrame cannot be stored as Parquet: {exc}",
            field="output",
            hint="give each column one type and unique names (mixed Python objects cannot be "
            "stored)",
        ) from None


@dataclass(frozen=True)
class PandasMaterializer:
    """A pandas DataFrame as Parquet; the index and column dtypes come back through its schema.

    An index's ``freq`` is not kept (Parquet stores the values, not how they were generated).
    """

    name: str = "pandas"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, pd.DataFrame)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        _write_parquet(_table_from_pandas(value), folder / PARQUET_FILE)
        return {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        return pq.read_table(folder / PARQUET_FILE).to_pandas()


def _is_polars_frame(value: Any) -> bool:
    kind = type(value)
    return kind.__module__.split(".")[0] == "polars" and kind.__name__ == "DataFrame"


@dataclass(frozen=True)
class PolarsMaterializer:
    """A polars DataFrame as Parquet (through Arrow); polars is imported only to load one."""

    name: str = "polars"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return _is_polars_frame(value)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        _write_parquet(value.to_arrow(), folder / PARQUET_FILE)
        return {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        try:
            polars = importlib.import_module("polars")
        except ImportError:
            raise NotFound(
                "polars is not installed, so this polars DataFrame cannot be loaded",
                field="materializer",
                value=self.name,
                hint="pip install polars",
            ) from None
        return polars.from_arrow(pq.read_table(folder / PARQUET_FILE))


@dataclass(frozen=True)
class ArrowMaterializer:
    """A pyarrow Table as Parquet, plus its exact Arrow schema.

    Parquet alone reads some types back as near relatives (a dictionary of ``large_string``
    comes back as a dictionary of ``string``); the table is cast back to the schema it had.
    """

    name: str = "arrow"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, pa.Table)

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        _write_parquet(value, folder / PARQUET_FILE)
        (folder / ARROW_SCHEMA_FILE).write_bytes(value.schema.serialize().to_pybytes())
        return {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        schema = pa.ipc.read_schema(pa.py_buffer((folder / ARROW_SCHEMA_FILE).read_bytes()))
        table = pq.read_table(folder / PARQUET_FILE)
        return table if table.schema.equals(schema, check_metadata=True) else table.cast(schema)


@dataclass(frozen=True)
class NumpyMaterializer:
    """A numpy array (or numpy scalar) as ``.npy``, never pickled: object dtypes are refused."""

    name: str = "numpy"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        exact = type(value) is np.ndarray or isinstance(value, np.generic)
        return exact and not value.dtype.hasobject

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise _object_dtype(value)
        with (folder / NUMPY_FILE).open("wb") as out:
            np.save(out, array, allow_pickle=False)
        return {"scalar": True} if isinstance(value, np.generic) else {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        array = np.load(folder / NUMPY_FILE, allow_pickle=False)
        return array[()] if meta.get("scalar") else array


def _object_dtype(value: Any) -> InvalidInput:
    return InvalidInput(
        f"cannot save a numpy array of dtype {np.asarray(value).dtype}: "
        "it holds Python objects, which would have to be pickled",
        field="output",
        hint="convert it to a numeric or string dtype, or return a DataFrame",
    )


class _NotJson(Exception):
    """Why a value is not JSON-able (a type problem, not a bad number)."""


@dataclass(frozen=True)
class JsonMaterializer:
    """None, bools, numbers, strings, and lists, tuples and string-keyed dicts of them.

    Written as canonical JSON (sorted keys, no spaces), so equal values give equal digests; dicts
    therefore come back with their keys sorted. Tuples come back as tuples: ``meta["tuples"]``
    lists the path (keys and indices) of each. numpy scalars inside a container come back as
    Python numbers. NaN and infinity are refused, as JSON has no spelling for them.
    """

    name: str = "json"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return _json_problem(value) is None

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        tuples: list[list[str | int]] = []
        try:
            plain = _to_json(value, [], tuples, finite=True)
        except (_NotJson, RecursionError) as exc:
            raise InvalidInput(
                f"the value is not JSON-able: {exc}", field="output", hint=_FIX_HINT
            ) from None
        try:
            data = _canonical(plain)
        except UnicodeEncodeError:
            raise InvalidInput(
                "the value holds a string that is not valid Unicode (a lone surrogate)",
                field="output",
            ) from None
        (folder / JSON_FILE).write_bytes(data)
        return {"tuples": tuples} if tuples else {}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        value = json.loads((folder / JSON_FILE).read_bytes().decode("utf-8"))
        paths = list(meta.get("tuples", []))
        wrapper = [value]
        for path in sorted(paths, key=len, reverse=True):  # innermost first
            parent: Any = wrapper
            keys: list[Any] = [0, *path]
            for key in keys[:-1]:
                parent = parent[key]
            parent[keys[-1]] = tuple(parent[keys[-1]])
        return wrapper[0]


def _json_problem(value: Any) -> str | None:
    try:
        _to_json(value, [], [], finite=False)
    except _NotJson as exc:
        return str(exc)
    except RecursionError:
        return "it is nested too deeply or contains itself"
    return None


def _to_json(
    value: Any, path: list[str | int], tuples: list[list[str | int]], *, finite: bool
) -> Any:
    if isinstance(value, np.bool_ | np.integer | np.floating):
        value = value.item()
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if finite and not math.isfinite(value):
            raise InvalidInput(
                f"{_where(path)} is {value}, which JSON cannot hold",
                field="output",
                hint="use None for a missing number, or return a numpy array (which keeps NaN)",
            )
        return float(value)
    if isinstance(value, list | tuple):
        if isinstance(value, tuple):
            tuples.append(list(path))
        return [_to_json(item, [*path, i], tuples, finite=finite) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _NotJson(f"{_where(path)} has the key {key!r}, and JSON keys must be strings")
            out[str(key)] = _to_json(item, [*path, key], tuples, finite=finite)
        return out
    kind = type(value)
    raise _NotJson(f"{_where(path)} is a {kind.__module__}.{kind.__qualname__}")


def _where(path: list[str | int]) -> str:
    return "value" + "".join(f"[{key!r}]" for key in path)


@dataclass(frozen=True)
class MappingMaterializer:
    """A dict with text keys whose values are not all JSON-able (``{"train": df, "test": df}``):
    each value saved by its own materializer into a numbered sub-folder."""

    name: str = "mapping"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        if not isinstance(value, dict) or not value:
            return False
        if not all(isinstance(k, str) for k in value):
            return False
        try:
            for item in value.values():
                materializer_for(item)
        except InvalidInput:
            return False
        return True

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        items = []
        for index, item in enumerate(value.values()):
            items.append(save_value(item, folder / str(index)).to_dict())
        return {"keys": list(value), "items": items}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        keys = list(meta.get("keys", []))
        items = list(meta.get("items", []))
        return {
            key: load_value(folder / str(index), SavedValue.from_dict(item))
            for index, (key, item) in enumerate(zip(keys, items, strict=True))
        }


class ModelMaterializer:
    """A model (anything with ``predict``) via ``loopml.models.save_model``; loads a LoadedModel.

    ``meta["files"]`` repeats the model folder's digests, so loading verifies them even when this
    materializer is called without ``load_value``.
    """

    name: str = "model"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        if isinstance(value, pd.DataFrame | np.ndarray | pa.Table) or _is_polars_frame(value):
            return False
        try:
            model_flavors.for_object(value)
        except InvalidInput:
            return False
        return True

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        meta = save_model(value, folder / MODEL_DIR)
        return {"flavor": meta.flavor, "files": folder_manifest(folder / MODEL_DIR)}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> LoadedModel:
        return load_model_folder(folder / MODEL_DIR, expected_files=dict(meta["files"]))


@dataclass(frozen=True)
class FileMaterializer:
    """A ``Path`` to a file: copied under its own name; loads as the path of the copy."""

    name: str = "file"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, Path) and value.is_file()

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        name = value.name
        shutil.copyfile(value, folder / name)  # content only: no mode or times to vary
        return {"name": name}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        target = safe_member_join(folder, _single_name(meta), field="name")
        if not target.is_file():
            raise IntegrityError(f"file {target.name!r} is missing from {folder}", field="name")
        return target


@dataclass(frozen=True)
class FolderMaterializer:
    """A ``Path`` to a folder: its files copied under the folder's name; loads as that path.

    Symlinks are followed while they stay inside the folder and refused when they lead out (or
    loop). A folder value is its files: empty sub-folders are not kept.
    """

    name: str = "folder"
    version: str = "1"

    def can_save(self, value: Any) -> bool:
        return isinstance(value, Path) and value.is_dir()

    def save(self, value: Any, folder: Path) -> dict[str, Any]:
        source = value.resolve()
        destination = folder.resolve()
        if destination == source or source in destination.parents:
            raise InvalidInput(
                f"cannot save folder {str(value)!r} into {str(folder)!r}, which is inside it",
                field="output",
                hint="return a folder that does not hold the pipeline's output folder",
            )
        name = source.name or "folder"
        (folder / name).mkdir()
        _copy_tree(value, source, source, folder / name, frozenset({source}))
        return {"name": name}

    def load(self, folder: Path, meta: Mapping[str, Any]) -> Any:
        target = safe_member_join(folder, _single_name(meta), field="name")
        target.mkdir(exist_ok=True)  # an empty folder value has no file to bring it back
        return target


def _single_name(meta: Mapping[str, Any]) -> str:
    name = meta.get("name")
    if not isinstance(name, str) or not _is_member(name) or "/" in name:
        raise InvalidInput(f"meta name {name!r} is not a file name", field="name")
    return name


def _copy_tree(given: Path, root: Path, here: Path, target: Path, stack: frozenset[Path]) -> None:
    """Copy the files under ``here`` (a real path inside ``root``) to ``target``."""
    for entry in sorted(os.scandir(here), key=lambda e: e.name):
        real = Path(os.path.realpath(entry.path))
        shown = given / Path(entry.path).relative_to(root)
        if real != root and root not in real.parents:
            raise InvalidInput(
                f"{str(shown)!r} is a symlink that leads outside {str(given)!r} (to {str(real)!r})",
                field="output",
                hint="copy the file into the folder, or remove the link",
            )
        if entry.is_dir(follow_symlinks=True):
            if real in stack:
                raise InvalidInput(
                    f"{str(shown)!r} is a symlink that loops back to {str(real)!r}",
                    field="output",
                    hint="remove the link",
                )
            files_below = target / entry.name
            files_below.mkdir()
            _copy_tree(given, root, real, files_below, stack | {real})
            if not any(files_below.iterdir()):
                files_below.rmdir()
        elif entry.is_file(follow_symlinks=True):
            shutil.copyfile(real, target / entry.name)
        else:
            raise InvalidInput(
                f"{str(shown)!r} is neither a file nor a folder (a broken link, a socket, "
                "a pipe or a device)",
                field="output",
                hint="remove it from the folder",
            )


BUILTINS: tuple[Materializer, ...] = (
    DataVersionMaterializer(),
    PandasMaterializer(),
    PolarsMaterializer(),
    ArrowMaterializer(),
    NumpyMaterializer(),
    JsonMaterializer(),
    MappingMaterializer(),
    ModelMaterializer(),
    FileMaterializer(),
    FolderMaterializer(),
)
_BUILTIN_NAMES = frozenset(m.name for m in BUILTINS)
_lock = threading.Lock()
_registered: tuple[Materializer, ...] = ()


# --- registry ---------------------------------------------------------------------------------


def register_materializer(materializer: Materializer) -> None:
    """Make ``materializer`` available in this process; it is tried before the built-ins.

    The latest registered is tried first; registering a name again replaces the earlier one. A
    process that loads a value must register its materializer too (a Dask worker included).
    """
    global _registered
    name = getattr(materializer, "name", None)
    version = getattr(materializer, "version", None)
    if not isinstance(name, str) or not name or not _NAME_CHARS.issuperset(name):
        raise InvalidInput(
            f"materializer name {name!r} is not valid",
            field="name",
            value=name,
            hint="use lowercase letters, digits, '_', '.' and '-'",
        )
    if not isinstance(version, str) or not version:
        raise InvalidInput(
            f"materializer {name!r} needs a non-empty string version, not {version!r}",
            field="version",
            value=version,
        )
    for method in ("can_save", "save", "load"):
        if not callable(getattr(materializer, method, None)):
            raise InvalidInput(
                f"materializer {name!r} has no {method} method",
                field=method,
                hint="implement can_save(value), save(value, folder) and load(folder, meta)",
            )
    if name in _BUILTIN_NAMES:
        raise AlreadyExists(
            f"materializer name {name!r} is taken by a built-in",
            field="name",
            value=name,
            hint="choose another name (values saved by the built-in keep loading with it)",
        )
    with _lock:
        _registered = (materializer, *(m for m in _registered if m.name != name))


def unregister_materializer(name: str) -> None:
    """Forget a user materializer (tests, notebooks); unknown names are ignored."""
    global _registered
    with _lock:
        _registered = tuple(m for m in _registered if m.name != name)


def _all() -> tuple[Materializer, ...]:
    return (*_registered, *BUILTINS)


def materializer_for(value: Any) -> Materializer:
    """The first materializer that can save ``value``: user-registered ones, then the built-ins."""
    for materializer in _all():
        if materializer.can_save(value):
            return materializer
    raise _unsupported(value)


def _unsupported(value: Any) -> InvalidInput:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        return _object_dtype(value)
    if isinstance(value, Path):
        return InvalidInput(
            f"cannot save the path {str(value)!r}: there is no file or folder there",
            field="output",
            value=str(value),
            hint="return the path of an existing file or folder",
        )
    why = ""
    if isinstance(value, list | tuple | dict):
        why = f": it is not JSON-able ({_json_problem(value)})"
    return InvalidInput(
        f"no materializer can save a {kind}{why}", field="output", value=kind, hint=_FIX_HINT
    )


def materializer_fingerprint() -> dict[str, str]:
    """Name to version of every materializer in this process (registered ones too), sorted.

    Part of a step's cache key: bumping any materializer's version re-runs the steps, since a
    value it saved before may no longer load.
    """
    return dict(sorted((m.name, m.version) for m in _all()))


def materializer_by_name(name: str) -> Materializer:
    """The materializer called ``name`` in this process (user-registered or built-in)."""
    for materializer in _all():
        if materializer.name == name:
            return materializer
    raise NotFound(
        f"no materializer is called {name!r} in this process",
        field="materializer",
        value=name,
        hint="import the module that defines it and call register_materializer before loading",
    )


# --- save and load ----------------------------------------------------------------------------


def save_value(value: Any, folder: Path) -> SavedValue:
    """Save ``value`` into ``folder`` (new or empty) and return what was written.

    On failure the folder is left empty again.
    """
    materializer = materializer_for(value)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AlreadyExists(
            f"cannot save a value into {str(folder)!r}: it exists and is not an empty folder",
            field="folder",
            value=str(folder),
            hint="choose a new folder",
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        meta = materializer.save(value, folder)
        if not isinstance(meta, Mapping):
            raise InvalidInput(
                f"materializer {materializer.name!r} returned {type(meta).__name__}, not a dict",
                field="meta",
            )
        files = _manifest(folder, materializer.name)
        return _saved(materializer.name, materializer.version, meta, files)
    except BaseException:
        _empty(folder)
        raise


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _manifest(folder: Path, materializer: str) -> dict[str, str]:
    """Every file under ``folder`` with its digest; a symlink or special file is refused."""
    return hashing.folder_manifest(
        folder, "value file", hint=f"materializer {materializer!r} must write regular files"
    )


def load_value(folder: Path, saved: SavedValue) -> Any:
    """Load a value back, after proving every file in ``folder`` is the one recorded in ``saved``.

    A missing, extra or changed file raises ``IntegrityError`` naming it and both digests,
    before any file is parsed.
    """
    materializer = materializer_by_name(saved.materializer)
    if materializer.version != saved.version:
        raise NotFound(
            f"materializer {saved.materializer!r} here is version {materializer.version!r}, "
            f"but the value was saved with version {saved.version!r}",
            field="version",
            value=saved.version,
            hint="run the step again to save the value in the current format",
        )
    expected = _saved(saved.materializer, saved.version, saved.meta, saved.files)
    if expected.digest != saved.digest:
        raise IntegrityError(
            f"saved value record does not match its digest: expected {saved.digest}, "
            f"found {expected.digest}",
            field="digest",
            value=expected.digest,
            hint="the record was edited after it was written",
        )
    if not folder.is_dir():
        raise NotFound(f"value folder {str(folder)!r} does not exist", field="folder")
    _compare(saved.files, _manifest(folder, saved.materializer))
    return materializer.load(folder, saved.meta)


def _compare(expected: Mapping[str, str], found: Mapping[str, str]) -> None:
    differing = [p for p in sorted({*expected, *found}) if expected.get(p) != found.get(p)]
    if not differing:
        return
    path = differing[0]
    want, got = expected.get(path), found.get(path)
    if got is None:
        what = "is missing"
    elif want is None:
        what = "is not part of the saved value"
    else:
        what = "changed"
    more = len(differing) - 1
    others = f"; {more} more file(s) differ too" if more else ""
    raise IntegrityError(
        f"value file {path!r} {what}: expected digest {want or 'none'}, "
        f"found {got or 'none'}{others}",
        field=path,
        value=got,
        hint="refusing to load a value whose files differ from the ones recorded",
    )
