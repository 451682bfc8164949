"""Sixteen processes register versions of one model at once: 1..16, no gaps, no duplicates."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REGISTER = textwrap.dedent(
    """
    import sys
    from loopml.registry import register_model
    print(register_model(sys.argv[1], "race").version, flush=True)
    """
)

LOG = textwrap.dedent(
    """
    import sys
    import loopml
    from sklearn.dummy import DummyClassifier
    model = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    for i in range(int(sys.argv[1])):
        print(loopml.log_model(model, name=f"m{i}").model_uri, flush=True)
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    if request.param == "sqlite":
        store_uri = f"sqlite:///{home / 'loopml.db'}"
    else:
        store_uri = request.getfixturevalue("postgres_url")
    values = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    values.update(
        LOOPML_HOME=str(home),
        LOOPML_STORE_URI=store_uri,
        LOOPML_ARTIFACT_URI=str(home / "artifacts"),
        LOOPML_CAPTURE_GIT="false",
    )
    return values


def test_sixteen_processes_register_at_once(env: dict[str, str]) -> None:
    logged = subprocess.run(
        [sys.executable, "-c", LOG, "16"], env=env, capture_output=True, text=True, check=True
    )
    uris = logged.stdout.split()
    assert len(uris) == 16
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REGISTER, uri],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for uri in uris
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    numbers = sorted(int(out.strip()) for out, _ in outputs)
    assert numbers == list(range(1, 17))
