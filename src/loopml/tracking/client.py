"""``LoopMLClient``: the explicit-id API (MLflow's ``MlflowClient`` shape) over one backend."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loopml._util.clock import now_ms
from loopml.config import Settings
from loopml.entities import ArtifactFile, Experiment, MetricPoint, Run, RunStatus, parse_ref
from loopml.entities.validation import validate_key, validate_metric_value, validate_step
from loopml.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopml.store import RunQuery, RunSpec, ViewType
from loopml.tracking import artifact_ops
from loopml.tracking.backend import Backend, default_backend
from loopml.tracking.environment import capture_environment
from loopml.tracking.gitinfo import capture_git
from loopml.tracking.names import random_run_name

if TYPE_CHECKING:
    import pandas as pd

_checked_keys: set[str] = set()


class DataInput(Protocol):
    """Anything naming a stored data version (``loopml.data.DatasetVersion`` is one)."""

    @property
    def version_id(self) -> str: ...


class LoopMLClient:
    """Experiments, runs, records and artifacts addressed by id."""

    def __init__(
        self,
        store_uri: str | None = None,
        artifact_uri: str | None = None,
        *,
        backend: Backend | None = None,
    ) -> None:
        if backend is None and (store_uri or artifact_uri):
            settings = Settings.from_env()
            backend = Backend(
                Settings(
                    home=settings.home,
                    store_uri=store_uri or settings.store_uri,
                    artifact_uri=artifact_uri or settings.artifact_uri,
                )
            )
        self._backend = backend

    def close(self) -> None:
        """Write queued metrics and release this client's own connections (not the default's)."""
        if self._backend is not None:
            self._backend.close()
        else:
            self.flush()

    def __enter__(self) -> LoopMLClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def backend(self) -> Backend:
        return self._backend if self._backend is not None else default_backend()

    # experiments -------------------------------------------------------------------------
    def create_experiment(self, name: str) -> str:
        """Create an experiment and return its id."""
        return self.backend.store.experiments.create(name).experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.backend.store.experiments.get(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.backend.store.experiments.get_by_name(name)

    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        return self.backend.store.experiments.list(view)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        return self.backend.store.experiments.rename(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> Experiment:
        """Soft-delete an experiment and its runs (``restore_experiment`` undoes it)."""
        return self.backend.store.experiments.set_lifecycle(experiment_id, deleted=True)

    def restore_experiment(self, experiment_id: str) -> Experiment:
        return self.backend.store.experiments.set_lifecycle(experiment_id, deleted=False)

    def resolve_or_create_experiment(self, name: str) -> Experiment:
        """The active experiment of this name, created when missing (``set_experiment``)."""
        experiment = self.get_experiment_by_name(name)
        if experiment is None:
            try:
                return self.get_experiment(self.create_experiment(name))
            except AlreadyExists:  # another process created it a moment ago
                experiment = self.get_experiment_by_name(name)
        if experiment is None or experiment.lifecycle_stage.value == "deleted":
            raise Conflict(
                f"experiment {name!r} is deleted",
                field="experiment_name",
                value=name,
                hint=f"restore it with `loopml experiments restore {name}` or choose another name",
            )
        return experiment

    def resolve_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, falling back to id (what CLI arguments accept)."""
        found = self.get_experiment_by_name(name_or_id)
        if found is not None:
            return found
        try:
            return self.get_experiment(name_or_id)
        except NotFound:
            raise NotFound(
                f"no experiment named or with id {name_or_id!r}",
                field="experiment",
                value=name_or_id,
                hint="list experiments with `loopml experiments list`",
            ) from None

    # runs -------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
    ) -> Run:
        """Start a run, capturing user, host, command, Python, packages and git state."""
        env = capture_environment()
        git = None
        if self.backend.settings.capture_git:
            git = capture_git(_code_folder(env.entry_point))
        run = self.backend.store.runs.create(
            RunSpec(
                experiment_id=experiment_id,
                run_name=run_name or random_run_name(),
                start_time=now_ms(),
                parent_run_id=parent_run_id,
                user=env.user,
                host=env.host,
                pid=os.getpid(),
                entry_point=env.entry_point,
                command=env.command,
                git_commit=git.commit if git else None,
                git_branch=git.branch if git else None,
                git_dirty=git.dirty if git else None,
                python_version=env.python_version,
                packages=env.packages,
                tags={k: str(v) for k, v in (tags or {}).items()},
            )
        )
        if git is not None and git.diff:
            self.log_text(run.info.run_id, git.diff, "git/uncommitted.diff")
        self.backend.writer.watch(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """A run with its params, latest metrics and tags (queued metrics are flushed first)."""
        self.flush()
        return self.backend.store.runs.get(run_id)

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> Run:
        """End a run: flush its metrics, then record its final status and end time."""
        final = _status(status)
        try:
            self.flush()
        finally:
            run = self.backend.store.runs.update(run_id, status=final, end_time=end_time)
            self.backend.writer.unwatch(run_id)
        return run

    def resume_run(self, run_id: str) -> Run:
        """Mark an ended run RUNNING again so more can be logged to it."""
        run = self.backend.store.runs.update(run_id, status=RunStatus.RUNNING)
        self.backend.writer.watch(run_id)
        return run

    def rename_run(self, run_id: str, new_name: str) -> Run:
        return self.backend.store.runs.update(run_id, run_name=new_name)

    def delete_run(self, run_id: str) -> Run:
        """Soft-delete (``restore_run`` undoes it; ``loopml gc`` purges for good)."""
        return self.backend.store.runs.set_lifecycle(run_id, deleted=True)

    def restore_run(self, run_id: str) -> Run:
        return self.backend.store.runs.set_lifecycle(run_id, deleted=False)

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
    ) -> list[Run]:
        """Runs matching an MLflow-style filter (``or`` and parentheses allowed)."""
        self.flush()
        return self.backend.store.runs.search(
            RunQuery(
                experiment_ids=experiment_ids,
                filter_string=filter_string,
                order_by=tuple(order_by or ()),
                max_results=max_results,
                view=ViewType(view),
            )
        )

    def search_runs_df(self, **kwargs: Any) -> pd.DataFrame:
        """:meth:`search_runs` as a pandas DataFrame (one row per run)."""
        from loopml.tracking.frames import runs_to_frame

        return runs_to_frame(self.search_runs(**kwargs))

    # records ----------------------------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Record a param; a second, different value for the key is an error."""
        self.backend.store.records.log_params(run_id, {key: value})

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        self.backend.store.records.log_params(run_id, dict(params))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.backend.store.records.set_tags(run_id, {key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self.backend.store.records.set_tags(run_id, dict(tags))

    def delete_tag(self, run_id: str, key: str) -> None:
        self.backend.store.records.delete_tag(run_id, key)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue one metric point (written within ``LOOPML_FLUSH_INTERVAL`` or on ``flush()``)."""
        if key not in _checked_keys:
            validate_key(key, "metric")
            _checked_keys.add(key)
        if type(value) is not float:
            value = validate_metric_value(key, value)
        self.backend.writer.add(
            (
                run_id,
                key,
                value,
                time.time_ns() // 1_000_000 if timestamp is None else int(timestamp),
                0 if step is None else (step if type(step) is int else validate_step(key, step)),
            )
        )

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue several metrics sharing one step and timestamp."""
        ts = time.time_ns() // 1_000_000 if timestamp is None else int(timestamp)
        at = 0 if step is None else validate_step("metrics", step)
        points = []
        for key, value in metrics.items():
            if key not in _checked_keys:
                validate_key(key, "metric")
                _checked_keys.add(key)
            if type(value) is not float:
                value = validate_metric_value(key, value)
            points.append((run_id, key, value, ts, at))
        self.backend.writer.add_many(points)

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[MetricPoint] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write params, tags and metric points synchronously, each kind in one transaction."""
        if params:
            self.log_params(run_id, params)
        if tags:
            self.set_tags(run_id, tags)
        rows = [
            (
                run_id,
                validate_key(p.key, "metric"),
                validate_metric_value(p.key, p.value),
                int(p.timestamp),
                validate_step(p.key, p.step),
            )
            for p in metrics
        ]
        if rows:
            self.backend.store.metrics.log_rows(rows)

    def get_metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of one metric, by step (queued points are flushed first)."""
        self.flush()
        return self.backend.store.metrics.history(run_id, key)

    def flush(self) -> None:
        """Block until every queued metric point is stored."""
        backend = self.backend
        if "writer" in backend.__dict__:
            backend.writer.flush()

    # inputs -----------------------------------------------------------------------------
    def log_input(self, run_id: str, version: DataInput | str, role: str = "train") -> None:
        """Link a run to the data version it used (``role``: train, test, …) for lineage."""
        validate_key(role, "role")
        store = self.backend.store
        if isinstance(version, str):
            version_id = store.datasets.version(parse_ref(version)).version_id
        else:
            version_id = version.version_id
        store.datasets.link_input(run_id, version_id, role)

    def list_inputs(self, run_id: str) -> list[tuple[str, str]]:
        """(``name@version``, role) of every data version a run used."""
        return [(record.ref, role) for record, role in self.backend.store.datasets.inputs(run_id)]

    # artifacts --------------------------------------------------------------------------
    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Store a file (or every file of a folder) under ``artifact_path``."""
        path = Path(local_path)
        if path.is_dir():
            self.log_artifacts(run_id, path, _join(artifact_path, path.name))
            return
        artifact_ops.log_file(self.backend.store, self.backend.blobs, run_id, path, artifact_path)

    def log_artifacts(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        progress: artifact_ops.Progress | None = None,
    ) -> list[str]:
        """Store every file of a folder under ``artifact_path``."""
        return artifact_ops.log_folder(
            self.backend.store, self.backend.blobs, run_id, Path(local_dir), artifact_path, progress
        )

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        artifact_ops.log_bytes(
            self.backend.store, self.backend.blobs, run_id, text.encode(), artifact_file
        )

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Store a dict as JSON (or YAML when the name ends in .yaml/.yml)."""
        data = artifact_ops.dict_bytes(dict(dictionary), artifact_file)
        artifact_ops.log_bytes(self.backend.store, self.backend.blobs, run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Store a matplotlib figure as an image (PNG unless the name says otherwise)."""
        data = artifact_ops.figure_bytes(figure, artifact_file)
        artifact_ops.log_bytes(self.backend.store, self.backend.blobs, run_id, data, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactFile]:
        """Files and folders directly under ``path`` in a run's artifacts."""
        return artifact_ops.list_children(self.backend.store.artifacts.list(run_id), path)

    def download_artifacts(
        self,
        run_id: str,
        path: str | None = None,
        dst_path: str | os.PathLike[str] | None = None,
    ) -> Path:
        """Copy artifacts to a local folder (digests verified); return the local path."""
        return artifact_ops.download(self.backend.store, self.backend.blobs, run_id, path, dst_path)


def _status(status: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(str(status).upper())
    except ValueError:
        raise InvalidInput(
            f"unknown run status {status!r}",
            field="status",
            hint="use one of " + ", ".join(s.value for s in RunStatus),
        ) from None


def _join(prefix: str | None, name: str) -> str:
    return f"{prefix.rstrip('/')}/{name}" if prefix else name


def _code_folder(entry_point: str | None) -> Path:
    """Where the user's code is: the script's folder, or the current folder when the entry
    point is LoopML's own command or an installed script (``loopml pipeline run``, the loop)."""
    import sys

    if not entry_point:
        return Path.cwd()
    script = Path(entry_point).resolve()
    ours = (Path(__file__).resolve().parents[1], Path(sys.prefix).resolve())
    if not script.parent.is_dir() or any(script.is_relative_to(root) for root in ours):
        return Path.cwd()
    return script.parent
