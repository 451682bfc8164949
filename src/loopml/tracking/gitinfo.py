"""The code version of a run: git commit, branch, dirty flag and the uncommitted diff."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_TIMEOUT_S = 5


@dataclass(frozen=True)
class GitInfo:
    """Where the code of a run came from; ``diff`` is set only when the tree is dirty."""

    commit: str
    branch: str | None
    dirty: bool
    diff: str | None
    root: Path


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def capture_git(folder: Path) -> GitInfo | None:
    """Git facts for ``folder``, or None outside a repository or without git."""
    head = _git(folder, "rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD")
    if head is None:
        return None
    lines = head.split()
    if len(lines) < 3:
        return None
    root, commit, branch = Path(lines[0]), lines[1], lines[2]
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    dirty = bool(status and status.strip())
    diff = _git(folder, "diff", "HEAD", "--no-color") if dirty else None
    return GitInfo(
        commit=commit,
        branch=None if branch == "HEAD" else branch,
        dirty=dirty,
        diff=diff,
        root=root,
    )
