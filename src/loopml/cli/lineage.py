"""``loopml lineage …``: walk back from a production prediction, forward from a data version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli.render import cell, console, print_json, when

app = typer.Typer(no_args_is_help=True)

# Metrics worth a line of their own, in this order; others are left to --json.
_KEY_METRICS = ("accuracy", "f1", "f1_macro", "roc_auc", "rmse", "mae", "r2")


@app.command("prediction")
def prediction(
    prediction_id: str = typer.Argument(..., help="An id from the prediction_ids of /predict."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The model version, run, code, parameters and training data behind one prediction."""
    from loopml.loop.lineage import prediction_lineage

    found = prediction_lineage(prediction_id)
    if as_json:
        print_json(found)
        return
    console.print(prediction_tree(found))


@app.command("data")
def data(
    ref: str = typer.Argument(..., help="name@version (or name@alias, or name for the latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The models, evaluations, runs, derived data and loop iterations built from a version."""
    show_data(ref, as_json)


def show_data(ref: str, as_json: bool) -> None:
    """Print a data version's lineage (shared with ``loopml data lineage``)."""
    from loopml.loop.lineage import data_lineage

    found = data_lineage(ref)
    if as_json:
        print_json(found)
        return
    console.print(data_tree(found))


def prediction_tree(found: Mapping[str, Any]) -> Tree:
    """One prediction and what stands behind it, newest link first."""
    p = found["prediction"]
    root = Tree(
        f"[bold]Prediction {p['prediction_id']}[/] at {when(p['time_ms'])} by "
        f"[bold]{_e(p['model_name'])} v{p['model_version']}[/] ({_e(p['role'])})"
    )
    root.add(f"inputs: {_pairs(p['inputs'])}")
    root.add(f"prediction: [bold]{_e(cell(p['prediction']))}[/]{_probabilities(p)}")
    feedback = p["feedback"]
    if feedback is None:
        root.add("feedback: none yet")
    else:
        label = _e(cell(feedback["label"]))
        root.add(f"feedback: label [bold]{label}[/] at {when(feedback['time_ms'])}")
    version = found["model_version"]
    if version.get("missing"):
        root.add(f"[yellow]model version {_e(version['name'])} v{version['version']} is gone[/]")
        return root
    branch = root.add(_version_line(version))
    evaluation = version["evaluation"]
    if evaluation is None:
        branch.add("evaluation: none recorded on the version")
    elif evaluation.get("missing"):
        branch.add(f"[yellow]evaluation {evaluation['evaluation_id']} is gone[/]")
    else:
        on = f" on {_e(evaluation['data_version'])}" if evaluation["data_version"] else ""
        branch.add(
            f"evaluation {evaluation['evaluation_id']}{on} ({evaluation['n_rows']:,} rows): "
            f"{_metrics(evaluation['metrics'])}"
        )
    branch.add(_run_line(found["run"]))
    data = found["data"]
    if data is None:
        branch.add("training data: not recorded")
    elif data.get("missing"):
        branch.add(f"[yellow]training data {_e(data['ref'])} is gone[/]")
    else:
        branch.add(f"training data: {_data_line(data)}")
    iteration = found["loop_iteration"]
    branch.add(
        "loop iteration: none (registered outside the training loop)"
        if iteration is None
        else f"loop iteration: {_iteration_line(iteration)}"
    )
    return root


def data_tree(found: Mapping[str, Any]) -> Tree:
    """A data version and everything built from it."""
    root = Tree(f"[bold]Data version[/] {_data_line(found['version'])}")
    _section(
        root,
        "model versions trained on it",
        [_model_line(m) for m in found["models"]],
    )
    _section(
        root,
        "evaluations on it",
        [
            f"{e['evaluation_id']} {_e(e['model_uri'])} ({e['n_rows']:,} rows): "
            f"{_metrics(e['metrics'])}"
            for e in found["evaluations"]
        ],
    )
    _section(
        root,
        "runs that used it",
        [
            f"{r['run_id']} {_e(r['run_name'])} as {_e(r['role'])} ({r['status']})"
            for r in found["runs"]
        ],
    )
    derived = root.add(f"[bold]derived data versions[/] ({len(found['derived'])})")
    for item in found["derived"]:
        leaf = derived.add(_data_line(item))
        for model in item["models"]:
            leaf.add(f"trained: {_model_line(model)}")
    _section(
        root,
        "loop iterations",
        [
            f"{_iteration_line(i)}; used it as {', '.join(i['used_as'])}"
            for i in found["loop_iterations"]
        ],
    )
    return root


def _section(root: Tree, title: str, lines: Sequence[str]) -> None:
    branch = root.add(f"[bold]{title}[/] ({len(lines)})")
    for line in lines:
        branch.add(line)


def _version_line(version: Mapping[str, Any]) -> str:
    aliases = f" [green]@{', @'.join(version['aliases'])}[/]" if version["aliases"] else ""
    return (
        f"[bold]model version {_e(version['uri'])}[/]{aliases}: {_e(version['flavor'])}, "
        f"digest {version['digest'][:12]}, registered {when(version['creation_time'])}"
    )


def _model_line(model: Mapping[str, Any]) -> str:
    aliases = f" [green]@{', @'.join(model['aliases'])}[/]" if model["aliases"] else ""
    return f"{_e(model['uri'])}{aliases} run {model['run_id']}, {when(model['creation_time'])}"


def _run_line(run: Mapping[str, Any] | None) -> str:
    if run is None:
        return "run: unknown"
    if run.get("missing"):
        return f"[yellow]run {run['run_id']} is gone[/]"
    commit = run["git_commit"][:12] if run["git_commit"] else "not recorded"
    dirty = " (uncommitted changes)" if run["git_dirty"] else ""
    params = f"; params {_pairs(run['params'])}" if run["params"] else ""
    experiment = _e(run["experiment"] or run["experiment_id"])
    return (
        f"run {run['run_id']} {_e(run['name'])} in {experiment} ({run['status']}, started "
        f"{when(run['start_time'])}); commit {commit}{dirty}{params}"
    )


def _data_line(data: Mapping[str, Any]) -> str:
    rows = f"{data['rows']:,} rows" if data["rows"] is not None else data["kind"]
    aliases = f" [green]@{', @'.join(data['aliases'])}[/]" if data["aliases"] else ""
    recorded = f" (recorded as {_e(data['recorded_as'])})" if "recorded_as" in data else ""
    tags = f"; tags {_pairs(data['tags'])}" if data["tags"] else ""
    return (
        f"[bold]{_e(data['ref'])}[/]{aliases}{recorded}: {rows}, digest {data['digest'][:12]}, "
        f"added {when(data['creation_time'])}{tags}"
    )


def _iteration_line(iteration: Mapping[str, Any]) -> str:
    made = f" -> v{iteration['model_version']}" if iteration["model_version"] else ""
    return (
        f"{iteration['iteration_id']} of {_e(iteration['model_name'])} "
        f"(trigger {_e(iteration['trigger'] or 'unknown')}, {when(iteration['start_time'])}): "
        f"{_e(iteration['decision'] or iteration['status'])}{made}"
    )


def _probabilities(p: Mapping[str, Any]) -> str:
    probabilities = p["probabilities"]
    if not probabilities:
        return ""
    classes = p["classes"] or list(range(len(probabilities)))
    parts = [f"P({_e(cell(c))})={cell(v)}" for c, v in zip(classes, probabilities, strict=False)]
    return "  " + " ".join(parts)


def _metrics(metrics: Mapping[str, Any]) -> str:
    chosen = [k for k in _KEY_METRICS if k in metrics] or sorted(metrics)[:4]
    return ", ".join(f"{k} {cell(metrics[k])}" for k in chosen) or "no metrics"


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{_e(k)}={_e(cell(v))}" for k, v in values.items()) or "none"


def _e(value: Any) -> str:
    return escape(str(value))
