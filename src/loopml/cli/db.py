"""``loopml db upgrade|check``: schema migrations and integrity checks of the metadata store."""

from __future__ import annotations

import typer

from loopml.cli.errors import fail
from loopml.cli.render import console, print_json
from loopml.config import Settings

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the schema or migrate it to the newest revision."""
    from loopml.store import open_store

    settings = Settings.from_env()
    store = open_store(settings.store_uri, busy_timeout=settings.db_busy_timeout, upgrade=False)
    try:
        before = store.revision()
        changed = store.upgrade()
        after = store.revision()
    finally:
        store.close()
    if changed:
        console.print(f"Upgraded {store.url} from {before or 'empty'} to {after}")
    else:
        console.print(f"{store.url} is already at {after}")


@app.command("check")
def check(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check the store's integrity (schema revision, orphan rows, SQLite pages)."""
    from loopml.store import open_store

    settings = Settings.from_env()
    store = open_store(settings.store_uri, busy_timeout=settings.db_busy_timeout, upgrade=False)
    try:
        problems = store.check()
    finally:
        store.close()
    if as_json:
        print_json({"ok": not problems, "problems": problems})
    elif not problems:
        console.print(f"{store.url}: ok")
    if problems:
        if not as_json:
            for problem in problems:
                typer.echo(f"problem: {problem}", err=True)
        fail(f"{len(problems)} integrity problem(s) in {store.url}", code=5)
