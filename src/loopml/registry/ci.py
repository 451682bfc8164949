"""``loopml ci check``: CI for models — evaluate, judge the gates, summarise for a pull request.

Nothing moves in the registry: the check reads the model and the data, stores the evaluation
(so a later ``promote`` can use it), and says pass or fail with the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loopml.entities import parse_model_uri
from loopml.errors import InvalidInput, NotFound
from loopml.evaluation.gates import GateResult, check_gates, parse_gates
from loopml.evaluation.result import EvaluationResult
from loopml.registry.evaluations import evaluate
from loopml.registry.load import resolve
from loopml.workspace import default_workspace


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a CI check, with the evaluation behind it."""

    passed: bool
    model_uri: str
    gates: tuple[GateResult, ...]
    evaluation: EvaluationResult

    def to_dict(self) -> dict[str, Any]:
        plain = self.evaluation.to_dict()  # NaN already None, as JSON needs
        return {
            "passed": self.passed,
            "model_uri": self.model_uri,
            "data_version": self.evaluation.data_version,
            "evaluation_id": self.evaluation.evaluation_id,
            "run_id": self.evaluation.run_id,
            "gates": [g.to_dict() for g in self.gates],
            "metrics": plain["metrics"],
            "baseline_uri": self.evaluation.baseline_uri,
            "baseline_metrics": plain["baseline_metrics"],
        }

    def markdown(self) -> str:
        """A summary fit for a pull-request comment."""
        return markdown_summary(self)


def read_gates_file(path: str | Path) -> tuple[list[str], dict[str, Any]]:
    """Gates from YAML: a list of strings, or ``{gates: [...], slices: [...], target: ...}``."""
    file = Path(path)
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(
            f"gates file {str(file)!r} does not exist", field="gates", value=str(file)
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(
            f"gates file {str(file)!r} is not valid YAML: {str(exc).splitlines()[0]}",
            field="gates",
            value=str(file),
        ) from None
    options: dict[str, Any] = {}
    if isinstance(loaded, dict):
        options = {k: v for k, v in loaded.items() if k in ("slices", "target", "task")}
        loaded = loaded.get("gates")
    if not isinstance(loaded, list) or not all(isinstance(g, str) for g in loaded):
        raise InvalidInput(
            f"gates file {str(file)!r} must hold a list of gates",
            field="gates",
            value=str(file),
            hint="write e.g.\ngates:\n  - f1 >= 0.8\n  - roc_auc >= champion - 0.01",
        )
    parse_gates(loaded)
    return loaded, options


def ci_check(
    model_uri: str,
    data: Any,
    gates: Sequence[str] | str | Path | None = None,
    *,
    target: str | None = None,
    task: str | None = None,
    slices: Sequence[str] | None = None,
    baseline: str | None = "champion",
    name: str | None = None,
) -> CheckResult:
    """Evaluate ``model_uri`` on ``data`` and judge its gates against the current ``baseline``.

    ``gates``: a list, a YAML file, or (None) the model's declared gates. ``baseline`` names the
    alias whose holder the comparative gates use (None: no comparison); ``name`` is the
    registered model a ``runs:/`` candidate would join (found by digest when registered).
    """
    options: dict[str, Any] = {}
    if isinstance(gates, str | Path) and not _looks_like_gate(gates):
        expressions, options = read_gates_file(gates)
    elif gates is None:
        expressions = _declared(model_uri)
    elif isinstance(gates, str | Path):
        expressions = [str(gates)]
    else:
        expressions = list(gates)
    parsed = parse_gates(expressions)
    slices = (
        slices
        or options.get("slices")
        or sorted({g.slice_column for g in parsed if g.slice_column})
    )
    holder = _baseline(model_uri, baseline, name)
    result = evaluate(
        model_uri,
        data,
        target=target or options.get("target"),
        task=task or options.get("task"),
        slices=slices or None,
        baseline=holder.uri,
    )
    verdicts = tuple(check_gates(parsed, result.scores(), result.baseline_scores()))
    if holder.unknown is not None:
        verdicts = tuple(
            GateResult(v.expression, False, v.value, None, f"cannot be computed: {holder.unknown}")
            if gate.compares
            else v
            for v, gate in zip(verdicts, parsed, strict=True)
        )
    return CheckResult(all(v.passed for v in verdicts), result.model_uri, verdicts, result)


def _looks_like_gate(text: str | Path) -> bool:
    return isinstance(text, str) and any(op in text for op in ("<", ">", "=="))


def _declared(model_uri: str) -> list[str]:
    parsed = parse_model_uri(model_uri)
    if parsed.scheme != "models":
        return []
    try:
        declared = default_workspace().store.models.gates(parsed.name)
    except NotFound:
        return []
    return list(declared.gates) if declared else []


@dataclass(frozen=True)
class _Baseline:
    uri: str | None  # the holder to compare with; None when there is none (or it is unknown)
    unknown: str | None = None  # why the holder cannot be known (comparisons then fail)


def _baseline(model_uri: str, alias: str | None, name: str | None) -> _Baseline:
    """The current holder of ``alias`` for the model being checked, by its registered name."""
    if alias is None:
        return _Baseline(None)
    store = default_workspace().store
    parsed = parse_model_uri(model_uri)
    if parsed.scheme == "models":
        name = parsed.name
        digest = store.models.version(parsed.name, parsed.version, parsed.alias).digest
    else:
        digest = resolve(model_uri).digest
        name = name or _registered_name(digest)
    if name is None:
        return _Baseline(
            None,
            unknown=f"{model_uri} is not a registered version, so its {alias!r} is unknown; "
            "pass --name (the registered model it would replace)",
        )
    try:
        holder = store.models.version(name, alias=alias)
    except NotFound:
        return _Baseline(None)  # nothing holds the alias yet: nothing to be worse than
    return _Baseline(None if holder.digest == digest else holder.uri)


def _registered_name(digest: str) -> str | None:
    """The registered model a logged model (by digest) is a version of, when exactly one."""
    store = default_workspace().store
    names = {
        model.name
        for model in store.models.list()
        if any(v.digest == digest for v in store.models.versions(model.name))
    }
    return names.pop() if len(names) == 1 else None


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.4g}"


def markdown_summary(check: CheckResult) -> str:
    result = check.evaluation
    icon = "✅" if check.passed else "❌"
    verdict = "passed" if check.passed else "failed"
    on = f"`{result.data_version}`" if result.data_version else f"{result.n_rows:,} rows"
    lines = [
        f"## {icon} Model check {verdict}: `{check.model_uri}`",
        "",
        f"Evaluated on {on} ({result.n_rows:,} rows), target `{result.target}`"
        + (f", against `{result.baseline_uri}`." if result.baseline_uri else "."),
        "",
    ]
    if check.gates:
        lines += ["| gate | result | value | threshold | why |", "| --- | --- | --- | --- | --- |"]
        for gate in check.gates:
            mark = "✅ pass" if gate.passed else "❌ fail"
            reason = gate.reason.replace("|", "\\|")
            lines.append(
                f"| `{gate.expression}` | {mark} | {_number(gate.value)} | "
                f"{_number(gate.threshold)} | {reason} |"
            )
    else:
        lines.append("_No gates declared: nothing to fail._")
    lines += ["", "<details><summary>Metrics</summary>", ""]
    base = result.baseline_metrics or {}
    comparison = result.comparison or {}
    header = "| metric | value | interval |"
    rule = "| --- | --- | --- |"
    if base:
        header += " champion | difference | p-value |"
        rule += " --- | --- | --- |"
    lines += [header, rule]
    for name, value in result.metrics.items():
        low, high = result.intervals.get(name, (math.nan, math.nan))
        row = f"| {name} | {_number(value)} | [{_number(low)}, {_number(high)}] |"
        if base:
            diff = comparison.get(name)
            row += (
                f" {_number(base.get(name))} | {_number(diff.difference if diff else None)} |"
                f" {_number(diff.p_value if diff else None)} |"
            )
        lines.append(row)
    lines += ["", "</details>", ""]
    if result.run_id:
        lines.append(f"Run `{result.run_id}`, evaluation `{result.evaluation_id}`.")
    return "\n".join(lines) + "\n"
