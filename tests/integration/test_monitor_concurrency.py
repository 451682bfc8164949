"""Two processes running one monitor at once: every window stored once, every alert once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loopml.monitor as monitor
from loopml.testing.monitoring import HOUR, T0, make_frame, make_project
from loopml.workspace import default_workspace

pytestmark = pytest.mark.slow

RUN = "import json, loopml.monitor as m; print(json.dumps([w.key for w in m.run('m')]))"


def test_racing_runs_consume_each_segment_once(tmp_home: Path) -> None:
    project = make_project()
    monitor.create("m", "churn", window="1h", alerts=["drift_share > 0.3", "rows > 0"])
    for hour in range(12):
        project.log(make_frame(hour, 300, shift=3.0 if hour % 2 else 0.0), T0 + hour * HOUR)
    env = {**os.environ, "LOOPML_HOME": str(tmp_home)}
    procs = [
        subprocess.Popen([sys.executable, "-c", RUN], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    # One run took everything, or they split it; no window was computed by both.
    assert sorted(outputs[0] + outputs[1]) == sorted({*outputs[0], *outputs[1]})
    assert len(monitor.results("m")) == 12
    alerts = default_workspace().store.events.list(kind="monitor.alert", limit=1000)
    fired = [(e.data["window"], e.data["rule"]) for e in alerts]
    stored = {(w.key, a["rule"]) for w in monitor.results("m") for a in w.alerts}
    assert len(fired) == len(set(fired)) and set(fired) == stored
    assert sum(rule == "rows > 0" for _, rule in fired) == 12
    assert monitor.run("m") == []
