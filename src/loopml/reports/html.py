"""A small page kit: one self-contained HTML document, with every piece of text escaped.

Text goes through ``escape`` unless it is ``Html`` (markup this module or ``charts`` built), so a
column or category named ``<script>`` shows as text and never runs.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

# Characters XML 1.0 forbids (and lone surrogates, which cannot be encoded as UTF-8).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

CSS = """
:root{--cur:#2563eb;--ref:#ea580c;--bad:#b91c1c;--bad-bg:#fde8e8;--ok:#15803d;--ok-bg:#dcfce7;
--muted:#6b7280;--line:#e5e7eb;--head:#f3f4f6}
*{box-sizing:border-box}
body{margin:0;background:#f9fafb;color:#111827;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
header h1{font-size:22px;margin:0 0 4px;word-break:break-word}
.sub,.note{color:var(--muted)}
.note{font-size:12px;margin:6px 0 0}
section.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;
margin:16px 0}
h2{font-size:17px;margin:0 0 12px;display:flex;gap:8px;align-items:center;flex-wrap:wrap;
word-break:break-word}
h3{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);
margin:14px 0 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:8px 32px;
align-items:start}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top;
word-break:break-word}
th{font-weight:600;color:#374151;background:var(--head)}
td.num{text-align:right;white-space:nowrap}
table.kv{table-layout:fixed}
table.kv th:first-child{width:120px}
table.kv td.num{text-align:left}
table.kv td:first-child{color:#4b5563}
tr.drifted td{background:var(--bad-bg)}
tr.drifted td:first-child{box-shadow:inset 3px 0 var(--bad)}
tr.changed td{background:#fef3c7}
.badge{font-size:11px;font-weight:600;padding:2px 9px;border-radius:999px;background:var(--line);
color:#374151;white-space:nowrap}
.badge.bad{background:var(--bad-bg);color:var(--bad)}
.badge.good{background:var(--ok-bg);color:var(--ok)}
.banner{border-radius:8px;padding:12px 16px;margin:0 0 12px;font-size:15px;
background:var(--ok-bg);color:var(--ok)}
.banner.bad{background:var(--bad-bg);color:var(--bad)}
.banner strong{font-size:18px}
svg{width:100%;max-width:640px;height:auto;display:block}
a{color:var(--cur);text-decoration:none}
a:hover{text-decoration:underline}
"""


class Html(str):
    """Markup that is already safe; ``table`` and ``element`` insert it without escaping."""

    __slots__ = ()


def escape(value: object) -> str:
    """Text safe inside HTML and XML: markup characters escaped, unprintable ones replaced."""
    return html.escape(_UNPRINTABLE.sub("\ufffd", str(value)), quote=True)


def cell(value: object) -> str:
    """A value as table text: thousands separators, four significant digits, a dash for None."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        size = abs(value)
        if size >= 1e15 or (0 < size < 1e-3):
            return f"{value:.3e}"
        return f"{value:,.0f}" if size >= 1000 else f"{value:.4g}"
    return str(value)


def element(tag: str, content: str | Sequence[str] = "", *, cls: str = "", id: str = "") -> Html:
    """``<tag>`` around text (escaped) or around a list of ``Html`` parts (inserted as they are)."""
    if isinstance(content, str):
        inner = content if isinstance(content, Html) else escape(content)
    else:
        inner = "".join(part if isinstance(part, Html) else escape(part) for part in content)
    attrs = (f' class="{escape(cls)}"' if cls else "") + (f' id="{escape(id)}"' if id else "")
    return Html(f"<{tag}{attrs}>{inner}</{tag}>")


def link(text: str, href: str) -> Html:
    """An anchor whose text and target are both escaped."""
    return Html(f'<a href="{escape(href)}">{escape(text)}</a>')


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    row_classes: Sequence[str] | None = None,
    cls: str = "",
) -> Html:
    """A table from rows of values; numbers are formatted by ``cell`` (right-aligned unless kv)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        row_cls = row_classes[i] if row_classes is not None else ""
        cells = "".join(_td(value) for value in row)
        body.append(
            f'<tr class="{escape(row_cls)}">{cells}</tr>' if row_cls else f"<tr>{cells}</tr>"
        )
    attrs = f' class="{escape(cls)}"' if cls else ""
    return Html(
        f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _td(value: object) -> str:
    if isinstance(value, Html):
        return f"<td>{value}</td>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{escape(cell(value))}</td>'
    return f"<td>{escape(cell(value))}</td>"


def section(title: str | Html, parts: Sequence[str], *, id: str = "", cls: str = "card") -> Html:
    """A card with a heading and its parts (plain strings among them are escaped)."""
    return element("section", [element("h2", title), *parts], cls=cls, id=id)


def page(title: str, sections: Sequence[str], *, subtitle: str = "") -> str:
    """The whole document: inline CSS, no scripts, nothing fetched from the network."""
    sub = element("p", subtitle, cls="sub") if subtitle else ""
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style></head>\n"
        f"<body><main><header>{element('h1', title)}{sub}</header>\n{body}\n</main></body></html>\n"
    )
