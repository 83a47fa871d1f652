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
import sys

# mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
_KEEP = 1 << 30  # bytes: above any array the scorecard makes


def reuse_freed_memory() -> dict[str, bool]:
    """Make this process's allocator keep freed memory for its next allocations and stop numpy asking for
    huge pages; returns which settings were made (a setting the user chose is not)."""
    made = {"numpy_huge_pages_off": _numpy_huge_pages_off()}
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    libc = _glibc()
    for param, value, env, tunable in ((_M_MMAP_THRESHOLD, _KEEP, "MALLOC_MMAP_THRESHOLD_", "mmap_threshold"),
                                       (_M_TRIM_THRESHOLD, _KEEP, "MALLOC_TRIM_THRESHOLD_", "trim_threshold"),
                                       (_M_ARENA_MAX, 1, "MALLOC_ARENA_MAX", "arena_max")):
        chosen = env in os.environ or f"glibc.malloc.{tunable}" in tunables
        made[tunable] = bool(libc is not None and not chosen and libc.mallopt(param, value) == 1)
    return made


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
        return libc
    except (OSError, AttributeError):
        return None
