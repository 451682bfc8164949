"""The ``loopml`` root command: global options, sub-commands, and the error boundary."""

from __future__ import annotations

import sys

import click
import typer

from loopml.cli import data, db, experiments, home, runs, storage
from loopml.cli.errors import report

app = typer.Typer(
    name="loopml",
    help="LoopML: data versions, experiments, gates, registry, serving, monitoring, retraining.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """LoopML command line."""


home.register(app)
storage.register(app)
app.add_typer(db.app, name="db", help="Create, upgrade and check the metadata store.")
app.add_typer(experiments.app, name="experiments", help="List and manage experiments.")
app.add_typer(runs.app, name="runs", help="List, inspect, compare and delete runs.")
app.add_typer(data.app, name="data", help="Version datasets with statistics; diff and validate.")


def main() -> None:
    """Entry point: run the CLI and turn every error into one line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        sys.exit(report(exc, debug))
    sys.exit(code if isinstance(code, int) else 0)
