"""Compile a parsed run filter and order into one SQL query over runs.

Each metric, param or tag comparison becomes ``pk IN (runs holding that key and value)``: the
database builds each candidate set once from an index (latest metrics, never the metric history)
instead of probing per run, so a search over tens of thousands of runs stays one cheap query.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import InvalidInput
from loopml.store.base import RunQuery
from loopml.store.experiments import view_condition
from loopml.store.search_grammar import (
    And,
    Comparison,
    Expr,
    Not,
    Or,
    OrderKey,
    parse_filter,
    parse_order_by,
)
from loopml.store.tables import latest_metrics, params, runs, tags

MAX_RESULTS_LIMIT = 100_000

_ATTRIBUTE_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "run_id": runs.c.run_id,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "user": runs.c.user,
    "experiment_id": runs.c.experiment_id,
    "parent_run_id": runs.c.parent_run_id,
    "git_commit": runs.c.git_commit,
    "lifecycle_stage": runs.c.lifecycle_stage,
}
_KEYED_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}


def search_run_pks(conn: Connection, query: RunQuery) -> list[int]:
    """Run keys matching ``query``, in the requested order."""
    if not 1 <= query.max_results <= MAX_RESULTS_LIMIT:
        raise InvalidInput(
            f"max_results must be between 1 and {MAX_RESULTS_LIMIT}, got {query.max_results}",
            field="max_results",
            value=query.max_results,
        )
    statement = sa.select(runs.c.pk).where(view_condition(runs.c.lifecycle_stage, query.view))
    if query.experiment_ids is not None:
        statement = statement.where(runs.c.experiment_id.in_(list(query.experiment_ids)))
    expr = parse_filter(query.filter_string)
    if expr is not None:
        statement = statement.where(_compile(expr))
    for number, key in enumerate(parse_order_by(query.order_by)):
        statement = _order(statement, key, number)
    statement = statement.order_by(runs.c.start_time.desc(), runs.c.pk.desc())
    return [row[0] for row in conn.execute(statement.limit(query.max_results))]


def _compile(expr: Expr) -> sa.ColumnElement[bool]:
    if isinstance(expr, And):
        return sa.and_(*(_compile(item) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(_compile(item) for item in expr.items))
    if isinstance(expr, Not):
        return sa.not_(_compile(expr.item))
    return _comparison(expr)


def _comparison(cmp: Comparison) -> sa.ColumnElement[bool]:
    if cmp.entity == "attribute":
        return _apply(_ATTRIBUTE_COLUMNS[cmp.key], cmp.op, cmp.value)
    table = _KEYED_TABLES[cmp.entity]
    holders = sa.select(table.c.run_pk).where(table.c.key == cmp.key)
    if cmp.op == "IS NULL":
        return runs.c.pk.not_in(holders)
    if cmp.op == "IS NOT NULL":
        return runs.c.pk.in_(holders)
    return runs.c.pk.in_(holders.where(_apply(table.c.value, cmp.op, cmp.value)))


def _apply(column: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    match op:
        case "=":
            return column.__eq__(value)
        case "!=":
            return column.__ne__(value)
        case "<":
            return column.__lt__(value)
        case "<=":
            return column.__le__(value)
        case ">":
            return column.__gt__(value)
        case ">=":
            return column.__ge__(value)
        case "LIKE":
            return column.like(value)
        case "NOT LIKE":
            return column.not_like(value)
        case "ILIKE":
            return column.ilike(value)
        case "NOT ILIKE":
            return column.not_ilike(value)
        case "IN":
            return column.in_(list(value))
        case "NOT IN":
            return column.not_in(list(value))
        case "IS NULL":
            return column.is_(None)
        case "IS NOT NULL":
            return column.is_not(None)
    raise InvalidInput(f"unsupported operator {op!r}", field="filter_string")


def _order(statement: sa.Select[Any], key: OrderKey, number: int) -> sa.Select[Any]:
    if key.entity == "attribute":
        column = _ATTRIBUTE_COLUMNS[key.key]
    else:
        table = _KEYED_TABLES[key.entity].alias(f"order_{number}")
        statement = statement.outerjoin(
            table, (table.c.run_pk == runs.c.pk) & (table.c.key == key.key)
        )
        column = table.c.value
    ordered = column.asc() if key.ascending else column.desc()
    return statement.order_by(ordered.nulls_last())
