"""A pipeline's step graph as terminal text, Mermaid or standalone SVG, from plain data.

No graphviz binary and no JavaScript: ``layers`` places each step one column after the last of
its inputs (longest path from a source), and the three renderers draw those columns, so the same
DAG always gives the same output byte for byte. Step names may hold any character: the text drops
control characters (a name cannot move the terminal's cursor), Mermaid labels are quoted with
entity codes and ids sanitised, and SVG text goes through ``escape``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from loopml.errors import InvalidInput
from loopml.reports.charts import _INK, _MUTED, CURRENT, _clip, _svg, _title
from loopml.reports.html import Html, escape

STATUSES = ("pending", "running", "finished", "failed", "skipped")

# (fill, border, text) by status; the colours of charts.py and html.py's CSS variables.
_PLAIN = ("#ffffff", _MUTED, "#111827")
_COLOURS = {
    "pending": ("#f3f4f6", _MUTED, "#111827"),
    "running": ("#ffffff", CURRENT, "#111827"),
    "finished": ("#dcfce7", "#15803d", "#111827"),
    "failed": ("#fde8e8", "#b91c1c", "#b91c1c"),
    "skipped": ("#f9fafb", _MUTED, _MUTED),
}
_MERMAID_CLASSES = {  # emitted only when some step has the class; "cached" adds to the status
    "finished": "fill:#dcfce7,stroke:#15803d,color:#111827",
    "failed": "fill:#fde8e8,stroke:#b91c1c,color:#b91c1c",
    "running": "fill:#ffffff,stroke:#2563eb,stroke-width:2px,color:#111827",
    "pending": "fill:#f3f4f6,stroke:#6b7280,color:#111827",
    "skipped": "fill:#f9fafb,stroke:#6b7280,color:#6b7280",
    "cached": "stroke-dasharray:5 3",
}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters that would end or reinterpret a quoted Mermaid label, written as entity codes.
_MERMAID_ESCAPES = {c: f"#{ord(c)};" for c in '#&"<>`|'}
_TEXT_NAME_W = 32  # name and input columns wider than this are not padded to line up
_TEXT_INPUTS_W = 48
_BOX_H = 40
_COL_GAP = 72  # between columns; edge labels sit in it
_ROW_GAP = 16
_LANE_H = 6  # the room an edge passing through a column takes in it
_MARGIN = 12
_NAME_CHARS = 26
_BOLD_W = 6.8  # about the width of one bold character at font-size 11
_SMALL_W = 5.6  # about the width of one character at font-size 10


_Slot = str | tuple[int, int]  # a step, or (edge index, column) for a lane through a column


@dataclass(frozen=True)
class DagNode:
    """One step: its unique name, run status and a short note such as ``"2.3 s"``.

    A status outside ``STATUSES`` is shown as it is, with the colours of no status.
    """

    name: str
    status: str | None = None
    cached: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Dag:
    """Steps and the edges ``(from step, to step, label)`` between them; order is kept."""

    nodes: tuple[DagNode, ...]
    edges: tuple[tuple[str, str, str], ...] = ()


def layers(dag: Dag) -> list[list[str]]:
    """Step names by column: sources in layer 0, every other step one after its latest input.

    Within a layer, steps keep their order in ``dag.nodes``. Raises ``InvalidInput`` for a
    repeated step name, an edge naming an unknown step, or a cycle (naming the steps on it).
    """
    names = [node.name for node in dag.nodes]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"step {name!r} appears more than once", field="nodes", value=name)
        seen.add(name)
    succs: dict[str, list[str]] = {name: [] for name in names}
    waiting = dict.fromkeys(names, 0)
    for src, dst, label in dag.edges:
        for end in (src, dst):
            if end not in seen:
                raise InvalidInput(
                    f"edge {src!r} → {dst!r} ({label!r}) names an unknown step {end!r}",
                    field="edges",
                    value=(src, dst, label),
                    hint=_known(names),
                )
        succs[src].append(dst)
        waiting[dst] += 1
    level = dict.fromkeys(names, 0)
    ready = deque(name for name in names if waiting[name] == 0)
    placed = 0
    while ready:
        name = ready.popleft()
        placed += 1
        for nxt in succs[name]:
            level[nxt] = max(level[nxt], level[name] + 1)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    if placed < len(names):
        cycle = _cycle(dag, {name for name in names if waiting[name] > 0})
        raise InvalidInput(
            f"the steps form a cycle: {' → '.join(map(repr, cycle))}",
            field="edges",
            value=cycle[:-1],
            hint="a step cannot depend, directly or through others, on its own output",
        )
    grouped: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in names:
        grouped[level[name]].append(name)
    return grouped


def dag_text(dag: Dag) -> str:
    """A terminal rendering: a header, then one line per step in layer order, such as
    ``2  train     ← features (X), split (y)  [finished, cached, 2.3 s]``."""
    columns = layers(dag)
    if not columns:
        return "pipeline: no steps\n"
    nodes = {node.name: node for node in dag.nodes}
    inputs: dict[str, dict[str, list[str]]] = {node.name: {} for node in dag.nodes}
    for src, dst, label in dag.edges:
        labels = inputs[dst].setdefault(src, [])
        if label and label not in labels:
            labels.append(label)
    rows = []
    for depth, column in enumerate(columns):
        for name in column:
            sources = ", ".join(
                _plain(src) + (f" ({', '.join(map(_plain, labels))})" if labels else "")
                for src, labels in inputs[name].items()
            )
            rows.append((str(depth), _plain(name), f"← {sources}" if sources else "", name))
    name_w = min(max(len(row[1]) for row in rows), _TEXT_NAME_W)
    inputs_w = min(max(len(row[2]) for row in rows), _TEXT_INPUTS_W)
    depth_w = len(str(len(columns) - 1))
    lines = [
        f"pipeline: {_count(len(dag.nodes), 'step')}, {_count(len(dag.edges), 'edge')}, "
        f"{_count(len(columns), 'layer')}"
    ]
    for layer, name, sources, key in rows:
        state = ", ".join(map(_plain, _state(nodes[key])))
        line = f"{layer:>{depth_w}}  {name:<{name_w}}  {sources:<{inputs_w}}"
        lines.append((f"{line}  [{state}]" if state else line).rstrip())
    return "\n".join(lines) + "\n"


def dag_mermaid(dag: Dag) -> str:
    """A Mermaid ``flowchart LR``: one node line per step (layer order), one edge line per edge
    (input order), then ``classDef`` and ``class`` lines for the statuses and cached steps."""
    columns = layers(dag)
    if not columns:
        return "flowchart LR\n  %% no steps\n"
    lines = ["flowchart LR"]
    ids = _mermaid_ids([node.name for node in dag.nodes])
    nodes = {node.name: node for node in dag.nodes}
    for column in columns:
        for name in column:
            label = _mermaid_text(name)
            if nodes[name].detail:
                label += f"<br/>{_mermaid_text(nodes[name].detail)}"
            lines.append(f'  {ids[name]}["{label}"]')
    for src, dst, label in dag.edges:
        arrow = f'-->|"{_mermaid_text(label)}"|' if label else "-->"
        lines.append(f"  {ids[src]} {arrow} {ids[dst]}")
    members: dict[str, list[str]] = {cls: [] for cls in _MERMAID_CLASSES}
    for node in dag.nodes:
        if node.status in members:
            members[node.status].append(ids[node.name])
        if node.cached:
            members["cached"].append(ids[node.name])
    for cls, style in _MERMAID_CLASSES.items():
        if members[cls]:
            lines.append(f"  classDef {cls} {style}")
    for cls, node_ids in members.items():
        if node_ids:
            lines.append(f"  class {','.join(node_ids)} {cls}")
    return "\n".join(lines) + "\n"


def dag_svg(dag: Dag, *, title: str = "") -> Html:
    """A standalone SVG: a box per step in columns by layer, left to right, and an arrow per edge.

    A box is coloured by status and dashed when cached; its name is clipped to fit, the full name
    and state are in its tooltip. An edge that skips columns bends through a lane of its own in
    each column it crosses, so it never runs through a box; within a column, boxes and lanes are
    ordered by where their inputs sit (ties by input order) to keep crossings few. Long DAGs grow
    wider, wide ones taller.
    """
    columns = layers(dag)
    if not columns:
        text = f"{title}: no steps" if title else "no steps"
        return _svg(240, 40, [f'<text x="8" y="24" fill="{_INK}">{escape(_clip(text, 60))}</text>'])
    nodes = {node.name: node for node in dag.nodes}
    depth = {name: d for d, column in enumerate(columns) for name in column}
    longest = max(len(_clip(name, _NAME_CHARS)) for name in nodes)
    box_w = min(max(math.ceil(longest * _BOLD_W) + 24, 96), 200)
    top = _MARGIN + (22 if title else 0)
    layout = _Layout(dag, columns, depth, top)
    width = max(
        2 * _MARGIN + len(columns) * box_w + (len(columns) - 1) * _COL_GAP,
        240 if title else 0,
    )
    height = top + layout.height + _MARGIN

    def x_of(d: int) -> float:
        return _MARGIN + d * (box_w + _COL_GAP)

    marker = "dag-arrow-" + hashlib.sha256(repr((dag, title)).encode()).hexdigest()[:10]
    parts = [
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><polygon points="0,0 10,5 0,10" '
        f'fill="{_MUTED}"/></marker></defs>'
    ]
    labels = []
    for e, (src, dst, label) in enumerate(dag.edges):
        ys = layout.ys(e)  # an S-curve across each gap, a straight run through each lane
        d = [f"M{x_of(depth[src]) + box_w:.1f},{ys[0]:.1f}"]
        for k in range(len(ys) - 1):
            xa, xb = x_of(depth[src] + k) + box_w, x_of(depth[src] + k + 1)
            end = xb - 1 if k == len(ys) - 2 else xb
            middle = (xa + xb) / 2
            d.append(
                f"C{middle:.1f},{ys[k]:.1f} {middle:.1f},{ys[k + 1]:.1f} {end:.1f},{ys[k + 1]:.1f}"
            )
            if k < len(ys) - 2:
                d.append(f"H{xb + box_w:.1f}")
        tip = f"{src} → {dst}" + (f": {label}" if label else "")
        parts.append(
            f'<path d="{"".join(d)}" fill="none" stroke="{_MUTED}" stroke-width="1.4" '
            f'marker-end="url(#{marker})"><title>{escape(tip)}</title></path>'
        )
        if label:  # the input's name, in the last gap before the step that reads it
            lx = x_of(depth[dst]) - _COL_GAP / 2
            ly = (ys[-2] + ys[-1]) / 2
            labels.append(
                f'<text x="{lx:.1f}" y="{ly - 3:.1f}" text-anchor="middle" font-size="10" '
                f'fill="{_MUTED}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f"{escape(_clip(label, int((_COL_GAP - 10) / _SMALL_W)))}"
                f"<title>{escape(tip)}</title></text>"
            )
    parts.extend(labels)
    for name, node in nodes.items():
        fill, border, ink = _COLOURS.get(node.status or "", _PLAIN)
        dashes = ' stroke-dasharray="5 3"' if node.cached else ""
        state = " · ".join(_state(node))
        x0, middle_y = x_of(depth[name]), layout.centre[name]
        name_y = middle_y + (-2 if state else 4)
        tip = f"{name}\n{state}" if state else name
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{x0:.1f}" y="{middle_y - _BOX_H / 2:.1f}" width="{box_w}" '
            f'height="{_BOX_H}" rx="6" fill="{fill}" stroke="{border}" stroke-width="1.5"{dashes}/>'
            f'<text x="{x0 + box_w / 2:.1f}" y="{name_y:.1f}" text-anchor="middle" '
            f'font-weight="600" fill="{ink}">{escape(_clip(name, _fit(box_w, _BOLD_W)))}</text>'
        )
        if state:
            parts.append(
                f'<text x="{x0 + box_w / 2:.1f}" y="{name_y + 13:.1f}" text-anchor="middle" '
                f'font-size="10" fill="{_MUTED}">{escape(_clip(state, _fit(box_w, _SMALL_W)))}'
                "</text>"
            )
        parts.append("</g>")
    parts.append(_title(title, width))
    return _svg(width, height, parts)


class _Layout:
    """Vertical places: the middle of each step's box, of each lane a long edge takes through a
    column it skips, and where each edge leaves its source and enters its target.

    A column holds boxes and lanes; after the first, they are sorted by the mean place of what
    feeds them in the column before (ties: steps in input order, then lanes in edge order), and
    each column is centred on the tallest. Edges leaving (or entering) one box are spread along
    its side in the order of where they go (or come from), so parallel edges stay apart.
    """

    def __init__(
        self, dag: Dag, columns: list[list[str]], depth: dict[str, int], top: float
    ) -> None:
        order = {node.name: i for i, node in enumerate(dag.nodes)}
        feeds: dict[_Slot, list[_Slot]] = {}
        path: list[list[_Slot]] = []  # each edge's slots, source to target
        slots: list[list[_Slot]] = [list(column) for column in columns]
        for e, (src, dst, _) in enumerate(dag.edges):
            chain: list[_Slot] = [src]
            for d in range(depth[src] + 1, depth[dst]):
                slots[d].append((e, d))
                chain.append((e, d))
            chain.append(dst)
            path.append(chain)
            for before, after in itertools.pairwise(chain):
                feeds.setdefault(after, []).append(before)
        place: dict[_Slot, float] = {}
        extents = []
        for d, column in enumerate(slots):
            if d:  # every slot past the first column is fed from the column before
                column.sort(
                    key=lambda s: (
                        sum(place[f] for f in feeds[s]) / len(feeds[s]),
                        order[s] if isinstance(s, str) else len(order) + s[0],
                    )
                )
            y = 0.0
            for slot in column:
                size = _BOX_H if isinstance(slot, str) else _LANE_H
                place[slot] = y + size / 2
                y += size + _ROW_GAP
            extents.append(y - _ROW_GAP)
        # Centring shifts a whole column at once, so it leaves the orders above as they are.
        self.height = max(extents)
        for d, column in enumerate(slots):
            for slot in column:
                place[slot] += top + (self.height - extents[d]) / 2
        self.centre = {name: place[name] for name in order}
        self.path = [[place[slot] for slot in chain] for chain in path]
        self.out_port = [0.0] * len(path)
        self.in_port = [0.0] * len(path)
        leaving: dict[str, list[int]] = {}
        entering: dict[str, list[int]] = {}
        for e, (src, dst, _) in enumerate(dag.edges):
            leaving.setdefault(src, []).append(e)
            entering.setdefault(dst, []).append(e)
        for name, edges in leaving.items():
            edges.sort(key=lambda e: (self.path[e][1], e))
            for e, y in zip(edges, _spread(place[name], len(edges)), strict=True):
                self.out_port[e] = y
        for name, edges in entering.items():
            edges.sort(key=lambda e: (self.path[e][-2], e))
            for e, y in zip(edges, _spread(place[name], len(edges)), strict=True):
                self.in_port[e] = y

    def ys(self, e: int) -> list[float]:
        """Where edge ``e`` crosses each column from its source's to its target's."""
        return [self.out_port[e], *self.path[e][1:-1], self.in_port[e]]


def _spread(middle: float, n: int) -> list[float]:
    """``n`` places along a box's side around ``middle``, at most 8 apart and within the box."""
    step = min(8.0, (_BOX_H - 16) / (n - 1)) if n > 1 else 0.0
    return [middle + (i - (n - 1) / 2) * step for i in range(n)]


def _cycle(dag: Dag, stuck: set[str]) -> list[str]:
    """The steps on one cycle among ``stuck`` (steps every one of which has a stuck input), in
    edge direction, the first repeated at the end; the same DAG always gives the same cycle."""
    preds: dict[str, list[str]] = {}
    for src, dst, _ in dag.edges:
        if src in stuck and dst in stuck:
            preds.setdefault(dst, []).append(src)
    order = {node.name: i for i, node in enumerate(dag.nodes)}
    path: list[str] = []
    at = min(stuck, key=order.__getitem__)
    while at not in path:
        path.append(at)
        at = preds[at][0]
    loop = path[path.index(at) :]
    loop.reverse()
    first = min(range(len(loop)), key=lambda i: order[loop[i]])
    loop = loop[first:] + loop[:first]
    return [*loop, loop[0]]


def _known(names: Sequence[str], most: int = 8) -> str:
    shown = ", ".join(map(repr, names[:most])) + (", …" if len(names) > most else "")
    return f"the steps are {shown}" if names else "the DAG has no steps"


def _state(node: DagNode) -> list[str]:
    return [
        part for part in (node.status or "", "cached" if node.cached else "", node.detail) if part
    ]


def _plain(text: str) -> str:
    """``text`` for a terminal line: control characters (newlines, escapes) replaced."""
    return _CONTROL.sub("\ufffd", text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in _plain(text))


def _mermaid_ids(names: Sequence[str]) -> dict[str, str]:
    """A Mermaid id per name: ``s_`` and the name's ASCII letters, digits and underscores, with a
    number added where two names come out alike (the prefix keeps clear of ``end`` and of ids
    starting with ``o`` or ``x``, which Mermaid reads as arrow heads)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = "s_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        candidate, k = base, 1
        while candidate in taken:
            k += 1
            candidate = f"{base}_{k}"
        ids[name] = candidate
        taken.add(candidate)
    return ids


def _fit(box_w: int, char_w: float) -> int:
    return max(int((box_w - 12) / char_w), 4)
