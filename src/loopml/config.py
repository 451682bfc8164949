"""Settings: the one table of ``LOOPML_*`` variables and the only reader of ``os.environ``.

Everything else receives a :class:`Settings` object. Each value remembers where it came from, so
``loopml info`` can say what is in effect and why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.errors import ConfigError

HOME_DIR_NAME = ".loopml"


def _as_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("not a boolean (use true or false)")


def _as_positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be greater than 0")
    return value


def _as_positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number greater than 0")
    return value


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, how to parse it, its default and what it is for."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    doc: str


VARIABLES: tuple[Variable, ...] = (
    Variable("LOOPML_HOME", str, None, "Project home folder; default: nearest .loopml/ upwards."),
    Variable(
        "LOOPML_STORE_URI", str, None, "Metadata store URI; default: SQLite file in the home."
    ),
    Variable("LOOPML_ARTIFACT_URI", str, None, "Artifact store URI; default: folder in the home."),
    Variable("LOOPML_EXPERIMENT_NAME", str, "Default", "Experiment used when none is set."),
    Variable("LOOPML_FLUSH_INTERVAL", _as_positive_float, 1.0, "Seconds between metric flushes."),
    Variable("LOOPML_FLUSH_MAX_POINTS", _as_positive_int, 10_000, "Queued points forcing a flush."),
    Variable("LOOPML_HEARTBEAT_INTERVAL", _as_positive_float, 30.0, "Seconds between heartbeats."),
    Variable(
        "LOOPML_HEARTBEAT_TIMEOUT",
        _as_positive_float,
        600.0,
        "Seconds without a heartbeat after which a RUNNING run on another host is marked FAILED.",
    ),
    Variable("LOOPML_DB_BUSY_TIMEOUT", _as_positive_float, 60.0, "Seconds to wait on a locked DB."),
    Variable("LOOPML_CAPTURE_GIT", _as_bool, True, "Record git commit, branch and dirty diff."),
    Variable("LOOPML_SYSTEM_METRICS", _as_bool, False, "Log CPU, memory and GPU use per run."),
    Variable(
        "LOOPML_SYSTEM_METRICS_INTERVAL", _as_positive_float, 10.0, "Seconds between samples."
    ),
    Variable(
        "LOOPML_SERVE_TOKEN",
        str,
        None,
        "Bearer token the prediction server requires (needed to bind beyond loopback).",
    ),
    Variable(
        "LOOPML_SERVE_CONFIG",
        str,
        None,
        "JSON options `loopml serve` hands to its worker processes (set by the CLI).",
    ),
)
_BY_NAME = {v.name: v for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """Every setting in effect, with where each came from (``sources``)."""

    home: Path
    store_uri: str
    artifact_uri: str
    experiment_name: str = "Default"
    flush_interval: float = 1.0
    flush_max_points: int = 10_000
    heartbeat_interval: float = 30.0
    heartbeat_timeout: float = 600.0
    db_busy_timeout: float = 60.0
    capture_git: bool = True
    system_metrics: bool = False
    system_metrics_interval: float = 10.0
    serve_token: str | None = field(default=None, repr=False)
    serve_config: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> Settings:
        """Read the settings from the environment (``os.environ`` unless given)."""
        env = os.environ if environ is None else environ
        here = Path.cwd() if cwd is None else cwd
        sources: dict[str, str] = {}

        def read(name: str) -> Any:
            var = _BY_NAME[name]
            raw = env.get(name)
            if raw is None or raw == "":
                return var.default
            try:
                return var.parse(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"{name}={raw!r} is not valid: {exc}",
                    field=name,
                    value=raw,
                    hint=f"unset it or set a valid value; it is: {var.doc}",
                ) from None

        home_env = read("LOOPML_HOME")
        if home_env:
            home = Path(home_env).expanduser().resolve()
            sources["home"] = "LOOPML_HOME"
        else:
            found = find_home(here)
            if found is not None:
                home, sources["home"] = found, f"found by walking up from {here}"
            else:
                home = (here / HOME_DIR_NAME).resolve()
                sources["home"] = "default: no .loopml/ found upwards, using the current folder"

        store_uri = read("LOOPML_STORE_URI")
        if store_uri:
            sources["store_uri"] = "LOOPML_STORE_URI"
        else:
            store_uri = f"sqlite:///{home / 'loopml.db'}"
            sources["store_uri"] = "default: SQLite file in the home"

        artifact_uri = read("LOOPML_ARTIFACT_URI")
        if artifact_uri:
            sources["artifact_uri"] = "LOOPML_ARTIFACT_URI"
        else:
            artifact_uri = str(home / "artifacts")
            sources["artifact_uri"] = "default: folder in the home"

        values: dict[str, Any] = {}
        for name, attr in _SIMPLE_FIELDS.items():
            values[attr] = read(name)
            sources[attr] = name if env.get(name) else "default"
        return cls(
            home=home, store_uri=store_uri, artifact_uri=artifact_uri, sources=sources, **values
        )


_SIMPLE_FIELDS = {
    "LOOPML_EXPERIMENT_NAME": "experiment_name",
    "LOOPML_FLUSH_INTERVAL": "flush_interval",
    "LOOPML_FLUSH_MAX_POINTS": "flush_max_points",
    "LOOPML_HEARTBEAT_INTERVAL": "heartbeat_interval",
    "LOOPML_HEARTBEAT_TIMEOUT": "heartbeat_timeout",
    "LOOPML_DB_BUSY_TIMEOUT": "db_busy_timeout",
    "LOOPML_CAPTURE_GIT": "capture_git",
    "LOOPML_SYSTEM_METRICS": "system_metrics",
    "LOOPML_SYSTEM_METRICS_INTERVAL": "system_metrics_interval",
    "LOOPML_SERVE_TOKEN": "serve_token",
    "LOOPML_SERVE_CONFIG": "serve_config",
}


def find_home(start: Path) -> Path | None:
    """The nearest ``.loopml/`` folder at or above ``start``, like git finds ``.git``."""
    current = start.resolve()
    for folder in (current, *current.parents):
        candidate = folder / HOME_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def export_to_children(name: str, value: str) -> None:
    """Set a ``LOOPML_*`` variable for child processes this process starts (uvicorn workers)."""
    if name not in _BY_NAME:
        raise ConfigError(f"{name} is not a LoopML setting", field=name)
    os.environ[name] = value
