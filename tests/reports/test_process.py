"""reports/process.py: a command's process keeps freed memory for its next arrays and asks numpy for no huge
pages — checked in fresh processes by where a large array's memory comes from."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and /proc are Linux's")

# A fresh process allocates a 64 MB array, frees it, allocates another; prints whether each lay in the
# brk heap ([heap] in /proc/self/maps) or in a mapping of its own, and numpy's huge-page setting.
PROBE = """
import json, os, sys
made = None
if sys.argv[1] == "tuned":
    from reports.process import reuse_freed_memory
    made = reuse_freed_memory()
import numpy as np

def heap():
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("[heap]"):
            a, b = (int(x, 16) for x in line.split()[0].split("-"))
            return a, b
    return 0, 0

def in_heap(array):
    a, b = heap()
    return a <= array.ctypes.data < b

first = np.ones(8 << 20)  # 64 MB
where = [in_heap(first)]
address = first.ctypes.data
del first
second = np.ones(8 << 20)
where.append(in_heap(second))
print(json.dumps({"made": made, "in_heap": where, "same_memory": second.ctypes.data == address,
                  "huge_pages": bool(np._core.multiarray._get_madvise_hugepage())}))
"""


def _run(mode: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MALLOC_", "GLIBC_TUNABLES", "NUMPY_MADVISE"))} | env
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                         env=environment, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return json.loads(out.stdout)


def test_a_tuned_process_reuses_freed_memory_from_its_heap():
    plain, tuned = _run("plain"), _run("tuned")
    # glibc's default: an array of 64 MB (above its largest mmap threshold, 32 MB) is a mapping of its own,
    # with huge pages asked for by numpy
    assert plain["in_heap"] == [False, False] and plain["huge_pages"] is True
    assert tuned["made"] == {"numpy_huge_pages_off": True, "mmap_threshold": True, "trim_threshold": True,
                             "arena_max": True}
    # tuned: both arrays come from the heap, the second in the memory the first gave back
    assert tuned["in_heap"] == [True, True] and tuned["same_memory"] is True
    assert tuned["huge_pages"] is False


def test_the_users_own_choices_are_left_alone():
    chosen = _run("tuned", MALLOC_ARENA_MAX="4", NUMPY_MADVISE_HUGEPAGE="1",
                  GLIBC_TUNABLES="glibc.malloc.trim_threshold=131072")
    assert chosen["made"] == {"numpy_huge_pages_off": False, "mmap_threshold": True, "trim_threshold": False,
                              "arena_max": False}
    assert chosen["huge_pages"] is True


@pytest.mark.parametrize("argv, tuned", [
    (["import", "pull_requests", "missing.csv"], True),  # a command: it answers (here, an error) and exits
    (["schedule"], False),  # the scheduler runs until stopped: the allocator is left as it is
])
def test_each_command_but_the_scheduler_sets_it_up_first(argv, tuned, tmp_path):
    """`scorecard` commands (app/cli/base.command) make the settings before their body runs; numpy, loaded
    afterwards, finds huge pages off. Both commands here fail at once (no such file; no source configured)."""
    code = (f"import sys; sys.argv = ['scorecard', *{argv!r}]\n"
            "from app.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "import os, numpy as np\n"
            "print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'), np._core.multiarray._get_madvise_hugepage())")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "NUMPY_MADVISE", "SCORECARD_"))}
    environment["SCORECARD_WAREHOUSE_URL"] = f"sqlite:///{tmp_path / 'w.db'}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == ("0 False" if tuned else "None True"), out.stderr
