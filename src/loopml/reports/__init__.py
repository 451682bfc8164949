"""Self-contained HTML reports from plain numbers: inline CSS and SVG, no network, no data rows."""

from loopml.reports.charts import (
    CURRENT,
    REFERENCE,
    bars_svg,
    histogram_svg,
    lines_svg,
    matrix_svg,
    scatter_svg,
)
from loopml.reports.html import Html, cell, element, escape, link, page, section, table

__all__ = [
    "CURRENT",
    "REFERENCE",
    "Html",
    "bars_svg",
    "cell",
    "element",
    "escape",
    "histogram_svg",
    "lines_svg",
    "link",
    "matrix_svg",
    "page",
    "scatter_svg",
    "section",
    "table",
]
