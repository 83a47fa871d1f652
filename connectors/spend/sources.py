"""The spend sources `scorecard sync` runs: `openai`, `anthropic` (cost APIs) and `copilot_seats`.

Each run is one `warehouse.sync.run_sync`: batches upserted as they come, the cursor per stream moved
only after its rows are committed, the admin key scrubbed from every message, and a failure reported
(never raised), so one failing source never blocks the others.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

from config.load import ConfigError
from config.model import Config
from config.spend import check_spend
from connectors.common.progress import Progress
from connectors.common.secrets import MissingSecret, get_secret
from connectors.spend import anthropic, copilot, openai
from warehouse.engine import Warehouse
from warehouse.read import read_table
from warehouse.runs import get_cursor
from warehouse.sync import Batch, SyncReport, failing_batches, run_sync

COPILOT_SEATS = "copilot_seats"


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()



def _run_cost_api(module, section, warehouse: Warehouse, config: Config, *, full: bool,
                  progress: Progress | None, today: dt.date | None, sleep: Callable[[float], None]) -> SyncReport:
    stats = {"calls": 0}
    try:
        check_spend(config)
        key = get_secret(section.admin_key_env)
    except (ConfigError, MissingSecret) as exc:
        return run_sync(warehouse, module.SOURCE, failing_batches(exc), progress=progress, stats=stats)
    client = module.api(section, key, stats, sleep=sleep)
    cursor = get_cursor(warehouse, module.SOURCE, module.STREAM)
    try:
        batches = module.batches(client, section, config.spend.usd_rates, cursor=cursor, today=today or _today(),
                                 full=full)
        return run_sync(warehouse, module.SOURCE, batches, secrets=[key], progress=progress, stats=stats)
    finally:
        client.close()


def run_openai(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
               today: dt.date | None = None, sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    return _run_cost_api(openai, config.spend.openai, warehouse, config, full=full, progress=progress, today=today,
                         sleep=sleep)


def run_anthropic(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
                  today: dt.date | None = None, sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    return _run_cost_api(anthropic, config.spend.anthropic, warehouse, config, full=full, progress=progress,
                         today=today, sleep=sleep)


def run_copilot_seats(warehouse: Warehouse, config: Config, *, full: bool = False,
                      progress: Progress | None = None) -> SyncReport:
    cfg = config.spend.copilot

    def batches() -> Iterator[Batch]:
        check_spend(config)
        cursor = None if full else get_cursor(warehouse, COPILOT_SEATS, copilot.STREAM)
        since = dt.date.fromisoformat(cursor) - dt.timedelta(days=cfg.lookback_days) if cursor else None
        usage = read_table(warehouse, "ai_usage", ["source", "date", "team", "tool", "seats"])
        frame = copilot.seat_spend(usage, cfg, since=since)
        last = frame.get_column("date").max()
        cursors = {copilot.STREAM: last.isoformat()} if last else {}
        yield Batch(frames={"ai_spend": frame}, cursors=cursors, progress_done=frame.height,
                    progress_total=frame.height, progress_message=f"Copilot seats: {frame.height} team-days priced")

    return run_sync(warehouse, COPILOT_SEATS, batches(), progress=progress)


def source_specs() -> list:
    from connectors.sources import SourceSpec

    return [
        SourceSpec("openai", "[spend.openai] with the admin key in $OPENAI_ADMIN_KEY (or admin_key_env)",
                   lambda c: c.spend.openai is not None, run_openai),
        SourceSpec("anthropic", "[spend.anthropic] with the admin key in $ANTHROPIC_ADMIN_KEY (or admin_key_env)",
                   lambda c: c.spend.anthropic is not None, run_anthropic),
        SourceSpec(COPILOT_SEATS, "[spend.copilot] price_per_seat_month (seat counts come from ai_usage)",
                   lambda c: c.spend.copilot is not None, run_copilot_seats),
    ]
