"""Data-versioning benchmarks: ``loopml.data.add`` vs the issue's targets and DVC, one JSON line.

    .venv/bin/python benchmarks/data.py            # full sizes (1 GiB, 20,000 files, 1M rows)
    .venv/bin/python benchmarks/data.py --quick    # small sizes, a smoke test
    .venv/bin/python benchmarks/data.py --quick --no-peer   # no DVC at all

Every input is made once under one temporary root (``--dir``, default the system temp folder)
and every tool works on that same disk: LoopML homes, DVC repositories and the ``cp`` copies all
live under the root. Each LoopML scenario runs in a child process with a fresh ``LOOPML_HOME``
(``LOOPML_CAPTURE_GIT=false``); the child imports LoopML and opens its store first (untimed, the
counterpart of ``dvc init``), then makes the data cold and times the ``loopml.data.add`` call.
DVC's figures are ``dvc add`` run as a subprocess (``_dvc_peer.py``) in a fresh ``git init`` +
``dvc init`` repository holding hard links to the same files; DVC's code is brought back into
the page cache after the data is evicted, so only the data is cold for every tool.

"Cold" means ``sync`` then ``echo 3 > /proc/sys/vm/drop_caches`` (needs root); without it the data
files' pages are dropped with ``posix_fadvise(DONTNEED)``; ``cold_cache`` says whether either
worked.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import clean_env, float_column, last_json  # noqa: E402
from _dvc_peer import Dvc, find_dvc  # noqa: E402

CHILD_TIMEOUT_S = 3600
SEED = 20240611

TARGETS = {
    "file_ratio_vs_dvc": 3.0,  # dvc add seconds / LoopML seconds, at least
    "file_ratio_vs_cp": 1.5,  # LoopML seconds / cp seconds, at most
    "folder_ratio_vs_dvc": 3.0,
    "folder_readd_s": 1.0,
    "profile_s": 3.0,
    "profile_memory_ratio": 2.0,  # (DataFrame + the profile's peak extra) / DataFrame, below
}

FULL = {
    "file_mib": 1024,
    "cp_runs": 3,
    "file_runs": 2,
    "dvc_file_runs": 2,
    "folder_files": 20_000,
    "folder_file_bytes": 4096,
    "folder_runs": 2,
    "dvc_folder_runs": 1,
    "rows": 1_000_000,
    "cols": 20,
    "string_cols": 2,
    "categories": 50,
    "profile_repeats": 3,
    "table_add_repeats": 2,
}
QUICK = {
    "file_mib": 64,
    "cp_runs": 3,
    "file_runs": 1,
    "dvc_file_runs": 1,
    "folder_files": 2_000,
    "folder_file_bytes": 4096,
    "folder_runs": 1,
    "dvc_folder_runs": 1,
    "rows": 100_000,
    "cols": 20,
    "string_cols": 2,
    "categories": 50,
    "profile_repeats": 1,
    "table_add_repeats": 1,
}


# Cold data -------------------------------------------------------------------------------------
def _files(paths: Sequence[str | Path]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                yield from (os.path.join(folder, name) for name in names)
        else:
            yield str(path)


def evict(paths: Sequence[str | Path]) -> str | None:
    """Flush dirty pages, then drop the page cache (root) or at least these files' pages.

    Returns how (``"drop_caches"`` or ``"fadvise"``), or None when the data may still be cached.
    """
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as knob:
            knob.write("3\n")
        return "drop_caches"
    except OSError:
        pass
    if not hasattr(os, "posix_fadvise"):
        return None
    try:
        for path in _files(paths):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    except OSError:
        return None
    return "fadvise"


# Memory of the current process -----------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> None:
    """Hand freed heap memory back to the OS so the baseline RSS is the live data only."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)


class PeakRss:
    """Peak resident memory over a block: the kernel's high-water mark (reset through
    ``/proc/self/clear_refs``), else a thread sampling ``VmRSS`` every millisecond."""

    def __init__(self) -> None:
        self.base = 0
        self.peak = 0
        self.method = "none"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        self.base = (_status_kib("VmRSS") or 0) * 1024
        try:
            with open("/proc/self/clear_refs", "w") as knob:
                knob.write("5\n")  # resets VmHWM to the current RSS (Linux >= 4.0)
            hwm = _status_kib("VmHWM")
            if hwm is not None and hwm * 1024 <= self.base + 16 * 2**20:
                self.method = "VmHWM"
                return self
        except OSError:
            pass
        if _status_kib("VmRSS") is not None:
            self.method = "sampled VmRSS"
            self.peak = self.base
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, (_status_kib("VmRSS") or 0) * 1024)

    def __exit__(self, *exc: object) -> None:
        if self.method == "VmHWM":
            self.peak = (_status_kib("VmHWM") or 0) * 1024
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, (_status_kib("VmRSS") or 0) * 1024)

    @property
    def extra(self) -> int | None:
        return None if self.method == "none" else max(0, self.peak - self.base)


# Inputs ----------------------------------------------------------------------------------------
def make_file(path: Path, size: int) -> None:
    """Random bytes (fresh from the OS for every 16 MiB), so nothing below can deduplicate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = 16 * 2**20
    with open(path, "wb") as out:
        written = 0
        while written < size:
            chunk = os.urandom(min(block, size - written))
            out.write(chunk)
            written += len(chunk)


def make_folder(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"{i:05d}.bin").write_bytes(os.urandom(size))


def link_tree(source: Path, target: Path) -> None:
    """Hard links to every file, so a DVC repository holds the very same files (no copy)."""
    if source.is_file():
        os.link(source, target)
        return
    for folder, _dirs, names in os.walk(source):
        out = target / Path(folder).relative_to(source)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.link(os.path.join(folder, name), out / name)


def make_frame(rows: int, cols: int, string_cols: int, categories: int) -> Any:
    """``cols`` columns: floats of four shapes, and ``string_cols`` of them text categories."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    data: dict[str, Any] = {}
    for i in range(cols - string_cols):
        data[f"f{i}"] = float_column(rng, rows, i)
    labels = np.array([f"category-{j:02d}-" + "x" * (j % 13) for j in range(categories)])
    weights = 1.0 / np.arange(1, categories + 1)
    for j in range(string_cols):
        if j % 2 == 0:  # uniform
            index = rng.integers(0, categories, rows)
        else:  # skewed (Zipf-like)
            index = rng.choice(categories, rows, p=weights / weights.sum())
        data[f"s{j}"] = pd.Series(labels[index].tolist())
    return pd.DataFrame(data)


# LoopML workers: each runs in its own child process ----------------------------------------------
def _open_workspace() -> float:
    """Open (create, migrate) the store and the blob store; the seconds it took."""
    from loopml.workspace import default_workspace

    start = time.perf_counter()
    ws = default_workspace()
    _ = ws.store, ws.blobs
    return time.perf_counter() - start


def worker_store_init() -> dict[str, Any]:
    return {"store_open_s": _open_workspace()}


def worker_path_add(path: str, name: str, cold: bool, readd: bool = False) -> dict[str, Any]:
    """Open the store, make ``path`` cold, time ``data.add``; then (``readd``) add it again."""
    import loopml.data

    store_open_s = _open_workspace()
    how = evict([path]) if cold else None
    start = time.perf_counter()
    version = loopml.data.add(name, path)
    add_s = time.perf_counter() - start
    out: dict[str, Any] = {
        "add_s": add_s,
        "store_open_s": store_open_s,
        "cache_eviction": how,
        "version": version.version,
        "num_files": version.record.num_files,
        "size_bytes": version.record.size_bytes,
    }
    if readd:
        start = time.perf_counter()
        again = loopml.data.add(name, path)
        out["readd_s"] = time.perf_counter() - start
        out["readd_version"] = again.version
    return out


def worker_readd(path: str, name: str) -> dict[str, Any]:
    """A new process adds an unchanged path again; the call includes opening the store."""
    import loopml.data

    start = time.perf_counter()
    version = loopml.data.add(name, path)
    return {"readd_s": time.perf_counter() - start, "version": version.version}


def worker_table_time(
    rows: int, cols: int, string_cols: int, categories: int, profile_repeats: int, add_repeats: int
) -> dict[str, Any]:
    """The profile part (``from_pandas`` + ``profile_arrow``), the other parts, the whole add."""
    import pyarrow as pa

    import loopml.data
    from loopml.artifacts import BlobStore
    from loopml.data.schema import infer_schema
    from loopml.data.tables import profile_arrow, write_parquet

    df = make_frame(rows, cols, string_cols, categories)
    profile_arrow(pa.Table.from_pandas(df.head(1000)))  # warm imports and sketch libraries
    from_pandas_s, profile_arrow_s, profile_s = [], [], []
    for _ in range(profile_repeats):
        start = time.perf_counter()
        table = pa.Table.from_pandas(df)
        middle = time.perf_counter()
        profile = profile_arrow(table)
        end = time.perf_counter()
        from_pandas_s.append(middle - start)
        profile_arrow_s.append(end - middle)
        profile_s.append(end - start)
    parts = {}
    with tempfile.TemporaryDirectory(dir=os.environ["LOOPML_HOME"]) as scratch:
        start = time.perf_counter()
        infer_schema(table, profile)
        parts["infer_schema"] = time.perf_counter() - start
        path = Path(scratch) / "data.parquet"
        start = time.perf_counter()
        write_parquet(table, path)
        parts["write_parquet"] = time.perf_counter() - start
        parquet_bytes = path.stat().st_size
        start = time.perf_counter()
        BlobStore(str(Path(scratch) / "blobs")).put_file(path)
        parts["put_file"] = time.perf_counter() - start
    del table
    store_open_s = _open_workspace()
    add_s = []
    for _ in range(add_repeats):
        start = time.perf_counter()
        version = loopml.data.add("table", df)
        add_s.append(time.perf_counter() - start)
    return {
        "dtypes": sorted({str(t) for t in df.dtypes}),
        "df_bytes_deep": int(df.memory_usage(deep=True).sum()),
        "df_bytes_shallow": int(df.memory_usage(deep=False).sum()),
        "from_pandas_s": statistics.median(from_pandas_s),
        "profile_arrow_s": statistics.median(profile_arrow_s),
        "profile_s": statistics.median(profile_s),
        "other_parts_s": parts,
        "parquet_bytes": parquet_bytes,
        "store_open_s": store_open_s,
        "add_s": statistics.median(add_s),
        "rows_stored": version.rows,
    }


def worker_table_memory(rows: int, cols: int, string_cols: int, categories: int) -> dict[str, Any]:
    """Peak extra memory of ``profile_arrow(pa.Table.from_pandas(df))``: resident memory (all
    allocators), then tracemalloc (Python + numpy only) and Arrow's pool in a second pass."""
    import gc
    import tracemalloc

    import pyarrow as pa

    from loopml.data.tables import profile_arrow

    df = make_frame(rows, cols, string_cols, categories)
    profile_arrow(pa.Table.from_pandas(df.head(1000)))
    gc.collect()
    _malloc_trim()
    pool = pa.default_memory_pool()
    pool_before = pool.bytes_allocated()
    with PeakRss() as rss:
        profile_arrow(pa.Table.from_pandas(df))
    arrow_peak = pool.max_memory() - pool_before
    gc.collect()
    tracemalloc.start()
    profile_arrow(pa.Table.from_pandas(df))
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "df_bytes_deep": int(df.memory_usage(deep=True).sum()),
        "rss_extra_bytes": rss.extra,
        "rss_method": rss.method,
        "arrow_pool_peak_bytes": arrow_peak,
        "arrow_pool_backend": pool.backend_name,
        "tracemalloc_peak_bytes": traced_peak,
    }


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "store_init": worker_store_init,
    "path_add": worker_path_add,
    "readd": worker_readd,
    "table_time": worker_table_time,
    "table_memory": worker_table_memory,
}


# Child processes -------------------------------------------------------------------------------


def _run(command: Sequence[str], home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        list(command),
        cwd=home.parent,
        env=clean_env(home, ("DVC_",)),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(command[1:4])} exited {done.returncode}: {tail}")
    return done


def loopml_worker(home: Path, worker: str, **kwargs: Any) -> dict[str, Any]:
    """Run ``worker`` in a child process whose ``LOOPML_HOME`` is ``home``."""
    script = str(Path(__file__).resolve())
    done = _run([sys.executable, script, "--worker", worker, json.dumps(kwargs)], home)
    return last_json(done.stdout)


def _loopml_cli() -> str | None:
    candidate = Path(sys.executable).parent / "loopml"
    return str(candidate) if candidate.is_file() else shutil.which("loopml")


def _warm_loopml_code() -> None:
    subprocess.run(
        [sys.executable, "-c", "import loopml.data, loopml.cli.app"],
        env=clean_env(drop=("DVC_",)),
        check=True,
        capture_output=True,
        timeout=300,
    )


def loopml_cli_add(home: Path, name: str, path: Path, cold: bool) -> float | None:
    """Wall seconds of ``loopml data add NAME PATH --json`` as a subprocess, like ``dvc add``.

    The store is created first (untimed, as ``dvc init`` is); with ``cold`` the data is evicted
    and LoopML's code read back into the page cache before the timed command.
    """
    cli = _loopml_cli()
    if cli is None:
        return None
    if not (home / "loopml.db").exists():
        loopml_worker(home, "store_init")
    if cold:
        evict([path])
        _warm_loopml_code()
    start = time.perf_counter()
    _run([cli, "data", "add", name, str(path), "--json"], home)
    return time.perf_counter() - start


# Scenarios -------------------------------------------------------------------------------------
class Context:
    """The shared temporary root, its inputs, DVC, and what the run learnt about cold caches."""

    def __init__(self, root: Path, sizes: dict[str, Any], dvc: Dvc) -> None:
        self.root = root
        self.sizes = sizes
        self.dvc = dvc
        self.evictions: set[str | None] = set()
        self._homes = 0
        self.file = root / "data" / "big.bin"
        self.folder = root / "data" / "files"
        self.warm_repo: Path | None = None
        if dvc.available:
            try:
                self.warm_repo = dvc.new_repo(root / "dvc-warm")
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                dvc.errors["init"] = str(exc)
                dvc.executable = None

    def home(self, label: str) -> Path:
        self._homes += 1
        return self.root / f"loopml-{self._homes:02d}-{label}" / ".loopml"

    def evict(self, paths: Sequence[Path]) -> None:
        self.evictions.add(evict(paths))

    def dvc_cold(self, paths: Sequence[Path]) -> None:
        """Evict the data, then read DVC's own code back in (untimed)."""
        self.evict(paths)
        if self.warm_repo is not None:
            self.dvc.warm(self.warm_repo)

    def drop(self, path: Path) -> None:
        """Delete a tree of a few files now (a tree of thousands waits for the end of the run:
        on ext4 without a journal, creating files soon after deleting many is much slower)."""
        shutil.rmtree(path, ignore_errors=True)


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _verdict(checks: dict[str, bool | None]) -> dict[str, Any]:
    """``pass`` when no check failed; a check that could not be judged (no DVC) is ``None``."""
    return {"checks": checks, "pass": all(v is not False for v in checks.values())}


def _dvc_add(ctx: Context, source: Path, label: str, keep: bool = False) -> dict[str, Any]:
    """A fresh repository with ``source`` linked in, cold data, timed ``dvc add`` (and re-add)."""
    repo = ctx.dvc.new_repo(ctx.root / f"dvc-{label}")
    try:
        link_tree(source, repo / source.name)
        ctx.dvc_cold([repo / source.name])
        first = ctx.dvc.timed(["add", "-q", source.name], repo, f"add_{label}")
        status = ctx.dvc.timed(["status"], repo, f"status_{label}")
        readd = ctx.dvc.timed(["add", "-q", source.name], repo, f"readd_{label}")
        info = ctx.dvc.output_info(repo / f"{source.name}.dvc")
    finally:
        if not keep:
            ctx.drop(repo)
    return {"add_s": first, "status_s": status, "readd_s": readd, "recorded": info}


def bench_file(ctx: Context) -> dict[str, Any]:
    sizes, source = ctx.sizes, ctx.file
    copies = ctx.root / "cp"
    copies.mkdir(exist_ok=True)
    cp_s, cp_sync_s = [], []
    for i in range(sizes["cp_runs"]):
        target = copies / f"copy-{i}.bin"
        ctx.evict([source])
        start = time.perf_counter()
        subprocess.run(["cp", str(source), str(target)], check=True)
        cp_s.append(time.perf_counter() - start)
        os.sync()
        cp_sync_s.append(time.perf_counter() - start)
        target.unlink()

    mine = []
    for _ in range(sizes["file_runs"]):
        home = ctx.home("file")
        mine.append(loopml_worker(home, "path_add", path=str(source), name="big", cold=True))
        ctx.evictions.add(mine[-1]["cache_eviction"])
        ctx.drop(home.parent)
    home = ctx.home("file-cli")
    cli_s = loopml_cli_add(home, "big", source, cold=True)
    ctx.drop(home.parent)

    theirs = []
    if ctx.dvc.available:
        for i in range(sizes["dvc_file_runs"]):
            theirs.append(_dvc_add(ctx, source, f"file-{i}"))
    add_s = _median([m["add_s"] for m in mine])
    cp = _median(cp_s)
    dvc_s = _median([t["add_s"] for t in theirs])
    ratio_dvc = _div(dvc_s, add_s)
    ratio_cp = _div(add_s, cp)
    return {
        "size_mib": sizes["file_mib"],
        "runs": len(mine),
        "seconds": _r(add_s),
        "seconds_each": [_r(m["add_s"]) for m in mine],
        "gib_per_s": _r(_div(sizes["file_mib"] / 1024, add_s), 2),
        "store_open_s": _r(_median([m["store_open_s"] for m in mine])),
        "stored_ok": all(m["size_bytes"] == sizes["file_mib"] * 2**20 for m in mine),
        "cp_runs": len(cp_s),
        "cp_s": _r(cp),
        "cp_then_sync_s": _r(_median(cp_sync_s)),
        "ratio_vs_cp": _r(ratio_cp, 2),
        "ratio_vs_cp_then_sync": _r(_div(add_s, _median(cp_sync_s)), 2),
        "target_ratio_vs_cp_max": TARGETS["file_ratio_vs_cp"],
        "cli_s": _r(cli_s),
        "dvc_runs": len(theirs),
        "dvc_add_s": _r(dvc_s),
        "dvc_add_s_each": [_r(t["add_s"]) for t in theirs],
        "dvc_readd_s": _r(_median([t["readd_s"] for t in theirs])),
        "ratio_vs_dvc": _r(ratio_dvc, 2),
        "cli_ratio_vs_dvc": _r(_div(dvc_s, cli_s), 2),
        "target_ratio_vs_dvc_min": TARGETS["file_ratio_vs_dvc"],
        **_verdict(
            {
                "ratio_vs_dvc": None
                if ratio_dvc is None
                else ratio_dvc >= TARGETS["file_ratio_vs_dvc"],
                "ratio_vs_cp": None
                if ratio_cp is None
                else ratio_cp <= TARGETS["file_ratio_vs_cp"],
            }
        ),
    }


def bench_folder(ctx: Context) -> dict[str, Any]:
    sizes, folder = ctx.sizes, ctx.folder
    count = sizes["folder_files"]
    # The file system's floor: `cp -r` makes the same 20,000 files (cold data, no hashing).
    copy = ctx.root / "cp" / "files"
    copy.parent.mkdir(exist_ok=True)
    ctx.evict([folder])
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(folder), str(copy)], check=True)
    cp_r_s = time.perf_counter() - start
    os.sync()
    cp_r_sync_s = time.perf_counter() - start
    mine = []
    for _ in range(sizes["folder_runs"]):
        home = ctx.home("folder")
        first = loopml_worker(
            home, "path_add", path=str(folder), name="files", cold=True, readd=True
        )
        ctx.evictions.add(first["cache_eviction"])
        again = loopml_worker(home, "readd", path=str(folder), name="files")
        mine.append({**first, "readd_new_process_s": again["readd_s"], "v3": again["version"]})
    home = ctx.home("folder-cli")
    cli_s = loopml_cli_add(home, "files", folder, cold=True)
    cli_readd_s = loopml_cli_add(home, "files", folder, cold=False) if cli_s is not None else None

    theirs = []
    if ctx.dvc.available:
        for i in range(sizes["dvc_folder_runs"]):
            theirs.append(_dvc_add(ctx, folder, f"folder-{i}", keep=True))
    add_s = _median([m["add_s"] for m in mine])
    readd_s = _median([m["readd_new_process_s"] for m in mine])
    dvc_s = _median([t["add_s"] for t in theirs])
    ratio = _div(dvc_s, add_s)
    recorded = theirs[0]["recorded"] if theirs else None
    return {
        "files": count,
        "file_bytes": sizes["folder_file_bytes"],
        "runs": len(mine),
        "seconds": _r(add_s),
        "seconds_each": [_r(m["add_s"]) for m in mine],
        "files_per_s": round(count / add_s) if add_s else None,
        "stored_ok": all(m["num_files"] == count for m in mine),
        "cp_r_s": _r(cp_r_s),
        "cp_r_then_sync_s": _r(cp_r_sync_s),
        "ratio_vs_cp_r": _r(_div(add_s, cp_r_s), 2),
        "readd_s": _r(readd_s),
        "readd_same_process_s": _r(_median([m["readd_s"] for m in mine])),
        "readd_same_version": all(m["version"] == m["readd_version"] == m["v3"] for m in mine),
        "target_readd_s": TARGETS["folder_readd_s"],
        "cli_s": _r(cli_s),
        "cli_readd_s": _r(cli_readd_s),
        "dvc_runs": len(theirs),
        "dvc_add_s": _r(dvc_s),
        "dvc_files_recorded": recorded.get("nfiles") if recorded else None,
        "dvc_status_s": _r(_median([t["status_s"] for t in theirs])),
        "dvc_readd_s": _r(_median([t["readd_s"] for t in theirs])),
        "ratio_vs_dvc": _r(ratio, 2),
        "cli_ratio_vs_dvc": _r(_div(dvc_s, cli_s), 2),
        "readd_ratio_vs_dvc_readd": _r(_div(_median([t["readd_s"] for t in theirs]), readd_s), 2),
        "target_ratio_vs_dvc_min": TARGETS["folder_ratio_vs_dvc"],
        **_verdict(
            {
                "ratio_vs_dvc": None if ratio is None else ratio >= TARGETS["folder_ratio_vs_dvc"],
                "readd": readd_s is not None and readd_s < TARGETS["folder_readd_s"],
            }
        ),
    }


def _table_variant(ctx: Context, string_cols: int) -> dict[str, Any]:
    sizes = ctx.sizes
    shape = {
        "rows": sizes["rows"],
        "cols": sizes["cols"],
        "string_cols": string_cols,
        "categories": sizes["categories"],
    }
    home = ctx.home(f"table-{string_cols}")
    timing = loopml_worker(
        home,
        "table_time",
        profile_repeats=sizes["profile_repeats"],
        add_repeats=sizes["table_add_repeats"],
        **shape,
    )
    ctx.drop(home.parent)
    home = ctx.home(f"table-memory-{string_cols}")
    memory = loopml_worker(home, "table_memory", **shape)
    ctx.drop(home.parent)
    df_bytes = timing["df_bytes_deep"]
    extra = memory["rss_extra_bytes"]
    memory_ratio = _div(df_bytes + extra, df_bytes) if extra is not None else None
    return {
        **{k: v for k, v in shape.items() if k != "categories" or string_cols},
        "dtypes": timing["dtypes"],
        "df_mib": _r(df_bytes / 2**20, 1),
        "df_shallow_mib": _r(timing["df_bytes_shallow"] / 2**20, 1),
        "profile_repeats": sizes["profile_repeats"],
        "profile_s": _r(timing["profile_s"]),
        "from_pandas_s": _r(timing["from_pandas_s"]),
        "profile_arrow_s": _r(timing["profile_arrow_s"]),
        "target_profile_s": TARGETS["profile_s"],
        "add_s": _r(timing["add_s"]),
        "add_parts_s": {k: _r(v) for k, v in timing["other_parts_s"].items()},
        "parquet_mib": _r(timing["parquet_bytes"] / 2**20, 1),
        "rows_stored_ok": timing["rows_stored"] == sizes["rows"],
        "profile_peak_extra_mib": _r(extra / 2**20, 1) if extra is not None else None,
        "peak_extra_method": memory["rss_method"],
        "arrow_pool_peak_mib": _r(memory["arrow_pool_peak_bytes"] / 2**20, 1),
        "tracemalloc_peak_mib": _r(memory["tracemalloc_peak_bytes"] / 2**20, 1),
        "memory_ratio": _r(memory_ratio, 2),
        "target_memory_ratio_max": TARGETS["profile_memory_ratio"],
        **_verdict(
            {
                "profile_s": timing["profile_s"] < TARGETS["profile_s"],
                "memory": None
                if memory_ratio is None
                else memory_ratio < TARGETS["profile_memory_ratio"],
            }
        ),
    }


def bench_table(ctx: Context) -> dict[str, Any]:
    floats = _table_variant(ctx, 0)
    strings = _table_variant(ctx, ctx.sizes["string_cols"])
    return {
        "floats": floats,
        "with_strings": strings,
        "pass": floats["pass"] and strings["pass"],
    }


BENCHES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "file_1gib": bench_file,
    "folder_20k": bench_folder,
    "dataframe_profile": bench_table,
}


def create_us_per_file(folder: Path, count: int = 2_000) -> float:
    """Microseconds to create an empty file: a health check of the disk's metadata path (slow
    right after thousands of files were deleted, on ext4 without a journal). Kept till the end."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(count):
        os.close(os.open(folder / f"{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    return (time.perf_counter() - start) / count * 1e6


def _filesystem(path: Path) -> str | None:
    """The type of the filesystem holding ``path`` (the longest mount point above it)."""
    try:
        with open("/proc/mounts") as mounts:
            rows = [line.split() for line in mounts]
    except OSError:
        return None
    real = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for row in rows:
        if len(row) < 3:
            continue
        point = row[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), f"{row[2]} ({row[0]})")
    return best[1] if best else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LoopML data benchmarks (one JSON line).")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--no-peer", action="store_true", help="skip DVC (figures are null)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these")
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk to test")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, kwargs = args.worker
        print(json.dumps(WORKERS[name](**json.loads(kwargs))), flush=True)
        return 0

    sizes = QUICK if args.quick else FULL
    names = args.only or list(BENCHES)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="loopml-bench-data-") as tmp:
        root = Path(tmp)
        dvc = Dvc(find_dvc(args.no_peer))
        create_us = create_us_per_file(root / "create-probe")
        ctx = Context(root, sizes, dvc)
        if "file_1gib" in names:
            make_file(ctx.file, sizes["file_mib"] * 2**20)
        if "folder_20k" in names:
            make_folder(ctx.folder, sizes["folder_files"], sizes["folder_file_bytes"])
        os.sync()
        results = {name: BENCHES[name](ctx) for name in names}
        filesystem = _filesystem(root)
    cold = bool(ctx.evictions) and None not in ctx.evictions
    report: dict[str, Any] = {
        "benchmark": "data",
        "quick": args.quick,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "disk": {
                "root": str(root.parent),
                "filesystem": filesystem,
                "create_us_per_file": round(create_us, 1),
            },
            "dvc": dvc.version,
        },
        "cold_cache": cold if ctx.evictions else None,
        "cache_eviction": sorted(str(e) for e in ctx.evictions) or None,
        "results": results,
        "pass": all(r["pass"] for r in results.values()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if dvc.errors:
        report["dvc_errors"] = dvc.errors
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
