"""The ``loopml`` root command: global options, sub-commands, and the error boundary."""

from __future__ import annotations

import sys
from typing import Any

import typer

from loopml.cli import (
    data,
    db,
    evaluation,
    experiments,
    home,
    lineage,
    loop,
    models,
    monitor,
    pipeline,
    runs,
    serve,
    storage,
)
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
app.add_typer(models.app, name="models", help="The model registry: versions, aliases, promotion.")
app.command("evaluate")(evaluation.evaluate)
app.add_typer(evaluation.ci_app, name="ci", help="CI for models: evaluate and judge the gates.")
app.add_typer(pipeline.app, name="pipeline", help="Run, explain, resume, draw and tune pipelines.")
app.command("serve")(serve.serve)
app.add_typer(monitor.app, name="monitor", help="Drift, accuracy and estimated accuracy.")
app.add_typer(
    lineage.app, name="lineage", help="Walk from a prediction back, or from data forward."
)
app.add_typer(loop.app, name="loop", help="Continuous training: triggers, retraining, promotion.")
app.command("quickstart")(loop.quickstart)


# Typer may ship its own copy of click: take the usage-error base class from Typer itself.
_CLICK_ERROR: type[Any] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def main() -> None:
    """Entry point: run the CLI and turn every error into one line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _CLICK_ERROR as exc:
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        sys.exit(report(exc, debug))
    sys.exit(code if isinstance(code, int) else 0)
