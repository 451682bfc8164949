"""``loopml experiments list|create|rename|delete|restore``."""

from __future__ import annotations

import typer

from loopml.cli.render import console, print_json, table, when
from loopml.entities import ViewType

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_experiments(
    deleted: bool = typer.Option(False, "--deleted", help="Show deleted experiments only."),
    show_all: bool = typer.Option(False, "--all", help="Show active and deleted experiments."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List experiments."""
    from loopml.tracking.client import LoopMLClient

    view = ViewType.ALL if show_all else ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
    found = LoopMLClient().list_experiments(view)
    if as_json:
        print_json(
            [
                {
                    "experiment_id": e.experiment_id,
                    "name": e.name,
                    "lifecycle_stage": e.lifecycle_stage.value,
                    "creation_time": e.creation_time,
                }
                for e in found
            ]
        )
        return
    table(
        "Experiments",
        ["name", "id", "stage", "created"],
        [[e.name, e.experiment_id, e.lifecycle_stage.value, when(e.creation_time)] for e in found],
    )


@app.command("create")
def create(name: str = typer.Argument(..., help="Experiment name.")) -> None:
    """Create an experiment."""
    from loopml.tracking.client import LoopMLClient

    experiment_id = LoopMLClient().create_experiment(name)
    console.print(f"Created experiment {name!r} ({experiment_id})")


@app.command("rename")
def rename(
    experiment: str = typer.Argument(..., help="Experiment name or id."),
    new_name: str = typer.Argument(..., help="New name."),
) -> None:
    """Rename an experiment."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    found = client.resolve_experiment(experiment)
    client.rename_experiment(found.experiment_id, new_name)
    console.print(f"Renamed experiment {found.name!r} to {new_name!r}")


@app.command("delete")
def delete(experiment: str = typer.Argument(..., help="Experiment name or id.")) -> None:
    """Soft-delete an experiment and its runs (restore undoes it; gc purges)."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    found = client.resolve_experiment(experiment)
    client.delete_experiment(found.experiment_id)
    console.print(f"Deleted experiment {found.name!r} (restore with: loopml experiments restore)")


@app.command("restore")
def restore(experiment: str = typer.Argument(..., help="Experiment name or id.")) -> None:
    """Restore a soft-deleted experiment and its runs."""
    from loopml.tracking.client import LoopMLClient

    client = LoopMLClient()
    found = client.resolve_experiment(experiment)
    client.restore_experiment(found.experiment_id)
    console.print(f"Restored experiment {found.name!r}")
