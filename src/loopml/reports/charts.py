"""Charts as inline SVG: no JavaScript and no network, so a report opens anywhere, offline.

Every label goes through ``escape`` (``html.escape`` plus unprintable characters replaced), so
the SVG stays well-formed XML whatever a column or category is called.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from loopml.errors import InvalidInput
from loopml.reports.html import Html, escape

CURRENT = "#2563eb"  # blue and orange stay distinct under the common colour-blindnesses
REFERENCE = "#ea580c"
_GRID = "#e5e7eb"
_INK = "#374151"
_LABEL_CHARS = 22
_MUTED = "#6b7280"
# Series colours after the first two: green and purple, each also dashed (see ``_style``).
_PALETTE = (CURRENT, REFERENCE, "#059669", "#7c3aed")
_DASHES = ("", "", "7 3", "2 2")
_CHAR_W = 6.2  # about the width of one character at font-size 11
_MATRIX_CHARS = 12
_MARKED_POINTS = 20  # a series with this many points or fewer also shows each point
_LINE_POINTS = 2000  # a line with more points is thinned to this many
_HUGE = 1e300  # larger values are left out like infinities: their differences would overflow


def histogram_svg(
    edges: Sequence[float],
    counts: Sequence[float],
    *,
    overlay_counts: Sequence[float] | None = None,
    labels: tuple[str, str] = ("current", "reference"),
    width: int = 480,
    height: int = 250,
    percent: bool = False,
) -> Html:
    """Bars for ``counts`` over bins ``edges``; ``overlay_counts`` as a step line on the bins."""
    if len(edges) != len(counts) + 1 or not counts:
        raise InvalidInput(
            f"a histogram needs one more edge than counts, got {len(edges)} and {len(counts)}",
            field="edges",
        )
    if overlay_counts is not None and len(overlay_counts) != len(counts):
        raise InvalidInput("overlay_counts must have one value per bin", field="overlay_counts")
    left, right, top, bottom = 52, 14, (30 if overlay_counts is not None else 12), 30
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = float(edges[0]), float(edges[-1])
    span = hi - lo or 1.0
    ticks = _nice_ticks(max([*counts, *(overlay_counts or ())], default=0.0))
    y_top = ticks[-1]

    def x(value: float) -> float:
        return left + (float(value) - lo) / span * plot_w

    def y(value: float) -> float:
        return top + plot_h * (1 - float(value) / y_top)

    parts = [_y_axis(ticks, left, width - right, y, percent)]
    for i, count in enumerate(counts):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        tip = f"[{_tick(edges[i])}, {_tick(edges[i + 1])}): {_value(count, percent)}"
        if overlay_counts is not None:
            tip += f" ({labels[1]}: {_value(overlay_counts[i], percent)})"
        parts.append(
            f'<rect x="{x0 + 0.5:.1f}" y="{y(count):.1f}" width="{max(x1 - x0 - 1, 0.8):.1f}" '
            f'height="{y(0) - y(count):.1f}" fill="{CURRENT}" fill-opacity="0.75">'
            f"<title>{escape(tip)}</title></rect>"
        )
    if overlay_counts is not None:
        path = [f"M{x(edges[0]):.1f},{y(0):.1f}"]
        for i, count in enumerate(overlay_counts):
            path.append(f"L{x(edges[i]):.1f},{y(count):.1f}L{x(edges[i + 1]):.1f},{y(count):.1f}")
        path.append(f"L{x(edges[-1]):.1f},{y(0):.1f}")
        parts.append(
            f'<path d="{"".join(path)}" fill="{REFERENCE}" fill-opacity="0.08" '
            f'stroke="{REFERENCE}" stroke-width="2" stroke-linejoin="round"/>'
        )
        parts.append(_legend(labels, left, 14))
    for k in range(5):
        value = lo + span * k / 4 if hi > lo else lo
        anchor = ("start", "middle", "middle", "middle", "end")[k]
        parts.append(
            f'<text x="{x(value):.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" '
            f'fill="{_INK}">{escape(_tick(value))}</text>'
        )
        if hi == lo:
            break
    return _svg(width, height, parts)


def bars_svg(
    categories: Sequence[str],
    counts: Sequence[float],
    overlay: Sequence[float] | None = None,
    *,
    labels: tuple[str, str] = ("current", "reference"),
    width: int = 480,
    height: int | None = None,
    percent: bool = False,
) -> Html:
    """Horizontal bars per category (long names fit); ``overlay`` as a second bar beneath each."""
    if len(categories) != len(counts) or (overlay is not None and len(overlay) != len(counts)):
        raise InvalidInput(
            "categories, counts and overlay must have one value each", field="counts"
        )
    top = 30 if overlay is not None else 8
    if not categories:
        return _svg(width, 40, [f'<text x="8" y="24" fill="{_INK}">no categories to show</text>'])
    height = height or top + (30 if overlay is not None else 22) * len(categories) + 6
    row = (height - top - 6) / len(categories)
    label_w, value_w = 150, 58
    bar_w = width - label_w - value_w
    most = max([*counts, *(overlay or ())], default=0.0) or 1.0
    parts = [_legend(labels, label_w, 14)] if overlay is not None else []
    parts.append(
        f'<line x1="{label_w}" x2="{label_w}" y1="{top - 2}" y2="{height - 4}" stroke="{_GRID}"/>'
    )
    thick = (row - 8) / 2 if overlay is not None else row - 6
    for i, name in enumerate(categories):
        y0 = top + i * row + 3
        bars = [(counts[i], CURRENT, labels[0])]
        if overlay is not None:
            bars.append((overlay[i], REFERENCE, labels[1]))
        short = _clip(name, _LABEL_CHARS)
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + (row - 6) / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{_INK}">{escape(short)}<title>{escape(name)}</title></text>'
        )
        for j, (value, colour, who) in enumerate(bars):
            by = y0 + j * (thick + 2)
            w = max(bar_w * float(value) / most, 0.0)
            tip = f"{name} — {who}: {_value(value, percent)}"
            parts.append(
                f'<rect x="{label_w}" y="{by:.1f}" width="{w:.1f}" height="{thick:.1f}" '
                f'fill="{colour}" fill-opacity="0.8"><title>{escape(tip)}</title></rect>'
                f'<text x="{label_w + w + 4:.1f}" y="{by + thick / 2 + 4:.1f}" fill="{_INK}" '
                f'font-size="10">{escape(_value(value, percent))}</text>'
            )
    return _svg(width, height, parts)


def lines_svg(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    diagonal: bool = False,
    title: str = "",
    width: int = 360,
    height: int = 300,
) -> Html:
    """One line per ``(label, xs, ys)`` series: ROC and precision-recall curves, calibration.

    ``x_range`` and ``y_range`` pin an axis (widened where data falls outside it); ``diagonal``
    adds a dashed y = x reference. A series of at most 20 points also marks each point, and
    non-finite points are left out.
    """
    for label, xs, ys in series:
        if len(xs) != len(ys):
            raise InvalidInput(
                f"series {label!r} needs one y per x, got {len(xs)} and {len(ys)}",
                field="series",
            )
    lines = [(label, _finite_pairs(xs, ys)) for label, xs, ys in series]
    all_x = [px for _, points in lines for px, _ in points]
    all_y = [py for _, points in lines for _, py in points]
    if not all_x:
        return _no_data(width, title)
    keys = [(label, *_style(i)) for i, (label, _) in enumerate(lines)]
    key, rows = _key(keys, 8, 14 + (18 if title else 0), width - 8)
    shared = diagonal and x_range is None and y_range is None
    frame = _Frame(
        [*all_x, *all_y] if shared else all_x,
        [*all_x, *all_y] if shared else all_y,
        x_fixed=x_range,
        y_fixed=y_range,
        width=width,
        height=height,
        top=12 + (18 if title else 0) + 18 * rows,
    )
    parts = frame.axes(x_label, y_label)
    if diagonal:
        parts.append(frame.diagonal())
    for (label, points), (_, colour, dash) in zip(lines, keys, strict=True):
        if not points:
            continue
        coords = _thin([f"{frame.x(px):.1f},{frame.y(py):.1f}" for px, py in points])
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" '
            f'stroke-width="2" stroke-linejoin="round"{dashes}><title>{escape(label)}</title>'
            "</polyline>"
        )
        if len(points) <= _MARKED_POINTS:
            for px, py in points:
                tip = f"{label}: {_tick(px)}, {_tick(py)}"
                parts.append(
                    f'<circle cx="{frame.x(px):.1f}" cy="{frame.y(py):.1f}" r="3" '
                    f'fill="{colour}" stroke="#ffffff"><title>{escape(tip)}</title></circle>'
                )
    parts.append(key)
    parts.append(_title(title, width))
    return _svg(width, height, parts)


def matrix_svg(
    labels: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    title: str = "",
    x_label: str = "predicted",
    y_label: str = "actual",
) -> Html:
    """A confusion matrix: a row per actual class, a column per predicted one.

    Each cell is shaded by its share of the row and shows its count; the tooltip has the full
    count and share, and the full class names where the axes clip them.
    """
    n = len(labels)
    if len(counts) != n or any(len(row) != n for row in counts):
        raise InvalidInput(
            f"a confusion matrix needs {n} rows of {n} counts, one per label", field="counts"
        )
    if not n:
        return _no_data(240, title)
    size = max(18, min(64, 360 // n))
    names = [_clip(str(label), _MATRIX_CHARS) for label in labels]
    name_w = _CHAR_W * max(len(name) for name in names)
    tilted = name_w > size - 6
    left = max(22 + name_w + 8.0, 0.5 * name_w - size / 2 + 8 if tilted else 0.0, 56.0)
    top = 10 + (18 if title else 0)
    grid = n * size
    names_h = 0.87 * name_w + 14 if tilted else 16
    height = top + grid + names_h + 22
    width = math.ceil(left + grid + 12)
    font = 11 if size >= 40 else 10 if size >= 28 else 8
    cells, texts = [], []
    for i, row in enumerate(counts):
        values = [_num(value) for value in row]
        total = sum(v for v in values if v is not None and v > 0)
        for j, value in enumerate(values):
            share = min(max(value / total, 0.0), 1.0) if value is not None and total > 0 else 0.0
            x0, y0 = left + j * size, top + i * size
            tip = (
                f"actual {labels[i]} → predicted {labels[j]}: {_whole(value)} "
                f"({share:.1%} of actual {labels[i]})"
            )
            cells.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{size}" height="{size}" '
                f'fill-opacity="{0.04 + 0.96 * share:.3f}"><title>{escape(tip)}</title></rect>'
            )
            ink = ' fill="#ffffff"' if share >= 0.55 else ""
            texts.append(
                f'<text x="{x0 + size / 2:.1f}" y="{y0 + size / 2 + font * 0.35:.1f}"{ink}>'
                f"{escape(_count(value, size - 4, font))}</text>"
            )
    parts = [
        f'<g fill="{CURRENT}" stroke="#ffffff">{"".join(cells)}</g>'
        f'<g text-anchor="middle" font-size="{font}" fill="{_INK}" pointer-events="none">'
        f"{''.join(texts)}</g>"
    ]
    for k, (name, full) in enumerate(zip(names, labels, strict=True)):
        middle = k * size + size / 2
        parts.append(
            f'<text x="{left - 6:.1f}" y="{top + middle + 4:.1f}" text-anchor="end" '
            f'fill="{_INK}">{escape(name)}<title>{escape(full)}</title></text>'
        )
        below = top + grid + 12
        place = (
            f'transform="translate({left + middle:.1f},{below:.1f}) rotate(-60)" text-anchor="end"'
            if tilted
            else f'x="{left + middle:.1f}" y="{below + 2:.1f}" text-anchor="middle"'
        )
        parts.append(
            f'<text {place} fill="{_INK}">{escape(name)}<title>{escape(full)}</title></text>'
        )
    parts.append(
        f'<text x="{left + grid / 2:.1f}" y="{height - 6:.1f}" text-anchor="middle" '
        f'fill="{_INK}" font-weight="600">{escape(_fit(x_label, width - 16))}</text>'
        f'<text transform="translate(12,{top + grid / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'fill="{_INK}" font-weight="600">{escape(_fit(y_label, grid + 20))}</text>'
    )
    parts.append(_title(title, width))
    return _svg(width, height, parts)


def scatter_svg(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    hline: float | None = None,
    title: str = "",
    width: int = 360,
    height: int = 300,
    max_points: int = 2000,
) -> Html:
    """Points (x, y): predicted against actual with ``diagonal``, residuals with ``hline=0.0``.

    Non-finite points are left out; of the rest at most ``max_points`` are drawn, at evenly
    spaced positions in the input order, so the same input always gives the same chart.
    """
    if len(xs) != len(ys):
        raise InvalidInput(f"a scatter needs one y per x, got {len(xs)} and {len(ys)}", field="ys")
    if max_points < 1:
        raise InvalidInput(f"max_points must be at least 1, got {max_points}", field="max_points")
    points = _finite_pairs(xs, ys)
    if not points:
        return _no_data(width, title)
    all_x = [px for px, _ in points]
    all_y = [py for _, py in points]
    level = _num(hline) if hline is not None else None
    if level is not None:
        all_y.append(level)
    shown = _evenly(points, max_points)
    note_y = 14 + (18 if title else 0)
    both = [*all_x, *all_y]
    frame = _Frame(
        both if diagonal else all_x,
        both if diagonal else all_y,
        x_fixed=None,
        y_fixed=None,
        width=width,
        height=height,
        top=12 + (18 if title else 0) + (18 if len(shown) < len(points) else 0),
    )
    parts = frame.axes(x_label, y_label)
    radius = 2.5 if len(shown) <= 200 else 1.6
    parts.append(f'<g fill="{CURRENT}" fill-opacity="0.5">')
    parts.extend(
        f'<circle cx="{frame.x(px):.1f}" cy="{frame.y(py):.1f}" r="{radius}"/>' for px, py in shown
    )
    parts.append("</g>")
    if diagonal:
        parts.append(frame.diagonal())
    if level is not None:
        parts.append(frame.hline(level))
    if len(shown) < len(points):
        parts.append(
            f'<text x="{width - 8}" y="{note_y}" text-anchor="end" fill="{_MUTED}" '
            f'font-size="10">{len(shown):,} of {len(points):,} points shown</text>'
        )
    parts.append(_title(title, width))
    return _svg(width, height, parts)


class _Frame:
    """A plot area with numeric axes: the mapping from data to pixels, grid lines and labels."""

    def __init__(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        *,
        x_fixed: tuple[float, float] | None,
        y_fixed: tuple[float, float] | None,
        width: int,
        height: int,
        top: int,
    ) -> None:
        self.x_lo, self.x_hi, self.x_ticks = _axis(xs, x_fixed)
        self.y_lo, self.y_hi, self.y_ticks = _axis(ys, y_fixed)
        widest = max(len(_tick(tick)) for tick in self.y_ticks)
        self.left = max(44.0, 22 + _CHAR_W * widest + 6)
        right = max(12.0, _CHAR_W * len(_tick(self.x_ticks[-1])) / 2 + 4)
        self.top = float(top)
        self.right = max(float(width) - right, self.left + 10)
        self.bottom = max(float(height - 38), self.top + 10)
        self.height = height

    def x(self, value: float) -> float:
        share = (value - self.x_lo) / (self.x_hi - self.x_lo)
        return self.left + share * (self.right - self.left)

    def y(self, value: float) -> float:
        share = (value - self.y_lo) / (self.y_hi - self.y_lo)
        return self.bottom - share * (self.bottom - self.top)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        parts = [_y_axis(self.y_ticks, self.left, self.right, self.y, False)]
        for tick in self.x_ticks:
            tx = self.x(tick)
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{self.top:.1f}" y2="{self.bottom:.1f}" '
                f'stroke="{_GRID}"/>'
                f'<text x="{tx:.1f}" y="{self.bottom + 15:.1f}" text-anchor="middle" '
                f'fill="{_INK}">{escape(_tick(tick))}</text>'
            )
        parts.append(
            f'<text x="{(self.left + self.right) / 2:.1f}" y="{self.height - 6}" '
            f'text-anchor="middle" fill="{_INK}" font-weight="600">'
            f"{escape(_fit(x_label, self.right - self.left + 40))}</text>"
            f'<text transform="translate(12,{(self.top + self.bottom) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" fill="{_INK}" font-weight="600">'
            f"{escape(_fit(y_label, self.bottom - self.top + 30))}</text>"
        )
        return parts

    def diagonal(self) -> str:
        lo, hi = max(self.x_lo, self.y_lo), min(self.x_hi, self.y_hi)
        if lo >= hi:
            return ""
        return (
            f'<line x1="{self.x(lo):.1f}" y1="{self.y(lo):.1f}" x2="{self.x(hi):.1f}" '
            f'y2="{self.y(hi):.1f}" stroke="{_MUTED}" stroke-width="1.2" '
            f'stroke-dasharray="4 4"><title>y = x</title></line>'
        )

    def hline(self, level: float) -> str:
        ty = self.y(level)
        return (
            f'<line x1="{self.left:.1f}" y1="{ty:.1f}" x2="{self.right:.1f}" y2="{ty:.1f}" '
            f'stroke="{_MUTED}" stroke-width="1.2" stroke-dasharray="4 4">'
            f"<title>y = {escape(_tick(level))}</title></line>"
        )


def _axis(
    values: Sequence[float], fixed: tuple[float, float] | None
) -> tuple[float, float, list[float]]:
    """An axis's ends and round ticks: ``fixed`` ends kept (widened to the data), otherwise the
    data's extent rounded out to whole steps; a single value gets a range around it."""
    ends = [end for end in (_num(v) for v in fixed or ()) if end is not None]
    pinned = len(ends) == 2 and ends[0] != ends[1]
    lo, hi = min([*values, *ends], default=0.0), max([*values, *ends], default=1.0)
    span = hi - lo
    if span <= 1e-9 * max(abs(lo), abs(hi)) or span < 1e-200:
        middle = lo / 2 + hi / 2
        pad = abs(middle) * 0.1 if abs(middle) > 1e-100 else 1.0
        lo, hi, pinned = middle - pad, middle + pad, False
    step = _nice_step((hi - lo) / 4)
    if pinned:
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    else:
        first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        lo, hi = first * step, last * step
    return lo, hi, [k * step for k in range(first, last + 1)]


def _num(value: object) -> float | None:
    """``value`` as a float, or None where it is missing, not a number, infinite or so large that
    a difference of two would overflow."""
    if not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) <= _HUGE else None


def _finite_pairs(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    pairs = []
    for x, y in zip(xs, ys, strict=True):
        px, py = _num(x), _num(y)
        if px is not None and py is not None:
            pairs.append((px, py))
    return pairs


def _evenly(points: Sequence[tuple[float, float]], most: int) -> list[tuple[float, float]]:
    """At most ``most`` of ``points`` at evenly spaced positions, the first and last among them."""
    n = len(points)
    if n <= most:
        return list(points)
    if most == 1:
        return [points[0]]
    return [points[i * (n - 1) // (most - 1)] for i in range(most)]


def _thin(coords: Sequence[str]) -> list[str]:
    """Polyline points without repeats of the same pixel, then at most ``_LINE_POINTS``."""
    kept = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    n = len(kept)
    if n <= _LINE_POINTS:
        return kept
    return [kept[i * (n - 1) // (_LINE_POINTS - 1)] for i in range(_LINE_POINTS)]


def _style(index: int) -> tuple[str, str]:
    """The colour and dash pattern of the ``index``-th series (dashes tell the later ones apart
    where colours do not)."""
    return _PALETTE[index % len(_PALETTE)], _DASHES[index % len(_DASHES)]


def _key(
    items: Sequence[tuple[str, str, str]], x0: float, y0: float, edge: float
) -> tuple[str, int]:
    """A legend of line swatches, wrapping onto more rows at ``edge``; the markup and row count."""
    parts, x, y, rows = [], x0, y0, 1
    for label, colour, dash in items:
        short = _clip(label, 24)
        item_w = 22 + 6.4 * len(short)
        if x > x0 and x + item_w > edge:
            x, y, rows = x0, y + 18, rows + 1
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 16:.1f}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dashes}/>'
            f'<text x="{x + 21:.1f}" y="{y}" fill="{_INK}">{escape(short)}'
            f"<title>{escape(label)}</title></text>"
        )
        x += item_w + 18
    return "".join(parts), rows


def _count(value: float | None, room: float, font: int) -> str:
    """A cell's count in full where it fits ``room`` pixels, else in short (12.3k)."""
    full = _whole(value)
    return full if value is None or len(full) * font * 0.6 <= room else _tick(value)


def _whole(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}" if value.is_integer() else _tick(value)


def _title(title: str, width: int) -> str:
    if not title:
        return ""
    short = _fit(title, width - 16)
    return (
        f'<text x="8" y="14" font-size="12" font-weight="600" fill="#111827">{escape(short)}'
        f"<title>{escape(title)}</title></text>"
    )


def _fit(text: str, room: float) -> str:
    """``text`` clipped to about ``room`` pixels of bold or title-size characters."""
    return _clip(text, max(int(room / 7), 8))


def _no_data(width: int, title: str) -> Html:
    text = f"{title}: no data to show" if title else "no data to show"
    return _svg(width, 40, [f'<text x="8" y="24" fill="{_INK}">{escape(_clip(text, 60))}</text>'])


def _svg(width: int, height: float, parts: Sequence[str]) -> Html:
    return Html(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" font-family="system-ui, sans-serif" '
        f'font-size="11" role="img">{"".join(parts)}</svg>'
    )


def _legend(labels: tuple[str, str], x: float, y: float) -> str:
    first, second = (_clip(label, 34) for label in labels)
    second_x = x + 22 + 6.4 * len(first) + 18
    return (
        f'<rect x="{x}" y="{y - 9}" width="14" height="10" fill="{CURRENT}" fill-opacity="0.75"/>'
        f'<text x="{x + 19}" y="{y}" fill="{_INK}">{escape(first)}</text>'
        f'<rect x="{second_x:.1f}" y="{y - 9}" width="14" height="10" fill="{REFERENCE}" '
        f'fill-opacity="0.8"/>'
        f'<text x="{second_x + 19:.1f}" y="{y}" fill="{_INK}">{escape(second)}</text>'
    )


def _y_axis(
    ticks: Sequence[float], x0: float, x1: float, y: Callable[[float], float], percent: bool
) -> str:
    lines = []
    for tick in ticks:
        ty = y(tick)
        lines.append(
            f'<line x1="{x0}" x2="{x1}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{_GRID}"/>'
            f'<text x="{x0 - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="{_INK}">'
            f"{escape(_value(tick, percent))}</text>"
        )
    return "".join(lines)


def _nice_ticks(largest: float, n: int = 4) -> list[float]:
    """0 and round steps (1, 2 or 5 times a power of ten) up to at least ``largest``."""
    if not math.isfinite(largest) or largest <= 0:
        largest = 1.0
    step = _nice_step(largest / n)
    return [i * step for i in range(math.ceil(largest / step - 1e-9) + 1)]


def _nice_step(raw: float) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) of at least ``raw``."""
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _value(value: float, percent: bool) -> str:
    return f"{float(value) * 100:.3g}%" if percent else _tick(value)


def _tick(value: float) -> str:
    """A short axis label: 1.5k, 2.3M, 0.125, 1.2e-05."""
    size = abs(float(value))
    if size >= 1e4:
        for bound, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if size >= bound * 0.9995:
                return f"{value / bound:.3g}{suffix}"
    if 0 < size < 1e-3:
        return f"{value:.1e}"
    return f"{value:.4g}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
