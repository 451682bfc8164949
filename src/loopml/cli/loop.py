"""``loopml loop`` (the continuous-training controller) and ``loopml quickstart``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from loopml.cli.render import console, print_json, table, when

app = typer.Typer(no_args_is_help=True)

_PROJECT = typer.Option(Path("."), "--project", "-p", help="Folder holding loopml.yaml.")


def _project(path: Path) -> Any:
    """Load the project, working from its folder: its ``.loopml`` home, its relative paths."""
    import os

    from loopml.loop.project import load_project

    folder = path.resolve()
    if folder.is_dir() and folder != Path.cwd().resolve():
        os.chdir(folder)  # before anything opens a workspace: the home is found from here
    return load_project(folder)


def _exit_for(result: Any) -> None:
    """Cron and CI read the exit code: 1 when the iteration failed."""
    if result.iteration is not None and result.iteration.status == "failed":
        raise typer.Exit(1)


def _print_tick(result: Any) -> None:
    fired = ", ".join(result.fired) or "nothing"
    console.print(
        f"{when(result.time)}  fired: {fired}  — {result.note}  ({result.seconds * 1000:.0f} ms)"
    )


@app.command("tick")
def tick(
    project: Path = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One check of every trigger and, if one fires outside the cooldown, one iteration."""
    from loopml.loop.controller import tick as run_tick

    result = run_tick(_project(project))
    if as_json:
        print_json(result.to_dict())
    else:
        _print_tick(result)
        for check in result.checks:
            mark = "[red]fired[/red]" if check.fired else "quiet"
            console.print(f"  {check.trigger:<24} {mark:<16} {check.note}")
    _exit_for(result)


@app.command("run")
def run(
    project: Path = _PROJECT,
    interval: float | None = typer.Option(None, "--interval", help="Seconds between checks."),
) -> None:
    """Check every interval until SIGTERM/Ctrl-C (finishing the check in progress)."""
    from loopml.loop.controller import run_forever

    loaded = _project(project)
    every = loaded.interval_s if interval is None else interval
    console.print(f"loop for {loaded.model.name}@{loaded.model.alias}: checking every {every:g} s")
    ticks = run_forever(
        loaded,
        interval_s=every,
        on_tick=_print_tick,
        on_error=lambda exc: console.print(f"[red]check failed[/red]: {exc} (trying again)"),
    )
    console.print(f"stopped after {ticks} check(s)")


@app.command("trigger")
def trigger(
    reason: str = typer.Option(..., "--reason", help="Why retrain now (recorded)."),
    project: Path = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start an iteration now, whatever the triggers say (the cooldown does not apply)."""
    from loopml.loop.controller import tick as run_tick

    if not reason.strip():
        from loopml.errors import InvalidInput

        raise InvalidInput("--reason must say why", field="reason")
    result = run_tick(_project(project), manual_reason=reason)
    if as_json:
        print_json(result.to_dict())
    else:
        _print_tick(result)
    if result.iteration is None:
        from loopml.errors import Conflict

        raise Conflict(f"no iteration ran: {result.note}", field="model")
    _exit_for(result)


@app.command("approve")
def approve(
    iteration_id: str = typer.Argument(..., help="Iteration waiting for approval (8+ chars)."),
    reason: str | None = typer.Option(None, "--reason", help="Recorded with the promotion."),
    project: Path = _PROJECT,
) -> None:
    """Promote the challenger of an iteration waiting for approval (gates judged again)."""
    from loopml.loop.controller import approve as run_approve

    done = run_approve(_project(project), iteration_id, reason=reason)
    console.print(f"iteration {done.iteration_id[:12]}: {done.decision} — {done.reason}")


@app.command("reject")
def reject(
    iteration_id: str = typer.Argument(..., help="Iteration waiting for approval."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
) -> None:
    """Turn down the challenger of an iteration waiting for approval."""
    from loopml.loop.controller import reject as run_reject

    done = run_reject(iteration_id, reason=reason)
    console.print(f"iteration {done.iteration_id[:12]}: {done.reason}")


@app.command("rollback")
def rollback(
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
    project: Path = _PROJECT,
) -> None:
    """Return the alias to the previous champion, record why, and start the cooldown."""
    from loopml.loop.controller import rollback as run_rollback

    done = run_rollback(_project(project), reason=reason)
    console.print(
        f"{done['model']}@{done['alias']}: version {done['from_version']} → "
        f"{done['to_version']} ({reason})"
    )


@app.command("history")
def history(
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    limit: int = typer.Option(50, "--limit", help="Newest iterations to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Iterations, newest first: trigger, challenger, decision."""
    from loopml.loop.records import history as list_history
    from loopml.loop.records import iteration_dict

    found = list_history(model, limit=limit)
    if as_json:
        print_json([iteration_dict(i) for i in found])
        return
    rows = [
        [
            i.iteration_id[:12],
            when(i.start_time),
            i.model_name,
            (i.record.get("trigger") or {}).get("kind"),
            i.model_version,
            i.status,
            i.decision,
            i.reason,
        ]
        for i in found
    ]
    table(
        "Loop iterations",
        ["id", "started", "model", "trigger", "challenger", "status", "decision", "reason"],
        rows,
    )


@app.command("show")
def show(
    iteration_id: str = typer.Argument(..., help="Iteration id (8+ chars)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The story of one iteration: evidence → data → run → model version → evaluation → decision."""
    from loopml.loop.records import iteration_dict
    from loopml.loop.records import show as get_iteration

    found = get_iteration(iteration_id)
    if as_json:
        print_json(iteration_dict(found))
        return
    for line in story_lines(iteration_dict(found)):
        console.print(line)


def story_lines(item: dict[str, Any]) -> list[str]:
    """The iteration as sentences, in the order things happened."""
    record = item["record"]
    trigger = record.get("trigger") or {}
    lines = [f"[bold]iteration {item['iteration_id']}[/bold]  {item['model']}  {item['status']}"]
    lines.append(f"1. trigger: {trigger.get('kind')} — {trigger.get('reason')}")
    for check in trigger.get("checks") or []:
        if check.get("fired"):
            lines.append(
                f"   evidence: {check['trigger']}: {check.get('note')} "
                f"(threshold {check.get('threshold')})"
            )
    lines.append(f"   champion before: version {record.get('champion_before')}")
    data = record.get("data")
    if data:
        lines.append(
            f"2. data: trained on {data['training']} ({data['training_rows']} rows: "
            f"{data.get('base_rows', '?')} of {data['base']} + "
            f"{data.get('production_training_rows', data['production_rows'])} labelled "
            f"production rows); held out {data['holdout']} "
            f"({data['holdout_rows']} rows: {data['holdout_source']})"
        )
    training = record.get("training")
    if training:
        reused = training.get("reused_steps") or []
        extra = f", reused steps: {', '.join(reused)}" if reused else ""
        lines.append(
            f"3. training: {training['kind']} {training['entry']} in run {training['run_id']} "
            f"({training['seconds']:.1f} s{extra}); params {json.dumps(training.get('params'))}"
        )
    if record.get("model_version") is not None:
        lines.append(f"4. registered: {item['model']} version {record['model_version']}")
    evaluation = record.get("evaluation")
    if evaluation:
        lines.append(
            f"5. evaluation on {evaluation.get('data')} ({evaluation.get('rows')} rows): "
            f"challenger {_fmt(evaluation.get('metrics'))} "
            f"vs champion {_fmt(evaluation.get('champion_metrics'))}"
        )
    for gate in record.get("gates") or []:
        verdict = "pass" if gate.get("passed") else "FAIL"
        lines.append(
            f"   gate {gate['expression']}: {verdict} "
            f"(value {gate.get('value')}, threshold {gate.get('threshold')})"
        )
    failure = record.get("failure")
    if failure:
        lines.append(f"   failed at {failure['step']}: {failure['error']}")
    lines.append(f"6. decision: {item['decision']} — {item['reason']}")
    lines.append(f"   champion after: version {record.get('champion_after')}")
    return lines


def _fmt(metrics: Any) -> str:
    if not metrics:
        return "—"
    return ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, int | float))


def quickstart(
    directory: Path = typer.Option(
        Path("loopml-quickstart"), "--dir", help="Folder for the demo project (new or empty)."
    ),
    as_json: bool = typer.Option(False, "--json", help="End with a JSON summary line."),
) -> None:
    """The whole MLOps loop in about a minute: data → train → gate → serve → drift → retrain."""
    from loopml.loop.quickstart import run_quickstart

    console.print(f"LoopML quickstart in {directory.resolve()}")
    summary = run_quickstart(directory, echo=console.print)
    console.print("\n[bold]What happened[/bold]")
    for entry in summary["timeline"]:
        console.print(f"{entry['t']:6.1f}s  {entry['event']}")
    if summary.get("detected_to_promoted_s") is not None:
        console.print(
            f"from the first check that saw the decay to the new champion: "
            f"{summary['detected_to_promoted_s']} s (training {summary['training_s']:.1f} s)"
        )
    console.print(
        f"\nchampion: version {summary['champion_before']} → {summary['champion_after']}; "
        f"{summary['requests_sent']} predictions served, {summary['requests_failed']} failed, "
        f"in {summary['seconds']} s"
    )
    console.print(f"monitor report: {summary['reports']['monitor']}")
    console.print(
        f"look around: cd {summary['project']} && loopml loop history, "
        "loopml models versions churn, "
        "loopml monitor show churn-watch, loopml lineage data churn@1"
    )
    if as_json:
        print(json.dumps({k: v for k, v in summary.items() if k != "timeline"}, default=str))
