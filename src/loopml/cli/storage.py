"""``loopml fsck`` and ``loopml gc``: verify and clean the artifact store."""

from __future__ import annotations

import typer
from rich.progress import Progress

from loopml.cli.errors import fail
from loopml.cli.render import console, print_json


def register(app: typer.Typer) -> None:
    app.command("fsck")(fsck)
    app.command("gc")(gc)


def fsck(
    repair: bool = typer.Option(
        False, "--repair", help="Move damaged blobs aside so logging them again repairs them."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-hash every blob and name the ones whose bytes do not match their digest."""
    from loopml.tracking import maintenance
    from loopml.tracking.backend import default_backend

    backend = default_backend()
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("Verifying blobs", total=None)
        report = maintenance.fsck(
            backend,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            repair=repair,
        )
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "corrupt": [
                    {"digest": p.digest, "references": p.references} for p in report.problems
                ],
                "missing": [
                    {"digest": p.digest, "references": p.references} for p in report.missing
                ],
            }
        )
    else:
        for problem in report.problems:
            where = _where(problem.references) or "unreferenced"
            typer.echo(f"corrupt: blob {problem.digest} ({where})", err=True)
        for problem in report.missing:
            where = _where(problem.references)
            typer.echo(f"missing: blob {problem.digest} ({where})", err=True)
        if report.ok:
            console.print(f"{report.checked} blobs verified, all intact")
    if not report.ok:
        fail(
            f"{len(report.problems)} corrupt and {len(report.missing)} missing blob(s) of "
            f"{report.checked}",
            code=5,
        )


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would go; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Purge deleted runs and delete blobs nothing references (never ones from the last hour)."""
    from loopml.tracking import maintenance
    from loopml.tracking.backend import default_backend

    report = maintenance.gc(default_backend(), dry_run=dry_run)
    if as_json:
        print_json(
            {
                "dry_run": report.dry_run,
                "purged_runs": report.purged_runs,
                "deleted_blobs": report.deleted_blobs,
                "freed_bytes": report.freed_bytes,
                "kept_recent": report.kept_recent,
            }
        )
        return
    verb = "Would delete" if dry_run else "Deleted"
    console.print(
        f"Purged {len(report.purged_runs)} deleted run(s). {verb} {report.deleted_blobs} "
        f"unreferenced blob(s), {report.freed_bytes:,} bytes; kept {report.kept_recent} from the "
        "last hour"
    )


def _where(references: list[tuple[str, str]]) -> str:
    return ", ".join(
        f"data {path}" if owner == "data" else f"run {owner} {path}" for owner, path in references
    )
