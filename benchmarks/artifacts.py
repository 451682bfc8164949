"""Benchmark: BlobStore.put_file of a 1 GiB file vs a plain shutil.copyfile on the same disk.

Prints one JSON line. put_file copies, hashes (BLAKE3) and fsyncs; the peer shutil.copyfile does not
fsync, so a copyfile followed by fsync is reported too, for a like-for-like view. Dirty pages are
flushed (os.sync) before each timed run and the contenders take turns going first, so one run's
writeback does not land on the next.
Usage: python benchmarks/artifacts.py [--size-mib 1024] [--repeat 3] [--dir D]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from loopml._util.hashing import hash_file
from loopml.artifacts import BlobStore

TARGET_RATIO_FSYNC = 0.5


def _make_source(path: Path, size: int) -> None:
    block = os.urandom(64 * 1024 * 1024)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            # Vary each block so no layer below can deduplicate it away.
            chunk = written.to_bytes(8, "little") + block[8 : size - written]
            out.write(chunk)
            written += len(chunk)


def _copy_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _timed(work: Callable[[], object]) -> float:
    os.sync()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="put_file vs shutil.copyfile throughput")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk to test")
    args = parser.parse_args()
    size = args.size_mib * 2**20
    times: dict[str, list[float]] = {"put_file": [], "copyfile": [], "copyfile_fsync": []}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="loopml-bench-") as tmp:
        root = Path(tmp)
        source = root / "source.bin"
        _make_source(source, size)
        hash_file(source)  # warm the page cache so every contender starts equal
        for round_ in range(args.repeat):
            work: dict[str, Callable[[], object]] = {
                "put_file": lambda: BlobStore(str(root / "store")).put_file(source),
                "copyfile": lambda: shutil.copyfile(source, root / "copy.bin"),
                "copyfile_fsync": lambda: _copy_fsync(source, root / "fcopy.bin"),
            }
            names = list(work)
            for name in names[round_ % 3 :] + names[: round_ % 3]:  # take turns going first
                times[name].append(_timed(work[name]))
            for path in root.iterdir():
                if path != source:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        hash_s = _timed(lambda: hash_file(source))
    rate = {name: size / statistics.median(t) / 2**30 for name, t in times.items()}
    print(
        json.dumps(
            {
                "benchmark": "artifacts.put_file",
                "size_gib": round(size / 2**30, 3),
                "repeat": args.repeat,
                "cpus": os.cpu_count(),
                "put_file_gib_s": round(rate["put_file"], 3),
                "peer": "shutil.copyfile",
                "copyfile_gib_s": round(rate["copyfile"], 3),
                "ratio": round(rate["put_file"] / rate["copyfile"], 3),
                "copyfile_fsync_gib_s": round(rate["copyfile_fsync"], 3),
                "ratio_vs_copyfile_fsync": round(rate["put_file"] / rate["copyfile_fsync"], 3),
                "hash_file_gib_s": round(size / hash_s / 2**30, 3),
                "target": f"ratio_vs_copyfile_fsync >= {TARGET_RATIO_FSYNC}",
                "target_met": rate["put_file"] / rate["copyfile_fsync"] >= TARGET_RATIO_FSYNC,
            }
        )
    )


if __name__ == "__main__":
    main()
