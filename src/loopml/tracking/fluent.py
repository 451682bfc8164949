"""The fluent API: ``with loopml.start_run(): loopml.log_metric(...)``.

The stack of active runs lives in a context variable, so threads and asyncio tasks each see their
own; the run ends FINISHED, FAILED on an exception, KILLED on KeyboardInterrupt or SIGTERM.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from loopml.entities import ArtifactFile, Experiment, Run, RunStatus
from loopml.errors import Conflict, InvalidInput
from loopml.tracking.backend import default_backend, reset_default_backend
from loopml.tracking.client import LoopMLClient
from loopml.tracking.system_metrics import start_sampler, stop_sampler

if TYPE_CHECKING:
    import pandas as pd

_client = LoopMLClient()
_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "loopml_active_runs", default=()
)
_experiment_id: str | None = None
_sigterm_installed = False
_all_active: list[ActiveRun] = []


class ActiveRun:
    """A started run; as a context manager it ends the run with the right status."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.info = run.info
        self.run_id = run.info.run_id
        self._token: contextvars.Token[tuple[ActiveRun, ...]] | None = None

    @property
    def data(self) -> Any:
        return _client.get_run(self.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end(self, status)

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, name={self.info.run_name!r})"


def set_experiment(name: str) -> Experiment:
    """Use (creating if needed) the named experiment for the runs started next."""
    global _experiment_id
    experiment = _client.resolve_or_create_experiment(name)
    _experiment_id = experiment.experiment_id
    return experiment


def start_run(
    run_id: str | None = None,
    *,
    run_name: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start (or with ``run_id`` resume) a run and make it the active one."""
    stack = _stack.get()
    if stack and not nested:
        raise Conflict(
            f"run {stack[-1].run_id} is already active",
            field="nested",
            hint="end it with loopml.end_run(), or pass nested=True to start a child run",
        )
    if run_id is not None:
        run = _client.resume_run(run_id)
    else:
        experiment_id = _resolve_experiment(experiment)
        parent = stack[-1].run_id if stack else None
        run = _client.create_run(experiment_id, run_name=run_name, tags=tags, parent_run_id=parent)
    active = ActiveRun(run)
    active._token = _stack.set((*stack, active))
    _all_active.append(active)
    _install_sigterm_handler()
    settings = default_backend().settings
    if log_system_metrics or (log_system_metrics is None and settings.system_metrics):
        start_sampler(_client, active.run_id, settings.system_metrics_interval)
    return active


def active_run() -> ActiveRun | None:
    """The innermost active run of this thread or task, or None."""
    stack = _stack.get()
    return stack[-1] if stack else None


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when none is active)."""
    run = active_run()
    if run is not None:
        _end(run, RunStatus(str(status).upper()))


def _end(active: ActiveRun, status: RunStatus) -> None:
    stop_sampler(active.run_id)
    stack = _stack.get()
    if active in stack:
        _stack.set(tuple(r for r in stack if r is not active))
    if active in _all_active:
        _all_active.remove(active)
    _client.set_terminated(active.run_id, status)


def _resolve_experiment(name: str | None) -> str:
    if name is not None:
        return _client.resolve_or_create_experiment(name).experiment_id
    if _experiment_id is not None:
        return _experiment_id
    default_name = default_backend().settings.experiment_name
    return _client.resolve_or_create_experiment(default_name).experiment_id


def _require_run() -> str:
    stack = _stack.get()
    if not stack:
        raise InvalidInput(
            "no active run",
            field="run",
            hint="wrap the code in `with loopml.start_run():` or call loopml.start_run() first",
        )
    return stack[-1].run_id


def log_param(key: str, value: Any) -> Any:
    """Record a param of the active run (immutable once logged); returns the value."""
    _client.log_param(_require_run(), key, value)
    return value


def log_params(params: Mapping[str, Any]) -> None:
    _client.log_params(_require_run(), params)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    """Queue a metric point of the active run (see ``flush``)."""
    stack = _stack.get()
    if not stack:
        _require_run()
    _client.log_metric(stack[-1].run_id, key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    _client.log_metrics(_require_run(), metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    _client.set_tag(_require_run(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _client.set_tags(_require_run(), tags)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _client.log_artifact(_require_run(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _client.log_artifacts(_require_run(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    _client.log_text(_require_run(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    _client.log_dict(_require_run(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    _client.log_figure(_require_run(), figure, artifact_file)


def log_input(version: Any, role: str = "train") -> None:
    """Record that the active run used a data version (a ``DatasetVersion`` or ``"name@3"``)."""
    _client.log_input(_require_run(), version, role)


def flush() -> None:
    """Block until every metric point logged so far is stored."""
    _client.flush()


def get_run(run_id: str) -> Run:
    return _client.get_run(run_id)


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = 100_000,
    experiment_names: Sequence[str] | None = None,
    view: str = "active_only",
) -> pd.DataFrame:
    """Runs as a DataFrame; without experiments given, searches every experiment."""
    ids = list(experiment_ids) if experiment_ids is not None else None
    if experiment_names is not None:
        ids = (ids or []) + [_client.resolve_experiment(n).experiment_id for n in experiment_names]
    return _client.search_runs_df(
        experiment_ids=ids,
        filter_string=filter_string,
        order_by=order_by,
        max_results=max_results,
        view=view,
    )


def download_artifacts(
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Copy a run's artifacts (the active run's by default) to a local folder."""
    return _client.download_artifacts(run_id or _require_run(), artifact_path, dst_path)


def list_artifacts(run_id: str | None = None, path: str | None = None) -> list[ArtifactFile]:
    return _client.list_artifacts(run_id or _require_run(), path)


def set_tracking_uri(store_uri: str, artifact_uri: str | None = None) -> None:
    """Point the fluent API at another store (and artifact root) from now on."""
    global _experiment_id
    if _stack.get():
        raise Conflict("cannot change the store while a run is active", field="store_uri")
    overrides = {"store_uri": store_uri}
    if artifact_uri is not None:
        overrides["artifact_uri"] = artifact_uri
    _experiment_id = None
    reset_default_backend(**overrides)


def reset() -> None:
    """Forget the active experiment and reopen the store from settings (tests, notebooks)."""
    global _experiment_id
    _experiment_id = None
    _stack.set(())
    _all_active.clear()
    reset_default_backend()


def _install_sigterm_handler() -> None:
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # the application handles SIGTERM itself; do not take it over
    signal.signal(signal.SIGTERM, _on_sigterm)
    _sigterm_installed = True


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    for active in reversed(list(_all_active)):
        with contextlib.suppress(Exception):
            _end(active, RunStatus.KILLED)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
