"""``data.report``: one self-contained HTML page of a version's statistics, schema and drift.

The page is built from profiles, schemas and drift results only, never from rows, so a report of
a billion-row table is as small as one of a thousand rows (Evidently's grow with the data they
embed). A category seen fewer than ``MIN_COUNT`` times is one row's value, so it is left out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from loopml.data.diff import DiffResult, diff
from loopml.data.get import show
from loopml.data.versions import DatasetVersion
from loopml.entities import DataKind
from loopml.errors import IntegrityError
from loopml.reports import Html, bars_svg, element, histogram_svg, link, page, section, table
from loopml.stats import CategoricalProfile, ColumnDrift, ColumnProfile, NumericProfile
from loopml.workspace import Workspace, default_workspace

BINS = 20
TOP = 10
MIN_COUNT = 2
TAIL = 0.005  # with heavy tails the x-axis spans the 0.5th to 99.5th percentiles
MAX_LISTED = 20  # schema categories, new categories
OTHERS = "(all others)"

Labels = tuple[str, str]
Row = list[object]


def report(
    ref: str | DatasetVersion,
    vs: str | DatasetVersion | None = None,
    *,
    workspace: Workspace | None = None,
) -> str:
    """The HTML page of ``ref`` (the current data), compared with the reference ``vs`` if given."""
    ws = workspace or default_workspace()
    current = ref if isinstance(ref, DatasetVersion) else show(ref, workspace=ws)
    reference = vs if vs is None or isinstance(vs, DatasetVersion) else show(vs, workspace=ws)
    compared = diff(reference, current, workspace=ws) if reference is not None else None
    if reference is None:
        labels = (current.ref, "")
    else:
        labels = (f"{current.ref} (current)", f"{reference.ref} (reference)")
    if current.kind is DataKind.TABLE:
        sections = _table_sections(current, reference, compared, labels)
        what = "their profiles" if reference else "its profile"
    else:
        sections = [section("Overview", [_facts(current, reference, labels), *_files(compared)])]
        what = "their file lists" if reference else "its file list"
    if reference is None:
        title, subtitle = (
            f"Data report: {current.ref}",
            f"{current.ref}, built from {what} (no rows).",
        )
    else:
        title = f"{current.ref} vs {reference.ref}"
        subtitle = f"{labels[0]} compared with {labels[1]}, built from {what} (no rows)."
    return page(title, sections, subtitle=subtitle)


def write_report(
    ref: str | DatasetVersion,
    path: str | os.PathLike[str],
    vs: str | DatasetVersion | None = None,
    *,
    workspace: Workspace | None = None,
) -> Path:
    """Write ``report(ref, vs)`` to ``path`` (parent folders created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report(ref, vs, workspace=workspace), encoding="utf-8")
    return target


def _table_sections(
    current: DatasetVersion,
    reference: DatasetVersion | None,
    compared: DiffResult | None,
    labels: Labels,
) -> list[Html]:
    """The overview, the column index (the drift table when comparing) and one card per column."""
    if current.profile is None:
        raise IntegrityError(f"table version {current.ref} has lost its profile")
    columns = current.profile.columns
    old = reference.profile.columns if reference and reference.profile else {}
    drift = dict(compared.drift.columns) if compared and compared.drift else {}
    overview: list[Html] = [_facts(current, reference, labels)]
    if compared is not None:
        overview = [_banner(compared), *overview, *_changes(compared)]
    index = _drift_index(list(columns), drift) if reference else _index(current)
    sections = [section("Overview", overview), section("Columns", [index])]
    for i, name in enumerate(columns):
        cur, ref = columns[name], old.get(name)
        if ref is not None and ref.kind != cur.kind:
            ref = None  # no shared bins across kinds; the drift table says the kind changed
        sections.append(_card(i, name, (cur, ref), current, reference, drift.get(name), labels))
    return sections


def _facts(current: DatasetVersion, reference: DatasetVersion | None, labels: Labels) -> Html:
    versions = [current, *([reference] if reference else [])]
    table_kind = current.kind is DataKind.TABLE
    fields: list[tuple[str, Callable[[DatasetVersion], object]]] = [
        ("kind", lambda v: v.kind.value),
        ("rows" if table_kind else "files", lambda v: v.rows if table_kind else v.record.num_files),
        ("size", lambda v: _size(v.record.size_bytes)),
        ("digest", lambda v: v.digest[:16]),
        ("added", lambda v: _when(v.record.creation_time)),
        ("aliases", lambda v: ", ".join(v.aliases)),
    ]
    rows = [[name, *(get(v) for v in versions)] for name, get in fields]
    return table(["", *labels[: len(versions)]], rows, cls="kv")


def _files(compared: DiffResult | None) -> list[Html]:
    if compared is None or compared.files is None:
        return []
    rows = [[change, len(paths)] for change, paths in compared.files.items()]
    return [element("h3", "Files changed"), table(["change", "files"], rows)]


def _banner(compared: DiffResult) -> Html:
    result = compared.drift
    if result is None:
        return Html("")
    verdict = "Dataset drift" if result.dataset_drift else "No dataset drift"
    text = [
        element("strong", f"{verdict}: {result.drift_share:.0%} of columns drifted"),
        f" ({len(result.drifted_columns)} of {len(result.columns)};"
        f" the dataset drifts at {result.share_threshold:.0%})",
    ]
    return element("div", text, cls="banner bad" if result.dataset_drift else "banner")


def _changes(compared: DiffResult) -> list[Html]:
    parts: list[Html] = []
    result = compared.drift
    if result is not None and (result.missing_columns or result.new_columns):
        rows: list[Row] = [[c, "only in the reference"] for c in result.missing_columns]
        rows += [[c, "new in current"] for c in result.new_columns]
        parts += [element("h3", "Columns added or removed"), table(["column", "change"], rows)]
    if compared.schema_changes:
        rows = [[c["column"], c["change"], c["a"], c["b"]] for c in compared.schema_changes]
        header = ["column", "change", "reference", "current"]
        parts += [element("h3", "Schema changes"), table(header, rows)]
    return parts


def _drift_index(names: list[str], drift: dict[str, ColumnDrift]) -> Html:
    header = ["column", "test", "statistic", "threshold", "p-value", "drifted"]
    rows: list[Row] = []
    for i, name in enumerate(names):
        d = drift.get(name)
        cells: Row = [d.test, d.statistic, d.threshold, d.p_value, d.drifted] if d else [None] * 5
        rows.append([link(name, f"#col-{i}"), *cells])
    classes = ["drifted" if name in drift and drift[name].drifted else "" for name in names]
    return table(header, rows, row_classes=classes)


def _index(current: DatasetVersion) -> Html:
    assert current.profile is not None  # _table_sections checked it
    rows: list[Row] = []
    for i, (name, stats) in enumerate(current.profile.columns.items()):
        col = current.schema.column(name) if current.schema else None
        dtype = col.dtype if col else None
        cells = [stats.kind, dtype, stats.count, stats.missing, round(stats.distinct)]
        rows.append([link(name, f"#col-{i}"), *cells])
    return table(["column", "kind", "dtype", "count", "missing", "distinct"], rows)


def _card(
    index: int,
    name: str,
    profiles: tuple[ColumnProfile, ColumnProfile | None],
    current: DatasetVersion,
    reference: DatasetVersion | None,
    drift: ColumnDrift | None,
    labels: Labels,
) -> Html:
    cur, ref = profiles
    badges = [element("span", cur.kind, cls="badge")]
    if drift is not None:
        verdict = ("drifted", "badge bad") if drift.drifted else ("no drift", "badge good")
        badges.append(element("span", verdict[0], cls=verdict[1]))
    elif reference is not None:
        badges.append(element("span", "new column", cls="badge"))
    chart, notes = _chart(cur, ref, labels)
    left = [element("h3", "Distribution"), chart, *(element("p", n, cls="note") for n in notes)]
    right = [element("h3", "Statistics"), _stats(cur, ref, labels)]
    if isinstance(cur, CategoricalProfile):
        ref_cat = ref if isinstance(ref, CategoricalProfile) else None
        right += [element("h3", "Top categories"), _top_table(cur, ref_cat, labels)]
    lower = [element("div", [element("h3", "Schema"), _schema(name, current, reference, labels)])]
    if drift is not None:
        lower.append(element("div", [element("h3", "Drift"), _drift(drift, cur)]))
    parts = [
        element("div", [element("div", left), element("div", right)], cls="grid"),
        element("div", lower, cls="grid"),
    ]
    return section(Html(element("span", name) + "".join(badges)), parts, id=f"col-{index}")


def _chart(cur: ColumnProfile, ref: ColumnProfile | None, labels: Labels) -> tuple[Html, list[str]]:
    if isinstance(cur, NumericProfile):
        return _histogram(cur, ref if isinstance(ref, NumericProfile) else None, labels)
    ref_cat = ref if isinstance(ref, CategoricalProfile) else None
    rows, notes = _category_rows(cur, ref_cat)
    if not rows:
        return Html(""), notes
    if all(r[0] == OTHERS for r in rows):
        return Html(""), [*notes, "No category is frequent enough to be named."]
    names = [r[0] for r in rows]
    if ref_cat is None:
        return bars_svg(names, [r[1] for r in rows], labels=labels), notes
    cur_shares = [_share(r[1], cur.present) for r in rows]
    ref_shares = [_share(r[2] or 0, ref_cat.present) for r in rows]
    return bars_svg(names, cur_shares, ref_shares, labels=labels, percent=True), notes


def _histogram(
    cur: NumericProfile, ref: NumericProfile | None, labels: Labels
) -> tuple[Html, list[str]]:
    """Shared bins from both sides' ranges; counts (or shares when comparing) from the KLL CDFs."""
    sides = [p for p in (cur, ref) if p is not None and p.finite]
    if not sides:
        return Html(""), ["No finite values to plot."]
    lo, hi = min(p.min for p in sides), max(p.max for p in sides)
    inner_lo = min(float(p.quantile([TAIL])[0]) for p in sides)
    inner_hi = max(float(p.quantile([1 - TAIL])[0]) for p in sides)
    notes = []
    if inner_lo < inner_hi and inner_hi - inner_lo < (hi - lo) / 2:
        lo, hi = inner_lo, inner_hi
        notes.append("Heavy tails: the axis spans the 0.5th to 99.5th percentiles.")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, BINS + 1)
    notes.append("Bins are estimated from the KLL quantile sketch (about 1.3% rank error).")
    if ref is None:
        return histogram_svg(edges.tolist(), cur.histogram(edges).tolist(), labels=labels), notes

    def shares(p: NumericProfile) -> list[float]:
        counts = p.histogram(edges)
        return [float(c) / p.finite if p.finite else 0.0 for c in counts]

    svg = histogram_svg(
        edges.tolist(), shares(cur), overlay_counts=shares(ref), labels=labels, percent=True
    )
    return svg, notes


def _category_rows(
    cur: CategoricalProfile, ref: CategoricalProfile | None
) -> tuple[list[tuple[str, int, int | None]], list[str]]:
    """The heaviest categories of either side (seen at least ``MIN_COUNT`` times), then the rest."""
    sides = [p for p in (cur, ref) if p is not None and p.present]
    weight: dict[str, float] = {}
    for side in sides:
        for key, n in side.top(TOP):
            if n >= MIN_COUNT:
                weight[key] = max(weight.get(key, 0.0), n / side.present)
    chosen = sorted(weight, key=lambda k: (-weight[k], k))[:TOP]
    cur_counts, ref_counts = cur.counts(), ref.counts() if ref else {}
    rows: list[tuple[str, int, int | None]] = [
        (k, cur_counts.get(k, 0), ref_counts.get(k, 0) if ref else None) for k in chosen
    ]
    rest_cur = cur.present - sum(r[1] for r in rows)
    rest_ref = ref.present - sum(r[2] or 0 for r in rows) if ref else None
    if rest_cur > 0 or (rest_ref or 0) > 0:
        rows.append((OTHERS, rest_cur, rest_ref))
    notes = []
    if not sides:
        notes.append("No values to plot.")
    if any(n < MIN_COUNT for side in sides for n in side.counts().values()):
        notes.append(f"Categories seen fewer than {MIN_COUNT} times are not shown by name.")
    if any(not side.frequencies.exact for side in sides):
        notes.append("Counts are sketched: only categories the sketch vouches for are named.")
    return rows, notes


def _top_table(cur: CategoricalProfile, ref: CategoricalProfile | None, labels: Labels) -> Html:
    rows, _ = _category_rows(cur, ref)
    if all(r[0] == OTHERS for r in rows):
        return element("p", "None to show.", cls="note")
    header = ["category", "count", "share"]
    if ref is None:
        return table(header, [[k, n, _pct(n, cur.present)] for k, n, _ in rows])
    header = ["category", "current", "share", "reference", "share"]
    body: list[Row] = [
        [k, n, _pct(n, cur.present), m, _pct(m or 0, ref.present)] for k, n, m in rows
    ]
    return table(header, body)


def _stats(cur: ColumnProfile, ref: ColumnProfile | None, labels: Labels) -> Html:
    keys = ["count", "missing", "distinct"]
    if isinstance(cur, NumericProfile):
        keys += ["zeros", "infinities", "min", "p25", "p50", "p75", "max", "mean", "std"]
    sides = [cur, *([ref] if ref is not None else [])]
    summaries = [s.summary() for s in sides]
    rows: list[Row] = []
    for key in keys:
        values = [s.get(key) for s in summaries]
        if key == "infinities" and not any(values):
            continue
        if key == "distinct":
            values = [round(float(v)) if v is not None else None for v in values]
            exact = all(isinstance(s, CategoricalProfile) and s.frequencies.exact for s in sides)
            key = "distinct" if exact else "distinct (≈)"
        rows.append([key, *values])
    return table(["statistic", *labels[: len(sides)]], rows)


def _schema(
    name: str, current: DatasetVersion, reference: DatasetVersion | None, labels: Labels
) -> Html:
    versions = [current, *([reference] if reference else [])]
    columns = [v.schema.column(name) if v.schema else None for v in versions]
    fields: dict[str, list[object]] = {
        "dtype": [c.dtype if c else None for c in columns],
        "nullable": [c.nullable if c else None for c in columns],
        "range": [_range(c.min, c.max) if c else None for c in columns],
        "categories": [_listed(c.categories) if c and c.categories else None for c in columns],
    }
    rows: list[Row] = [[key, *values] for key, values in fields.items()]
    changed = ["changed" if len(set(map(str, v))) > 1 else "" for v in fields.values()]
    return table(["", *labels[: len(versions)]], rows, row_classes=changed, cls="kv")


def _drift(drift: ColumnDrift, cur: ColumnProfile) -> Html:
    rows: list[Row] = [
        ["test", drift.test],
        ["statistic", drift.statistic],
        ["threshold", drift.threshold],
        ["p-value", drift.p_value],
        ["drifted", drift.drifted],
    ]
    if drift.note:
        rows.append(["note", drift.note])
    if drift.new_categories:
        counts = cur.counts() if isinstance(cur, CategoricalProfile) else {}
        named = [k for k in drift.new_categories if counts.get(k, 0) >= MIN_COUNT]
        text = f"{len(drift.new_categories):,} new"
        text += f": {_listed(named)}" if named else f" (each seen fewer than {MIN_COUNT} times)"
        rows.append(["new categories", text])
    classes = ["drifted" if key == "drifted" and drift.drifted else "" for key, *_ in rows]
    return table(["", "value"], rows, row_classes=classes, cls="kv")


def _listed(values: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(values[:MAX_LISTED])
    return shown + (f" … and {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else "")


def _range(low: float | None, high: float | None) -> str | None:
    if low is None and high is None:
        return None
    return f"{'−∞' if low is None else f'{low:.6g}'} … {'∞' if high is None else f'{high:.6g}'}"


def _share(count: float, total: int) -> float:
    return count / total if total else 0.0


def _pct(count: float, total: int) -> str:
    return f"{_share(count, total):.1%}"


def _size(n: int) -> str:
    for unit, bound in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= bound:
            return f"{n / bound:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
