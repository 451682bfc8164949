"""Data versions with statistics: add, get, diff, validate, drift, report (DVC verbs + profiles)."""

from loopml.data.add import add
from loopml.data.diff import DiffResult, diff
from loopml.data.drift import drift
from loopml.data.get import DatasetSummary, get, list, show, versions
from loopml.data.manage import (
    lineage,
    pin_schema,
    remove_alias,
    schema_of,
    set_alias,
    unpin_schema,
    validate,
)
from loopml.data.report import report, write_report
from loopml.data.schema import ColumnSchema, Schema, Violation
from loopml.data.versions import DatasetVersion

__all__ = [
    "ColumnSchema",
    "DatasetSummary",
    "DatasetVersion",
    "DiffResult",
    "Schema",
    "Violation",
    "add",
    "diff",
    "drift",
    "get",
    "lineage",
    "list",
    "pin_schema",
    "remove_alias",
    "report",
    "schema_of",
    "set_alias",
    "show",
    "unpin_schema",
    "validate",
    "versions",
    "write_report",
]
