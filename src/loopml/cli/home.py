"""``loopml init`` and ``loopml info``: where the project lives and which settings are in effect."""

from __future__ import annotations

from pathlib import Path

import typer

import loopml
from loopml.cli.render import console, print_json, table
from loopml.config import HOME_DIR_NAME, Settings


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("info")(info)


def init(
    path: Path = typer.Argument(Path("."), help="Project folder (default: here)."),
) -> None:
    """Create a LoopML project here: a .loopml/ folder with the store and artifacts."""
    from loopml.workspace import Workspace

    folder = path.resolve()
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="PATH")
    home_dir = folder / HOME_DIR_NAME
    existed = home_dir.is_dir()
    home_dir.mkdir(exist_ok=True)
    (home_dir / ".gitignore").write_text("# LoopML's store and artifacts stay out of git\n*\n")
    settings = Settings.from_env(cwd=folder)
    backend = Workspace(settings)
    backend.store.upgrade()
    backend.close()
    verb = "Reinitialized existing" if existed else "Initialized"
    console.print(f"{verb} LoopML project in {home_dir}")


def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the project home, store and artifact URIs in effect, and why."""
    from loopml.workspace import Workspace

    settings = Settings.from_env()
    revision = None
    store_exists = (
        not settings.store_uri.startswith("sqlite:///")
        or Path(settings.store_uri.removeprefix("sqlite:///")).exists()
    )
    if store_exists:
        backend = Workspace(settings)
        revision = backend.store.revision()
        backend.close()
    data = {
        "version": loopml.__version__,
        "home": str(settings.home),
        "home_exists": settings.home.is_dir(),
        "store_uri": _hide_password(settings.store_uri),
        "artifact_uri": settings.artifact_uri,
        "schema_revision": revision,
        "sources": dict(settings.sources),
    }
    if as_json:
        print_json(data)
        return
    table(
        f"LoopML {loopml.__version__}",
        ["setting", "value", "why"],
        [
            ["home", data["home"], settings.sources["home"]],
            ["store", data["store_uri"], settings.sources["store_uri"]],
            ["artifacts", settings.artifact_uri, settings.sources["artifact_uri"]],
            ["schema", revision or "(not created yet)", "loopml db upgrade creates it"],
            ["experiment", settings.experiment_name, settings.sources["experiment_name"]],
        ],
    )


def _hide_password(uri: str) -> str:
    if "@" not in uri or "://" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else uri
