"""``log_model``: save a model with its flavor and signature into a run, and optionally register it.

The files are hashed here, before they leave the machine, and the manifest (path → digest) is
recorded with the logged model: that record, not the files, is what a later load trusts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml._util.paths import normalize_artifact_path
from loopml.entities import LoggedModel, ModelVersion
from loopml.evaluation.evaluate import check_task
from loopml.models import ModelSignature, files_digest, folder_manifest, save_model
from loopml.registry.versions import register_model
from loopml.store import NewLoggedModel
from loopml.tracking import artifact_ops, fluent
from loopml.workspace import default_workspace


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` stored: where to load it from, and its version when registered."""

    model_uri: str
    run_id: str
    artifact_path: str
    model_id: str
    digest: str
    flavor: str
    signature: Mapping[str, Any] | None
    registered_model_name: str | None = None
    version: int | None = None

    @property
    def model_version(self) -> str | None:
        """``models:/<name>/<version>`` when registered."""
        if self.registered_model_name is None:
            return None
        return f"models:/{self.registered_model_name}/{self.version}"


def log_model(
    model: Any,
    name: str = "model",
    signature: ModelSignature | Mapping[str, Any] | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    *,
    target: str | None = None,
    data_version: str | None = None,
    task: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Store ``model`` under ``name`` in the active run (a new run when none is active).

    The flavor is chosen from the object (scikit-learn with skops, XGBoost and LightGBM in their
    native formats, anything else with ``predict`` as executable cloudpickle code). With
    ``registered_model_name`` the model also becomes that model's next version; ``target`` and
    ``data_version`` (default: the run's training input) are recorded on the version, and
    ``task`` ("classification" or "regression") when the flavor cannot tell (python models).
    """
    path = normalize_artifact_path(name, field="name")
    if isinstance(signature, Mapping):
        signature = ModelSignature.from_dict(signature)
    if task is not None:
        check_task(task)
    args = (
        model,
        path,
        signature,
        input_example,
        registered_model_name,
        target,
        data_version,
        task,
    )
    if run_id is None and (active := fluent.active_run()) is not None:
        run_id = active.run_id
    if run_id is not None:
        return _log(run_id, *args)
    with fluent.start_run(run_name=f"log-{path}") as run:
        return _log(run.run_id, *args)


def _log(
    run_id: str,
    model: Any,
    path: str,
    signature: ModelSignature | None,
    input_example: Any,
    registered_model_name: str | None,
    target: str | None,
    data_version: str | None,
    task: str | None,
) -> ModelInfo:
    ws = default_workspace()
    with tempfile.TemporaryDirectory(dir=ws.tmp_dir) as scratch:
        folder = Path(scratch)
        meta = save_model(model, folder, signature=signature, input_example=input_example)
        files = folder_manifest(folder)
        artifact_ops.log_folder(ws.store, ws.blobs, run_id, folder, path)
    logged = ws.store.models.log(
        NewLoggedModel(
            run_id=run_id,
            path=path,
            flavor=meta.flavor,
            format=meta.format,
            executable=meta.executable,
            digest=files_digest(files),
            files=files,
            signature=meta.signature.to_dict() if meta.signature is not None else None,
            requirements=meta.requirements,
            task=task or meta.task,
            classes=meta.classes,
        )
    )
    version: ModelVersion | None = None
    if registered_model_name is not None:
        version = register_model(
            logged.uri,
            registered_model_name,
            target=target,
            data_version=data_version,
        )
    return _info(logged, version)


def _info(logged: LoggedModel, version: ModelVersion | None) -> ModelInfo:
    return ModelInfo(
        model_uri=logged.uri,
        run_id=logged.run_id,
        artifact_path=logged.path,
        model_id=logged.model_id,
        digest=logged.digest,
        flavor=logged.flavor,
        signature=logged.signature,
        registered_model_name=version.name if version else None,
        version=version.version if version else None,
    )
