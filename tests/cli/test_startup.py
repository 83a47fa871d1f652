"""app.cli.startup: a fresh process loads its modules without cyclic collections (and the collector still
collects afterwards, on every thread's behalf), and Typer builds only the command asked for, which parses,
helps and fails exactly as the whole group does."""
import subprocess
import sys
import textwrap

import pytest

from app.cli import app as cli_app
from app.cli.startup import only_the_command_asked

# Run in a fresh interpreter: the hook replaces builtins.__import__ for the process. The probe modules record
# whether the collector was on while their bodies ran (in the main thread, then in another thread).
PROBE = textwrap.dedent("""
    import gc, json, sys, threading, weakref
    sys.path.insert(0, sys.argv[1])
    turned_off = sys.argv[2] == "off"
    if turned_off:
        gc.disable()
    from app.cli.startup import modules_load_without_collections
    modules_load_without_collections()
    modules_load_without_collections()  # idempotent: one hook
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
    import probe_main
    during = list(collections)
    threaded = {}
    thread = threading.Thread(target=lambda: threaded.update(on=__import__("probe_thread").ON))
    thread.start(); thread.join()

    class Cycle:
        pass

    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    del a, b
    gc.collect()
    print(json.dumps({"on_in_main": probe_main.ON, "made": len(probe_main.MADE), "during": during,
                      "on_in_thread": threaded["on"], "enabled_after": gc.isenabled(),
                      "frozen": gc.get_freeze_count(), "cycle_collected": alive() is None}))
""")


def probe(tmp_path, mode: str) -> dict:
    import json

    # The main thread's probe allocates enough containers to start several collections with the default
    # thresholds (700 allocations start one), each object kept by the module as a module's objects are.
    (tmp_path / "probe_main.py").write_text("import gc\nON = gc.isenabled()\nMADE = [[i] for i in range(20_000)]\n")
    (tmp_path / "probe_thread.py").write_text("import gc\nON = gc.isenabled()\n")
    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), mode], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_modules_load_without_collections_and_the_collector_runs_after(tmp_path):
    seen = probe(tmp_path, "on")
    assert seen["made"] == 20_000
    assert seen["on_in_main"] is False and seen["during"] == []  # no collection while the module loaded
    assert seen["on_in_thread"] is True  # another thread's import leaves the collector as it is
    assert seen["enabled_after"] is True
    assert seen["frozen"] >= 20_000  # the loaded module's objects: out of every later collection
    assert seen["cycle_collected"] is True  # garbage made after the import is collected as before


def test_a_process_that_turned_the_collector_off_keeps_it_off(tmp_path):
    seen = probe(tmp_path, "off")
    assert seen["on_in_main"] is False and seen["enabled_after"] is False
    assert seen["frozen"] == 0  # nothing frozen on its behalf


CASES = [
    ["import"], ["import", "--help"], ["import", "pull_requests"], ["import", "nope", "missing.csv"],
    ["import", "pull_requests", "missing.csv", "--format", "xml"], ["metrics", "--help"], ["metrics", "--grain"],
    ["metrics", "--start", "2026/01/01"], ["status", "--bogus"], ["explain"], ["export", "--help"],
]


# `scorecard` as the console script runs it (app.cli.base.main: the command asked alone), and Typer's whole group.
MAIN = "import sys\nfrom app.cli.base import main\nsys.argv[0] = 'scorecard'\nmain()\n"
WHOLE = "import sys\nfrom app.cli import app\nsys.argv[0] = 'scorecard'\napp()\n"


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) for a in CASES])
def test_the_command_asked_alone_answers_as_the_whole_group(args, tmp_path):
    lean = only_the_command_asked(cli_app, args)
    assert lean is not cli_app and [*lean.commands] == [args[0]]  # one command built, not every one
    # (run in an empty folder: a command that runs finds no config there, and its warehouse is made there)
    alone, whole = (subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                                   cwd=tmp_path) for code in (MAIN, WHOLE))
    assert (alone.returncode, alone.stdout, alone.stderr) == (whole.returncode, whole.stdout, whole.stderr)


@pytest.mark.parametrize("args", [[], ["--help"], ["imprt"], ["--config", "x", "import"]])
def test_anything_but_a_command_name_first_runs_the_whole_group(args):
    assert only_the_command_asked(cli_app, args) is cli_app
