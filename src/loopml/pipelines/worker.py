"""Running one step wherever an executor puts it: this process, a child process, a Dask worker.

A task carries everything the step needs and nothing that ties it to the driver: the function,
its constant arguments, the stored inputs (by digest), the step's run id and where the stores
are. The worker loads the inputs (verified), runs the function inside the step's run (so what the
step logs lands there), stores each output through its materializer, and reports back digests.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from loopml.entities import RunStatus
from loopml.errors import InvalidInput, summary
from loopml.pipelines.materializers import SavedValue, load_value, save_value
from loopml.tracking import artifact_ops, fluent
from loopml.tracking.client import LoopMLClient
from loopml.workspace import default_workspace

LOG_FILE = "logs/step.log"
TRACEBACK_FILE = "logs/traceback.txt"


@dataclass
class StepTask:
    """One step to run: picklable (cloudpickle) so it can travel to another process."""

    step_name: str
    step_run_id: str
    func: Callable[..., Any]
    constants: dict[str, Any]
    inputs: dict[str, dict[str, Any]]  # argument name -> SavedValue as plain data
    output_names: tuple[str, ...]
    retries: int = 0
    store_uri: str | None = None  # set when the worker may not share the driver's settings
    artifact_uri: str | None = None
    composites: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # fan-in args


@dataclass
class StepOutcome:
    """What a worker reports: outputs as plain data, or the error with its traceback."""

    ok: bool
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    attempts: int = 0
    seconds: float = 0.0


def execute_payload(payload: bytes) -> StepOutcome:
    """Entry point in a child process or on a Dask worker: unpickle the task and run it."""
    import cloudpickle

    task: StepTask = cloudpickle.loads(payload)
    if task.store_uri is not None:
        settings = default_workspace().settings
        if settings.store_uri != task.store_uri or settings.artifact_uri != task.artifact_uri:
            fluent.set_tracking_uri(task.store_uri, task.artifact_uri)
    # A worker's stdout is its parent's; what the step prints goes to stderr (and its log).
    outcome = execute(task, echo_to_stderr=True)
    fluent.flush()
    return outcome


def execute(task: StepTask, *, echo_to_stderr: bool = False) -> StepOutcome:
    """Run the step in its run; never raises for the step's own errors (they are the outcome)."""
    started = time.perf_counter()
    ws = default_workspace()
    client = LoopMLClient()
    scratch = Path(tempfile.mkdtemp(prefix="step-", dir=ws.tmp_dir))
    attempts = 0
    output = _Tee(echo_to_stderr)
    try:
        arguments = dict(task.constants)
        arguments.update(_assemble(task, _load_inputs(task, scratch / "inputs")))
        with fluent.start_run(run_id=task.step_run_id, nested=True) as run:
            while True:
                attempts += 1
                try:
                    with output.capture():
                        result = task.func(**arguments)
                    break
                except Exception:
                    if attempts > task.retries:
                        raise
                    print(f"attempt {attempts} failed; retrying", file=output.buffer)
            outputs = _store_outputs(task, result, scratch / "outputs", run.run_id)
            _log_output(client, run.run_id, output)
    except Exception as exc:
        trace = traceback.format_exc()
        with contextlib.suppress(Exception):
            _log_output(client, task.step_run_id, output)
            client.log_text(task.step_run_id, trace, TRACEBACK_FILE)
            client.set_terminated(task.step_run_id, RunStatus.FAILED)
        return StepOutcome(
            ok=False,
            error=summary(exc),
            traceback=trace,
            attempts=attempts,
            seconds=time.perf_counter() - started,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return StepOutcome(
        ok=True, outputs=outputs, attempts=attempts, seconds=time.perf_counter() - started
    )


def _load_inputs(task: StepTask, folder: Path) -> dict[str, Any]:
    """Every upstream output, fetched and verified: a step sees the same objects whichever
    executor runs it (a model arrives as a loaded model on every one)."""
    return {
        name: value_of(data, folder / name, context=f"input {name} of {task.step_name}")
        for name, data in task.inputs.items()
    }


def _assemble(task: StepTask, loaded: dict[str, Any]) -> dict[str, Any]:
    """Put fan-in inputs (``parts[0]``, ``parts[1]`` …) back into their list, tuple or dict."""
    values = {k: v for k, v in loaded.items() if "[" not in k}
    for name, (kind, keys) in task.composites.items():
        elements = [loaded[f"{name}[{key}]"] for key in keys]
        if kind == "dict":
            values[name] = dict(zip(keys, elements, strict=True))
        else:
            values[name] = tuple(elements) if kind == "tuple" else elements
    return values


def _store_outputs(
    task: StepTask, result: Any, folder: Path, run_id: str
) -> dict[str, dict[str, Any]]:
    if len(task.output_names) == 1:
        named = {task.output_names[0]: result}
    else:
        if not isinstance(result, tuple | list) or len(result) != len(task.output_names):
            raise InvalidInput(
                f"step {task.step_name!r} declares outputs {task.output_names} but returned "
                f"{type(result).__name__}",
                field="outputs",
                hint=f"return a tuple of {len(task.output_names)} values",
            )
        named = dict(zip(task.output_names, result, strict=True))
    ws = default_workspace()
    stored = {}
    for name, value in named.items():
        target = folder / name
        target.mkdir(parents=True)
        saved = save_value(value, target)
        artifact_ops.log_folder(ws.store, ws.blobs, run_id, target, f"outputs/{name}")
        stored[name] = saved.to_dict()
    return stored


def _log_output(client: LoopMLClient, run_id: str, output: _Tee) -> None:
    text = output.buffer.getvalue()
    if text:
        client.log_text(run_id, text, LOG_FILE)


class _Tee:
    """Copies what the step prints to a buffer (stored as its log) while still printing it."""

    def __init__(self, echo_to_stderr: bool = False) -> None:
        self.buffer = io.StringIO()
        self._echo_to_stderr = echo_to_stderr

    @contextlib.contextmanager
    def capture(self) -> Any:
        stdout = sys.stderr if self._echo_to_stderr else sys.stdout
        out, err = _Both(stdout, self.buffer), _Both(sys.stderr, self.buffer)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield


class _Both(io.TextIOBase):
    def __init__(self, first: TextIO, second: TextIO) -> None:
        self._streams = (first, second)

    def write(self, text: str) -> int:
        for stream in self._streams:
            with contextlib.suppress(Exception):
                stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self._streams:
            with contextlib.suppress(Exception):
                stream.flush()


def default_jobs() -> int:
    return os.cpu_count() or 2


def value_of(saved: Mapping[str, Any], folder: Path, *, context: str = "pipeline output") -> Any:
    """Load a stored value (a step input, a pipeline output): fetch its files, verify, load."""
    value = SavedValue.from_dict(saved)
    default_workspace().blobs.get_files(value.files, folder, context=context)
    return load_value(folder, value)
