"""Optional system metrics of a run: CPU, memory and, when NVML is present, GPU use.

A daemon thread per run samples every few seconds and logs through the ordinary metric queue
under ``system/…`` keys, so they cost the training loop nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import psutil

logger = logging.getLogger(__name__)


class _MetricLogger(Protocol):
    def log_metrics(
        self, run_id: str, metrics: dict[str, float], step: int | None = None
    ) -> None: ...


_samplers: dict[str, tuple[threading.Thread, threading.Event]] = {}


def sample_system() -> dict[str, float]:
    """One reading of this machine and process."""
    memory = psutil.virtual_memory()
    process = psutil.Process()
    values = {
        "system/cpu_utilization_percentage": float(psutil.cpu_percent(interval=None)),
        "system/memory_used_megabytes": memory.used / 2**20,
        "system/memory_utilization_percentage": float(memory.percent),
        "system/process_rss_megabytes": process.memory_info().rss / 2**20,
    }
    values.update(_sample_gpus())
    return values


def _sample_gpus() -> dict[str, float]:
    try:
        import pynvml  # optional: only where NVIDIA's management library is installed
    except ImportError:
        return {}
    values: dict[str, float] = {}
    try:
        pynvml.nvmlInit()
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle: Any = pynvml.nvmlDeviceGetHandleByIndex(index)
            util = pynvml.nvmlDeviceGetUtilizationRates(handle)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            values[f"system/gpu_{index}_utilization_percentage"] = float(util.gpu)
            values[f"system/gpu_{index}_memory_used_megabytes"] = mem.used / 2**20
    except Exception:  # NVML present but no usable driver: report nothing rather than fail
        return {}
    return values


def start_sampler(client: _MetricLogger, run_id: str, interval: float) -> None:
    """Sample every ``interval`` seconds until :func:`stop_sampler` for this run."""
    if run_id in _samplers:
        return
    stop = threading.Event()

    def loop() -> None:
        step = 0
        psutil.cpu_percent(interval=None)  # the first reading is meaningless; prime it
        while not stop.wait(interval):
            try:
                client.log_metrics(run_id, sample_system(), step=step)
            except Exception:
                logger.warning("loopml: system metrics sampling stopped", exc_info=True)
                return
            step += 1

    thread = threading.Thread(target=loop, name=f"loopml-system-metrics-{run_id[:8]}", daemon=True)
    _samplers[run_id] = (thread, stop)
    thread.start()


def stop_sampler(run_id: str) -> None:
    """Stop sampling a run (no-op when it was never started)."""
    entry = _samplers.pop(run_id, None)
    if entry is not None:
        entry[1].set()
        entry[0].join(timeout=2)
