"""``loopml models …``, ``loopml evaluate`` and ``loopml ci check`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loopml.testing.cli import assert_one_line_error, user_env
from loopml.testing.cli import run_cli as loopml

pytestmark = pytest.mark.slow

SETUP = textwrap.dedent(
    """
    import numpy as np, pandas as pd, loopml
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(1)
    n = 2000
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["region"] = np.where(rng.random(n) < 0.4, "EU", "US")
    df["label"] = ((df.a + df.b + rng.normal(scale=0.7, size=n)) > 0).astype(int)
    train, test = df.iloc[:1200], df.iloc[1200:]
    loopml.data.add("churn-test", test)
    weak = LogisticRegression().fit(train[["a"]].assign(b=0.0), train.label)
    good = LogisticRegression().fit(train[["a", "b"]], train.label)
    for model in (weak, good):
        loopml.log_model(model, input_example=train[["a", "b"]].head(3),
                         registered_model_name="churn", target="label")
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    assert loopml(root, "init").returncode == 0
    subprocess.run([sys.executable, "-c", SETUP], cwd=root, env=user_env(), check=True, timeout=300)
    (root / "gates.yaml").write_text(
        "gates:\n  - f1 >= 0.6\n  - roc_auc >= champion - 0.01\nslices: [region]\n"
    )
    return root


def test_list_show_versions_as_json(project: Path) -> None:
    listed = json.loads(loopml(project, "models", "list", "--json").stdout)
    assert [(m["name"], m["latest_version"]) for m in listed] == [("churn", 2)]
    versions = json.loads(loopml(project, "models", "versions", "churn", "--json").stdout)
    assert [(v["version"], v["flavor"], v["target"]) for v in versions] == [
        (1, "sklearn", "label"),
        (2, "sklearn", "label"),
    ]
    shown = json.loads(loopml(project, "models", "show", "churn", "--json").stdout)
    assert shown["name"] == "churn" and len(shown["versions"]) == 2


def test_promote_gates_ci_check_and_rollback(project: Path) -> None:
    first = loopml(
        project,
        "models",
        "promote",
        "churn",
        "2",
        "--gates",
        "gates.yaml",
        "--data",
        "churn-test@1",
    )
    assert first.returncode == 0, first.stderr
    assert "promoted" in first.stdout
    refused = loopml(
        project,
        "models",
        "promote",
        "churn",
        "1",
        "--gates",
        "gates.yaml",
        "--data",
        "churn-test@1",
        "--json",
    )
    assert refused.returncode == 1
    body = json.loads(refused.stdout)
    assert body["promoted"] is False
    assert [g["passed"] for g in body["gates"]] == [True, False]

    summary = project / "summary.md"
    check = loopml(
        project,
        "ci",
        "check",
        "--model",
        "models:/churn/1",
        "--data",
        "churn-test@1",
        "--gates",
        "gates.yaml",
        "--summary",
        str(summary),
        "--report",
        "ci.html",
        "--json",
    )
    assert check.returncode == 1
    verdict = json.loads(check.stdout)
    assert verdict["passed"] is False and verdict["baseline_uri"] == "models:/churn/2"
    markdown = summary.read_text()
    assert "❌ Model check failed" in markdown and "`roc_auc >= champion - 0.01`" in markdown
    assert "Gates fail" in (project / "ci.html").read_text()
    passing = loopml(
        project,
        "ci",
        "check",
        "--model",
        "models:/churn/2",
        "--data",
        "churn-test@1",
        "--gates",
        "gates.yaml",
        "--summary",
        str(summary),
    )
    assert passing.returncode == 0, passing.stderr
    assert "passed" in passing.stdout

    assert loopml(project, "models", "alias", "churn", "champion", "1").returncode == 0
    back = loopml(project, "models", "rollback", "churn", "--reason", "bad release")
    assert back.returncode == 0 and "version 2" in back.stdout


def test_evaluate_writes_a_report(project: Path) -> None:
    result = loopml(
        project,
        "evaluate",
        "models:/churn/2",
        "churn-test@1",
        "--slice",
        "region",
        "--no-baseline",
        "-o",
        "eval.html",
        "--resamples",
        "100",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body["slices"]) == {"region=EU", "region=US"}
    assert body["metrics"]["f1"] > 0.7
    assert "ROC curve" in (project / "eval.html").read_text()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("models", "show", "ghost"), "registered model 'ghost' does not exist"),
        (("models", "promote", "churn", "9"), "has no version 9"),
        (("models", "promote", "churn", "1", "--force"), "a forced promotion needs a reason"),
        (("models", "gates", "churn", "--set", "f1 => 1"), "is not '<metric> <op> <threshold>'"),
        (("evaluate", "models:/churn/1", "nope@1"), "dataset 'nope' does not exist"),
        (("evaluate", "models:/churn@x", "churn-test@1"), "has no alias 'x'"),
        (("models", "delete", "churn", "--version", "2", "--yes"), "is still champion"),
    ],
)
def test_bad_input_is_one_line(project: Path, args: tuple[str, ...], match: str) -> None:
    assert_one_line_error(loopml(project, *args), match)
