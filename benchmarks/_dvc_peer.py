"""DVC's side of ``benchmarks/data.py``: fresh repositories and timed ``dvc`` commands.

DVC conflicts with LoopML's pins, so it lives in its own environment and is only ever run as a
command (``LOOPML_BENCH_DVC``, else ``/work/peers/bin/dvc``, else ``dvc`` on ``PATH``). Nothing
here imports DVC or LoopML. Each repository is ``git init`` + ``dvc init`` in a fresh folder, with
analytics off and DVC's per-repository state (its hash cache) inside the repository, so every
first ``dvc add`` starts from nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

DEFAULT_DVC = "/work/peers/bin/dvc"
COMMAND_TIMEOUT_S = 3600


def find_dvc(no_peer: bool) -> str | None:
    """The ``dvc`` executable to compare against, or None (``--no-peer``, or none installed)."""
    if no_peer:
        return None
    for candidate in (os.environ.get("LOOPML_BENCH_DVC"), DEFAULT_DVC, shutil.which("dvc")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "DVC_"))}
    env["DVC_NO_ANALYTICS"] = "1"
    # git needs an identity only to commit, which nothing here does; keep its config out anyway.
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


class Dvc:
    """Runs ``dvc`` commands; every failure is kept in ``errors`` and the figure becomes None."""

    def __init__(self, executable: str | None) -> None:
        self.executable = executable
        self.version: str | None = None
        self.errors: dict[str, str] = {}
        if executable is not None:
            try:
                self.version = self._run(["--version"], Path.cwd(), "version").strip()
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
                self.errors["version"] = str(exc)
                self.executable = None

    @property
    def available(self) -> bool:
        return self.executable is not None

    def _run(self, args: list[str], cwd: Path, what: str) -> str:
        assert self.executable is not None
        done = subprocess.run(
            [self.executable, *args],
            cwd=cwd,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"dvc {' '.join(args)} ({what}) exited {done.returncode}: {tail}")
        return done.stdout

    def new_repo(self, folder: Path) -> Path:
        """``git init`` + ``dvc init`` in ``folder`` (created), analytics off, state kept inside."""
        folder.mkdir(parents=True, exist_ok=False)
        subprocess.run(
            ["git", "init", "-q"], cwd=folder, env=_env(), check=True, capture_output=True
        )
        self._run(["init", "-q"], folder, "init")
        self._run(["config", "core.analytics", "false"], folder, "config")
        # DVC keeps its hash cache (state db) under a site cache folder, /var/tmp/dvc by default.
        site = folder / ".dvc" / "site-cache"
        self._run(["config", "--local", "core.site_cache_dir", str(site)], folder, "config")
        return folder

    def timed(self, args: list[str], cwd: Path, what: str) -> float | None:
        """Wall seconds of ``dvc <args>`` run as a subprocess in ``cwd``; None if it failed."""
        if not self.available:
            return None
        start = time.perf_counter()
        try:
            self._run(args, cwd, what)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            self.errors[what] = str(exc)
            return None
        return time.perf_counter() - start

    def output_info(self, dvc_file: Path) -> dict[str, Any] | None:
        """What a ``.dvc`` file recorded (md5, size, nfiles), read as plain text."""
        try:
            text = dvc_file.read_text()
        except OSError:
            return None
        info: dict[str, Any] = {}
        for line in text.splitlines():
            key, sep, value = line.strip().lstrip("- ").partition(":")
            if sep and key in {"md5", "size", "nfiles"}:
                value = value.strip()
                info[key] = int(value) if value.isdigit() else value
        return info

    def warm(self, folder: Path) -> None:
        """Run ``dvc status`` once in a throwaway repository so DVC's own code is in the page
        cache (the data is evicted before each timed command; the tool's code should not be)."""
        if not self.available:
            return
        try:
            self._run(["status", "-q"], folder, "warm")
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            # `status -q` exits 1 when something changed; only a missing repo is a real problem.
            if "not a dvc repository" in str(exc).lower():
                self.errors["warm"] = str(exc)
