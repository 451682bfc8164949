"""The evaluation report: one self-contained HTML page a reviewer reads before a model ships.

Metric table with intervals, the challenger beside the champion with the paired difference,
gate verdicts, and the plots people look at: confusion matrix, ROC and precision-recall curves,
calibration (classification); predicted vs actual and residuals (regression).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.evaluation.gates import GateResult
from loopml.evaluation.result import EvaluationResult
from loopml.reports import (
    Html,
    element,
    lines_svg,
    matrix_svg,
    page,
    scatter_svg,
    section,
    table,
)

CANDIDATE, BASELINE = "candidate", "champion"


def render_report(
    result: EvaluationResult, gates: Sequence[GateResult] | None = None, *, title: str = ""
) -> str:
    """The HTML page of an evaluation (and of the gates judged on it, when given)."""
    sections: list[str] = []
    if gates:
        sections.append(_gates(gates))
    sections.append(_metrics(result))
    if result.slices:
        sections.append(_slices(result))
    sections.append(_plots(result))
    about = f"{result.n_rows:,} rows" + (
        f" of {result.data_version}" if result.data_version else ""
    )
    subtitle = (
        f"{result.model_uri} on {about}, target {result.target!r}; "
        f"{result.confidence:.0%} bootstrap intervals from {result.n_resamples:,} resamples"
    )
    if result.baseline_uri:
        subtitle += f"; compared with {result.baseline_uri} on the same rows"
    return page(title or f"Evaluation: {result.model_uri}", sections, subtitle=subtitle)


def _gates(gates: Sequence[GateResult]) -> Html:
    passed = all(g.passed for g in gates)
    banner = element(
        "div",
        [element("strong", "All gates pass" if passed else "Gates fail")],
        cls="banner" if passed else "banner bad",
    )
    rows: list[list[object]] = [
        [g.expression, _badge(g.passed), g.value, g.threshold, g.reason] for g in gates
    ]
    return section(
        "Gates",
        [banner, table(["gate", "verdict", "value", "threshold", "why"], rows)],
    )


def _badge(passed: bool) -> Html:
    return element(
        "span", "pass" if passed else "fail", cls="badge good" if passed else "badge bad"
    )


def _interval(intervals: Mapping[str, tuple[float, float]] | None, name: str) -> str:
    if not intervals or name not in intervals:
        return "—"
    low, high = intervals[name]
    if not (math.isfinite(low) and math.isfinite(high)):
        return "—"
    return f"[{low:.4g}, {high:.4g}]"


def _metrics(result: EvaluationResult) -> Html:
    names = list(result.metrics)
    if result.baseline_metrics is None:
        header = ["metric", "value", "interval"]
        rows: list[list[object]] = [
            [n, result.metrics[n], _interval(result.intervals, n)] for n in names
        ]
        return section("Metrics", [table(header, rows)])
    header = [
        "metric",
        CANDIDATE,
        "interval",
        BASELINE,
        "interval",
        "difference",
        "difference interval",
        "p-value",
    ]
    rows = []
    row_classes = []
    for name in names:
        comparison = (result.comparison or {}).get(name)
        rows.append(
            [
                name,
                result.metrics[name],
                _interval(result.intervals, name),
                result.baseline_metrics.get(name),
                _interval(result.baseline_intervals, name),
                comparison.difference if comparison else None,
                f"[{comparison.low:.4g}, {comparison.high:.4g}]" if comparison else "—",
                comparison.p_value if comparison else None,
            ]
        )
        significant = comparison is not None and comparison.p_value < 0.05
        row_classes.append("changed" if significant else "")
    note = element(
        "p",
        "Highlighted rows differ significantly (paired bootstrap, p < 0.05).",
        cls="note",
    )
    return section("Candidate vs champion", [table(header, rows, row_classes=row_classes), note])


def _slices(result: EvaluationResult) -> Html:
    keys = sorted(result.slices)
    metric_names = [
        m
        for m in ("f1", "accuracy", "roc_auc", "mae", "rmse", "r2")
        if any(m in result.slices[k] for k in keys)
    ]
    header = ["slice", "rows", *metric_names]
    if result.baseline_slices:
        header += [f"{BASELINE} {m}" for m in metric_names]
    rows: list[list[object]] = []
    for key in keys:
        values = result.slices[key]
        row: list[object] = [key, int(values.get("n_rows", 0))]
        row += [values.get(m) for m in metric_names]
        if result.baseline_slices:
            other = result.baseline_slices.get(key, {})
            row += [other.get(m) for m in metric_names]
        rows.append(row)
    return section("Slices", [table(header, rows)])


# curve key, x field, y field, axis labels, y = x reference line, title
_CURVES = (
    ("roc", "fpr", "tpr", "false positive rate", "true positive rate", True, "ROC curve"),
    ("pr", "recall", "precision", "recall", "precision", False, "Precision-recall curve"),
    (
        "calibration",
        "mean_predicted",
        "observed",
        "mean predicted probability",
        "observed frequency",
        True,
        "Calibration",
    ),
)


def _series(label: str, curve: Mapping[str, Any] | None, x: str, y: str) -> list[Any]:
    if not curve or x not in curve or y not in curve:
        return []
    return [(label, curve[x], curve[y])]


def _plots(result: EvaluationResult) -> Html:
    base = result.baseline_curves or {}
    mine = result.curves
    charts: list[str] = []
    if result.task == "regression":
        charts.append(
            scatter_svg(
                mine.get("actual", []),
                mine.get("predicted", []),
                x_label="actual",
                y_label="predicted",
                diagonal=True,
                title="Predicted vs actual",
            )
        )
        charts.append(
            scatter_svg(
                mine.get("predicted", []),
                mine.get("residuals", []),
                x_label="predicted",
                y_label="residual (actual - predicted)",
                hline=0.0,
                title="Residuals",
            )
        )
        return section("Plots", [element("div", charts, cls="grid")])
    confusion = mine.get("confusion")
    if confusion:
        charts.append(
            matrix_svg(confusion["labels"], confusion["matrix"], title="Confusion matrix")
        )
    for key, x, y, x_label, y_label, diagonal, title in _CURVES:
        series = _series(CANDIDATE, mine.get(key), x, y) + _series(BASELINE, base.get(key), x, y)
        if series:
            charts.append(
                lines_svg(
                    series,
                    x_label=x_label,
                    y_label=y_label,
                    x_range=(0.0, 1.0),
                    y_range=(0.0, 1.0),
                    diagonal=diagonal,
                    title=title,
                )
            )
    return section("Plots", [element("div", charts, cls="grid")])
