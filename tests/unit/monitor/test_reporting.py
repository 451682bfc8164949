"""The monitor's HTML page: drift over time, distributions, accuracy, alerts; always escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import loopml.monitor as monitor
from loopml.entities import MonitorWindow
from loopml.monitor.api import Monitor
from loopml.monitor.config import MonitorConfig
from loopml.monitor.reference import Reference
from loopml.monitor.reporting import render
from loopml.stats import TableProfile, profile_column

from .conftest import HOUR, T0, Project, make_frame


def _part(text: str, anchor: str) -> str:
    """The HTML of the section with ``id=anchor``."""
    return text.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def test_report_shows_drift_distributions_accuracy_and_alerts(project: Project) -> None:
    monitor.create("churn-report", "churn", window="1h")
    calm = make_frame(1, 1_000)
    ids = project.log(calm, T0, step_ms=1_000)
    project.label(ids, calm.churned)
    project.log(make_frame(2, 1_000, shift=1.5), T0 + HOUR, step_ms=1_000)
    monitor.run("churn-report")
    path = monitor.report("churn-report")
    assert path == Path("monitor-churn-report.html")
    text = path.read_text(encoding="utf-8")
    distributions = _part(text, "distributions")
    assert "income" in distributions and "<svg" in distributions
    assert "age" not in distributions  # only drifted features are drawn
    assert "prediction_drift == 1" in _part(text, "alerts")
    accuracy = _part(text, "accuracy")
    assert "estimated f1" in accuracy and "realised f1" in accuracy and "interval" in accuracy
    assert "Drift score by feature" in text and "dataset drift threshold" in text
    assert "<script" not in text and "src=" not in text  # nothing runs, nothing is fetched
    later = monitor.report("churn-report", "out/later.html", since=T0 + HOUR)
    assert later == Path("out/later.html")
    calm_start = datetime.fromtimestamp(T0 / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert calm_start in text and calm_start not in later.read_text(encoding="utf-8")


def test_report_of_a_monitor_without_windows_says_so(project: Project) -> None:
    monitor.create("churn-empty", "churn", window="1h")
    path = monitor.report("churn-empty", Path("reports") / "empty.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "No windows yet" in text and "churn@1" in text


def _reference(features: dict[str, Any]) -> Reference:
    profile = TableProfile(1_000, {k: profile_column(v) for k, v in features.items()})
    return Reference("m", 1, "d@1", "classification", "y", tuple(features), profile)


def _drift(test: str, statistic: float, new: list[str] | None = None) -> dict[str, Any]:
    return {
        "test": test,
        "statistic": statistic,
        "p_value": None,
        "threshold": 0.1,
        "drifted": True,
        "note": None,
        "new_categories": new or [],
    }


def test_report_escapes_names_and_categories_and_greys_thin_windows() -> None:
    rng = np.random.default_rng(0)
    evil, plan = "<script>", "<img src=x onerror=alert(1)>"
    reference = _reference(
        {evil: rng.normal(0, 1, 1_000), "plan": np.array(["a", "b"] * 500, dtype=object)}
    )
    window = TableProfile(
        500,
        {
            f"input.{evil}": profile_column(rng.normal(2, 1, 500)),
            "input.plan": profile_column(np.array(["a", plan] * 250, dtype=object)),
        },
    )
    drifted = {
        "status": "ok",
        "rows": 500,
        "signals": {"drift_share": 1.0, "dataset_drift": 1},
        "notes": [f"schema changed: column {evil} added"],
        "drift": {
            "columns": {
                evil: _drift("wasserstein", 2.0),
                "plan": _drift("jensen_shannon", 0.4, [plan]),
            },
            "drifted_columns": [evil, "plan"],
        },
        "alerts": [{"rule": "new_categories > 0", "signal": "new_categories", "value": 1.0}],
    }
    thin = {"status": "insufficient_data", "rows": 3, "notes": ["insufficient data: 3 rows"]}
    windows = [
        MonitorWindow(
            "m", f"t:{T0}", T0, T0 + HOUR - 1, 500, True, {"profile": window.to_dict()}, drifted
        ),
        MonitorWindow("m", f"t:{T0 + HOUR}", T0 + HOUR, T0 + 2 * HOUR - 1, 3, False, {}, thin),
    ]
    found = Monitor("m", "model", "champion", MonitorConfig(), reference, None, 0, 0, 0)
    text = render(found, windows)
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;" in _part(text, "distributions")
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert 'class="muted"' in text and "insufficient data: 3 rows" in text
    for svg in re.findall(r"<svg.*?</svg>", text, flags=re.DOTALL):
        ET.fromstring(svg)  # every chart is well-formed XML
