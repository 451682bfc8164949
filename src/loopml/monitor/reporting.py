"""``monitor.report``: one self-contained HTML page of a monitor's windows.

Drift over time, the distributions behind the newest drift, estimated and realised accuracy,
alerts and notes, drawn from the stored window results and profiles only (never from rows), so
the page stays small however much traffic the monitor has seen. Like every report it is inline
CSS and SVG: no scripts, nothing fetched, and all text escaped.

The time charts draw an interval band and a reference level, which ``reports.lines_svg`` does
not offer; ``_time_chart`` builds them on the chart kit's private frame and legend helpers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.data.report import _chart as distribution_chart
from loopml.entities import MonitorWindow
from loopml.errors import InvalidInput
from loopml.monitor.api import Monitor, get
from loopml.monitor.window_result import WindowResult
from loopml.predictions.log import INPUT_PREFIX
from loopml.reports import CURRENT, Html, element, escape, page, section, table
from loopml.reports.charts import _MUTED, _Frame, _key, _style, _svg, _tick
from loopml.stats import ColumnProfile, TableProfile
from loopml.stats.stattests import P_VALUE_TESTS
from loopml.workspace import Workspace, default_workspace

SCORE_CAP = 10.0  # drift scores above this are drawn at it, so one wild column keeps the scale
DRIFT_LINES = 8  # features with their own line in the drift chart (the highest scores)
DISTRIBUTIONS = 5
MAX_ROWS = 500  # newest windows, alerts and notes listed in the tables
INSUFFICIENT = "insufficient_data"
_LABELS = ("this window", "reference")
_CSS = "tr.muted td{color:#9ca3af;background:#f9fafb}"
_BAND_KEY = "#c7d7fb"  # the band's colour: CURRENT at 15% over white, a little stronger
_UNITS = (("minutes", 60_000), ("hours", 3_600_000), ("days", 86_400_000))

Row = list[object]
Series = tuple[str, list[float], list[float]]


def report(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    since: int | None = None,
    until: int | None = None,
    workspace: Workspace | None = None,
) -> Path:
    """Write the monitor's HTML page (default ``monitor-<name>.html`` here) and return its path.

    ``since``/``until`` (epoch milliseconds) keep the windows that overlap that span.
    """
    ws = workspace or default_workspace()
    found = get(name, workspace=ws)
    windows = ws.store.monitors.windows(name, since, until)
    target = Path(path) if path is not None else Path(f"monitor-{name}.html")
    if target.is_dir():
        raise InvalidInput(
            f"{target} is a folder", field="output", hint="give a file name such as monitor.html"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(found, windows), encoding="utf-8")
    return target


def render(monitor: Monitor, windows: Sequence[MonitorWindow]) -> str:
    """The page of ``monitor`` over these stored windows (oldest first)."""
    results = [WindowResult.from_window(w) for w in windows]
    title = f"Monitor: {monitor.name}"
    sections = [_overview(monitor, results)]
    if not results:
        hint = f"No windows yet: log predictions, then run `loopml monitor run {monitor.name}`."
        sections.append(section("Windows", [element("p", hint)]))
        return page(title, sections, subtitle=_subtitle(monitor, results))
    clock = _Clock.over(results)
    sections += [
        _drift(monitor, results, clock),
        _distributions(monitor, windows),
        _accuracy(monitor, results, clock),
        _alerts(results),
        _windows(monitor, results),
    ]
    return page(title, sections, subtitle=_subtitle(monitor, results))


@dataclass(frozen=True)
class _Clock:
    """Window start times as numbers on a chart's x-axis: a readable unit since the first."""

    origin: int
    unit: str
    unit_ms: int

    @classmethod
    def over(cls, results: Sequence[WindowResult]) -> _Clock:
        origin = results[0].start_time
        span = max(r.end_time for r in results) - origin
        unit, unit_ms = next(
            ((u, ms) for u, ms in _UNITS if span <= 72 * ms), _UNITS[-1]
        )  # at most 72 of a unit across the axis
        return cls(origin, unit, unit_ms)

    def x(self, ms: int) -> float:
        return (ms - self.origin) / self.unit_ms

    @property
    def label(self) -> str:
        return f"{self.unit} since {_when(self.origin)}"


# -- overview ---------------------------------------------------------------------------------


def _subtitle(monitor: Monitor, results: Sequence[WindowResult]) -> str:
    span = _span(results)
    text = f"{monitor.model_name}@{monitor.alias}, {monitor.config.window} windows"
    text += f", {span}" if span else ""
    return text + "; built from the stored window results and profiles (no rows)."


def _overview(monitor: Monitor, results: Sequence[WindowResult]) -> Html:
    ref = monitor.reference
    insufficient = sum(r.status == INSUFFICIENT for r in results)
    alerts = sum(len(r.alerts) for r in results)
    counts = f"{len(results):,}"
    if insufficient:
        counts += f" ({insufficient:,} with insufficient data)"
    fired = f"{alerts:,}"
    if alerts:
        fired += f" in {sum(bool(r.alerts) for r in results):,} window(s)"
    rows: list[Row] = [
        ["monitor", monitor.name],
        ["model", monitor.model_name],
        ["alias", monitor.alias],
        ["window", str(monitor.config.window)],
        ["reference data", ref.data_ref if ref else None],
        ["model version", ref.model_version if ref else None],
        ["task", f"{ref.task} (target {ref.target})" if ref else None],
        ["time span", _span(results)],
        ["windows", counts],
        ["alerts", fired],
        ["alert rules", "; ".join(rule.text for rule in monitor.config.alerts) or None],
    ]
    parts: list[Html] = [Html(f"<style>{_CSS}</style>")]
    if results:
        parts.append(_banner(results[-1]))
    parts.append(table(["", ""], rows, cls="kv"))
    parts += [element("p", f"Reference: {note}", cls="note") for note in (ref.notes if ref else ())]
    return section("Overview", parts)


def _span(results: Sequence[WindowResult]) -> str | None:
    if not results:
        return None
    return f"{_when(results[0].start_time)} – {_when(results[-1].end_time)}"


def _banner(newest: WindowResult) -> Html:
    when = _when(newest.start_time)
    if newest.status == INSUFFICIENT:
        return element("div", [f"Newest window ({when}): insufficient data"], cls="banner")
    if newest.alerts:
        rules = ", ".join(a["rule"] for a in newest.alerts)
        text = [
            element("strong", f"{len(newest.alerts)} alert(s)"),
            f" in the newest window ({when}): {rules}",
        ]
        return element("div", text, cls="banner bad")
    return element("div", [f"No alerts in the newest window ({when})"], cls="banner")


# -- drift ------------------------------------------------------------------------------------


def _score(item: Mapping[str, Any]) -> float | None:
    """How far past its threshold a test went (1 is the threshold, above drifts).

    Distances: statistic / threshold. P-value tests: log(p) / log(threshold), so p = threshold
    scores 1 and p = 1 scores 0.
    """
    if (item.get("note") or "").startswith("insufficient"):
        return None
    threshold = item.get("threshold")
    if not isinstance(threshold, int | float) or threshold <= 0:
        return None
    if item.get("test") in P_VALUE_TESTS:
        p = item.get("p_value")
        if p is None or threshold >= 1:
            return None
        return math.log(max(float(p), 1e-300)) / math.log(threshold)
    statistic = item.get("statistic")
    return None if statistic is None else float(statistic) / threshold


def _columns(result: WindowResult) -> Mapping[str, Mapping[str, Any]]:
    if result.status == INSUFFICIENT:
        return {}
    return dict((result.result.get("drift") or {}).get("columns") or {})


def _drift(monitor: Monitor, results: Sequence[WindowResult], clock: _Clock) -> Html:
    scores: dict[str, tuple[list[float], list[float]]] = {}
    for r in results:
        judged = {**_columns(r)}
        if r.status != INSUFFICIENT and r.result.get("prediction_drift"):
            judged["(prediction)"] = r.result["prediction_drift"]
        for name, item in judged.items():
            score = _score(item)
            if score is not None:
                xs, ys = scores.setdefault(name, ([], []))
                xs.append(clock.x(r.start_time))
                ys.append(min(score, SCORE_CAP))
    ranked = sorted(scores, key=lambda n: (-max(scores[n][1]), n))
    lines: list[Series] = [(n, *scores[n]) for n in ranked[:DRIFT_LINES]]
    parts: list[Html] = [
        element("h3", "Drift score by feature"),
        _time_chart(
            lines, x_label=clock.label, y_label="score (1 = threshold)", level=("threshold", 1.0)
        ),
        element(
            "p",
            "Score: the test statistic over its threshold, or log p over log threshold for "
            f"p-value tests; at 1 or above the feature drifted. Scores above {SCORE_CAP:g} are "
            "drawn at it; windows with insufficient data are left out.",
            cls="note",
        ),
    ]
    if len(ranked) > DRIFT_LINES:
        parts.append(
            element("p", f"The {DRIFT_LINES} highest-scoring of {len(ranked)} shown.", cls="note")
        )
    share: Series = ("drift share", [], [])
    for r in results:
        if r.status != INSUFFICIENT and r.drift_share is not None:
            share[1].append(clock.x(r.start_time))
            share[2].append(r.drift_share)
    parts += [
        element("h3", "Share of drifted features"),
        _time_chart(
            [share],
            x_label=clock.label,
            y_label="share of features",
            level=("dataset drift threshold", monitor.config.share_threshold),
            y_range=(0.0, 1.0),
        ),
    ]
    return section("Drift over time", parts)


def _distributions(monitor: Monitor, windows: Sequence[MonitorWindow]) -> Html:
    """The most drifted features of the newest window with drift, against the reference."""
    newest = next(
        (w for w in reversed(windows) if WindowResult.from_window(w).drifted_columns), None
    )
    if newest is None:
        return section(
            "Distributions", [element("p", "No window has drifted features.", cls="note")]
        )
    result = WindowResult.from_window(newest)
    columns = _columns(result)
    drifted = sorted(
        result.drifted_columns, key=lambda n: (-(_score(columns.get(n) or {}) or 0.0), n)
    )
    profile = newest.state.get("profile")
    window = TableProfile.from_dict(profile).columns if profile else {}
    ref = monitor.reference
    reference = ref.profile.columns if ref else {}
    when = _when(newest.start_time)
    against = f" against the reference {ref.data_ref}" if ref else ""
    parts: list[Html] = [
        element(
            "p",
            f"The {min(len(drifted), DISTRIBUTIONS)} most drifted of {len(drifted)} drifted "
            f"feature(s) in the newest window with drift ({when}){against}.",
        )
    ]
    judged_against = (newest.result.get("reference") or {}).get("data")
    if ref is not None and judged_against and judged_against != ref.data_ref:
        parts.append(
            element(
                "p",
                f"This window was judged against {judged_against}; the reference drawn is the "
                f"monitor's current one, {ref.data_ref}.",
                cls="note",
            )
        )
    for name in drifted[:DISTRIBUTIONS]:
        parts.append(
            _feature(
                name,
                window.get(INPUT_PREFIX + name),
                reference.get(name),
                columns.get(name),
            )
        )
    return section("Distributions", parts, id="distributions")


def _feature(
    name: str,
    current: ColumnProfile | None,
    reference: ColumnProfile | None,
    drift: Mapping[str, Any] | None,
) -> Html:
    if current is None:
        chart, notes = Html(""), ["The window's profile of this feature is not stored."]
    else:
        same_kind = reference is not None and reference.kind == current.kind
        chart, notes = distribution_chart(current, reference if same_kind else None, _LABELS)
    left = [chart, *(element("p", note, cls="note") for note in notes)]
    rows: list[Row] = []
    if drift is not None:
        rows = [
            ["test", drift.get("test")],
            ["statistic", drift.get("statistic")],
            ["p-value", drift.get("p_value")],
            ["threshold", drift.get("threshold")],
        ]
        if drift.get("note"):
            rows.append(["note", drift["note"]])
        new = list(drift.get("new_categories") or [])
        if new:
            rows.append(["new categories", ", ".join(map(str, new[:20])) + " …" * (len(new) > 20)])
    right = [table(["", "value"], rows, cls="kv")] if rows else []
    body = element("div", [element("div", left), element("div", right)], cls="grid")
    return element("div", [element("h3", name), body])


# -- accuracy ---------------------------------------------------------------------------------


def _realised(result: WindowResult) -> Mapping[str, Mapping[str, Any]]:
    return dict((result.result.get("realised") or {}).get("metrics") or {})


def _chosen_metrics(monitor: Monitor, results: Sequence[WindowResult]) -> list[str]:
    """f1 for a classifier (else the first metric it has), r2 and rmse for a regressor."""
    estimated = list(dict.fromkeys(m for r in results for m in r.estimated))
    realised = list(dict.fromkeys(m for r in results for m in _realised(r)))
    if monitor.reference is not None and monitor.reference.task == "regression":
        return [m for m in ("r2", "rmse") if m in realised] or realised[:1]
    pool = list(dict.fromkeys([*estimated, *realised]))
    return ["f1"] if "f1" in pool else pool[:1]


def _accuracy(monitor: Monitor, results: Sequence[WindowResult], clock: _Clock) -> Html:
    metrics = _chosen_metrics(monitor, results)
    if not metrics:
        note = (
            "No accuracy yet: an estimate needs a classifier with probabilities and a calibrator; "
            f"realised accuracy needs at least {monitor.config.min_labels} labels in a window."
        )
        return section("Accuracy", [element("p", note, cls="note")], id="accuracy")
    baseline = ((monitor.reference.baseline if monitor.reference else None) or {}).get(
        "metrics"
    ) or {}
    parts: list[Html] = []
    for metric in metrics:
        estimated = any(r.estimated.get(metric) for r in results)
        estimate: Series = (f"estimated {metric}", [], [])
        realised: Series = (f"realised {metric}", [], [])
        band: tuple[list[float], list[float], list[float]] = ([], [], [])
        for r in results:
            x = clock.x(r.start_time)
            found = r.estimated.get(metric) or {}
            if found.get("value") is not None:
                estimate[1].append(x)
                estimate[2].append(float(found["value"]))
            real = _realised(r).get(metric) or {}
            if real.get("value") is not None:
                realised[1].append(x)
                realised[2].append(float(real["value"]))
            interval = found if estimated else real
            if interval.get("low") is not None and interval.get("high") is not None:
                band[0].append(x)
                band[1].append(float(interval["low"]))
                band[2].append(float(interval["high"]))
        which = "estimate" if estimated else "realised"
        level = baseline.get(metric)
        parts += [
            element("h3", metric),
            _time_chart(
                [s for s in (estimate, realised) if s[1]],
                x_label=clock.label,
                y_label=metric,
                band=(f"{which} 95% interval", *band) if band[0] else None,
                level=("at registration", float(level)) if level is not None else None,
            ),
        ]
    parts.append(
        element(
            "p",
            "Estimates come from the calibrated probabilities before any label arrives; realised "
            "values from the labels that did (windows with too few labels have none).",
            cls="note",
        )
    )
    return section("Accuracy", parts, id="accuracy")


# -- alerts, windows, notes -------------------------------------------------------------------


def _alerts(results: Sequence[WindowResult]) -> Html:
    rows: list[Row] = [
        [_when(r.start_time), a.get("rule"), a.get("value"), a.get("threshold")]
        for r in reversed(results)
        for a in r.alerts
    ]
    if not rows:
        return section("Alerts", [element("p", "No alerts fired.", cls="note")], id="alerts")
    parts: list[Html] = [
        table(["window start (UTC)", "rule", "value", "threshold"], rows[:MAX_ROWS])
    ]
    parts += _more(len(rows), "alerts")
    return section("Alerts", parts, id="alerts")


def _windows(monitor: Monitor, results: Sequence[WindowResult]) -> Html:
    metric = next(iter(_chosen_metrics(monitor, results)), None)
    header = ["window start (UTC)", "rows", "status", "drift share", "drifted features"]
    if metric is not None:
        header += [f"est. {metric}", metric]
    header += ["labels", "alerts"]
    rows: list[Row] = []
    classes: list[str] = []
    newest = list(reversed(results))[:MAX_ROWS]
    for r in newest:
        drifted = r.drifted_columns
        status = "insufficient data" if r.status == INSUFFICIENT else r.status
        row: Row = [
            _when(r.start_time) + ("" if r.complete else " (open)"),
            r.rows,
            element("span", status, cls="badge bad" if r.alerts else "badge"),
            r.drift_share if r.status != INSUFFICIENT else None,
            ", ".join(drifted[:5]) + (f" … (+{len(drifted) - 5})" if len(drifted) > 5 else ""),
        ]
        if metric is not None:
            row += [
                (r.estimated.get(metric) or {}).get("value"),
                (_realised(r).get(metric) or {}).get("value"),
            ]
        row += [r.signals.get("labels"), len(r.alerts)]
        rows.append(row)
        classes.append("muted" if r.status == INSUFFICIENT else "drifted" if r.alerts else "")
    parts: list[Html] = [table(header, rows, row_classes=classes)]
    parts += _more(len(results), "windows")
    notes: list[Row] = [[_when(r.start_time), note] for r in reversed(results) for note in r.notes]
    if notes:
        parts += [element("h3", "Notes"), table(["window start (UTC)", "note"], notes[:MAX_ROWS])]
        parts += _more(len(notes), "notes")
    return section("Windows", parts, id="windows")


def _more(count: int, what: str) -> list[Html]:
    if count <= MAX_ROWS:
        return []
    return [element("p", f"The newest {MAX_ROWS:,} of {count:,} {what} are listed.", cls="note")]


# -- charts -----------------------------------------------------------------------------------


def _time_chart(
    lines: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    band: tuple[str, list[float], list[float], list[float]] | None = None,
    level: tuple[str, float] | None = None,
    y_range: tuple[float, float] | None = None,
    width: int = 640,
    height: int = 280,
) -> Html:
    """Lines over time, with an optional shaded interval ``band`` and a dashed ``level``."""
    xs = [x for _, px, _ in lines for x in px]
    ys = [y for _, _, py in lines for y in py]
    if band is not None:
        xs += band[1]
        ys += band[2] + band[3]
    if not xs:
        return element("p", "Nothing to chart yet.", cls="note")
    if level is not None:
        ys.append(level[1])
    keys = [(label, *_style(i)) for i, (label, _, _) in enumerate(lines)]
    if band is not None:
        keys.append((band[0], _BAND_KEY, ""))
    if level is not None:
        keys.append((level[0], _MUTED, "4 4"))
    legend, rows = _key(keys, 8, 14, width - 8)
    frame = _Frame(
        xs, ys, x_fixed=None, y_fixed=y_range, width=width, height=height, top=12 + 18 * rows
    )
    parts = frame.axes(x_label, y_label)
    if band is not None:
        _, bx, low, high = band
        upper = [f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in zip(bx, high, strict=True)]
        lower = [f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in zip(bx, low, strict=True)]
        parts.append(
            f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{CURRENT}" '
            f'fill-opacity="0.15" stroke="none"><title>{escape(band[0])}</title></polygon>'
        )
    if level is not None:
        parts.append(frame.hline(level[1]))
    for (label, px, py), (_, colour, dash) in zip(lines, keys, strict=False):
        coords = [f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in zip(px, py, strict=True)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dashes}><title>{escape(label)}</title></polyline>'
        )
        if len(px) <= 48:
            parts += [
                f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(f'{label}: {_tick(y)}')}</title></circle>"
                for x, y in zip(px, py, strict=True)
            ]
    parts.append(legend)
    return _svg(width, height, parts)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
