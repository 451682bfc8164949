"""Charts as inline SVG: no JavaScript and no network, so a report opens anywhere, offline.

Every label goes through ``escape`` (``html.escape`` plus unprintable characters replaced), so
the SVG stays well-formed XML whatever a column or category is called.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from loopml.errors import InvalidInput
from loopml.reports.html import Html, escape

CURRENT = "#2563eb"  # blue and orange stay distinct under the common colour-blindnesses
REFERENCE = "#ea580c"
_GRID = "#e5e7eb"
_INK = "#374151"
_LABEL_CHARS = 22


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
    raw = largest / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(largest / step - 1e-9) + 1)]


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
