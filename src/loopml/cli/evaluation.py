"""``loopml evaluate`` and ``loopml ci check``: testing models against held-out data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from loopml.cli.models import gate_rows
from loopml.cli.render import console, print_json, table

ci_app = typer.Typer(no_args_is_help=True)


def _metric_rows(result: Any) -> list[list[Any]]:
    rows = []
    base = result.baseline_metrics or {}
    for name, value in result.metrics.items():
        low, high = result.intervals.get(name, (math.nan, math.nan))
        row = [name, value, f"[{low:.4g}, {high:.4g}]"]
        if base:
            diff = (result.comparison or {}).get(name)
            row += [
                base.get(name),
                diff.difference if diff else None,
                diff.p_value if diff else None,
            ]
        rows.append(row)
    return rows


def _metric_columns(result: Any) -> list[str]:
    columns = ["metric", "value", "interval"]
    if result.baseline_metrics:
        columns += ["champion", "difference", "p-value"]
    return columns


def evaluate(
    model_uri: str = typer.Argument(..., help="models:/name/3, models:/name@alias or runs:/…"),
    data: str = typer.Argument(..., help="A table data version (churn-test@2) or a CSV/Parquet."),
    target: str | None = typer.Option(None, "--target", help="Column of the true values."),
    task: str | None = typer.Option(None, "--task", help="classification or regression."),
    slices: list[str] = typer.Option([], "--slice", help="Column to report per value (rep.)."),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Model URI to compare with (default: the current champion)."
    ),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Do not compare."),
    resamples: int = typer.Option(1000, "--resamples", help="Bootstrap resamples."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the HTML report."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Evaluate a model on held-out data: metrics with intervals, slices, vs the champion."""
    from loopml.evaluation.report import render_report
    from loopml.registry import evaluate as run_evaluation
    from loopml.registry.evaluations import CURRENT_CHAMPION

    chosen: Any = None if no_baseline else (baseline or CURRENT_CHAMPION)
    with console.status("Evaluating…", spinner="dots"):
        result = run_evaluation(
            model_uri,
            data,
            target=target,
            task=task,
            slices=slices or None,
            baseline=chosen,
            n_resamples=resamples,
        )
    if output is not None:
        output.write_text(render_report(result), encoding="utf-8")
    if as_json:
        print_json(result.to_dict() | {"curves": None, "baseline_curves": None})
        return
    title = f"{result.model_uri} on {result.data_version or 'data'} ({result.n_rows:,} rows)"
    table(title, _metric_columns(result), _metric_rows(result))
    console.print(f"evaluation {result.evaluation_id} stored with run {result.run_id}")
    if output is not None:
        console.print(f"report written to {output}")


@ci_app.command("check")
def check(
    model: str = typer.Option(..., "--model", help="Model to check, e.g. models:/churn/7."),
    data: str = typer.Option(..., "--data", help="Held-out table version (churn@test) or file."),
    gates: Path | None = typer.Option(
        None, "--gates", help="YAML gates file (default: the model's declared gates)."
    ),
    target: str | None = typer.Option(None, "--target", help="Column of the true values."),
    baseline: str = typer.Option("champion", "--baseline-alias", help="Alias to compare with."),
    name: str | None = typer.Option(
        None, "--name", help="Registered model a runs:/ candidate would replace."
    ),
    summary: Path = typer.Option(
        Path("loopml-ci-summary.md"), "--summary", help="Where to write the Markdown summary."
    ),
    output: Path | None = typer.Option(None, "--report", help="Write the HTML report too."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """CI for models: evaluate, judge the gates, write a PR summary; exit 1 when a gate fails."""
    from loopml.evaluation.report import render_report
    from loopml.registry.ci import ci_check

    with console.status("Evaluating…", spinner="dots"):
        result = ci_check(model, data, gates, target=target, baseline=baseline, name=name)
    markdown = result.markdown()
    with summary.open("a", encoding="utf-8") as out:  # append: GITHUB_STEP_SUMMARY collects
        out.write(markdown)
    if output is not None:
        output.write_text(render_report(result.evaluation, result.gates), encoding="utf-8")
    if as_json:
        print_json(result.to_dict())
    else:
        if result.gates:
            table("Gates", ["gate", "result", "value", "threshold", "why"], gate_rows(result.gates))
        evaluation = result.evaluation
        table("Metrics", _metric_columns(evaluation), _metric_rows(evaluation))
        verdict = "[green]passed[/green]" if result.passed else "[red]FAILED[/red]"
        console.print(f"model check {verdict}; summary written to {summary}")
    if not result.passed:
        raise typer.Exit(1)
