"""app.cli.startup: a fresh `scorecard` process starts far fewer cyclic collections while it loads its modules,
and the collector still collects cycles afterwards without being asked."""
import json
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import gc, json, weakref
    from app.cli.startup import FIRST_THRESHOLD, fewer_collections
    if __import__("sys").argv[1] == "raised":
        fewer_collections()
        fewer_collections()  # idempotent
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
    kept = [[i] for i in range(20_000)]  # 20,000 containers that live on, as a module's objects do
    during = len(collections)

    class Cycle:
        pass

    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    del a, b
    garbage = [[i] for i in range(2 * FIRST_THRESHOLD)]  # allocations enough to start a collection unasked
    print(json.dumps({"during": during, "threshold": gc.get_threshold()[0], "cycle_collected": alive() is None}))
""")


def probe(mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_process_keeping_20000_objects_starts_at_most_one_collection_not_28():
    default, raised = probe("default"), probe("raised")
    # Default threshold 700: 20,000 allocations start 20,000 // 700 = 28 first-generation collections.
    assert default["threshold"] == 700 and default["during"] >= 28
    assert raised["threshold"] == 20_000 and raised["during"] <= 1


def test_the_collector_still_collects_cycles_unasked():
    assert probe("raised")["cycle_collected"] is True


def test_the_command_line_raises_the_threshold():
    code = "import gc, sys\nfrom app.cli.base import main\nsys.argv = ['scorecard', '--help']\n" \
           "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.get_threshold()[0], file=sys.stderr)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Usage" in result.stdout and result.stderr.strip().splitlines()[-1] == "20000"
