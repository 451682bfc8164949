"""Registering logged models as numbered versions, and moving aliases by hand.

Every alias move is an event: who, when, from which version to which, why. Moves made by
``promote`` carry their gate evidence; a hand-made move says it had none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loopml.entities import Event, GateSet, LoggedModel, ModelVersion, RegisteredModel
from loopml.entities.model import parse_model_uri
from loopml.errors import InvalidInput, NotFound
from loopml.evaluation.gates import parse_gates
from loopml.registry.events import actor, subject
from loopml.store import NewEvent, NewModelVersion
from loopml.workspace import default_workspace

_TRAINING_ROLES = ("train", "training")


def logged_model(uri: str) -> LoggedModel:
    """The model ``log_model`` stored at a ``runs:/<run>/<path>`` URI."""
    parsed = parse_model_uri(uri)
    if parsed.scheme != "runs" or parsed.run_id is None or parsed.path is None:
        raise InvalidInput(
            f"{uri!r} is not a runs:/<run_id>/<path> URI",
            field="model_uri",
            value=uri,
            hint="register a model from the run that logged it: runs:/<run_id>/model",
        )
    found = default_workspace().store.models.logged(parsed.run_id, parsed.path)
    if found is None:
        raise NotFound(
            f"{uri} holds no model logged with loopml.log_model",
            field="model_uri",
            value=uri,
            hint="log it with loopml.log_model(model, name=...) so its files and digest are "
            "recorded",
        )
    return found


def training_data_of(run_id: str) -> str | None:
    """The data version a run trained on: its ``train`` input, or its only input."""
    inputs = default_workspace().store.datasets.inputs(run_id)
    for role in _TRAINING_ROLES:
        refs = sorted({record.ref for record, used_as in inputs if used_as == role})
        if len(refs) == 1:
            return refs[0]
    refs = sorted({record.ref for record, _ in inputs})
    return refs[0] if len(refs) == 1 else None


def register_model(
    model_uri: str,
    name: str,
    *,
    target: str | None = None,
    data_version: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register the model at ``runs:/<run>/<path>`` as the next version of ``name``."""
    logged = logged_model(model_uri)
    store = default_workspace().store
    if target is None:
        stored = store.evaluations.find(logged.digest)
        target = stored.target if stored is not None else None
    return store.models.add_version(
        name,
        NewModelVersion(
            model_id=logged.model_id,
            target=target,
            data_version=data_version or training_data_of(logged.run_id),
            description=description,
            tags=dict(tags or {}),
        ),
    )


def get_model(name: str) -> RegisteredModel:
    return default_workspace().store.models.get(name)


def list_models() -> list[RegisteredModel]:
    return default_workspace().store.models.list()


def get_version(name: str, version: int | None = None, alias: str | None = None) -> ModelVersion:
    """A version by number or alias; the newest when neither is given."""
    return default_workspace().store.models.version(name, version, alias)


def list_versions(name: str) -> list[ModelVersion]:
    return default_workspace().store.models.versions(name)


def set_alias(name: str, alias: str, version: int, *, reason: str | None = None) -> Event:
    """Point an alias at a version by hand (no gates: the event records that)."""
    store = default_workspace().store
    return store.models.set_alias(
        name,
        alias,
        version,
        event=NewEvent(
            kind="alias_set",
            subject=subject(name),
            actor=actor(),
            reason=reason,
            data={"gates": None},
        ),
    )


def delete_alias(name: str, alias: str, *, reason: str | None = None) -> Event:
    """Remove an alias (recorded as an event)."""
    store = default_workspace().store
    store.models.version(name, alias=alias)  # NotFound when the alias is not set
    return store.models.set_alias(
        name,
        alias,
        None,
        event=NewEvent(kind="alias_removed", subject=subject(name), actor=actor(), reason=reason),
    )


def delete_model(name: str, version: int | None = None) -> None:
    """Delete one version (refused while an alias points at it) or the whole model."""
    store = default_workspace().store
    if version is None:
        store.models.delete(name)
    else:
        store.models.delete_version(name, version)
    store.events.add(
        NewEvent(kind="deleted", subject=subject(name), actor=actor(), data={"version": version})
    )


def set_gates(name: str, gates: Sequence[str]) -> GateSet:
    """Declare the gates promotions of ``name`` must pass (checked now, stored as a revision)."""
    parse_gates(gates)
    gate_set = default_workspace().store.models.set_gates(name, list(gates), actor())
    default_workspace().store.events.add(
        NewEvent(
            kind="gates_set",
            subject=subject(name),
            actor=gate_set.actor,
            data={"revision": gate_set.revision, "gates": list(gate_set.gates)},
        )
    )
    return gate_set


def get_gates(name: str) -> GateSet | None:
    return default_workspace().store.models.gates(name)


def history(name: str, limit: int = 100) -> list[Event]:
    """A model's events, newest first."""
    return default_workspace().store.events.list(subject=subject(name), limit=limit)
