"""How a scorecard command's process asks for memory: set by every `scorecard` command before its body runs
(app/cli/base.command; not the scheduler, which runs until stopped, nor the dashboard's server) and by the
benchmark's probes that stand for a command (benchmarks/probes.py).

Computing the scorecard makes and drops a few hundred large numpy arrays (lead time alone sorts and
counts two million rows in parts on several threads). With glibc's defaults each array above the
allocator's mmap threshold is a fresh mapping of zeroed pages (numpy also asks for 2 MB huge pages
there), unmapped again when it is dropped, and each thread draws from an arena of its own: on the 1M-PR
benchmark a fresh process spent 0.7–0.95 CPU-s of its ~2.3 in the kernel zeroing and mapping pages.
With freed memory kept for the next array (mmap and trim thresholds of 1 GB, above any array the
scorecard makes; one arena) and no huge pages asked for, it spends 0.3–0.5 CPU-s there (README, "The
cold scorecard: cache-sized sorts, one baseline, memory that is reused").

The process keeps what it has freed until it exits: right for a command, which exits after its answer.
Tried on the dashboard's server it saved no CPU on first visits and raised its peak by 40–70 MB, so the
server is left as it is. Each setting is left alone when the user has chosen it (glibc's MALLOC_*
variables or GLIBC_TUNABLES, numpy's NUMPY_MADVISE_HUGEPAGE); on a C library without `mallopt` (not
glibc) only numpy's is made.
"""
from __future__ import annotations

import ctypes
import os
import sqlite3
import sys
import threading
from pathlib import Path

# mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
_KEEP = 1 << 30  # bytes: above any array the scorecard makes


def reuse_freed_memory() -> dict[str, bool]:
    """Make this process's allocator keep freed memory for its next allocations and stop numpy asking for
    huge pages; returns which settings were made (a setting the user chose is not)."""
    global _KEEPS_FREED
    made = {"numpy_huge_pages_off": _numpy_huge_pages_off()}
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    libc = _glibc()
    for param, value, env, tunable in ((_M_MMAP_THRESHOLD, _KEEP, "MALLOC_MMAP_THRESHOLD_", "mmap_threshold"),
                                       (_M_TRIM_THRESHOLD, _KEEP, "MALLOC_TRIM_THRESHOLD_", "trim_threshold"),
                                       (_M_ARENA_MAX, 1, "MALLOC_ARENA_MAX", "arena_max")):
        chosen = env in os.environ or f"glibc.malloc.{tunable}" in tunables
        made[tunable] = bool(libc is not None and not chosen and libc.mallopt(param, value) == 1)
    _KEEPS_FREED = made["mmap_threshold"] and made["trim_threshold"]
    return made


# Faulting memory in ahead. A fresh page costs a page fault when it is first written: ~2.3 µs per 4 KB on
# the VM the benchmark runs on, where the cold scorecard of a 1M-PR warehouse faulted in ~140,000 pages
# (0.35-0.45 CPU-s in the kernel, on the threads that compute). A command that will compute the scorecard
# asks the kernel for most of that memory at its start instead, in one call (madvise MADV_POPULATE_WRITE,
# Linux 5.14+) on a thread of its own, while the main thread imports the libraries (the other core has
# nothing to do then), and frees it: the allocator keeps it (reuse_freed_memory) for the arrays that follow.
_MADV_POPULATE_WRITE = 23
_PER_CUBE_BYTE = 5  # the compute's arrays per byte of the stored cube (1M PRs: 88 MB of chunks, ~450 MB)
_AT_LEAST = 64 << 20  # below this, faulting in ahead is not worth a thread
_AT_MOST = 1 << 30
_KEEPS_FREED = False
# config.load's names (a test holds them equal): importing it loads the metric registry and polars.
WAREHOUSE_URL_ENV, CONFIG_ENV, CONFIG_FILE = "SCORECARD_WAREHOUSE_URL", "SCORECARD_CONFIG", "scorecard.toml"


def fault_in_ahead(url: str | None) -> threading.Thread | None:
    """Fault in the memory a compute of the scorecard over the stored cube of warehouse `url` will use
    (`_PER_CUBE_BYTE` per byte of it, at most 1 GB), on a daemon thread; returns it, or None when there
    is nothing to do: a warehouse whose cube is unknown from here (not a SQLite file, none stored), too
    small to matter, or an allocator that would not keep the memory (reuse_freed_memory not made)."""
    if not _KEEPS_FREED or not url:
        return None
    size = min(_AT_MOST, _PER_CUBE_BYTE * _stored_cube_bytes(url))
    if size < _AT_LEAST:
        return None
    thread = threading.Thread(target=_fault_in, args=(size,), name="scorecard-fault-in", daemon=True)
    thread.start()
    return thread


def warehouse_url(config: str | os.PathLike | None = None) -> str | None:
    """The warehouse URL a command will use, read without loading the configuration's validation (which
    imports polars): $SCORECARD_WAREHOUSE_URL, else `[warehouse] url` of the config file (`config`, else
    $SCORECARD_CONFIG, else ./scorecard.toml), else the default; None when the file cannot be read (the
    command then says why)."""
    from config.model import DEFAULT_WAREHOUSE_URL  # not config.load: it imports the metric registry

    if os.environ.get(WAREHOUSE_URL_ENV):
        return os.environ[WAREHOUSE_URL_ENV]
    path = Path(config) if config else Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else Path(CONFIG_FILE)
    if not path.exists():
        return DEFAULT_WAREHOUSE_URL
    try:
        import tomllib

        url = tomllib.loads(path.read_text(encoding="utf-8")).get("warehouse", {}).get("url", DEFAULT_WAREHOUSE_URL)
    except (OSError, ValueError, AttributeError):
        return None
    return url if isinstance(url, str) else None


def _stored_cube_bytes(url: str) -> int:
    """The stored cube's bytes in a SQLite warehouse file (SQLite sums blob lengths from their headers,
    without reading them); 0 for another database, a missing file or no cube."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + ":memory:"):
        return 0
    path = Path(url[len(prefix):].split("?", 1)[0])
    if not path.is_file():
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT coalesce(sum(length(data)), 0) FROM cube_chunks").fetchone()[0])
    except (sqlite3.Error, ValueError, TypeError):
        return 0
    finally:
        conn.close()


def _fault_in(size: int) -> None:
    libc = _glibc()
    if libc is None:
        return
    block = libc.malloc(size)
    if not block:
        return
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        start = -(-block // page) * page
        libc.madvise(start, (block + size - start) // page * page, _MADV_POPULATE_WRITE)  # fails alone on old kernels
    finally:
        libc.free(block)


def _numpy_huge_pages_off() -> bool:
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return False  # the user's choice (numpy reads it when it loads)
    numpy = sys.modules.get("numpy")
    if numpy is None:
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return True
    setter = getattr(getattr(getattr(numpy, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        return False
    setter(False)
    return True


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.madvise.restype = ctypes.c_int
        return libc
    except (OSError, AttributeError):
        return None
