"""Run search filters and order-by keys: MLflow's grammar plus ``or``, ``not`` and parentheses.

Pure text to AST (no SQL, no I/O) so the SQL store, the CLI and the server share one parser and
every caller gets the same error, with a caret under the offending token::

    metrics.acc > 0.9 and (params.lr = '0.01' or not tags.team LIKE 'x%')
    attributes.status IN ('FINISHED', 'FAILED') and start_time >= 1700000000000

Keys with spaces or operator characters are written in backticks or double quotes:
``metrics.`val loss` < 0.3``. Values are numbers for metrics and the time attributes, quoted
strings for everything else (MLflow stores params as strings, so ``params.lr = '0.01'``).

Over 600 lines on purpose: the tokenizer, the parser, the renderer (used by the round-trip
property test) and the caret error formatting share one token model; split them when a second
grammar (model or monitor filters) needs the tokenizer.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn, TypeAlias

from loopml.errors import InvalidInput

__all__ = [
    "ATTRIBUTES",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LENGTH",
    "NUMERIC_ATTRIBUTES",
    "And",
    "Comparison",
    "Entity",
    "Expr",
    "Not",
    "Or",
    "OrderKey",
    "Value",
    "parse_filter",
    "parse_order_by",
    "render",
]

MAX_FILTER_LENGTH = 10_000
MAX_FILTER_DEPTH = 50

Entity = Literal["metric", "param", "tag", "attribute"]
Value: TypeAlias = float | str | tuple[float, ...] | tuple[str, ...] | None

ATTRIBUTES: tuple[str, ...] = (
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user",
    "experiment_id",
    "parent_run_id",
    "git_commit",
    "lifecycle_stage",
)
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})

_ENTITY_ALIASES: dict[str, Entity] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "parameter": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_CANONICAL: dict[Entity, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
}
_ALIAS_CANONICAL = {alias: _CANONICAL[entity] for alias, entity in _ENTITY_ALIASES.items()}
_VALID_ENTITIES = "metrics, params, tags, attributes"
_VALID_ATTRIBUTES = ", ".join(ATTRIBUTES)

_KEYWORDS = frozenset({"and", "or", "not", "like", "ilike", "in", "is", "null", "asc", "desc"})
_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_LIKE_OPS = frozenset({"LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"})
_IN_OPS = frozenset({"IN", "NOT IN"})
_NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
_OP_LIST = "=, !=, <, <=, >, >=, LIKE, ILIKE, NOT LIKE, NOT ILIKE, IN, NOT IN, IS NULL, IS NOT NULL"

# Characters that end an unquoted word or key; keys holding them must be quoted.
_DELIMS = frozenset("(),=!<>'\"`")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SNIPPET_WIDTH = 72


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` test, with the op normalised (``==`` -> ``=``)."""

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    """All items hold; the parser never builds one with fewer than two items."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one item holds; the parser never builds one with fewer than two items."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold."""

    item: Expr


Expr: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order-by term, e.g. ``metrics.acc DESC``."""

    entity: Entity
    key: str
    ascending: bool = True


# --- errors -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """The text being parsed plus how to name it in errors, so every message points at a column."""

    text: str
    label: str
    field: str

    def fail(self, pos: int, what: str, hint: str | None = None) -> NoReturn:
        """Raise InvalidInput naming the 1-based column, with a caret under ``pos``."""
        message = f"invalid {self.label} at column {pos + 1}: {what}\n{_caret(self.text, pos)}"
        raise InvalidInput(message, field=self.field, value=self.text, hint=hint)


def _caret(text: str, pos: int) -> str:
    """Two lines, the (windowed, one-line) text and a caret under ``pos``, for error messages."""
    flat = "".join(" " if c.isspace() else c for c in text)
    start, prefix, suffix = 0, "", ""
    if len(flat) > _SNIPPET_WIDTH:
        start = max(0, min(pos - _SNIPPET_WIDTH // 2, len(flat) - _SNIPPET_WIDTH))
        prefix = "..." if start > 0 else ""
        suffix = "..." if start + _SNIPPET_WIDTH < len(flat) else ""
    snippet = prefix + flat[start : start + _SNIPPET_WIDTH] + suffix
    return f"  {snippet}\n  {' ' * (len(prefix) + pos - start)}^"


# --- tokenizer ----------------------------------------------------------------------------------

_Kind = Literal["name", "number", "string", "op", "(", ")", ",", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    """A lexeme with its position; ``text`` is the decoded string, word, key or normalised op."""

    kind: _Kind
    pos: int
    raw: str
    text: str = ""
    number: float = 0.0
    prefix: str | None = None  # for names: the part before the first '.', None for bare words
    key_pos: int = 0  # for names: where the key starts, for carets under bad keys

    def describe(self) -> str:
        """How error messages quote this token."""
        return "the end" if self.kind == "end" else repr(self.raw)

    def keyword(self) -> str | None:
        """The lowercased keyword if this is a bare keyword word, so keywords stay case-blind."""
        if self.kind == "name" and self.prefix is None and self.text.lower() in _KEYWORDS:
            return self.text.lower()
        return None


def _tokenize(src: _Source) -> list[_Token]:
    """Split the text into tokens, failing on the first character that cannot start one."""
    text = src.text
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            kind: _Kind = "(" if c == "(" else ")" if c == ")" else ","
            tokens.append(_Token(kind, i, c))
            i += 1
        elif c in "=!<>":
            two = text[i : i + 2]
            op = two if two in _OPS else c
            if op == "!":
                src.fail(i, "unexpected character '!'", hint="did you mean '!='?")
            tokens.append(_Token("op", i, op, _OPS[op]))
            i += len(op)
        elif c in "'\"":
            value, end = _read_quoted(src, i)
            tokens.append(_Token("string", i, text[i:end], value))
            i = end
        elif c == "`":
            src.fail(i, "backticks quote keys after an entity, e.g. metrics.`my metric`")
        elif (match := _NUMBER_RE.match(text, i)) is not None:
            end = match.end()
            if end < n and not (text[end].isspace() or text[end] in "(),=!<>"):
                stop = end
                while stop < n and not (text[stop].isspace() or text[stop] in _DELIMS):
                    stop += 1
                src.fail(i, f"malformed number {text[i:stop]!r}")
            number = float(match.group())
            if not math.isfinite(number):
                src.fail(i, f"number {match.group()!r} is out of range")
            tokens.append(_Token("number", i, match.group(), number=number))
            i = end
        elif c.isalpha() or c == "_":
            tokens.append(_read_name(src, i))
            i += len(tokens[-1].raw)
        else:
            src.fail(i, f"unexpected character {c!r}")
    tokens.append(_Token("end", n, ""))
    return tokens


def _read_quoted(src: _Source, start: int) -> tuple[str, int]:
    """Decode a quoted string or key (doubled quote or backslash escapes); return it and its end."""
    text, quote = src.text, src.text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            if text[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\\" and quote != "`" and i + 1 < len(text):
            nxt = text[i + 1]
            # Only quotes and backslash are escapes; '\_' and '\%' stay as LIKE escapes.
            out.append(nxt if nxt in "\\'\"" else c + nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    what = "key" if quote == "`" else "string"
    src.fail(start, f"unterminated {what}: no closing {quote} for the {quote} here")


def _read_name(src: _Source, start: int) -> _Token:
    """Read a bare word or ``entity.key``, with the key optionally in backticks or double quotes."""
    text = src.text
    i = start
    while i < len(text) and not (text[i].isspace() or text[i] in _DELIMS):
        i += 1
    word = text[start:i]
    if "." not in word:
        return _Token("name", start, word, word, key_pos=start)
    prefix, key = word.split(".", 1)
    key_pos = start + len(prefix) + 1
    if key == "" and i < len(text) and text[i] in '`"':
        key, i = _read_quoted(src, i)
        if key == "":
            src.fail(key_pos, f"empty key after '{prefix}.'")
    return _Token("name", start, text[start:i], key, prefix=prefix, key_pos=key_pos)


# --- names --------------------------------------------------------------------------------------


def _suggest(word: str, choices: Sequence[str], canonical: dict[str, str] | None = None) -> str:
    """A ' (did you mean ...?)' tail from difflib, or '' when nothing is close."""
    matches = difflib.get_close_matches(word.lower(), choices, n=2)
    # Aliases map to their canonical entity name, and only the best one is worth suggesting.
    close = [canonical.get(matches[0], matches[0])] if canonical and matches else matches
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _resolve(src: _Source, tok: _Token) -> tuple[Entity, str]:
    """Turn a name token into (entity, key), checking the entity and attribute names."""
    if tok.prefix is None:
        word = tok.text.lower()
        if word in ATTRIBUTES:
            return "attribute", word
        if word in _ENTITY_ALIASES:
            src.fail(tok.pos, f"{tok.text!r} needs a key: write {tok.text}.<key>")
        src.fail(
            tok.pos,
            f"unknown name {tok.text!r}{_suggest(word, ATTRIBUTES)}; write <entity>.<key> "
            f"with entity one of {_VALID_ENTITIES}, or a bare attribute: {_VALID_ATTRIBUTES}",
        )
    entity = _ENTITY_ALIASES.get(tok.prefix.lower())
    if entity is None:
        close = _suggest(tok.prefix, list(_ENTITY_ALIASES), _ALIAS_CANONICAL)
        src.fail(
            tok.pos, f"unknown entity {tok.prefix!r}{close}; valid entities: {_VALID_ENTITIES}"
        )
    if tok.text == "":
        src.fail(tok.key_pos, f"expected a key after '{tok.prefix}.'")
    if entity != "attribute":
        return entity, tok.text
    key = tok.text.lower()
    if key not in ATTRIBUTES:
        src.fail(
            tok.key_pos,
            f"unknown attribute {tok.text!r}{_suggest(key, ATTRIBUTES)}; "
            f"valid attributes: {_VALID_ATTRIBUTES}",
        )
    return entity, key


def _value_kind(entity: Entity, key: str) -> Literal["number", "string"]:
    """Metrics and time attributes hold numbers; params, tags and other attributes hold strings."""
    if entity == "metric" or (entity == "attribute" and key in NUMERIC_ATTRIBUTES):
        return "number"
    return "string"


def _subject(entity: Entity, key: str) -> str:
    """The thing named in type errors: 'metrics compare' or 'attributes.status compares'."""
    if entity == "attribute":
        return f"attributes.{key} compares"
    return f"{_CANONICAL[entity]} compare"


# --- parser -------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list: or > and > not > (parens | comparison)."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.tokens = _tokenize(src)
        self.i = 0

    def peek(self) -> _Token:
        """The next token, not consumed."""
        return self.tokens[self.i]

    def advance(self) -> _Token:
        """Consume and return the next token."""
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def at_keyword(self, *words: str) -> bool:
        """Whether the next token is one of these keywords."""
        return self.peek().keyword() in words

    def parse(self) -> Expr:
        """A whole filter, refusing anything left over."""
        expr = self.parse_or(0)
        tok = self.peek()
        if tok.kind == ")":
            self.src.fail(tok.pos, "unmatched ')'")
        if tok.kind != "end":
            self.src.fail(
                tok.pos,
                f"unexpected {tok.describe()} after a complete condition; "
                "expected 'and', 'or' or the end of the filter",
            )
        return expr

    def check_depth(self, depth: int, tok: _Token) -> None:
        """Refuse pathological nesting before it costs stack or SQL planner time."""
        if depth > MAX_FILTER_DEPTH:
            self.src.fail(
                tok.pos, f"filter nests deeper than {MAX_FILTER_DEPTH} levels of '(' and 'not'"
            )

    def parse_or(self, depth: int) -> Expr:
        """``and``-groups joined by ``or``."""
        items = [self.parse_and(depth)]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.parse_and(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self, depth: int) -> Expr:
        """``not``-terms joined by ``and``."""
        items = [self.parse_not(depth)]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.parse_not(depth))
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self, depth: int) -> Expr:
        """Any number of ``not`` before a primary."""
        if self.at_keyword("not"):
            tok = self.advance()
            self.check_depth(depth + 1, tok)
            return Not(self.parse_not(depth + 1))
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> Expr:
        """A parenthesised filter or one comparison."""
        tok = self.peek()
        if tok.kind == "(":
            self.advance()
            self.check_depth(depth + 1, tok)
            expr = self.parse_or(depth + 1)
            close = self.peek()
            if close.kind != ")":
                self.src.fail(
                    close.pos,
                    f"expected ')' to close the '(' at column {tok.pos + 1}, "
                    f"got {close.describe()}",
                )
            self.advance()
            return expr
        return self.parse_comparison()

    def parse_comparison(self) -> Comparison:
        """``<entity>.<key> <op> <value>``."""
        tok = self.peek()
        if tok.kind != "name" or tok.keyword() is not None:
            self.src.fail(
                tok.pos, f"expected a comparison such as metrics.acc > 0.9, got {tok.describe()}"
            )
        entity, key = _resolve(self.src, tok)
        self.advance()
        op_tok, op = self.parse_op(tok)
        kind = _value_kind(entity, key)
        if op in _NULL_OPS:
            return Comparison(entity, key, op, None)
        if op in _LIKE_OPS and kind == "number":
            self.src.fail(
                op_tok.pos, f"{op} compares strings, but {_subject(entity, key)} with numbers"
            )
        if op in _IN_OPS:
            return Comparison(entity, key, op, self.parse_in_list(entity, key, op))
        return Comparison(entity, key, op, self.parse_scalar(entity, key, op, f"after {op!r}"))

    def parse_op(self, name: _Token) -> tuple[_Token, str]:
        """The operator after a name, normalised; keyword operators are case-blind."""
        tok = self.advance()
        if tok.kind == "op":
            return tok, tok.text
        word = tok.keyword()
        if word in ("like", "ilike", "in"):
            return tok, word.upper()
        if word == "not":
            nxt = self.advance()
            nword = nxt.keyword()
            if nword in ("like", "ilike", "in"):
                return tok, f"NOT {nword.upper()}"
            self.src.fail(nxt.pos, f"expected LIKE, ILIKE or IN after NOT, got {nxt.describe()}")
        if word == "is":
            nxt = self.advance()
            if nxt.keyword() == "null":
                return tok, "IS NULL"
            if nxt.keyword() == "not" and self.peek().keyword() == "null":
                self.advance()
                return tok, "IS NOT NULL"
            bad = self.peek() if nxt.keyword() == "not" else nxt
            self.src.fail(bad.pos, f"expected NULL or NOT NULL after IS, got {bad.describe()}")
        self.src.fail(
            tok.pos, f"expected an operator after {name.raw!r} ({_OP_LIST}), got {tok.describe()}"
        )

    def parse_in_list(
        self, entity: Entity, key: str, op: str
    ) -> tuple[float, ...] | tuple[str, ...]:
        """A non-empty parenthesised list of values of the entity's type."""
        open_tok = self.advance()
        if open_tok.kind != "(":
            self.src.fail(open_tok.pos, f"expected '(' after {op}, got {open_tok.describe()}")
        if self.peek().kind == ")":
            self.src.fail(self.peek().pos, f"the {op} list is empty; give at least one value")
        values = [self.parse_scalar(entity, key, op, f"in the {op} list")]
        while True:
            tok = self.advance()
            if tok.kind == ")":
                break
            if tok.kind != ",":
                self.src.fail(
                    tok.pos, f"expected ',' or ')' in the {op} list, got {tok.describe()}"
                )
            values.append(self.parse_scalar(entity, key, op, "after ','"))
        if _value_kind(entity, key) == "number":
            return tuple(float(v) for v in values)
        return tuple(str(v) for v in values)

    def parse_scalar(self, entity: Entity, key: str, op: str, where: str) -> float | str:
        """One number or string, of the type the entity holds."""
        tok = self.peek()
        kind = _value_kind(entity, key)
        if tok.keyword() == "null":
            self.src.fail(tok.pos, "NULL is only allowed after IS; write IS NULL or IS NOT NULL")
        if tok.kind == "number":
            if kind == "string":
                name = f"{_CANONICAL[entity]}.{_render_key(key)}"
                example = f"{name} {op} '{tok.raw}'"
                self.src.fail(
                    tok.pos,
                    f"{_subject(entity, key)} with strings, got {tok.raw}",
                    hint=f"quote it: {example}; params and tags are strings, as in MLflow"
                    if entity != "attribute"
                    else f"quote it: {example}",
                )
            self.advance()
            return tok.number
        if tok.kind == "string":
            if kind == "number":
                unit = " (ms since epoch)" if entity == "attribute" else ""
                self.src.fail(tok.pos, f"{_subject(entity, key)} with numbers{unit}, got {tok.raw}")
            self.advance()
            return tok.text
        self.src.fail(tok.pos, f"expected a value {where}, got {tok.describe()}")


# --- public API ---------------------------------------------------------------------------------


def _check_length(text: str, what: str, field: str) -> None:
    """Refuse huge inputs before tokenizing them."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"{what} is {len(text):,} characters long; the limit is {MAX_FILTER_LENGTH:,}",
            field=field,
            value=text[:200],
        )


def parse_filter(text: str | None) -> Expr | None:
    """Parse a run search filter into an AST; None or blank means 'no filter'."""
    if text is None or not text.strip():
        return None
    _check_length(text, "filter", "filter_string")
    return _Parser(_Source(text, "filter", "filter_string")).parse()


def parse_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """Parse order-by terms like ``metrics.acc DESC``; a lone string counts as one term."""
    if items is None:
        return ()
    terms = [items] if isinstance(items, str) else list(items)
    keys: list[OrderKey] = []
    for item in terms:
        if not isinstance(item, str):
            raise InvalidInput(
                f"order_by items must be strings, got {item!r}", field="order_by", value=item
            )
        src = _Source(item, f"order_by item {item!r}", "order_by")
        if not item.strip():
            src.fail(0, "empty order_by item; write e.g. 'metrics.acc DESC'")
        _check_length(item, "order_by item", "order_by")
        tokens = _tokenize(src)
        tok = tokens[0]
        if tok.kind != "name" or tok.keyword() is not None:
            src.fail(tok.pos, f"expected a key such as metrics.acc, got {tok.describe()}")
        entity, key = _resolve(src, tok)
        ascending = True
        rest = tokens[1:]
        if rest[0].kind != "end":
            direction = rest[0].keyword()
            if direction not in ("asc", "desc"):
                src.fail(rest[0].pos, f"expected ASC or DESC, got {rest[0].describe()}")
            ascending = direction == "asc"
            rest = rest[1:]
        if rest[0].kind != "end":
            src.fail(rest[0].pos, f"unexpected {rest[0].describe()} after the sort direction")
        keys.append(OrderKey(entity, key, ascending))
    return tuple(keys)


def _render_key(key: str) -> str:
    """The key as written in a filter: bare when safe, else in backticks."""
    if key and not any(c.isspace() or c in _DELIMS for c in key):
        return key
    return "`" + key.replace("`", "``") + "`"


def _render_value(value: Value) -> str:
    """A value as filter text that parses back to the same value."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_render_value(v) for v in value) + ")"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if value is None:
        return "NULL"
    return repr(float(value))


def _render_item(expr: Expr, parenthesise: tuple[type, ...]) -> str:
    """Render a child, in parentheses when its type would otherwise change the tree."""
    text = render(expr)
    return f"({text})" if isinstance(expr, parenthesise) else text


def render(expr: Expr) -> str:
    """Filter text for an AST (for logs and round-trips): ``parse_filter(render(e)) == e``."""
    if isinstance(expr, Comparison):
        name = f"{_CANONICAL[expr.entity]}.{_render_key(expr.key)}"
        if expr.op in _NULL_OPS:
            return f"{name} {expr.op}"
        return f"{name} {expr.op} {_render_value(expr.value)}"
    if isinstance(expr, Not):
        return "not " + _render_item(expr.item, (And, Or))
    if isinstance(expr, And):
        return " and ".join(_render_item(item, (And, Or)) for item in expr.items)
    return " or ".join(_render_item(item, (Or,)) for item in expr.items)
