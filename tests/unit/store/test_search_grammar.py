"""The run search grammar: valid filters give the expected AST, invalid ones point at a column."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopml.errors import InvalidInput
from loopml.store.search_grammar import (
    ATTRIBUTES,
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    NUMERIC_ATTRIBUTES,
    And,
    Comparison,
    Entity,
    Expr,
    Not,
    Or,
    OrderKey,
    Value,
    parse_filter,
    parse_order_by,
    render,
)


def m(key: str, op: str, value: float | tuple[float, ...] | None) -> Comparison:
    return Comparison("metric", key, op, value)


def p(key: str, op: str, value: str | tuple[str, ...] | None) -> Comparison:
    return Comparison("param", key, op, value)


def t(key: str, op: str, value: str | tuple[str, ...] | None) -> Comparison:
    return Comparison("tag", key, op, value)


def a(key: str, op: str, value: float | str | tuple[str, ...] | None) -> Comparison:
    return Comparison("attribute", key, op, value)


ACC = m("acc", ">", 0.9)
LR = p("lr", "=", "0.01")
TEAM = t("team", "=", "x")

VALID: list[tuple[str, Expr]] = [
    # MLflow's documented examples
    ("metrics.acc > 0.9", ACC),
    (
        "metrics.acc > 0.9 and params.lr = '0.01' and tags.team = 'x' "
        "and attributes.status = 'FINISHED'",
        And((ACC, LR, TEAM, a("status", "=", "FINISHED"))),
    ),
    (
        "metrics.rmse < 1 and params.model = 'tree'",
        And((m("rmse", "<", 1.0), p("model", "=", "tree"))),
    ),
    ("tags.`mlflow.source.type` = 'LOCAL'", t("mlflow.source.type", "=", "LOCAL")),
    ("tags.mlflow.source.type = 'LOCAL'", t("mlflow.source.type", "=", "LOCAL")),
    ("attributes.run_name LIKE 'base%'", a("run_name", "LIKE", "base%")),
    ("attributes.run_name ILIKE '%BASE%'", a("run_name", "ILIKE", "%BASE%")),
    ("params.optimizer NOT LIKE 'sgd%'", p("optimizer", "NOT LIKE", "sgd%")),
    ("tags.team not ilike 'ML%'", t("team", "NOT ILIKE", "ML%")),
    ("attributes.run_id IN ('a1', 'b2')", a("run_id", "IN", ("a1", "b2"))),
    ("run_id NOT IN ('a1')", a("run_id", "NOT IN", ("a1",))),
    ("metrics.epoch in (1, 2, 3)", m("epoch", "IN", (1.0, 2.0, 3.0))),
    ("metrics.`val loss` < 0.3", m("val loss", "<", 0.3)),
    ('metrics."val loss" <= 0.3', m("val loss", "<=", 0.3)),
    ("metrics.`a``b` = 1", m("a`b", "=", 1.0)),
    ("tags.note IS NULL", t("note", "IS NULL", None)),
    ("tags.note is not null", t("note", "IS NOT NULL", None)),
    ("metrics.loss IS NOT NULL", m("loss", "IS NOT NULL", None)),
    # operators and their spellings
    ("metrics.acc == 1", m("acc", "=", 1.0)),
    ("metrics.acc <> 1", m("acc", "!=", 1.0)),
    ("metrics.acc != 1", m("acc", "!=", 1.0)),
    ("metrics.acc >= 1", m("acc", ">=", 1.0)),
    ("metrics.acc>=1", m("acc", ">=", 1.0)),
    ("params.lr='0.01'", LR),
    # numbers
    ("metrics.loss < -1.5", m("loss", "<", -1.5)),
    ("metrics.loss < 1e-3", m("loss", "<", 0.001)),
    ("metrics.loss < 2.5E+2", m("loss", "<", 250.0)),
    ("metrics.loss < .5", m("loss", "<", 0.5)),
    ("metrics.loss < +3", m("loss", "<", 3.0)),
    ("metrics.loss < 7.", m("loss", "<", 7.0)),
    # strings
    ('params.lr = "0.01"', LR),
    ("tags.q = 'it''s'", t("q", "=", "it's")),
    ("tags.q = 'it\\'s'", t("q", "=", "it's")),
    ('tags.q = "say ""hi"""', t("q", "=", 'say "hi"')),
    ("tags.q = 'back\\\\slash'", t("q", "=", "back\\slash")),
    ("tags.q LIKE '100\\%'", t("q", "LIKE", "100\\%")),
    ("tags.q = ''", t("q", "=", "")),
    ("tags.q = 'and or not ( )'", t("q", "=", "and or not ( )")),
    # entity aliases, case-blindness, bare attributes
    ("metric.acc > 0.9", ACC),
    ("METRICS.acc > 0.9", ACC),
    ("param.lr = '0.01'", LR),
    ("parameters.lr = '0.01'", LR),
    ("parameter.lr = '0.01'", LR),
    ("tag.team = 'x'", TEAM),
    ("attribute.status = 'FAILED'", a("status", "=", "FAILED")),
    ("attr.status = 'FAILED'", a("status", "=", "FAILED")),
    ("run.status = 'FAILED'", a("status", "=", "FAILED")),
    ("attributes.STATUS = 'FAILED'", a("status", "=", "FAILED")),
    ("status = 'FINISHED'", a("status", "=", "FINISHED")),
    ("start_time >= 1700000000000", a("start_time", ">=", 1.7e12)),
    ("end_time IS NULL", a("end_time", "IS NULL", None)),
    ("user = 'ada'", a("user", "=", "ada")),
    ("experiment_id = '0'", a("experiment_id", "=", "0")),
    ("parent_run_id IS NULL", a("parent_run_id", "IS NULL", None)),
    ("git_commit LIKE 'abc%'", a("git_commit", "LIKE", "abc%")),
    ("lifecycle_stage = 'active'", a("lifecycle_stage", "=", "active")),
    ("metrics.acc > 0.9 AND params.lr = '0.01'", And((ACC, LR))),
    # boolean structure
    ("metrics.acc > 0.9 or params.lr = '0.01'", Or((ACC, LR))),
    ("not metrics.acc > 0.9", Not(ACC)),
    ("NOT NOT metrics.acc > 0.9", Not(Not(ACC))),
    ("(metrics.acc > 0.9)", ACC),
    ("((metrics.acc > 0.9))", ACC),
    (
        "metrics.acc > 0.9 and params.lr = '0.01' or tags.team = 'x'",
        Or((And((ACC, LR)), TEAM)),
    ),
    (
        "metrics.acc > 0.9 or params.lr = '0.01' and tags.team = 'x'",
        Or((ACC, And((LR, TEAM)))),
    ),
    (
        "metrics.acc > 0.9 and (params.lr = '0.01' or tags.team = 'x')",
        And((ACC, Or((LR, TEAM)))),
    ),
    ("not metrics.acc > 0.9 and params.lr = '0.01'", And((Not(ACC), LR))),
    ("not (metrics.acc > 0.9 and params.lr = '0.01')", Not(And((ACC, LR)))),
    ("not(metrics.acc > 0.9)", Not(ACC)),
    ("(metrics.acc > 0.9 and params.lr = '0.01') and tags.team = 'x'", And((And((ACC, LR)), TEAM))),
    (
        "metrics.acc > 0.9 or not tags.team = 'x' and params.lr = '0.01' or status = 'F'",
        Or((ACC, And((Not(TEAM), LR)), a("status", "=", "F"))),
    ),
    ("  metrics.acc\n>\t0.9  ", ACC),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0] for v in VALID])
def test_valid_filters_parse_to_the_expected_ast(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_no_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None


INVALID: list[tuple[str, int, str]] = [
    # (filter, 1-based column, message fragment)
    ("metrics.acc > and x", 15, "expected a value after '>', got 'and'"),
    ("metrics.acc >", 14, "expected a value after '>', got the end"),
    ("metrics.acc", 12, "expected an operator after 'metrics.acc'"),
    ("metrics.acc 0.9", 13, "expected an operator"),
    ("metrics.acc = 'abc'", 15, "metrics compare with numbers, got 'abc'"),
    ("params.lr = 0.01", 13, "params compare with strings, got 0.01"),
    ("tags.n = 3", 10, "tags compare with strings, got 3"),
    ("attributes.status = 1", 21, "attributes.status compares with strings, got 1"),
    ("start_time > 'yesterday'", 14, "attributes.start_time compares with numbers"),
    ("metrics.acc LIKE '9%'", 13, "LIKE compares strings, but metrics compare with numbers"),
    ("end_time NOT ILIKE '9%'", 10, "NOT ILIKE compares strings"),
    ("metrics.acc IN ('a')", 17, "metrics compare with numbers, got 'a'"),
    ("params.lr IN ('a', 1)", 20, "params compare with strings, got 1"),
    ("params.lr IN ()", 15, "the IN list is empty"),
    ("params.lr NOT IN ()", 19, "the NOT IN list is empty"),
    ("params.lr IN 'a'", 14, "expected '\\(' after IN"),
    ("params.lr IN ('a',)", 19, "expected a value after ','"),
    ("params.lr IN ('a' 'b')", 19, "expected ',' or '\\)' in the IN list"),
    ("params.lr IN ('a'", 18, "expected ',' or '\\)' in the IN list, got the end"),
    ("params.lr = NULL", 13, "NULL is only allowed after IS"),
    ("params.lr IS 'x'", 14, "expected NULL or NOT NULL after IS"),
    ("params.lr IS NOT 'x'", 18, "expected NULL or NOT NULL after IS"),
    ("params.lr NOT = 'x'", 15, "expected LIKE, ILIKE or IN after NOT"),
    ("tags.q = 'open", 10, "unterminated string"),
    ('tags.q = "open', 10, "unterminated string"),
    ("tags.`open = 'x'", 6, "unterminated key"),
    ("tags.`` = 'x'", 6, "empty key"),
    ("tags. = 'x'", 6, "expected a key after 'tags.'"),
    ("(metrics.acc > 0.9", 19, "expected '\\)' to close the '\\(' at column 1"),
    ("((metrics.acc > 0.9)", 21, "expected '\\)' to close the '\\(' at column 1"),
    ("metrics.acc > 0.9)", 18, "unmatched '\\)'"),
    ("()", 2, "expected a comparison such as metrics.acc > 0.9, got '\\)'"),
    ("metrics.acc > 0.9 params.lr = 'x'", 19, "unexpected 'params.lr' after a complete condition"),
    ("metrics.acc > 0.9 and", 22, "expected a comparison .*, got the end"),
    ("metrics.acc > 0.9 or or params.lr = 'x'", 22, "expected a comparison .*, got 'or'"),
    ("and metrics.acc > 1", 1, "expected a comparison .*, got 'and'"),
    ("not", 4, "expected a comparison"),
    ("metrcs.acc > 1", 1, "unknown entity 'metrcs' \\(did you mean 'metrics'\\?\\)"),
    ("tgas.a = 'x'", 1, "did you mean 'tags'"),
    ("foo.a = 'x'", 1, "unknown entity 'foo'; valid entities: metrics, params, tags, attributes"),
    ("attributes.stauts = 'x'", 12, "unknown attribute 'stauts' \\(did you mean 'status'\\?\\)"),
    ("attributes.color = 'x'", 12, "valid attributes: run_id, run_name, status"),
    ("statsu = 'x'", 1, "unknown name 'statsu' \\(did you mean 'status'\\?\\)"),
    ("acc > 0.9", 1, "write <entity>.<key>"),
    ("metrics > 0.9", 1, "'metrics' needs a key: write metrics.<key>"),
    ("'acc' > 0.9", 1, "expected a comparison .*, got \"'acc'\""),
    ("metrics.acc > 0.9 && x", 19, "unexpected character '&'"),
    ("metrics.acc ! 1", 13, "unexpected character '!'"),
    ("`acc` > 1", 1, "backticks quote keys after an entity"),
    ("metrics.acc > 1x", 15, "malformed number '1x'"),
    ("metrics.acc > 1e999", 15, "out of range"),
    ("metrics.acc > - 1", 15, "unexpected character '-'"),
]


@pytest.mark.parametrize(("text", "column", "fragment"), INVALID, ids=[v[0] for v in INVALID])
def test_invalid_filters_point_at_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=f"at column {column}: .*{fragment}") as info:
        parse_filter(text)
    assert info.value.field == "filter_string"
    assert info.value.value == text
    caret_line = info.value.message.splitlines()[-1]
    assert caret_line == " " * (column + 1) + "^"


def test_error_shows_the_filter_with_a_caret_under_the_token() -> None:
    with pytest.raises(InvalidInput, match="expected a value") as info:
        parse_filter("metrics.acc > and x")
    assert info.value.message == (
        "invalid filter at column 15: expected a value after '>', got 'and'\n"
        "  metrics.acc > and x\n"
        "                ^"
    )


def test_number_for_a_param_hints_to_quote_it() -> None:
    with pytest.raises(InvalidInput, match="params compare with strings") as info:
        parse_filter("params.lr = 0.01")
    assert info.value.hint is not None
    assert "params.lr = '0.01'" in info.value.hint


def test_multiline_filter_caret_stays_on_one_line() -> None:
    with pytest.raises(InvalidInput, match="at column 23: expected a comparison") as info:
        parse_filter("metrics.acc > 0.9\nand 5")
    lines = info.value.message.splitlines()
    assert lines[1] == "  metrics.acc > 0.9 and 5"
    assert lines[2].index("^") == 2 + 22


def test_long_filter_error_shows_a_window_around_the_problem() -> None:
    text = " and ".join(f"metrics.m{i} > {i}" for i in range(40)) + " and metrics.bad > 'x'"
    with pytest.raises(InvalidInput, match="metrics compare with numbers") as info:
        parse_filter(text)
    _, snippet, caret = info.value.message.splitlines()
    assert snippet.startswith("  ...")
    assert len(snippet) < 90
    assert snippet[caret.index("^")] == "'"


def test_filters_longer_than_the_limit_are_refused() -> None:
    text = "metrics.acc > 0.9 and " * (MAX_FILTER_LENGTH // 22) + "metrics.acc > 0.9"
    assert len(text) > MAX_FILTER_LENGTH
    with pytest.raises(InvalidInput, match="the limit is 10,000"):
        parse_filter(text)


def test_nesting_up_to_the_limit_is_fine_and_deeper_is_refused() -> None:
    deep = "(" * MAX_FILTER_DEPTH + "metrics.acc > 0.9" + ")" * MAX_FILTER_DEPTH
    assert parse_filter(deep) == ACC
    with pytest.raises(InvalidInput, match=f"at column {MAX_FILTER_DEPTH + 1}: .*deeper than 50"):
        parse_filter("(" + deep + ")")
    with pytest.raises(InvalidInput, match="deeper than 50"):
        parse_filter("not " * (MAX_FILTER_DEPTH + 1) + "metrics.acc > 0.9")


# --- order by -----------------------------------------------------------------------------------

ORDER_VALID: list[tuple[list[str], tuple[OrderKey, ...]]] = [
    (["metrics.acc DESC"], (OrderKey("metric", "acc", ascending=False),)),
    (["metrics.acc desc"], (OrderKey("metric", "acc", ascending=False),)),
    (["params.lr"], (OrderKey("param", "lr"),)),
    (["attributes.start_time ASC"], (OrderKey("attribute", "start_time"),)),
    (["start_time"], (OrderKey("attribute", "start_time"),)),
    (["tags.`my tag` DESC"], (OrderKey("tag", "my tag", ascending=False),)),
    (
        ["metrics.acc DESC", "run_name", "attr.end_time desc"],
        (
            OrderKey("metric", "acc", ascending=False),
            OrderKey("attribute", "run_name"),
            OrderKey("attribute", "end_time", ascending=False),
        ),
    ),
    ([], ()),
]


@pytest.mark.parametrize(("items", "expected"), ORDER_VALID, ids=[str(v[0]) for v in ORDER_VALID])
def test_order_by_parses(items: list[str], expected: tuple[OrderKey, ...]) -> None:
    assert parse_order_by(items) == expected


def test_order_by_none_and_lone_string() -> None:
    assert parse_order_by(None) == ()
    assert parse_order_by("metrics.acc DESC") == (OrderKey("metric", "acc", ascending=False),)


ORDER_INVALID: list[tuple[str, str]] = [
    ("metrics.acc DESCENDING", "at column 13: expected ASC or DESC, got 'DESCENDING'"),
    ("metrics.acc DESC x", "at column 18: unexpected 'x' after the sort direction"),
    ("acc DESC", "at column 1: unknown name 'acc'"),
    ("metrcs.acc", "at column 1: unknown entity 'metrcs'"),
    ("attributes.colour", "at column 12: unknown attribute 'colour'"),
    ("", "at column 1: empty order_by item"),
    ("DESC", "at column 1: expected a key such as metrics.acc, got 'DESC'"),
    ("metrics.acc > 1", "at column 13: expected ASC or DESC, got '>'"),
]


@pytest.mark.parametrize(("item", "fragment"), ORDER_INVALID, ids=[v[0] for v in ORDER_INVALID])
def test_order_by_errors_name_the_item(item: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(f"order_by item {item!r}")) as info:
        parse_order_by(["metrics.ok", item])
    assert re.search(fragment, info.value.message)
    assert info.value.field == "order_by"


# --- render round-trip --------------------------------------------------------------------------

_NUMBERS = st.floats(allow_nan=False, allow_infinity=False)
_STRINGS = st.text(max_size=12)
_KEYS = st.text(min_size=1, max_size=12)
_STRING_OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"]
_NUMBER_OPS = ["=", "!=", "<", "<=", ">", ">="]


_ENTITIES: list[Entity] = ["metric", "param", "tag", "attribute"]


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    entity = draw(st.sampled_from(_ENTITIES))
    key = draw(st.sampled_from(ATTRIBUTES) if entity == "attribute" else _KEYS)
    numeric = entity == "metric" or (entity == "attribute" and key in NUMERIC_ATTRIBUTES)
    ops = [*(_NUMBER_OPS if numeric else _STRING_OPS), "IN", "NOT IN", "IS NULL", "IS NOT NULL"]
    op = draw(st.sampled_from(ops))
    listed = op in ("IN", "NOT IN")
    value: Value
    if op in ("IS NULL", "IS NOT NULL"):
        value = None
    elif numeric:
        value = (
            tuple(draw(st.lists(_NUMBERS, min_size=1, max_size=4))) if listed else draw(_NUMBERS)
        )
    else:
        value = (
            tuple(draw(st.lists(_STRINGS, min_size=1, max_size=4))) if listed else draw(_STRINGS)
        )
    return Comparison(entity, key, op, value)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    groups = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(children.map(Not), groups.map(And), groups.map(Or))


EXPRS: st.SearchStrategy[Expr] = st.recursive(comparisons(), _extend, max_leaves=12)


@given(EXPRS)
def test_render_then_parse_round_trips(expr: Expr) -> None:
    assert parse_filter(render(expr)) == expr


@pytest.mark.parametrize(("text", "expected"), VALID[:20], ids=[v[0] for v in VALID[:20]])
def test_render_of_parsed_filters_is_stable(text: str, expected: Expr) -> None:
    rendered = render(expected)
    assert parse_filter(rendered) == expected
    reparsed = parse_filter(rendered)
    assert reparsed is not None
    assert render(reparsed) == rendered


def test_render_reads_well() -> None:
    expr = And((ACC, Or((LR, Not(TEAM))), m("val loss", "IN", (1.0, 2.0))))
    assert render(expr) == (
        "metrics.acc > 0.9 and (params.lr = '0.01' or not tags.team = 'x') "
        "and metrics.`val loss` IN (1.0, 2.0)"
    )


_FRAGMENTS = st.sampled_from(
    [
        *"metrics.acprgu_ ()'\"`,=!<>-+.019eE\\\n",
        *("and", "or", "not", "in", "is", "null", "like"),
        *("metrics.", "params.", "tags.", "status"),
    ]
)


@given(st.one_of(st.text(max_size=30), st.lists(_FRAGMENTS, max_size=25).map("".join)))
def test_arbitrary_text_parses_or_raises_invalid_input(text: str) -> None:
    message = "at column"
    try:
        expr = parse_filter(text)
    except InvalidInput as error:
        message, expr = error.message, None
    assert "at column" in message
    assert expr is None or parse_filter(render(expr)) == expr
