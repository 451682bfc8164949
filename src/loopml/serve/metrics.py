"""Prometheus metrics of the server, in the text exposition format (no client library needed)."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable

LATENCY_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)


def _label(value: object) -> str:
    """A label value escaped as the exposition format requires."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        out = []
        running = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{{labels}le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{{labels}le="+Inf"}} {self.count}')
        out.append(f"{name}_sum{{{labels.rstrip(',')}}} {self.total}")
        out.append(f"{name}_count{{{labels.rstrip(',')}}} {self.count}")
        return out


class ServerMetrics:
    """Counters and histograms the handlers update; ``render`` writes the exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.latency = _Histogram(LATENCY_BUCKETS_MS)
        self.batch_rows = _Histogram(BATCH_BUCKETS)
        self.model_batches = _Histogram(BATCH_BUCKETS)
        self.swaps = 0

    def request(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests[(endpoint, status)] += 1

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def predicted(self, rows: int, latency_ms: float) -> None:
        with self._lock:
            self.latency.observe(latency_ms)
            self.batch_rows.observe(rows)

    def model_batch(self, rows: int) -> None:
        with self._lock:
            self.model_batches.observe(rows)

    def swapped(self) -> None:
        with self._lock:
            self.swaps += 1

    def render(self, log_stats: Callable[[], dict[str, int]] | None = None) -> str:
        with self._lock:
            lines = [
                "# HELP loopml_requests_total Requests by endpoint and status code.",
                "# TYPE loopml_requests_total counter",
                *(
                    f'loopml_requests_total{{endpoint="{_label(e)}",status="{s}"}} {n}'
                    for (e, s), n in sorted(self.requests.items())
                ),
                "# HELP loopml_errors_total Rejected or failed requests by kind.",
                "# TYPE loopml_errors_total counter",
                *(
                    f'loopml_errors_total{{kind="{_label(k)}"}} {n}'
                    for k, n in sorted(self.errors.items())
                ),
                "# HELP loopml_predict_latency_ms Time to answer /predict, in milliseconds.",
                "# TYPE loopml_predict_latency_ms histogram",
                *self.latency.lines("loopml_predict_latency_ms"),
                "# HELP loopml_request_rows Rows per /predict request.",
                "# TYPE loopml_request_rows histogram",
                *self.batch_rows.lines("loopml_request_rows"),
                "# HELP loopml_model_batch_rows Rows per model call (batching merges requests).",
                "# TYPE loopml_model_batch_rows histogram",
                *self.model_batches.lines("loopml_model_batch_rows"),
                "# HELP loopml_model_swaps_total Times a new model version was swapped in.",
                "# TYPE loopml_model_swaps_total counter",
                f"loopml_model_swaps_total {self.swaps}",
            ]
        stats = log_stats() if log_stats is not None else {}
        for key, help_text in (
            ("logged", "Predictions accepted into the log buffer."),
            ("dropped", "Predictions dropped because the log buffer was full."),
            ("written", "Predictions written to Parquet segments."),
            ("write_errors", "Failed segment writes (rows kept for the next attempt)."),
        ):
            if key in stats:
                name = f"loopml_predictions_{key}_total"
                lines += [
                    f"# HELP {name} {help_text}",
                    f"# TYPE {name} counter",
                    f"{name} {stats[key]}",
                ]
        if "buffered" in stats:
            lines += [
                "# HELP loopml_predictions_buffered Predictions waiting to be written.",
                "# TYPE loopml_predictions_buffered gauge",
                f"loopml_predictions_buffered {stats['buffered']}",
            ]
        return "\n".join(lines) + "\n"
