"""``loopml pipeline …``: run, inspect, explain, resume, draw and tune pipelines."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.live import Live
from rich.table import Table

from loopml.cli.errors import fail
from loopml.cli.render import console, print_json, table, when
from loopml.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

_STYLE = {
    "finished": "green",
    "failed": "red",
    "running": "yellow",
    "skipped": "dim",
    "pending": "dim",
}


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param {pair!r} is not NAME=VALUE", field="--param", value=pair)
        params[key.strip()] = value
    return params


class StepProgress:
    """A live table of steps: status, cached or ran, and why."""

    def __init__(self, names: list[str]) -> None:
        self.rows: dict[str, list[str]] = {n: ["pending", "", ""] for n in names}

    def update(self, step: Any) -> None:
        self.rows[step.name] = [step.status, "cached" if step.cached else "", step.reason]

    def render(self) -> Table:
        out = Table(header_style="bold")
        for column in ("step", "status", "", "why"):
            out.add_column(column, overflow="fold")
        for name, (status, cached, reason) in self.rows.items():
            style = _STYLE.get(status, "")
            out.add_row(name, f"[{style}]{status}[/{style}]" if style else status, cached, reason)
        return out


def _steps_rows(steps: Any) -> list[list[Any]]:
    return [
        [
            s.name,
            s.status,
            "yes" if s.cached else "",
            s.run_id or "",
            s.source_run_id or "",
            s.error or s.reason,
        ]
        for s in steps.values()
    ]


def _run_json(result: Any) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "pipeline": result.pipeline,
        "status": result.status,
        "params": result.params,
        "steps": {
            name: {
                "status": s.status,
                "cached": s.cached,
                "reason": s.reason,
                "run_id": s.run_id,
                "source_run_id": s.source_run_id,
                "output_digests": dict(s.output_digests),
                "error": s.error,
            }
            for name, s in result.steps.items()
        },
    }


def _with_progress(names: list[str], quiet: bool, work: Any) -> Any:
    progress = StepProgress(names)
    if quiet:  # --json: what steps print goes to stderr, so stdout stays one JSON document
        with contextlib.redirect_stdout(sys.stderr):
            return work(None)
    with Live(progress.render(), console=console, refresh_per_second=8, transient=False) as live:

        def on_step(step: Any) -> None:
            progress.update(step)
            live.update(progress.render())

        return work(on_step)


@app.command("run")
def run(
    reference: str = typer.Argument(..., help="file.py:function, module:function or a name."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (repeatable)."),
    executor: str = typer.Option(
        "local", "--executor", "-e", help="local, processes, dask-local or dask://host:port."
    ),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Steps at once (processes)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run a pipeline: cached steps are reused, the rest run (in parallel with --jobs)."""
    from loopml.pipelines import PipelineFailed, load_pipeline, run_pipeline

    pipeline = load_pipeline(reference)
    graph, _ = pipeline.build(parse_params(param))
    names = [c.name for c in graph.calls]
    try:
        result = _with_progress(
            names,
            as_json,
            lambda on_step: run_pipeline(
                pipeline,
                params=parse_params(param),
                executor=executor,
                jobs=jobs,
                cache=not no_cache,
                on_step=on_step,
            ),
        )
    except PipelineFailed as exc:
        if as_json:
            print_json(_run_json(exc.run))
        raise
    if as_json:
        print_json(_run_json(result))
        return
    reused = sum(1 for s in result.steps.values() if s.cached)
    console.print()
    console.print(
        f"pipeline run {result.run_id} finished: {len(result.steps) - reused} ran, {reused} reused"
    )


@app.command("list")
def list_runs(
    name: str | None = typer.Option(None, "--pipeline", help="Only runs of this pipeline."),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Pipeline runs, newest first."""
    from loopml.pipelines.runner import PIPELINE_TAG, STEP_TAG
    from loopml.store import RunQuery
    from loopml.workspace import default_workspace

    store = default_workspace().store
    experiments = [e.experiment_id for e in store.experiments.list()]
    found = [
        r
        for r in store.runs.search(
            RunQuery(experiment_ids=experiments, order_by=["start_time DESC"], max_results=10_000)
        )
        if PIPELINE_TAG in r.data.tags
        and STEP_TAG not in r.data.tags
        and (name is None or r.data.tags[PIPELINE_TAG] == name)
    ][:limit]
    rows = [
        {
            "run_id": r.info.run_id,
            "pipeline": r.data.tags[PIPELINE_TAG],
            "status": r.info.status.value,
            "start_time": r.info.start_time,
            "params": json.loads(r.data.tags.get("loopml.pipeline.params", "{}")),
        }
        for r in found
    ]
    if as_json:
        print_json(rows)
        return
    table(
        "Pipeline runs",
        ["run", "pipeline", "status", "started", "params"],
        [
            [
                r["run_id"],
                r["pipeline"],
                r["status"],
                when(r["start_time"]),
                json.dumps(r["params"]),
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="A pipeline run id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each step of a pipeline run: status, cached or ran, its run, and the error if it failed."""
    from loopml.pipelines import load_pipeline_run
    from loopml.workspace import default_workspace

    result = load_pipeline_run(run_id)
    if as_json:
        print_json(_run_json(result))
        return
    console.print(f"[bold]{result.pipeline}[/bold] run {run_id}: {result.status}")
    table(
        "Steps",
        ["step", "status", "cached", "run", "reused from", "why / error"],
        _steps_rows(result.steps),
    )
    for step in result.steps.values():
        if step.status == "failed" and step.run_id:
            trace = _traceback(default_workspace(), step.run_id)
            if trace:
                console.print(f"[red]traceback of {step.name}[/red]\n{trace}", markup=True)


def _traceback(ws: Any, run_id: str) -> str:
    from loopml.pipelines.worker import TRACEBACK_FILE

    for artifact in ws.store.artifacts.list(run_id):
        if artifact.path == TRACEBACK_FILE and artifact.digest:
            return str(ws.blobs.read_bytes(artifact.digest).decode("utf-8", "replace"))
    return ""


@app.command("explain")
def explain(
    run_id: str = typer.Argument(..., help="A pipeline run id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Why each step ran or was reused, and which earlier run produced what was reused."""
    from loopml.pipelines import load_pipeline_run

    result = load_pipeline_run(run_id)
    if as_json:
        print_json(
            [
                {
                    "step": s.name,
                    "status": s.status,
                    "cached": s.cached,
                    "reason": s.reason,
                    "source_run_id": s.source_run_id,
                }
                for s in result.steps.values()
            ]
        )
        return
    for step in result.steps.values():
        verdict = "reused" if step.cached else step.status
        console.print(f"[bold]{step.name}[/bold] ({verdict}): {step.reason}")


@app.command("resume")
def resume(
    run_id: str = typer.Argument(..., help="The pipeline run to resume."),
    executor: str = typer.Option("local", "--executor", "-e"),
    jobs: int | None = typer.Option(None, "--jobs", "-j"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run a failed (or killed) pipeline run again: finished steps come from the cache."""
    from loopml.pipelines import load_pipeline_run, resume_pipeline

    names = list(load_pipeline_run(run_id).steps)
    result = _with_progress(
        names,
        as_json,
        lambda on_step: resume_pipeline(run_id, executor=executor, jobs=jobs, on_step=on_step),
    )
    if as_json:
        print_json(_run_json(result))
        return
    ran = [s.name for s in result.steps.values() if not s.cached]
    console.print(f"resumed as run {result.run_id}; ran again: {', '.join(ran) or 'nothing'}")


@app.command("graph")
def graph(
    reference: str = typer.Argument(..., help="file.py:function, module:function or a name."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (repeatable)."),
    run_id: str | None = typer.Option(None, "--run", help="Colour steps by this run's status."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write .svg or .mmd."),
) -> None:
    """Print the pipeline's steps and edges; write it as SVG or Mermaid with -o."""
    from loopml.pipelines import load_pipeline, load_pipeline_run
    from loopml.pipelines.graph import to_dag
    from loopml.reports import dag_mermaid, dag_svg, dag_text

    pipeline = load_pipeline(reference)
    built, _ = pipeline.build(parse_params(param))
    steps = load_pipeline_run(run_id).steps if run_id else None
    dag = to_dag(built, steps)
    console.print(dag_text(dag), markup=False, highlight=False)
    if output is None:
        return
    suffix = output.suffix.lower()
    if suffix == ".svg":
        output.write_text(dag_svg(dag, title=pipeline.name), encoding="utf-8")
    elif suffix in (".mmd", ".mermaid", ".md"):
        output.write_text(dag_mermaid(dag), encoding="utf-8")
    else:
        fail(f"--output must end in .svg or .mmd, not {output.name!r}", 2)
    console.print(f"wrote {output}")


def _space(path: Path | None, pairs: list[str]) -> dict[str, Any]:
    """A search space from YAML (name: [low, high] / [low, high, log] / {choices: [...]})."""
    raw: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{path} must map parameters to ranges", field="--space")
        raw.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--range {pair!r} is not NAME=LOW:HIGH[:log]", field="--range")
        raw[key] = value.split(":") if ":" in value else value.split(",")
    space: dict[str, Any] = {}
    for name, spec in raw.items():
        if isinstance(spec, dict) and "choices" in spec:
            space[name] = list(spec["choices"])
        elif isinstance(spec, list) and len(spec) in (2, 3) and _numeric(spec[:2]):
            low, high = (_number(v) for v in spec[:2])
            space[name] = (low, high, "log") if len(spec) == 3 and spec[2] == "log" else (low, high)
        elif isinstance(spec, list):
            space[name] = [_number(v) if _numeric([v]) else v for v in spec]
        else:
            raise InvalidInput(f"search space {name!r} is {spec!r}", field="--space")
    return space


def _numeric(values: list[Any]) -> bool:
    try:
        for value in values:
            float(value)
    except (TypeError, ValueError):
        return False
    return True


def _number(value: Any) -> int | float:
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else float(text)


@app.command("tune")
def tune(
    reference: str = typer.Argument(..., help="file.py:function, module:function or a name."),
    objective: str = typer.Option(..., "--objective", help="Metric to optimise, e.g. f1."),
    space_file: Path | None = typer.Option(None, "--space", help="YAML search space."),
    ranges: list[str] = typer.Option([], "--range", help="NAME=LOW:HIGH[:log] or NAME=a,b,c."),
    gate: list[str] = typer.Option([], "--gate", help="Stop when a trial passes all (rep.)."),
    max_trials: int = typer.Option(20, "--max-trials", help="Trial budget."),
    timeout: float | None = typer.Option(None, "--timeout", help="Time budget in seconds."),
    direction: str | None = typer.Option(None, "--direction", help="maximize or minimize."),
    param: list[str] = typer.Option([], "--param", "-p", help="Fixed NAME=VALUE."),
    seed: int | None = typer.Option(None, "--seed", help="Sampler seed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search pipeline params with Optuna until a trial passes every gate or the budget ends."""
    from loopml.pipelines import load_pipeline
    from loopml.pipelines import tune as run_tune

    pipeline = load_pipeline(reference)
    space = _space(space_file, ranges)
    live_table = Table(header_style="bold")
    for column in ("trial", *space, objective, "gates", "run"):
        live_table.add_column(str(column))

    def show(trial: Any, live: Live | None) -> None:
        verdict = "pass" if trial.passed else ("error" if trial.error else "fail")
        live_table.add_row(
            str(trial.number),
            *(str(trial.params.get(n)) for n in space),
            "—" if trial.value is None else f"{trial.value:.4g}",
            verdict if gate else "",
            trial.run_id or "",
        )
        if live is not None:
            live.update(live_table)

    def search(on_trial: Any) -> Any:
        return run_tune(
            pipeline,
            space,
            objective,
            gates=gate or None,
            max_trials=max_trials,
            timeout=timeout,
            direction=direction,
            params=pipeline.resolve_params(parse_params(param)) if param else None,
            seed=seed,
            on_trial=on_trial,
        )

    if as_json:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout one JSON document
            result = search(None)
    else:
        with Live(live_table, console=console, refresh_per_second=4) as live:
            result = search(lambda trial: show(trial, live))
    summary = {
        "run_id": result.run_id,
        "stopped_because": result.stopped_because,
        "passed": result.passed,
        "best": None
        if result.best is None
        else {
            "number": result.best.number,
            "params": dict(result.best.params),
            "value": result.best.value,
            "run_id": result.best.run_id,
        },
        "trials": len(result.trials),
    }
    if as_json:
        print_json(summary)
    else:
        best = summary["best"]
        console.print(
            f"{result.stopped_because}; best: "
            + (f"trial {best['number']} {objective}={best['value']:.4g}" if best else "none")
        )
    if gate and not result.passed:
        raise typer.Exit(1)
