"""Model signatures: the columns a model takes and returns, and the check every request passes.

``validate_input`` is what stands between a caller (an HTTP client included) and ``predict``: it
turns records, columns, arrays and polars frames into one pandas DataFrame in the signature's
column order, and refuses bad input with one user-facing line naming the column, the row and the
fix, so the serving layer can answer 400 instead of letting the model fail somewhere deep inside.

Column types are a small set, narrower than the data schema's Arrow names on purpose (a model
cares whether a value is a number, not how wide it was stored):

``bool``, ``int64`` (any integer width), ``float64`` (any float width), ``string``, ``category``
(pandas categorical), ``datetime`` (datetime64, any time zone) and ``object`` (anything else,
checked for presence and missing values only).

Inference rules: float columns are always nullable (NaN is how floats say "missing"); other
columns are nullable only when the example holds a missing value. Infinity is refused in every
column. A 2-D numpy array's columns are named ``"0"``, ``"1"``, ... in order; a 1-D output is one
column named ``"prediction"`` (a Series keeps its name).
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from loopml.errors import InvalidInput

DTYPES = ("bool", "int64", "float64", "string", "category", "datetime", "object")
PREDICTION_COLUMN = "prediction"
_MAX_NAMES = 10


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, its type (one of ``DTYPES``) and whether it may hold missing values."""

    name: str
    dtype: str
    nullable: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}


@dataclass(frozen=True)
class ModelSignature:
    """The input columns a model takes (in order) and the output columns it returns."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        try:
            inputs = tuple(_column_from_dict(c) for c in data["inputs"])
            outputs = tuple(_column_from_dict(c) for c in data.get("outputs") or ())
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(
                f"signature is malformed: missing or wrong field {exc}",
                field="signature",
                hint='expected {"inputs": [{"name": ..., "dtype": ..., "nullable": ...}, ...]}',
            ) from None
        names = [c.name for c in inputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidInput(
                f"signature names input column(s) more than once: {_names(duplicates)}",
                field="signature",
                hint="give every input column a distinct name",
            )
        return cls(inputs, outputs)


def _column_from_dict(data: Mapping[str, Any]) -> ColumnSpec:
    dtype = str(data["dtype"])
    if dtype not in DTYPES:
        raise InvalidInput(
            f"signature column {data['name']!r} has unknown dtype {dtype!r}",
            field="signature",
            value=dtype,
            hint=f"use one of {', '.join(DTYPES)}",
        )
    nullable = data.get("nullable", True)
    if not isinstance(nullable, bool):
        raise TypeError("nullable")
    return ColumnSpec(name=str(data["name"]), dtype=dtype, nullable=nullable)


# ---------------------------------------------------------------------------------------------
# inference


def infer_signature(input_example: Any, output_example: Any = None) -> ModelSignature:
    """The signature an example implies (see the module docstring for the rules)."""
    frame = to_frame(input_example, field="input_example")
    inputs = tuple(_infer_column(str(name), frame[name]) for name in frame.columns)
    outputs = () if output_example is None else _infer_outputs(output_example)
    return ModelSignature(inputs, outputs)


def _infer_outputs(example: Any) -> tuple[ColumnSpec, ...]:
    if _is_polars(example):
        example = example.to_pandas()
    if isinstance(example, pd.DataFrame):
        return tuple(_infer_column(str(n), example[n]) for n in example.columns)
    if isinstance(example, pd.Series):
        name = PREDICTION_COLUMN if example.name is None else str(example.name)
        return (_infer_column(name, example),)
    array = np.asarray(example)
    if array.ndim == 1:
        return (_infer_column(PREDICTION_COLUMN, pd.Series(array)),)
    if array.ndim == 2:
        frame = pd.DataFrame(array, columns=[str(i) for i in range(array.shape[1])])
        return tuple(_infer_column(str(n), frame[n]) for n in frame.columns)
    raise InvalidInput(
        f"cannot infer output columns from a {array.ndim}-D {type(example).__name__}",
        field="output_example",
        hint="pass a Series, a DataFrame, or a 1-D or 2-D array",
    )


def _infer_column(name: str, column: pd.Series[Any]) -> ColumnSpec:
    dtype = dtype_name(column)
    nullable = dtype == "float64" or bool(column.isna().any())
    return ColumnSpec(name, dtype, nullable)


def dtype_name(column: pd.Series[Any]) -> str:
    """The signature type of a pandas column."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pdt.is_bool_dtype(dtype):
        return "bool"
    if pdt.is_integer_dtype(dtype):
        return "int64"
    if pdt.is_float_dtype(dtype):
        return "float64"
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if pdt.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(column, skipna=True)
        return {
            "string": "string",
            "boolean": "bool",
            "integer": "int64",
            "floating": "float64",
            "mixed-integer-float": "float64",
            "datetime": "datetime",
            "datetime64": "datetime",
        }.get(inferred, "object")
    return "object"


# ---------------------------------------------------------------------------------------------
# conversion of the accepted input shapes


def to_frame(
    data: Any, *, field: str = "data", columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A pandas DataFrame from any accepted input shape, with string column names.

    ``columns`` names the columns of positional input (2-D arrays, lists of rows); without it
    they are ``"0"``, ``"1"``, ...
    """
    frame = _as_frame(data, field, columns)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    names = list(frame.columns)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(
            f"column(s) {_names(duplicates)} appear more than once",
            field=duplicates[0],
            hint="send each column once",
        )
    return frame


def _as_frame(data: Any, field: str, columns: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if _is_polars(data):
        return data.to_pandas()  # type: ignore[no-any-return]
    if isinstance(data, pd.Series):
        return data.to_frame(name="0" if data.name is None else str(data.name))
    if isinstance(data, Mapping):
        if data and all(_is_scalar(v) for v in data.values()):
            return pd.DataFrame([dict(data)])  # one record
        try:
            return pd.DataFrame({str(k): list(_as_list(v, field)) for k, v in data.items()})
        except ValueError as exc:
            raise InvalidInput(
                f"{field} columns have different lengths ({exc})",
                field=field,
                hint="send the same number of values for every column",
            ) from None
    if isinstance(data, np.ndarray):
        return _positional(data, field, columns)
    if isinstance(data, list | tuple):
        if data and all(isinstance(r, Mapping) for r in data):
            return pd.DataFrame([dict(r) for r in data])
        if not data:
            return pd.DataFrame({name: [] for name in columns or ()})
        if all(isinstance(r, list | tuple) for r in data):
            widths = {len(r) for r in data}
            if len(widths) > 1:
                raise InvalidInput(
                    f"{field} rows have different lengths ({sorted(widths)})",
                    field=field,
                    hint="send the same number of values in every row",
                )
            return _positional(np.asarray(data, dtype=object), field, columns)
    raise InvalidInput(
        f"{field} of type {type(data).__name__} is not supported",
        field=field,
        hint="send records (a list of objects), columns (an object of lists), "
        "a list of rows, a 2-D array or a DataFrame",
    )


def _positional(
    array: np.ndarray[Any, Any], field: str, columns: Sequence[str] | None
) -> pd.DataFrame:
    if array.ndim != 2:
        raise InvalidInput(
            f"{field} is a {array.ndim}-D array; a 2-D array (rows x columns) is needed",
            field=field,
            hint="reshape it, e.g. array.reshape(1, -1) for a single row",
        )
    if columns is None:
        columns = [str(i) for i in range(array.shape[1])]
    elif len(columns) != array.shape[1]:
        raise InvalidInput(
            f"{field} has {array.shape[1]} columns, the model expects {len(columns)} "
            f"({_names(columns)})",
            field=field,
            hint="send one value per model input column, in the signature's order",
        )
    if array.dtype == object:
        # let pandas infer each column's type, as it would for records
        return pd.DataFrame({name: list(array[:, i]) for i, name in enumerate(columns)})
    return pd.DataFrame(array, columns=list(columns))


def _as_list(value: Any, field: str) -> Sequence[Any]:
    if isinstance(value, np.ndarray | pd.Series):
        return list(value)
    if isinstance(value, list | tuple):
        return value
    raise InvalidInput(
        f"{field} column values must be lists, not {type(value).__name__}",
        field=field,
        hint='send columns as {"name": [value, ...], ...}',
    )


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bytes | numbers.Number | bool | np.generic)


def _is_polars(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_pandas")


# ---------------------------------------------------------------------------------------------
# validation


def validate_input(data: Any, signature: ModelSignature) -> pd.DataFrame:
    """``data`` as a DataFrame in the signature's column order, or ``InvalidInput`` saying why not.

    Rows are named by their 0-based position. Values already of a column's type family are left
    as they are; others are converted (ints to float columns, whole floats and numeric text to
    int columns, 0/1 to bool columns, ISO 8601 text to datetime columns) or refused.
    """
    expected = signature.input_names
    fast = _numeric_records(data, signature)
    if fast is not None:
        return fast
    frame = to_frame(data, columns=expected)
    if len(frame) == 0:
        raise InvalidInput(
            "the input has no rows", field="data", hint="send at least one row to predict on"
        )
    present = list(frame.columns)
    missing = [n for n in expected if n not in present]
    if missing:
        raise InvalidInput(
            f"missing input column(s) {_names(missing)}",
            field=missing[0],
            hint=f"the model expects columns {_names(expected)}",
        )
    extra = [n for n in present if n not in expected]
    if extra:
        raise InvalidInput(
            f"unexpected input column(s) {_names(extra)}",
            field=extra[0],
            hint=f"remove them; the model expects columns {_names(expected)}",
        )
    converted = {spec.name: _convert(frame[spec.name], spec) for spec in signature.inputs}
    return pd.DataFrame(converted, index=frame.index)


_FAST_KINDS = {"float64", "int64"}


def _numeric_records(data: Any, signature: ModelSignature) -> pd.DataFrame | None:
    """The common case of a server, done without a DataFrame per column: records whose keys are
    exactly the signature's and whose values are plain numbers in numeric columns. Anything
    else (None, text, bools, other types, other keys) returns None for the general path, which
    also produces the error messages."""
    if not isinstance(data, list) or not data:
        return None
    names = signature.input_names
    wanted = set(names)
    if any(type(row) is not dict or row.keys() != wanted for row in data):
        return None
    columns: dict[str, Any] = {}
    for spec in signature.inputs:
        if spec.dtype not in _FAST_KINDS:
            return None
        values = [row[spec.name] for row in data]
        if not all(type(v) is float or (type(v) is int and abs(v) < 2**53) for v in values):
            return None
        array = np.asarray(values, dtype="float64")
        if not np.isfinite(array).all():
            return None
        if spec.dtype == "int64":
            if not np.all(np.mod(array, 1) == 0):
                return None
            array = array.astype("int64")
        columns[spec.name] = array
    return pd.DataFrame(columns, columns=list(names))


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_MAX_NAMES])
    more = len(names) - _MAX_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _bad(spec: ColumnSpec, row: int, value: Any, why: str, hint: str) -> InvalidInput:
    return InvalidInput(
        f"column {spec.name!r}: value {_show(value)} in row {row} {why}",
        field=spec.name,
        value=value,
        hint=hint,
    )


def _show(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_nulls(spec: ColumnSpec, nulls: np.ndarray[Any, Any]) -> None:
    if spec.nullable or not nulls.any():
        return
    row = int(np.flatnonzero(nulls)[0])
    raise InvalidInput(
        f"column {spec.name!r} is missing a value in row {row} and does not accept missing values",
        field=spec.name,
        hint="send a value for every row (null and NaN are not allowed here)",
    )


def _convert(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    converter = _CONVERTERS[spec.dtype]
    return converter(column, spec)


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _to_float(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    if pdt.is_bool_dtype(column.dtype) and len(column):
        raise _bad(spec, 0, column.iloc[0], "is a bool, not a number", "send a number")
    if pdt.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = np.array([_parse_float(v, spec, row) for row, v in enumerate(column)])
    _check_finite(spec, values)
    _check_nulls(spec, np.isnan(values))
    return pd.Series(values, index=column.index, dtype="float64")


def _parse_float(value: Any, spec: ColumnSpec, row: int) -> float:
    if _is_null(value):
        return math.nan
    if isinstance(value, bool | np.bool_):
        raise _bad(spec, row, value, "is a bool, not a number", "send a number")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            raise _bad(
                spec, row, value, "is too large for a number", "send a smaller number"
            ) from None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _bad(spec, row, value, "is not a number", f"send a number for {spec.name!r}")


def _check_finite(spec: ColumnSpec, values: np.ndarray[Any, Any]) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise _bad(spec, row, values[row], "is infinite", "send a finite number")


def _to_int(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    if pdt.is_bool_dtype(column.dtype) and len(column):
        raise _bad(spec, 0, column.iloc[0], "is a bool, not an integer", "send a whole number")
    if pdt.is_integer_dtype(column.dtype):
        if not column.hasnans:
            return column  # already integers: keep them exact, whatever their width
        _check_nulls(spec, column.isna().to_numpy())
        return pd.Series(column.to_numpy(dtype="float64", na_value=np.nan), index=column.index)
    if pdt.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        _check_finite(spec, values)
        parsed: list[Any] = [None if math.isnan(v) else v for v in values]
    else:
        parsed = [_parse_int(v, spec, row) for row, v in enumerate(column)]
    nulls = np.array([v is None for v in parsed], dtype=bool)
    for row, value in enumerate(parsed):
        if value is not None and isinstance(value, float) and not value.is_integer():
            raise _bad(spec, row, value, "is not a whole number", "send an integer")
    _check_nulls(spec, nulls)
    if nulls.any():  # a nullable int column with gaps: floats with NaN, as pandas itself does
        return pd.Series([math.nan if v is None else float(v) for v in parsed], index=column.index)
    try:
        return pd.Series([int(v) for v in parsed], index=column.index, dtype="int64")
    except OverflowError:
        row = next(r for r, v in enumerate(parsed) if abs(int(v)) >= 2**63)
        raise _bad(
            spec, row, parsed[row], "does not fit in int64", "send a smaller integer"
        ) from None


def _parse_int(value: Any, spec: ColumnSpec, row: int) -> int | float | None:
    if _is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        raise _bad(spec, row, value, "is a bool, not an integer", "send a whole number")
    if isinstance(value, numbers.Integral):
        if abs(int(value)) >= 2**63:
            raise _bad(
                spec, row, value, "is too large for a 64-bit integer", "send a smaller number"
            )
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _bad(spec, row, value, "is not a number", "send a whole number") from None
    else:
        raise _bad(spec, row, value, "is not a number", "send a whole number")
    if math.isinf(number):
        raise _bad(spec, row, value, "is infinite", "send a finite number")
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number


def _to_bool(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    if pdt.is_bool_dtype(column.dtype):
        _check_nulls(spec, column.isna().to_numpy())
        return column
    values: list[bool | None] = []
    for row, value in enumerate(column):
        if _is_null(value):
            values.append(None)
        elif isinstance(value, bool | np.bool_ | numbers.Real) and value in (0, 1):
            values.append(bool(value))
        else:
            raise _bad(spec, row, value, "is not a bool", "send true or false (or 1 or 0)")
    nulls = np.array([v is None for v in values], dtype=bool)
    _check_nulls(spec, nulls)
    if nulls.any():
        return pd.Series(pd.array(values, dtype="boolean"), index=column.index)
    return pd.Series(values, index=column.index, dtype="bool")


def _to_string(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    if not isinstance(column.dtype, pd.StringDtype):
        for row, value in enumerate(column):
            if not _is_null(value) and not isinstance(value, str):
                raise _bad(spec, row, value, "is not a string", "send text for this column")
    _check_nulls(spec, column.isna().to_numpy())
    return column


def _to_category(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    _check_nulls(spec, column.isna().to_numpy())
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column
    return column.astype("category")


def _to_datetime(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    nulls = column.isna().to_numpy()
    if not pdt.is_datetime64_any_dtype(column.dtype):
        hint = "send ISO 8601 text such as 2024-05-01T12:00:00"
        for row, value in enumerate(column):
            if not _is_null(value) and not isinstance(value, str | datetime.date | np.datetime64):
                raise _bad(spec, row, value, "is not a date-time", hint)
        try:
            parsed = pd.to_datetime(column, format="ISO8601", errors="coerce")
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"column {spec.name!r} cannot be read as date-times: {exc}",
                field=spec.name,
                hint="send ISO 8601 text with the same time zone (or none) in every row",
            ) from None
        unreadable = np.flatnonzero(parsed.isna().to_numpy() & ~nulls)
        if len(unreadable):
            row = int(unreadable[0])
            raise _bad(spec, row, column.iloc[row], "is not a date-time", hint)
        column = parsed
    _check_nulls(spec, nulls)
    return column


def _to_object(column: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any]:
    _check_nulls(spec, column.isna().to_numpy())
    return column


_CONVERTERS: dict[str, Callable[[pd.Series[Any], ColumnSpec], pd.Series[Any]]] = {
    "bool": _to_bool,
    "int64": _to_int,
    "float64": _to_float,
    "string": _to_string,
    "category": _to_category,
    "datetime": _to_datetime,
    "object": _to_object,
}
