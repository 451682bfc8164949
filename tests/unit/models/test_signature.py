"""Signatures: inference rules, the JSON form, and every way validate_input refuses a batch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from loopml.errors import InvalidInput
from loopml.models import ColumnSpec, ModelSignature, infer_signature, validate_input

SIGNATURE = ModelSignature(
    inputs=(
        ColumnSpec("age", "int64", nullable=False),
        ColumnSpec("income", "float64", nullable=True),
        ColumnSpec("city", "string", nullable=False),
        ColumnSpec("member", "bool", nullable=False),
    ),
    outputs=(ColumnSpec("prediction", "float64", nullable=True),),
)
ROWS = [
    {"age": 30, "income": 1000.5, "city": "Oslo", "member": True},
    {"age": 41, "income": None, "city": "Rome", "member": False},
]


def _error(data: Any, signature: ModelSignature = SIGNATURE) -> InvalidInput:
    with pytest.raises(InvalidInput, match=r"\S") as caught:
        validate_input(data, signature)
    assert "\n" not in str(caught.value)
    return caught.value


# --- inference ------------------------------------------------------------------------------


def test_infer_from_dataframe_names_types_and_nullability() -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2], dtype="int32"),
            "f": [0.5, 1.5],
            "b": [True, False],
            "s": ["a", None],
            "c": pd.Categorical(["x", "y"]),
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "o": [{"k": 1}, [2]],
        }
    )
    signature = infer_signature(frame)
    assert signature.inputs == (
        ColumnSpec("i", "int64", nullable=False),
        ColumnSpec("f", "float64", nullable=True),  # floats are nullable even without NaN
        ColumnSpec("b", "bool", nullable=False),
        ColumnSpec("s", "string", nullable=True),
        ColumnSpec("c", "category", nullable=False),
        ColumnSpec("t", "datetime", nullable=False),
        ColumnSpec("o", "object", nullable=False),
    )
    assert signature.outputs == ()


def test_infer_from_numpy_names_columns_by_position() -> None:
    signature = infer_signature(np.zeros((3, 2)), np.array([1, 0, 1]))
    assert signature.input_names == ["0", "1"]
    assert signature.outputs == (ColumnSpec("prediction", "int64", nullable=False),)


@pytest.mark.parametrize(
    "example",
    [
        ROWS,
        {"age": [30, 41], "income": [1000.5, None], "city": ["Oslo", "Rome"],
         "member": [True, False]},
        pl.DataFrame(ROWS),
    ],
    ids=["records", "columns", "polars"],
)  # fmt: skip
def test_infer_from_records_columns_and_polars(example: Any) -> None:
    signature = infer_signature(example)
    assert signature.inputs == SIGNATURE.inputs


def test_infer_outputs_from_series_and_2d_array() -> None:
    named = infer_signature([{"a": 1}], pd.Series(["x"], name="label"))
    assert named.outputs == (ColumnSpec("label", "string", nullable=False),)
    proba = infer_signature([{"a": 1}], np.array([[0.2, 0.8]]))
    assert [c.name for c in proba.outputs] == ["0", "1"]


def test_signature_dict_round_trip_and_refusals() -> None:
    assert ModelSignature.from_dict(SIGNATURE.to_dict()) == SIGNATURE
    with pytest.raises(InvalidInput, match="unknown dtype 'decimal'"):
        ModelSignature.from_dict({"inputs": [{"name": "a", "dtype": "decimal"}]})
    with pytest.raises(InvalidInput, match="signature is malformed"):
        ModelSignature.from_dict({"outputs": []})
    with pytest.raises(InvalidInput, match="more than once: 'a'"):
        ModelSignature.from_dict(
            {"inputs": [{"name": "a", "dtype": "int64"}, {"name": "a", "dtype": "int64"}]}
        )


# --- conversion -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        ROWS,
        pd.DataFrame(ROWS)[["member", "city", "income", "age"]],  # any column order
        {"age": [30, 41], "income": [1000.5, None], "city": ["Oslo", "Rome"],
         "member": [True, False]},
        [[30, 1000.5, "Oslo", True], [41, None, "Rome", False]],  # rows in signature order
        pl.DataFrame(ROWS),
    ],
    ids=["records", "dataframe", "columns", "rows", "polars"],
)  # fmt: skip
def test_validate_input_accepts_every_shape(data: Any) -> None:
    frame = validate_input(data, SIGNATURE)
    assert list(frame.columns) == ["age", "income", "city", "member"]
    assert frame["age"].tolist() == [30, 41]
    assert frame["income"].dtype == np.float64 and math.isnan(frame["income"].iloc[1])
    assert frame["city"].tolist() == ["Oslo", "Rome"]
    assert frame["member"].tolist() == [True, False]


def test_validate_input_single_record_and_numpy() -> None:
    record = {"age": 30, "income": 1.0, "city": "Oslo", "member": True}
    assert len(validate_input(record, SIGNATURE)) == 1
    numeric = ModelSignature((ColumnSpec("0", "float64", True), ColumnSpec("1", "int64", False)))
    frame = validate_input(np.array([[0.5, 2.0], [1.5, 3.0]]), numeric)
    assert frame["1"].dtype == np.int64 and frame["1"].tolist() == [2, 3]


def test_int_columns_take_whole_floats_and_float_columns_take_ints() -> None:
    frame = validate_input([{**ROWS[0], "age": 30.0, "income": 7}], SIGNATURE)
    assert frame["age"].dtype == np.int64 and frame["age"].iloc[0] == 30
    assert frame["income"].dtype == np.float64 and frame["income"].iloc[0] == 7.0


def test_numeric_text_is_converted() -> None:
    frame = validate_input([{**ROWS[0], "age": "31", "income": " 2.5"}], SIGNATURE)
    assert frame["age"].iloc[0] == 31 and frame["income"].iloc[0] == 2.5


def test_category_and_datetime_columns_are_converted() -> None:
    signature = ModelSignature(
        (ColumnSpec("c", "category", False), ColumnSpec("t", "datetime", False))
    )
    frame = validate_input([{"c": "x", "t": "2024-05-01T12:00:00"}], signature)
    assert isinstance(frame["c"].dtype, pd.CategoricalDtype)
    assert frame["t"].iloc[0] == pd.Timestamp("2024-05-01T12:00:00")


# --- refusals -------------------------------------------------------------------------------


def test_missing_columns_are_named() -> None:
    error = _error([{"age": 30, "member": True}])
    assert error.field == "income"
    assert "missing input column(s) 'income', 'city'" in str(error)
    assert "the model expects columns 'age', 'income', 'city', 'member'" in str(error)


def test_extra_columns_are_named() -> None:
    error = _error([{**ROWS[0], "zip": "0150", "x": 1}])
    assert error.field == "zip"
    assert "unexpected input column(s) 'zip', 'x'" in str(error)


def test_unconvertible_value_names_column_and_row() -> None:
    error = _error([ROWS[0], {**ROWS[1], "income": "abc"}])
    assert error.field == "income"
    assert str(error).startswith("column 'income': value 'abc' in row 1 is not a number")


def test_fractional_value_in_int_column() -> None:
    error = _error([ROWS[0], ROWS[0], {**ROWS[0], "age": 30.5}])
    assert (error.field, error.value) == ("age", 30.5)
    assert "value 30.5 in row 2 is not a whole number" in str(error)


@pytest.mark.parametrize(
    ("column", "value"),
    [("age", None), ("age", float("nan")), ("city", None), ("member", None)],
)
def test_missing_value_in_non_nullable_column(column: str, value: Any) -> None:
    error = _error([ROWS[0], {**ROWS[1], column: value}])
    assert error.field == column
    assert f"column {column!r} is missing a value in row 1" in str(error)


def test_nan_is_fine_in_a_nullable_float_column() -> None:
    frame = validate_input([{**ROWS[0], "income": float("nan")}], SIGNATURE)
    assert math.isnan(frame["income"].iloc[0])


@pytest.mark.parametrize("value", [float("inf"), -np.inf, "inf"])
def test_infinity_is_refused_even_where_nulls_are_allowed(value: Any) -> None:
    error = _error([{**ROWS[0], "income": value}])
    assert error.field == "income"
    assert "in row 0 is infinite" in str(error)


def test_infinity_in_an_int_column() -> None:
    error = _error(pd.DataFrame([{**ROWS[0], "age": math.inf}]))
    assert "column 'age': value inf in row 0 is infinite" in str(error)


def test_empty_batch() -> None:
    for empty in ([], pd.DataFrame(columns=["age", "income", "city", "member"])):
        error = _error(empty)
        assert error.field == "data"
        assert "the input has no rows" in str(error)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"city": 5}, "column 'city': value 5 in row 0 is not a string"),
        ({"member": "yes"}, "column 'member': value 'yes' in row 0 is not a bool"),
        ({"age": True}, "column 'age': value True in row 0 is a bool, not an integer"),
        ({"income": False}, "column 'income': value False in row 0 is a bool, not a number"),
    ],
)
def test_wrong_types(row: dict[str, Any], message: str) -> None:
    assert message in str(_error([{**ROWS[0], **row}]))


def test_bad_datetime() -> None:
    signature = ModelSignature((ColumnSpec("t", "datetime", False),))
    error = _error([{"t": "2024-01-01"}, {"t": "yesterday"}], signature)
    assert "column 't': value 'yesterday' in row 1 is not a date-time" in str(error)


def test_positional_input_with_the_wrong_width() -> None:
    error = _error(np.zeros((2, 3)))
    assert "has 3 columns, the model expects 4" in str(error)
    assert "is a 1-D array" in str(_error(np.zeros(4)))


def test_unsupported_input_type() -> None:
    assert "data of type int is not supported" in str(_error(42))


def test_error_body_is_ready_for_http() -> None:
    body = _error([{**ROWS[0], "income": "abc"}]).to_dict()
    assert body == {
        "error": "InvalidInput",
        "message": "column 'income': value 'abc' in row 0 is not a number",
        "field": "income",
        "hint": "send a number for 'income'",
    }
