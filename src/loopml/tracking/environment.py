"""Where and how a run was started: user, host, entry point, command, Python, key packages."""

from __future__ import annotations

import getpass
import platform
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from loopml._util.process import hostname

# Packages whose versions decide whether a result reproduces; recorded when the run imported them.
KEY_PACKAGES = (
    "loopml",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "scipy",
    "sklearn",
    "torch",
    "tensorflow",
    "jax",
    "xgboost",
    "lightgbm",
    "catboost",
    "transformers",
)


@dataclass(frozen=True)
class Environment:
    """The facts captured automatically when a run starts."""

    user: str | None
    host: str
    entry_point: str | None
    command: str
    python_version: str
    packages: dict[str, str] = field(default_factory=dict)


def capture_environment() -> Environment:
    """Read the current process's environment (cheap: no subprocess, no new imports)."""
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else None
    entry_point = str(Path(argv0).resolve()) if argv0 and Path(argv0).is_file() else argv0
    return Environment(
        user=user,
        host=hostname(),
        entry_point=entry_point,
        command=shlex.join(sys.argv) if sys.argv else "",
        python_version=platform.python_version(),
        packages=imported_package_versions(),
    )


def imported_package_versions() -> dict[str, str]:
    """Versions of the key packages this process has imported."""
    versions: dict[str, str] = {}
    for name in KEY_PACKAGES:
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module is not None else None
        if isinstance(version, str):
            versions["scikit-learn" if name == "sklearn" else name] = version
    return versions
