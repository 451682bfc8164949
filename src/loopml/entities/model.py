"""Logged models, registered models, their numbered versions, aliases, evaluations and events.

A model URI names a model the way a user writes it: ``runs:/<run>/model`` (as logged),
``models:/churn/3`` (a version) or ``models:/churn@champion`` (whatever the alias points at now).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopml.entities.names import check_alias, check_name
from loopml.errors import InvalidInput

_RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class LoggedModel:
    """A model as ``log_model`` stored it in a run: its files (path → blob digest) and metadata."""

    model_id: str
    run_id: str
    path: str
    flavor: str
    format: str
    executable: bool
    digest: str
    files: Mapping[str, str]
    signature: Mapping[str, Any] | None
    requirements: Mapping[str, str]
    task: str | None
    classes: tuple[Any, ...] | None
    creation_time: int

    @property
    def uri(self) -> str:
        return f"runs:/{self.run_id}/{self.path}"


@dataclass(frozen=True)
class RegisteredModel:
    """A named model with numbered versions, aliases and the gates a promotion must pass."""

    name: str
    description: str | None
    tags: Mapping[str, str]
    creation_time: int
    last_updated_time: int
    latest_version: int | None
    aliases: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion:
    """One immutable version: the logged model it came from, and everything that explains it."""

    name: str
    version: int
    model_id: str
    run_id: str
    source: str
    digest: str
    files: Mapping[str, str]
    flavor: str
    format: str
    executable: bool
    signature: Mapping[str, Any] | None
    task: str | None
    target: str | None
    data_version: str | None
    git_commit: str | None
    evaluation_id: str | None
    description: str | None
    tags: Mapping[str, str]
    creation_time: int
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class GateSet:
    """The gates declared for a registered model; each change is a new revision."""

    name: str
    revision: int
    gates: tuple[str, ...]
    actor: str | None
    creation_time: int


@dataclass(frozen=True)
class Event:
    """A decision with its evidence: who, when, what, on which subject, why."""

    event_id: str
    time: int
    kind: str
    subject: str
    actor: str | None
    reason: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class EvaluationRecord:
    """A stored evaluation: which model (by digest) on which rows, and what it scored."""

    evaluation_id: str
    run_id: str | None
    model_uri: str
    model_digest: str | None
    data_version: str | None
    task: str
    target: str
    n_rows: int
    result: Mapping[str, Any]
    creation_time: int


@dataclass(frozen=True)
class ModelUri:
    """A parsed model URI: a run's artifact path, a version number or an alias."""

    scheme: str
    name: str
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.scheme == "runs":
            return f"runs:/{self.run_id}/{self.path}"
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        return f"models:/{self.name}@{self.alias}"


def validate_model_name(name: Any) -> str:
    """A registered model name: no path characters, so it never becomes a path or URL trick."""
    return check_name(name, "model")


def validate_model_alias(alias: Any) -> str:
    """An alias such as ``champion``: starts with a letter, not a number, not ``latest``."""
    return check_alias(alias)


def parse_model_uri(uri: Any) -> ModelUri:
    """Parse ``runs:/<run>/<path>``, ``models:/<name>/<version>``, ``models:/<name>@<alias>``.

    ``models:/<name>`` and ``models:/<name>@latest`` mean the newest version.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(
            f"model URI must be a string like 'models:/name@champion', got {uri!r}",
            field="model_uri",
            value=uri,
        )
    text = uri.strip()
    hint = "use runs:/<run_id>/model, models:/<name>/<version> or models:/<name>@<alias>"
    if text.startswith("runs:/"):
        run_id, _, path = text[len("runs:/") :].strip("/").partition("/")
        if not _RUN_ID_RE.match(run_id) or not path:
            raise InvalidInput(
                f"model URI {text!r} does not name a run and a path",
                field="model_uri",
                value=text,
                hint=hint,
            )
        return ModelUri("runs", name=path, run_id=run_id, path=path.strip("/"))
    if not text.startswith("models:/"):
        raise InvalidInput(
            f"model URI {text!r} has an unknown scheme", field="model_uri", value=text, hint=hint
        )
    rest = text[len("models:/") :].strip("/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        validate_model_name(name)
        if alias in ("", "latest"):
            return ModelUri("models", name=name, alias="latest")
        return ModelUri("models", name=name, alias=validate_model_alias(alias))
    name, _, selector = rest.partition("/")
    validate_model_name(name)
    if not selector or selector == "latest":
        return ModelUri("models", name=name, alias="latest")
    if not selector.isdigit() or int(selector) < 1:
        raise InvalidInput(
            f"model URI {text!r} names version {selector!r}; versions are numbers from 1",
            field="model_uri",
            value=text,
            hint=hint,
        )
    return ModelUri("models", name=name, version=int(selector))
