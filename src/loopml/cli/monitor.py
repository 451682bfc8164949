"""``loopml monitor``: create monitors, run them over the prediction log, read their windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from loopml.cli.render import console, print_json, progress_bar, table, when

app = typer.Typer(no_args_is_help=True)


def _threshold_option(values: list[str]) -> dict[str, float] | str | None:
    if values == ["learned"]:
        return "learned"
    found: dict[str, float] = {}
    for item in values:
        column, sep, number = item.partition("=")
        try:
            found[column] = float(number)
        except ValueError:
            sep = ""
        if not sep or not column:
            from loopml.errors import InvalidInput

            raise InvalidInput(
                f"--threshold {item!r} must be COLUMN=NUMBER, or the single word learned",
                field="threshold",
                value=item,
            )
    return found or None


def _tests_option(values: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in values:
        column, sep, test = item.partition("=")
        if not sep or not column or not test:
            from loopml.errors import InvalidInput

            raise InvalidInput(
                f"--test {item!r} must be COLUMN=TEST, e.g. income=psi", field="test", value=item
            )
        found[column] = test
    return found


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Monitor name."),
    model: str = typer.Option(..., "--model", help="Registered model whose traffic to watch."),
    alias: str = typer.Option("champion", "--alias", help="Alias of the served version."),
    window: str = typer.Option("1h", "--window", help="1h, 15m, 1d … or 1000rows."),
    reference: str | None = typer.Option(
        None, "--reference", help="Reference data (name@N); default: the training data."
    ),
    test: list[str] = typer.Option([], "--test", help="COLUMN=TEST override (repeatable)."),
    threshold: list[str] = typer.Option(
        [], "--threshold", help="COLUMN=VALUE (repeatable), or 'learned'."
    ),
    share_threshold: float = typer.Option(
        0.5, "--share-threshold", help="Drifted share of features that is dataset drift."
    ),
    alert: list[str] = typer.Option(
        [], "--alert", help="Alert rule, e.g. 'drift_share > 0.3' (repeatable; default set)."
    ),
    webhook: str | None = typer.Option(None, "--webhook", help="URL to POST fired alerts to."),
    no_multivariate: bool = typer.Option(
        False, "--no-multivariate", help="Skip the domain classifier."
    ),
    no_estimate: bool = typer.Option(False, "--no-estimate", help="Skip label-free estimates."),
    min_rows: int = typer.Option(50, "--min-rows", help="Fewer rows: insufficient data."),
    min_labels: int = typer.Option(50, "--min-labels", help="Fewer labels: no realised metrics."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a monitor of a model's traffic (reference: the served version's training data)."""
    import loopml.monitor as monitor

    created = monitor.create(
        name,
        model,
        alias=alias,
        window=window,
        reference=reference,
        tests=_tests_option(test),
        thresholds=_threshold_option(threshold),
        share_threshold=share_threshold,
        alerts=alert or None,
        webhook=webhook,
        multivariate=not no_multivariate,
        estimate=not no_estimate,
        min_rows=min_rows,
        min_labels=min_labels,
    )
    if as_json:
        print_json(created.to_dict())
        return
    ref = created.reference
    against = f"{ref.data_ref} (model version {ref.model_version})" if ref else "—"
    console.print(
        f"monitor {created.name}: {model}@{alias}, windows of {window}, against {against}"
    )


@app.command("list")
def list_monitors(
    model: str | None = typer.Option(None, "--model", help="Only this model's monitors."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every monitor."""
    import loopml.monitor as monitor

    found = monitor.list(model)
    if as_json:
        print_json([m.to_dict() for m in found])
        return
    rows = [
        [
            m.name,
            f"{m.model_name}@{m.alias}",
            str(m.config.window),
            m.reference.data_ref if m.reference else "",
            when(m.update_time),
        ]
        for m in found
    ]
    table("Monitors", ["name", "model", "window", "reference", "updated"], rows)


def _window_rows(results: list[Any]) -> list[list[Any]]:
    rows = []
    for w in results:
        signals = w.signals
        estimate = w.estimated.get("f1") or {}
        rows.append(
            [
                when(w.start_time),
                w.rows,
                w.status,
                signals.get("drift_share"),
                ", ".join(w.drifted_columns[:4]),
                signals.get("f1"),
                estimate.get("value"),
                ", ".join(a["rule"] for a in w.alerts),
            ]
        )
    return rows


_WINDOW_COLUMNS = ["window", "rows", "status", "drift share", "drifted", "f1", "est. f1", "alerts"]


@app.command("run")
def run(
    name: str = typer.Argument(..., help="Monitor name."),
    executor: str | None = typer.Option(
        None, "--executor", help="dask-local or dask://host:port (default: this process)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Process the predictions and labels that arrived since the last run."""
    import loopml.monitor as monitor

    with progress_bar(f"Monitoring {name}", hidden=as_json) as progress:
        found = monitor.run(name, executor=executor, progress=progress)
    if as_json:
        print_json([w.to_dict() for w in found])
        return
    if not found:
        console.print(f"{name}: nothing new since the last run")
        return
    table(f"{name}: {len(found)} window(s) updated", _WINDOW_COLUMNS, _window_rows(found))


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Monitor name."),
    last: int = typer.Option(24, "--last", help="Newest windows to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The monitor's settings and its newest windows."""
    import loopml.monitor as monitor

    found = monitor.get(name)
    windows = monitor.results(name)[-max(0, last) :] if last else []
    if as_json:
        print_json({**found.to_dict(), "windows": [w.to_dict() for w in windows]})
        return
    ref = found.reference
    console.print(f"[bold]{found.name}[/bold]  {found.model_name}@{found.alias}")
    console.print(f"window {found.config.window}  reference {ref.data_ref if ref else '—'}")
    if ref is not None:
        console.print(f"model version {ref.model_version}  task {ref.task}  target {ref.target}")
        for note in ref.notes:
            console.print(f"note: {note}")
    console.print("alerts: " + "; ".join(rule.text for rule in found.config.alerts))
    table("Windows", _WINDOW_COLUMNS, _window_rows(windows))


@app.command("report")
def report(
    name: str = typer.Argument(..., help="Monitor name."),
    output: Path = typer.Option(Path("monitor.html"), "--output", "-o", help="HTML file."),
) -> None:
    """Write an HTML report: drift over time, distributions, accuracy, alerts."""
    import loopml.monitor as monitor

    path = monitor.report(name, output)
    console.print(f"wrote {path}")


@app.command("delete")
def delete(name: str = typer.Argument(..., help="Monitor name.")) -> None:
    """Delete a monitor and its windows (alert events stay in the history)."""
    import loopml.monitor as monitor

    monitor.delete(name)
    console.print(f"deleted monitor {name}")
