"""``loopml models …``: the registry — versions, aliases, gates, promotion and rollback."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from loopml.cli.errors import fail
from loopml.cli.render import console, print_json, table, when

app = typer.Typer(no_args_is_help=True)


def _plain(value: Any) -> Any:
    """An entity as JSON-able data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def gate_rows(gates: Any) -> list[list[Any]]:
    return [
        [g.expression, "pass" if g.passed else "FAIL", g.value, g.threshold, g.reason]
        for g in gates
    ]


def gate_list(gate: list[str], gates_file: Path | None) -> list[str] | None:
    """Gates from repeated ``--gate`` and/or a ``--gates`` YAML file; None when neither."""
    from loopml.registry.ci import read_gates_file

    found = list(gate)
    if gates_file is not None:
        found += read_gates_file(gates_file)[0]
    return found if (gate or gates_file is not None) else None


@app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List registered models with their newest version and aliases."""
    from loopml import registry

    found = registry.list_models()
    if as_json:
        print_json([_plain(m) for m in found])
        return
    rows = [
        [
            m.name,
            m.latest_version,
            ", ".join(f"{a}→{v}" for a, v in m.aliases.items()),
            when(m.last_updated_time),
            m.description or "",
        ]
        for m in found
    ]
    table("Registered models", ["name", "latest", "aliases", "updated", "description"], rows)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Registered model name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A model: aliases, gates, versions and its latest events."""
    from loopml import registry

    model = registry.get_model(name)
    gates = registry.get_gates(name)
    versions = registry.list_versions(name)
    events = registry.history(name, limit=20)
    if as_json:
        print_json(
            {
                **_plain(model),
                "gates": _plain(gates),
                "versions": [_plain(v) for v in versions],
                "events": [_plain(e) for e in events],
            }
        )
        return
    console.print(f"[bold]{model.name}[/bold]  {model.description or ''}")
    aliases = ", ".join(f"{a} → {v}" for a, v in model.aliases.items()) or "none"
    console.print(f"aliases: {aliases}")
    declared = "; ".join(gates.gates) if gates else "none declared"
    console.print(f"gates (revision {gates.revision if gates else 0}): {declared}")
    _versions_table(versions)
    table(
        "Events",
        ["time", "kind", "alias", "from", "to", "actor", "reason"],
        [
            [
                when(e.time),
                e.kind,
                e.data.get("alias"),
                e.data.get("from_version"),
                e.data.get("to_version"),
                e.actor,
                e.reason,
            ]
            for e in events
        ],
    )


def _versions_table(versions: list[Any]) -> None:
    table(
        "Versions",
        ["version", "aliases", "flavor", "run", "data", "target", "created"],
        [
            [
                v.version,
                ", ".join(v.aliases),
                v.flavor,
                v.run_id,
                v.data_version,
                v.target,
                when(v.creation_time),
            ]
            for v in versions
        ],
    )


@app.command("versions")
def versions(
    name: str = typer.Argument(..., help="Registered model name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a model's versions, oldest first."""
    from loopml import registry

    found = registry.list_versions(name)
    if as_json:
        print_json([_plain(v) for v in found])
        return
    _versions_table(found)


@app.command("register")
def register(
    model_uri: str = typer.Argument(..., help="runs:/<run_id>/<path> of a logged model."),
    name: str = typer.Argument(..., help="Registered model name (created when new)."),
    target: str | None = typer.Option(None, "--target", help="Column of the true values."),
    data_version: str | None = typer.Option(
        None, "--data-version", help="Training data, e.g. churn@3 (default: the run's input)."
    ),
    description: str | None = typer.Option(None, "--description", "-d"),
) -> None:
    """Register a logged model as the next version of NAME."""
    from loopml import registry

    version = registry.register_model(
        model_uri, name, target=target, data_version=data_version, description=description
    )
    console.print(f"registered {version.uri} from {version.source}")


@app.command("alias")
def alias(
    name: str = typer.Argument(..., help="Registered model name."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="Alias, e.g. challenger."),
    version: int | None = typer.Argument(None, help="Version to point at (omit with --delete)."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded on the event)."),
) -> None:
    """Point an alias at a version by hand (no gates; use `promote` for gated moves)."""
    from loopml import registry

    if delete:
        registry.delete_alias(name, alias_name, reason=reason)
        console.print(f"removed alias {alias_name!r} of {name}")
        return
    if version is None:
        fail("give the VERSION to point the alias at, or --delete to remove it", 2)
    registry.set_alias(name, alias_name, version, reason=reason)
    console.print(f"{name}@{alias_name} → version {version}")


@app.command("gates")
def gates(
    name: str = typer.Argument(..., help="Registered model name."),
    gate: list[str] = typer.Option([], "--set", help="A gate such as 'f1 >= 0.8' (repeatable)."),
    gates_file: Path | None = typer.Option(None, "--file", help="YAML file with a gates list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the declared gates, or declare new ones (a new revision) with --set/--file."""
    from loopml import registry

    declared = gate_list(gate, gates_file)
    current = registry.set_gates(name, declared) if declared is not None else None
    current = current or registry.get_gates(name)
    if as_json:
        print_json(_plain(current))
        return
    if current is None:
        console.print(f"{name} has no gates declared")
        return
    console.print(f"{name} gates, revision {current.revision}:")
    for expression in current.gates:
        console.print(f"  {expression}")


@app.command("promote")
def promote(
    name: str = typer.Argument(..., help="Registered model name."),
    version: int = typer.Argument(..., help="Version to promote."),
    alias_name: str = typer.Option("champion", "--alias", help="Alias to move."),
    gate: list[str] = typer.Option([], "--gate", help="Gate instead of the declared ones."),
    gates_file: Path | None = typer.Option(None, "--gates", help="YAML file with gates."),
    data: str | None = typer.Option(None, "--data", help="Evaluate both on this data, e.g. t@2."),
    target: str | None = typer.Option(None, "--target", help="Column of the true values."),
    force: bool = typer.Option(False, "--force", help="Move the alias even if gates fail."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required with --force)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Move ALIAS to VERSION when every gate passes; exit 1 when they do not."""
    from loopml import registry

    result = registry.promote(
        name,
        version,
        alias=alias_name,
        gates=gate_list(gate, gates_file),
        data=data,
        target=target,
        force=force,
        reason=reason,
    )
    if as_json:
        print_json(result.to_dict())
    else:
        if result.gates:
            table("Gates", ["gate", "result", "value", "threshold", "why"], gate_rows(result.gates))
        verb = "promoted" if result.promoted else "not promoted"
        console.print(f"{name} version {version} {verb} to {alias_name!r}: {result.reason}")
    if not result.promoted and not result.reason.endswith(f"already holds {alias_name!r}"):
        raise typer.Exit(1)


@app.command("rollback")
def rollback(
    name: str = typer.Argument(..., help="Registered model name."),
    alias_name: str = typer.Option("champion", "--alias", help="Alias to move back."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded on the event)."),
) -> None:
    """Move the alias back to the version that held it before the current one."""
    from loopml import registry

    result = registry.rollback(name, alias_name, reason=reason)
    console.print(
        f"{name}@{alias_name}: version {result.previous_version} → version {result.version}"
    )


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="Registered model name."),
    version: int | None = typer.Option(None, "--version", help="Delete only this version."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a version (refused while an alias points at it) or the whole model."""
    from loopml import registry

    what = f"version {version} of {name}" if version is not None else f"model {name}"
    registry.get_model(name)
    if not yes and not typer.confirm(f"Delete {what}?", default=False):
        raise typer.Abort()
    registry.delete_model(name, version)
    console.print(f"deleted {what}")
