"""``loopml pipeline …`` as a user runs it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from loopml.testing.cli import assert_one_line_error
from loopml.testing.cli import run_cli as loopml

pytestmark = pytest.mark.slow

TRAIN = textwrap.dedent(
    """
    import loopml, numpy as np, pandas as pd

    @loopml.step
    def ingest(rows: int) -> pd.DataFrame:
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
        return df.assign(label=(df.a + df.b > 0).astype(int))

    @loopml.step
    def train(df: pd.DataFrame, lr: float):
        from sklearn.linear_model import LogisticRegression
        print("training")
        return LogisticRegression(C=lr).fit(df[["a", "b"]], df.label)

    @loopml.step
    def score(model, df: pd.DataFrame) -> float:
        result = loopml.evaluate(model, df, target="label", n_resamples=20)
        return result.metrics["f1"]

    @loopml.pipeline
    def training(rows: int = 300, lr: float = 1.0):
        df = ingest(rows)
        return score(train(df, lr), df)
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipeline")
    assert loopml(root, "init").returncode == 0
    (root / "train.py").write_text(TRAIN)
    (root / "loopml.yaml").write_text("pipelines:\n  training: train.py:training\n")
    return root


def test_run_cached_rerun_explain_show_list(project: Path) -> None:
    first = loopml(project, "pipeline", "run", "train.py:training", "--json")
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)  # what the step printed went to stderr
    assert {s["status"] for s in body["steps"].values()} == {"finished"}
    assert "training" in first.stderr
    again = loopml(project, "pipeline", "run", "training", "--param", "lr=0.5")
    assert again.returncode == 0, again.stderr
    assert "1 ran, 2 reused" in again.stdout or "2 ran, 1 reused" in again.stdout
    listed = json.loads(loopml(project, "pipeline", "list", "--json").stdout)
    assert [r["params"]["lr"] for r in listed[:2]] == [0.5, 1.0]
    explained = loopml(project, "pipeline", "explain", listed[0]["run_id"])
    assert "param `lr` changed: 1.0 → 0.5" in explained.stdout
    shown = json.loads(loopml(project, "pipeline", "show", listed[0]["run_id"], "--json").stdout)
    assert shown["steps"]["ingest"]["cached"] is True


def test_graph_as_text_svg_and_mermaid(project: Path) -> None:
    text = loopml(project, "pipeline", "graph", "train.py:training", "-o", "g.svg")
    assert text.returncode == 0 and "train   ← ingest (df)" in text.stdout
    assert (project / "g.svg").read_text().startswith("<svg")
    assert loopml(project, "pipeline", "graph", "training", "-o", "g.mmd").returncode == 0
    assert (project / "g.mmd").read_text().startswith("flowchart LR")


def test_tune_with_a_live_table(project: Path) -> None:
    result = loopml(
        project,
        "pipeline",
        "tune",
        "training",
        "--objective",
        "f1",
        "--range",
        "lr=0.01:10:log",
        "--max-trials",
        "3",
        "--gate",
        "f1 >= 0.5",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["passed"] is True and body["trials"] == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("pipeline", "run", "nope.py:training"), "no such file: nope.py"),
        (("pipeline", "run", "train.py:missing"), "'missing' in train.py is nothing"),
        (("pipeline", "run", "train.py:training", "--param", "lr"), "is not NAME=VALUE"),
        (("pipeline", "run", "train.py:training", "--param", "lr=x"), "must be float"),
        (("pipeline", "run", "train.py:training", "--executor", "yarn"), "unknown executor"),
        (("pipeline", "run", "ghost"), "names no pipeline 'ghost'"),
        (("pipeline", "show", "0" * 32), "does not exist"),
        (("pipeline", "graph", "training", "-o", "g.png"), "must end in .svg or .mmd"),
    ],
)
def test_bad_input_is_one_line(project: Path, args: tuple[str, ...], match: str) -> None:
    assert_one_line_error(loopml(project, *args), match)
