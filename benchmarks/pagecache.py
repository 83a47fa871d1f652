"""Evicting a warehouse's files from the OS page cache before a cold measurement.

`posix_fadvise(POSIX_FADV_DONTNEED)` asks the kernel to drop the clean cached pages of one file: no
root needed, nothing else on the machine is touched (dropping every cache through /proc/sys/vm/
drop_caches would also slow the other users of a shared machine, and PostgreSQL keeps its own
shared buffers that only a server restart empties). What is evicted: the SQLite file, its -wal and
-shm, and every file under the scorecard's cache folder (the stored cube, wherever the product keeps
it: a cube held in warehouse tables is in the SQLite file).

    python -m benchmarks.pagecache FILE   # time a read of FILE warm, then after eviction (the check)
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

CHUNK = 8 << 20


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///…` URL (None for a server database)."""
    prefix = "sqlite:///"
    return Path(url[len(prefix):].split("?")[0]) if url.startswith(prefix) else None


def warehouse_files(url: str, cache_dir: str | Path | None = None) -> list[Path]:
    """The files a cold read of the warehouse at `url` would touch (those that exist)."""
    files: list[Path] = []
    db = sqlite_path(url)
    if db is not None:
        files += [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        folders = [Path(f"{db}.cache")]
    else:
        folders = []
    if cache_dir:
        folders.append(Path(cache_dir))
    for folder in folders:
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file())
    return [f for f in files if f.is_file()]


def evict(files: list[Path]) -> int:
    """Drop the files' pages from the page cache; returns the bytes asked to be dropped."""
    total = 0
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages are not dropped: write them first
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            total += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return total


def evict_warehouse(url: str, cache_dir: str | Path | None = None) -> int:
    return evict(warehouse_files(url, cache_dir))


def read_seconds(path: Path) -> float:
    """Wall seconds to read the whole file once."""
    t0 = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while f.read(CHUNK):
            pass
    return time.perf_counter() - t0


def check(path: Path) -> dict:
    """Whether eviction works here: a read after eviction against a read straight after a read."""
    read_seconds(path)
    warm = read_seconds(path)
    evict([path])
    cold = read_seconds(path)
    size_mb = path.stat().st_size / 1e6
    return {"file": str(path), "mb": round(size_mb), "warm_s": warm, "cold_after_evict_s": cold,
            "warm_mb_per_s": size_mb / warm, "cold_mb_per_s": size_mb / cold, "load": os.getloadavg()}


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1]))))
