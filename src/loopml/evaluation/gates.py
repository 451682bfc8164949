"""Gates: the conditions a model must meet to take an alias, declared as data.

A gate is one line a person can read in a pull request::

    f1 >= 0.80
    roc_auc >= champion - 0.01
    log_loss <= champion * 1.05
    latency_p99_ms <= 20
    slice:region=EU f1 >= 0.75

``champion`` (or ``baseline``) is the model that holds the alias now, scored on the same rows. When
no model holds it yet there is nothing to be worse than, so such a comparison passes and says so;
any other gate that cannot be computed fails and says why.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.errors import InvalidInput

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
_REFERENCES = ("champion", "baseline")
_GATE_RE = re.compile(
    r"""^\s*
    (?:slice:(?P<slice>"[^"]+"|[^\s=]+)=(?P<value>"[^"]*"|\S+)\s+)?
    (?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*
    (?P<op>>=|<=|==|>|<)\s*
    (?P<rhs>.+?)\s*$""",
    re.VERBOSE,
)
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RHS_RE = re.compile(
    rf"""^(?:
        (?P<number>[-+]?{_NUMBER})
      | (?P<ref>[A-Za-z_]+)\s*(?:(?P<arith>[-+*])\s*(?P<amount>{_NUMBER}))?
    )$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Gate:
    """One parsed gate."""

    expression: str
    metric: str
    op: str
    number: float | None = None
    reference: str | None = None
    arith: str | None = None
    amount: float = 0.0
    slice_column: str | None = None
    slice_value: str | None = None

    @property
    def slice_key(self) -> str | None:
        """The key of the slice in an evaluation's ``slices`` (``"region=EU"``)."""
        if self.slice_column is None:
            return None
        return f"{self.slice_column}={self.slice_value}"

    @property
    def compares(self) -> bool:
        """True when the threshold comes from the current holder of the alias."""
        return self.reference is not None

    def threshold_from(self, reference_value: float) -> float:
        if self.arith == "-":
            return reference_value - self.amount
        if self.arith == "+":
            return reference_value + self.amount
        if self.arith == "*":
            return reference_value * self.amount
        return reference_value


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict with its numbers: a failed gate is a result, not an exception."""

    expression: str
    passed: bool
    value: float | None
    threshold: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "passed": self.passed,
            "value": self.value,
            "threshold": self.threshold,
            "reason": self.reason,
        }


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def parse_gate(expression: Any) -> Gate:
    """Parse one gate; InvalidInput naming the gate and the expected form otherwise."""
    hint = (
        "write '<metric> <op> <number>' or '<metric> <op> champion - 0.01', "
        "optionally prefixed by 'slice:<column>=<value>'; ops: >= <= > < =="
    )
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidInput(
            f"a gate must be a non-empty string, got {expression!r}", field="gates", hint=hint
        )
    match = _GATE_RE.match(expression)
    if match is None:
        raise InvalidInput(
            f"gate {expression!r} is not '<metric> <op> <threshold>'",
            field="gates",
            value=expression,
            hint=hint,
        )
    rhs = _RHS_RE.match(match["rhs"])
    if rhs is None or (rhs["ref"] is not None and rhs["ref"] not in _REFERENCES):
        raise InvalidInput(
            f"gate {expression!r}: threshold {match['rhs']!r} is neither a number nor "
            "'champion' with an optional '- 0.01', '+ 0.01' or '* 0.99'",
            field="gates",
            value=expression,
            hint=hint,
        )
    common: dict[str, Any] = {
        "expression": expression.strip(),
        "metric": match["metric"],
        "op": match["op"],
        "slice_column": _unquote(match["slice"]) if match["slice"] else None,
        "slice_value": _unquote(match["value"]) if match["value"] is not None else None,
    }
    if rhs["number"] is not None:
        return Gate(number=float(rhs["number"]), **common)
    return Gate(
        reference=rhs["ref"],
        arith=rhs["arith"],
        amount=float(rhs["amount"]) if rhs["amount"] else 0.0,
        **common,
    )


def parse_gates(expressions: Sequence[str] | str) -> list[Gate]:
    """Parse a list of gates (a single string is one gate)."""
    if isinstance(expressions, str):
        expressions = [expressions]
    return [parse_gate(e) for e in expressions]


Scores = Mapping[str, Any]


def _lookup(scores: Scores | None, gate: Gate) -> tuple[float | None, str | None]:
    """A metric's value in an evaluation's plain data (``metrics`` and ``slices``), or why not."""
    if scores is None:
        return None, "no evaluation"
    if gate.slice_key is None:
        table = scores.get("metrics", {})
        where = ""
    else:
        slices = scores.get("slices", {})
        if gate.slice_key not in slices:
            known = ", ".join(sorted(slices)[:8]) or "none"
            return None, f"slice {gate.slice_key!r} was not evaluated (slices: {known})"
        table = slices[gate.slice_key]
        where = f" on slice {gate.slice_key}"
    if gate.metric not in table:
        known = ", ".join(sorted(k for k in table if k != "n_rows")) or "none"
        return None, f"metric {gate.metric!r} was not computed{where} (available: {known})"
    value = table[gate.metric]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, f"metric {gate.metric!r} is undefined{where} on these rows"
    return float(value), None


def check_gate(gate: Gate, candidate: Scores | None, baseline: Scores | None) -> GateResult:
    """Judge one gate on the candidate's scores, against the baseline's when it compares."""
    value, missing = _lookup(candidate, gate)
    if value is None:
        return GateResult(gate.expression, False, None, None, f"cannot be computed: {missing}")
    if gate.number is not None:
        threshold = gate.number
    else:
        if baseline is None:
            return GateResult(
                gate.expression, True, value, None, "no current model to compare with"
            )
        reference, why = _lookup(baseline, gate)
        if reference is None:
            return GateResult(
                gate.expression,
                False,
                value,
                None,
                f"cannot be computed for {gate.reference}: {why}",
            )
        threshold = gate.threshold_from(reference)
    passed = _OPS[gate.op](value, threshold)
    verdict = "passes" if passed else "fails"
    return GateResult(
        gate.expression,
        passed,
        value,
        threshold,
        f"{gate.metric} = {value:.6g} {verdict} {gate.op} {threshold:.6g}",
    )


def check_gates(
    gates: Sequence[Gate], candidate: Scores | None, baseline: Scores | None
) -> list[GateResult]:
    """Every gate's verdict (all are judged, so a report shows each failure at once)."""
    return [check_gate(gate, candidate, baseline) for gate in gates]
