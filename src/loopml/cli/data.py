"""``loopml data …``: version, inspect, compare and validate datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from loopml.cli.errors import fail
from loopml.cli.lineage import show_data
from loopml.cli.render import cell, console, print_json, progress_bar, table, when
from loopml.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)


def _tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"tag {pair!r} is not KEY=VALUE", field="--tag", value=pair)
        tags[key] = value
    return tags


def _read_table(path: Path) -> Any:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="source", value=str(path))
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return pq.read_table(path)
    if suffix in {".csv", ".tsv", ".txt"}:
        options = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        return pacsv.read_csv(path, parse_options=options)
    raise InvalidInput(
        f"--table reads .csv, .tsv or .parquet files, not {path.name}",
        field="source",
        hint="drop --table to version the file as it is",
    )


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Dataset name."),
    source: Path = typer.Argument(..., help="A file or folder (or a CSV/Parquet with --table)."),
    as_table: bool = typer.Option(False, "--table", help="Read a CSV/Parquet file as a table."),
    description: str | None = typer.Option(None, "--description", "-d"),
    tag: list[str] = typer.Option([], "--tag", "-t", help="KEY=VALUE (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a new version (identical content returns the existing version)."""
    from loopml import data as datasets

    tags = _tags(tag)
    if as_table:
        version = datasets.add(name, _read_table(source), tags=tags, description=description)
    else:
        with progress_bar(f"Hashing {source}", hidden=as_json) as progress:
            version = datasets.add(
                name,
                source,
                tags=tags,
                description=description,
                progress=progress,
            )
    if as_json:
        print_json(version.to_dict())
    else:
        console.print(f"{version.ref}  {version.kind.value}  digest {version.digest[:16]}")


@app.command("list")
def list_datasets(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every dataset with its latest version."""
    from loopml import data as datasets

    found = datasets.list()
    if as_json:
        print_json([d.to_dict() for d in found])
        return
    rows = []
    for summary in found:
        latest = summary.latest
        rows.append(
            [
                summary.name,
                summary.versions,
                latest.ref if latest else "",
                latest.kind.value if latest else "",
                latest.rows if latest and latest.rows is not None else "",
                when(latest.record.creation_time) if latest else "",
            ]
        )
    table("Datasets", ["name", "versions", "latest", "kind", "rows", "added"], rows)


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name@3, name@latest or name@alias."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A version's facts, schema and column statistics (and every version of the dataset)."""
    from loopml import data as datasets

    version = datasets.show(ref)
    history = datasets.versions(version.name)
    if as_json:
        body = version.to_dict(with_profile=True)
        body["versions"] = [v.to_dict() for v in history]
        print_json(body)
        return
    record = version.record
    table(
        f"{version.ref}",
        ["field", "value"],
        [
            ["kind", record.kind.value],
            ["digest", record.digest],
            ["rows", record.rows],
            ["files", record.num_files],
            ["size", f"{record.size_bytes:,} bytes"],
            ["aliases", ", ".join(record.aliases)],
            ["description", record.description],
            ["tags", ", ".join(f"{k}={v}" for k, v in record.tags.items())],
            ["added", when(record.creation_time)],
        ],
    )
    if version.profile is not None:
        rows = []
        schema = version.schema
        for name, column in version.profile.columns.items():
            summary = column.summary()
            col = schema.column(name) if schema else None
            rows.append(
                [
                    name,
                    col.dtype if col else "",
                    summary.get("missing"),
                    round(float(summary.get("distinct") or 0)),
                    summary.get("min", _top(summary)),
                    summary.get("mean", ""),
                    summary.get("max", ""),
                ]
            )
        table(
            "Columns", ["column", "dtype", "missing", "distinct", "min / top", "mean", "max"], rows
        )
    table(
        f"Versions of {version.name}",
        ["version", "kind", "rows", "digest", "aliases", "added"],
        [
            [
                v.version,
                v.kind.value,
                v.rows,
                v.digest[:12],
                ", ".join(v.aliases),
                when(v.record.creation_time),
            ]
            for v in history
        ],
    )


def _top(summary: dict[str, Any]) -> str:
    top = summary.get("top") or []
    return ", ".join(f"{k} ({n})" for k, n in top[:3])


@app.command("get")
def get(
    ref: str = typer.Argument(..., help="name@version to fetch."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write it."),
) -> None:
    """Write a version to disk (tables as .parquet or .csv by the output's suffix)."""
    from loopml import data as datasets

    version = datasets.show(ref)
    if version.profile is None:
        path = datasets.get(version, dst=output)
        console.print(f"{version.ref} -> {path}")
        return
    frame = datasets.get(version, as_arrow=True)
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if output.suffix.lower() == ".csv":
        pacsv.write_csv(frame, output)
    else:
        pq.write_table(frame, output)
    console.print(f"{version.ref} -> {output} ({frame.num_rows} rows)")


@app.command("diff")
def diff(
    a: str = typer.Argument(..., help="Reference version, e.g. churn@1."),
    b: str = typer.Argument(..., help="Compared version, e.g. churn@2."),
    key: str | None = typer.Option(
        None, "--key", "-k", help="Key column to count rows added/removed."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rows, schema changes, statistics side by side and a drift score per column."""
    from loopml import data as datasets

    result = datasets.diff(a, b, key=key)
    if as_json:
        print_json(result.to_dict())
        return
    rows = result.rows
    line = f"rows: {rows['a']} -> {rows['b']}"
    if key is not None:
        line += f"  (key {key}: +{rows['added']} added, -{rows['removed']} removed)"
    console.print(line)
    if result.files is not None:
        for kind, paths in result.files.items():
            for path in paths:
                console.print(f"  {kind:<9} {path}")
        return
    for change in result.schema_changes:
        console.print(
            f"  schema: {change['column']} {change['change']} {change['a']} -> {change['b']}"
        )
    if result.drift is not None:
        drifted = result.drift
        table(
            f"Drift {a} -> {b}: {drifted.drift_share:.0%} of columns drifted"
            + (" (dataset drift)" if drifted.dataset_drift else ""),
            [
                "column",
                "test",
                "statistic",
                "threshold",
                "p-value",
                "drifted",
                "a mean/top",
                "b mean/top",
            ],
            [
                [
                    name,
                    c.test,
                    c.statistic,
                    c.threshold,
                    c.p_value,
                    "[bold red]yes[/]" if c.drifted else "no",
                    _center(result.columns.get(name, {}).get("a", {})),
                    _center(result.columns.get(name, {}).get("b", {})),
                ]
                for name, c in drifted.columns.items()
            ],
        )


def _center(summary: dict[str, Any]) -> str:
    if "mean" in summary:
        return cell(summary["mean"])
    return _top(summary)


@app.command("report")
def report(
    ref: str = typer.Argument(
        ..., help="The version to report on (the current data), e.g. churn@3."
    ),
    vs: str | None = typer.Option(None, "--vs", help="A reference version to compare with."),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write."),
) -> None:
    """Write a self-contained HTML report: charts, statistics, schema and drift per column."""
    from loopml import data as datasets

    path = datasets.write_report(ref, output, vs=vs)
    console.print(f"{path} ({path.stat().st_size:,} bytes)")


@app.command("validate")
def validate(
    source: Path = typer.Argument(..., help="A CSV or Parquet file to check."),
    schema: str = typer.Option(
        ..., "--schema", "-s", help="Dataset (pinned schema) or name@version."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a file against a schema; list every violation; exit 1 if there is any."""
    from loopml import data as datasets

    violations = datasets.validate(_read_table(source), schema)
    if as_json:
        print_json({"ok": not violations, "violations": [v.to_dict() for v in violations]})
    elif violations:
        table(
            f"{len(violations)} violation(s)",
            ["column", "kind", "count", "examples"],
            [[v.column, v.kind, v.count, ", ".join(map(str, v.examples))] for v in violations],
        )
    else:
        console.print(f"{source} matches the schema of {schema}")
    if violations:
        fail(f"{source} breaks the schema of {schema} in {len(violations)} way(s)", code=1)


@app.command("schema")
def schema(
    ref: str = typer.Argument(..., help="Dataset name (pinned or latest) or name@version."),
    pin: bool = typer.Option(False, "--pin", help="Pin the latest version's schema."),
    unpin: bool = typer.Option(False, "--unpin", help="Remove the pinned schema."),
    edit: Path | None = typer.Option(None, "--edit", help="Pin the schema in this JSON file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a schema; pin, unpin or replace the pinned one."""
    from loopml import data as datasets

    if sum([pin, unpin, edit is not None]) > 1:
        raise InvalidInput("use one of --pin, --unpin, --edit", field="--pin")
    if unpin:
        datasets.unpin_schema(ref)
        console.print(f"Unpinned the schema of {ref}")
        return
    if edit is not None:
        try:
            loaded = json.loads(edit.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read schema file {edit}: {exc}", field="--edit") from None
        current = datasets.pin_schema(ref, loaded)
    elif pin:
        current = datasets.pin_schema(ref)
    else:
        current = datasets.schema_of(ref)
    if as_json:
        print_json(current.to_dict())
        return
    title = f"Schema of {ref}" + (" (pinned)" if pin or edit is not None else "")
    table(
        title,
        ["column", "dtype", "nullable", "min", "max", "categories"],
        [
            [c.name, c.dtype, c.nullable, c.min, c.max, ", ".join(c.categories or ())]
            for c in current.columns
        ],
    )


@app.command("lineage")
def lineage(
    ref: str = typer.Argument(..., help="name@version."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Everything built from a version: models trained on it, evaluations, runs, derived data."""
    show_data(ref, as_json)


@app.command("alias")
def alias(
    ref: str = typer.Argument(..., help="name@version to point at."),
    name: str = typer.Argument(..., help="Alias, e.g. training."),
) -> None:
    """Point an alias at a version (``name@alias`` then resolves to it)."""
    from loopml import data as datasets

    version = datasets.set_alias(ref, name)
    console.print(f"{version.name}@{name} -> {version.ref}")
