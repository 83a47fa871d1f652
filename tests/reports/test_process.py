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


# A fresh process (tuned or not) faults in ahead for a SQLite warehouse whose stored cube holds `blob`
# bytes, then allocates and writes 96 MB: prints the thread made, and the page faults that write took.
AHEAD = """
import json, resource, sys
from reports import process
if sys.argv[1] == "tuned":
    process.reuse_freed_memory()
thread = process.fault_in_ahead(sys.argv[2])
if thread is not None:
    thread.join()
import numpy as np
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = np.empty(96 << 17)  # 96 MB, written below
block.fill(1.0)
print(json.dumps({"thread": thread is not None,
                  "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _warehouse_with_cube(path, blob_bytes: int) -> str:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cube_chunks (part TEXT, chunk TEXT, data BLOB)")
        conn.execute("INSERT INTO cube_chunks VALUES ('values', '2026-01', zeroblob(?))", (blob_bytes,))
    return f"sqlite:///{path}"


def _ahead(mode: str, url: str) -> dict:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MALLOC_", "GLIBC_TUNABLES", "NUMPY_MADVISE"))} | {"NUMPY_MADVISE_HUGEPAGE": "0"}
    out = subprocess.run([sys.executable, "-c", AHEAD, mode, url], capture_output=True, text=True, check=True,
                         env=environment, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return json.loads(out.stdout)


def test_memory_faulted_in_ahead_is_written_without_page_faults(tmp_path):
    url = _warehouse_with_cube(tmp_path / "w.db", 30 << 20)  # a 30 MB cube: 150 MB faulted in ahead
    tuned, plain = _ahead("tuned", url), _ahead("plain", url)
    # 96 MB is 24,576 pages of 4 KB: written fresh, each one faults; faulted in ahead (and kept by the
    # tuned allocator), the write finds them there.
    assert tuned["thread"] and tuned["faults"] < 2_000
    assert not plain["thread"] and plain["faults"] > 20_000


def test_nothing_is_faulted_in_for_a_small_cube_or_a_warehouse_it_cannot_size(tmp_path):
    from reports.process import _stored_cube_bytes

    small = _warehouse_with_cube(tmp_path / "small.db", 1 << 20)  # 5 MB of arrays: not worth a thread
    assert not _ahead("tuned", small)["thread"]
    assert _stored_cube_bytes(small) == 1 << 20
    for url in ("postgresql://u@h/db", f"sqlite:///{tmp_path / 'missing.db'}", "sqlite:///:memory:"):
        assert _stored_cube_bytes(url) == 0
    empty = tmp_path / "no-cube.db"
    import sqlite3

    sqlite3.connect(empty).close()
    assert _stored_cube_bytes(f"sqlite:///{empty}") == 0


def test_the_warehouse_url_is_read_as_the_configuration_loader_reads_it(tmp_path, monkeypatch):
    from config import load
    from config.model import DEFAULT_WAREHOUSE_URL
    from reports import process

    assert (process.WAREHOUSE_URL_ENV, process.CONFIG_ENV, process.CONFIG_FILE) == (
        load.WAREHOUSE_URL_ENV, load.CONFIG_ENV, load.DEFAULT_CONFIG_FILE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(load.WAREHOUSE_URL_ENV, raising=False)
    monkeypatch.delenv(load.CONFIG_ENV, raising=False)
    assert process.warehouse_url() == DEFAULT_WAREHOUSE_URL == load.load_config().warehouse.url
    (tmp_path / "scorecard.toml").write_text('[warehouse]\nurl = "sqlite:///from-file.db"\n')
    assert process.warehouse_url() == "sqlite:///from-file.db" == load.load_config().warehouse.url
    other = tmp_path / "other.toml"
    other.write_text('[warehouse]\nurl = "sqlite:///other.db"\n')
    monkeypatch.setenv(load.CONFIG_ENV, str(other))
    assert process.warehouse_url() == "sqlite:///other.db" == load.load_config().warehouse.url
    assert process.warehouse_url(tmp_path / "scorecard.toml") == "sqlite:///from-file.db"
    monkeypatch.setenv(load.WAREHOUSE_URL_ENV, "sqlite:///from-env.db")
    assert process.warehouse_url() == "sqlite:///from-env.db" == load.load_config().warehouse.url
    (tmp_path / "broken.toml").write_text("[warehouse\n")
    monkeypatch.delenv(load.WAREHOUSE_URL_ENV)
    assert process.warehouse_url(tmp_path / "broken.toml") is None
