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
from loopml.reports.dag import Dag, DagNode, dag_mermaid, dag_svg, dag_text, layers
from loopml.reports.html import Html, cell, element, escape, link, page, section, table

__all__ = [
    "CURRENT",
    "REFERENCE",
    "Dag",
    "DagNode",
    "Html",
    "bars_svg",
    "cell",
    "dag_mermaid",
    "dag_svg",
    "dag_text",
    "element",
    "escape",
    "histogram_svg",
    "layers",
    "lines_svg",
    "link",
    "matrix_svg",
    "page",
    "scatter_svg",
    "section",
    "table",
]
