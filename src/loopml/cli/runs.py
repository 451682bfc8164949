"""``loopml runs list|show|compare|delete|restore``."""

from __future__ import annotations

from typing import Any

import typer

from loopml.cli.render import console, duration, print_json, table, when
from loopml.entities import Run, ViewType

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_runs(
    experiment: list[str] = typer.Option(
        [], "--experiment", "-e", help="Experiment name or id (repeatable; default: all)."
    ),
    filter_string: str | None = typer.Option(
        None, "--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\""
    ),
    order_by: list[str] = typer.Option([], "--order-by", "-o", help="e.g. 'metrics.acc DESC'"),
    max_results: int = typer.Option(100, "--max-results", "-n", help="Most runs to show."),
    deleted: bool = typer.Option(False, "--deleted", help="Show deleted runs only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List runs, newest first, with an MLflow-style filter."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    ids = [client.resolve_experiment(e).experiment_id for e in experiment] or None
    found = client.search_runs(
        experiment_ids=ids,
        filter_string=filter_string,
        order_by=order_by,
        max_results=max_results,
        view=ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY,
    )
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    metric_keys = sorted({k for run in found for k in run.data.metrics})[:6]
    table(
        f"Runs ({len(found)})",
        ["run id", "name", "status", "started", "duration", *metric_keys],
        [
            [
                run.info.run_id,
                run.info.run_name,
                run.info.status.value,
                when(run.info.start_time),
                duration(run.info.duration_ms),
                *(run.data.metrics.get(k) for k in metric_keys),
            ]
            for run in found
        ],
    )


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="Run id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one run: where it ran, params, latest metrics, tags and artifacts."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    run = client.get_run(run_id)
    files = client.backend.store.artifacts.list(run_id)
    if as_json:
        body = run.to_dict()
        body["artifacts"] = [
            {"path": f.path, "size": f.file_size, "digest": f.digest} for f in files
        ]
        print_json(body)
        return
    info = run.info
    table(
        f"Run {info.run_name} ({info.run_id})",
        ["field", "value"],
        [
            ["status", info.status.value],
            ["experiment", info.experiment_id],
            ["started", when(info.start_time)],
            ["duration", duration(info.duration_ms)],
            ["parent", info.parent_run_id],
            ["user@host", f"{info.user}@{info.host}"],
            ["command", info.command],
            ["git", _git(run)],
            ["python", info.python_version],
            ["packages", ", ".join(f"{k} {v}" for k, v in sorted(info.packages.items()))],
        ],
    )
    _kv("Params", run.data.params)
    _kv("Metrics (latest)", run.data.metrics)
    _kv("Tags", run.data.tags)
    if files:
        table(
            "Artifacts",
            ["path", "size", "digest"],
            [[f.path, f.file_size, (f.digest or "")[:16]] for f in files],
        )


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Params and metrics of several runs side by side; differing params are highlighted."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    found = [client.get_run(r) for r in run_ids]
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    rows: list[list[Any]] = []
    for key in sorted({k for run in found for k in run.data.params}):
        values = [run.data.params.get(key) for run in found]
        label = f"[bold yellow]params.{key}[/]" if len(set(values)) > 1 else f"params.{key}"
        rows.append([label, *values])
    for key in sorted({k for run in found for k in run.data.metrics}):
        rows.append([f"metrics.{key}", *(run.data.metrics.get(key) for run in found)])
    table("Compare runs", ["", *(run.info.run_name for run in found)], rows)


@app.command("delete")
def delete(run_ids: list[str] = typer.Argument(..., help="Run ids.")) -> None:
    """Soft-delete runs (restore undoes it; gc purges for good)."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    for run_id in run_ids:
        client.delete_run(run_id)
        console.print(f"Deleted run {run_id}")


@app.command("restore")
def restore(run_ids: list[str] = typer.Argument(..., help="Run ids.")) -> None:
    """Restore soft-deleted runs."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    for run_id in run_ids:
        client.restore_run(run_id)
        console.print(f"Restored run {run_id}")


def _git(run: Run) -> str:
    info = run.info
    if not info.git_commit:
        return ""
    dirty = " (dirty: diff in artifacts git/uncommitted.diff)" if info.git_dirty else ""
    return f"{info.git_commit[:12]} on {info.git_branch or 'detached HEAD'}{dirty}"


def _kv(title: str, values: Any) -> None:
    if values:
        table(title, ["key", "value"], sorted(values.items()))
