"""`scorecard schedule`: the long-running scheduler (scheduling/runner.py) as a command."""
from __future__ import annotations

import logging

from app.cli.base import ConfigOpt, Failure, _config, _refresh_cube, _warehouse, command, err
from config.schedule import fmt_duration

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).


@command(keeps_running=True)
def schedule(config: ConfigOpt = None) -> None:
    """Sync each configured source on its own interval (the schedule section of scorecard.toml) until SIGTERM or
    SIGINT, which stop it after the batch being written (committed, cursors saved). Exit code 0."""
    from scheduling.freshness import configured_sources
    from scheduling.runner import Scheduler, graceful_stop

    cfg = _config(config)
    names = configured_sources(cfg)
    if not names:
        raise Failure(f"no sources configured in {cfg.source_path or 'scorecard.toml'}: nothing to schedule "
                      "(see `scorecard sync --help` and the README's source sections)")
    warehouse = _warehouse(cfg)
    logging.getLogger("scheduling").setLevel(logging.INFO)
    logging.getLogger("pipeline.runner").setLevel(logging.INFO)
    scheduler = Scheduler(warehouse, cfg, after_sync=lambda reports: _refresh_cube(warehouse, cfg))
    every = ", ".join(f"{n} every {fmt_duration(cfg.schedule.interval(n))}" for n in names)
    err.print(f"scheduling {every} into {warehouse.display_url} as {scheduler.holder}", highlight=False)

    def on_stop(name: str) -> None:
        scheduler.stop_reason = name
        err.print(f"{name}: stopping after the batch being written (again to stop at once)", highlight=False)

    with graceful_stop(scheduler.stop, on_stop):
        scheduler.run()
    err.print(f"stopped ({scheduler.stop_reason or 'done'})", highlight=False)
