"""What a fresh `scorecard` process does before its command's own work, made cheaper (issue 15: a small import
≤ 1.5 s and `scorecard metrics` ≤ 0.8 s end to end, start-up included).

- `modules_load_without_collections`: the cyclic garbage collector does not run while the main thread loads
  modules. A command loads ~800 of them (polars, pyarrow, numpy, SQLAlchemy, ours) and each allocates objects
  that live as long as the process; with the collector's default thresholds that started ~200 collections,
  two of them over every object, ~0.05 CPU-s of a small import and of `scorecard metrics` (6 % of each) to
  find no garbage. Once the outermost import that loaded something returns, what exists is frozen
  (`gc.freeze`: kept out of every later collection, still freed when nothing refers to it) and the collector
  runs as before, so a long command (a sync, a large import, the scheduler) collects its own cycles as ever.
- `only_the_command_asked`: Typer builds the Click command of every registered command (their parameters from
  the annotations) on each call; a process runs one, so only that one is built when the first argument names it.
"""
from __future__ import annotations

import builtins
import gc
import sys
import threading


def modules_load_without_collections() -> None:
    """From now on, no cyclic collection runs while the main thread is loading modules (see the module's
    docstring). Idempotent; a process that turned the collector off itself keeps it off."""
    if getattr(builtins.__import__, "_without_collections", False):
        return
    load = builtins.__import__
    main_thread = threading.main_thread().ident
    importing = False  # the main thread is inside an import that turned the collector off

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        nonlocal importing
        if importing or not gc.isenabled() or threading.get_ident() != main_thread:
            return load(name, globals, locals, fromlist, level)
        held = len(sys.modules)
        importing = True
        gc.disable()
        try:
            return load(name, globals, locals, fromlist, level)
        finally:
            importing = False
            if len(sys.modules) != held:
                gc.freeze()  # the loaded modules' objects: never traversed by a collection again
            gc.enable()

    __import__._without_collections = True
    builtins.__import__ = __import__


def only_the_command_asked(app, args: list[str]):
    """What to call to run `app` on `args`: `app` itself, or where `args[0]` names one of its commands, Typer's
    group of that command alone, which parses, helps and fails for it as the whole group does (Typer would build
    every command's parameters from its annotations first: ~0.01 CPU-s). Where Typer's internals are not the
    ones this was written for, `app`."""
    import copy

    from typer import main as typer_main

    get_group, name_of = getattr(typer_main, "get_group", None), getattr(typer_main, "get_command_name", None)
    commands = getattr(app, "registered_commands", None)
    if not args or get_group is None or name_of is None or not isinstance(commands, list) \
            or getattr(app, "registered_groups", True) or getattr(app, "registered_callback", True) is not None:
        return app
    asked = [info for info in commands
             if (info.name or (name_of(info.callback.__name__) if info.callback else None)) == args[0]]
    if len(asked) != 1:
        return app
    lean = copy.copy(app)
    lean.registered_commands = asked
    return get_group(lean)
