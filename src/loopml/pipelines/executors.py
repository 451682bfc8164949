"""Where steps run: in this process, in local processes, or on a Dask cluster.

The driver decides what runs (cache, order, failures); an executor only runs ready steps and
says when one is done. The in-process executor runs a step at submit time; the process pool forks
workers (fast to start; each resets its store connections after the fork); Dask ships the task
with cloudpickle to a local cluster it starts (``dask-local``) or to ``dask://host:port``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from loopml.errors import BackendUnavailable, InvalidInput
from loopml.pipelines.fingerprint import project_modules
from loopml.pipelines.worker import StepOutcome, StepTask, default_jobs, execute, execute_payload

EXECUTORS = ("local", "processes", "dask-local", "dask://host:port")


class Executor(ABC):
    """Runs step tasks and reports the finished ones."""

    name: str

    @abstractmethod
    def submit(self, task: StepTask) -> Any:
        """Start a task; return a handle for ``wait`` and ``result``."""

    @abstractmethod
    def wait(self, handles: Sequence[Any]) -> list[Any]:
        """Block until at least one handle is done; return the done ones."""

    @abstractmethod
    def result(self, handle: Any) -> StepOutcome:
        """The outcome of a done handle."""

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release workers."""

    @property
    def settings_for_task(self) -> dict[str, str | None]:
        """Store locations a remote worker needs (none for workers sharing this environment)."""
        return {}


class LocalExecutor(Executor):
    """One step at a time, in this process (the default, and what ``--jobs 1`` means)."""

    name = "local"

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        future: Future[StepOutcome] = Future()
        future.set_result(execute(task))
        return future

    def wait(self, handles: Sequence[Any]) -> list[Any]:
        return list(handles)

    def result(self, handle: Any) -> StepOutcome:
        outcome: StepOutcome = handle.result()
        return outcome


class ProcessExecutor(Executor):
    """Independent steps in parallel in up to ``jobs`` local worker processes."""

    name = "processes"

    def __init__(self, jobs: int | None) -> None:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._pool = ProcessPoolExecutor(
            max_workers=jobs or default_jobs(), mp_context=multiprocessing.get_context(method)
        )

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        return self._pool.submit(execute_payload, pickled(task))

    def wait(self, handles: Sequence[Any]) -> list[Any]:
        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        return list(done)

    def result(self, handle: Any) -> StepOutcome:
        outcome: StepOutcome = handle.result()
        return outcome

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Steps as Dask tasks on a local cluster it starts, or on a running scheduler."""

    name = "dask"

    def __init__(self, address: str | None, jobs: int | None, settings: dict[str, str]) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BackendUnavailable(
                "the Dask executor needs dask.distributed",
                field="executor",
                hint='pip install "loopml[dask]"',
            ) from None
        self._settings = settings
        self._cluster: Any = None
        if address is None:
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=jobs or default_jobs(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
        else:
            try:
                self._client = Client(address, timeout=10)  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise BackendUnavailable(
                    f"no Dask scheduler answered at {address}: {exc}",
                    field="executor",
                    value=address,
                    hint="start one with `dask scheduler` or use --executor dask-local",
                ) from None

    @property
    def settings_for_task(self) -> dict[str, str | None]:
        return dict(self._settings)

    def submit(self, task: StepTask) -> Any:
        return self._client.submit(execute_payload, pickled(task), pure=False)

    def wait(self, handles: Sequence[Any]) -> list[Any]:
        from distributed import wait as dask_wait

        settled = [h for h in handles if isinstance(h, Future) and h.done()]
        if settled:  # tasks that failed before reaching Dask
            return settled
        done, _ = dask_wait(list(handles), return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
        return list(done)

    def result(self, handle: Any) -> StepOutcome:
        outcome: StepOutcome = handle.result()
        return outcome

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()


def pickled(task: StepTask) -> bytes:
    """The task as cloudpickle bytes, with the project's own modules pickled by value.

    A worker (a Dask worker above all) may not be able to import the user's pipeline file or
    its helpers, so their functions travel as code, not as import paths.
    """
    import cloudpickle

    for module in project_modules(task.func):
        if module.__name__ != "__main__":
            with contextlib.suppress(ValueError, TypeError):
                cloudpickle.register_pickle_by_value(module)
    data: bytes = cloudpickle.dumps(task)
    return data


def make_executor(spec: str, jobs: int | None, settings: dict[str, str]) -> Executor:
    """``local``, ``processes``, ``dask-local`` or ``dask://host:port`` (``tcp://`` too)."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise InvalidInput(f"jobs must be a whole number ≥ 1, got {jobs!r}", field="jobs")
    if spec == "local":
        return LocalExecutor() if (jobs or 1) == 1 else ProcessExecutor(jobs)
    if spec == "processes":
        return ProcessExecutor(jobs)
    if spec == "dask-local":
        return DaskExecutor(None, jobs, settings)
    if spec.startswith(("dask://", "tcp://")):
        address = "tcp://" + spec.split("://", 1)[1]
        return DaskExecutor(address, jobs, settings)
    raise InvalidInput(
        f"unknown executor {spec!r}",
        field="executor",
        value=spec,
        hint="use one of " + ", ".join(EXECUTORS),
    )
