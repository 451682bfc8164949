"""Running the ``loopml`` command as a user would, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def user_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any LoopML setting, git capture off, and a wide terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_CAPTURE_GIT="false", COLUMNS="200", **(extra or {}))
    return env


def run_cli(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m loopml ARGS`` in ``cwd``; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "loopml", *args],
        cwd=cwd,
        env=user_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], match: str) -> None:
    """The command failed with exactly one ``error: …`` line containing ``match``."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert match in lines[0], lines[0]
    assert "Traceback" not in result.stderr
