"""The vendor usage sources `scorecard sync` runs: `claude_code`, `cursor`, `openai_usage`.

Each run is one `warehouse.sync.run_sync` (batches upserted as they come, cursors moved after their rows
are committed, the key scrubbed from every message, failures reported, never raised). A key the vendor
refuses (401) fails the source; a key that lacks a permission (403) is a warning naming what it needs,
so the rest of the sync still counts.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

from config.load import ConfigError
from config.model import Config
from config.vendors import check_vendors
from connectors.common.progress import Progress
from connectors.common.secrets import MissingSecret, get_secret
from connectors.vendors import claude_code, cursor, openai_usage
from connectors.vendors.common import VendorHttpError, refused_warning
from warehouse.engine import Warehouse
from warehouse.runs import get_cursor
from warehouse.sync import Batch, SyncReport, failing_batches, run_sync


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _warn_on_forbidden(module, batches: Iterator[Batch]) -> Iterator[Batch]:
    try:
        yield from batches
    except VendorHttpError as exc:
        if exc.status != 403:
            raise
        yield Batch(warnings=[refused_warning(module.VENDOR, "usage", exc, module.NEEDS)])


def _run(module, section, key_env: str, warehouse: Warehouse, config: Config, *, full: bool,
         progress: Progress | None, today: dt.date | None, sleep: Callable[[float], None]) -> SyncReport:
    stats = {"calls": 0}
    try:
        check_vendors(config)
        key = get_secret(key_env)
    except (ConfigError, MissingSecret) as exc:
        return run_sync(warehouse, module.SOURCE, failing_batches(exc), progress=progress, stats=stats)
    client = module.api(section, key, stats, sleep=sleep)
    cursors = {stream: get_cursor(warehouse, module.SOURCE, stream) for stream in module.STREAMS}
    try:
        batches = module.batches(client, section, cursors=cursors, today=today or _today(), full=full)
        return run_sync(warehouse, module.SOURCE, _warn_on_forbidden(module, batches), secrets=[key],
                        progress=progress, stats=stats)
    finally:
        client.close()


def run_claude_code(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
                    today: dt.date | None = None, sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    section = config.vendors.claude_code
    return _run(claude_code, section, section.admin_key_env, warehouse, config, full=full, progress=progress,
                today=today, sleep=sleep)


def run_cursor(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
               today: dt.date | None = None, sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    section = config.vendors.cursor
    return _run(cursor, section, section.api_key_env, warehouse, config, full=full, progress=progress,
                today=today, sleep=sleep)


def run_openai_usage(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
                     today: dt.date | None = None, sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    section = config.vendors.openai_usage
    return _run(openai_usage, section, section.admin_key_env, warehouse, config, full=full, progress=progress,
                today=today, sleep=sleep)


def source_specs() -> list:
    from connectors.sources import SourceSpec

    return [
        SourceSpec(claude_code.SOURCE, "[vendors.claude_code] with the admin key in $ANTHROPIC_ADMIN_KEY (or admin_key_env)",
                   lambda c: c.vendors.claude_code is not None, run_claude_code),
        SourceSpec(cursor.SOURCE, "[vendors.cursor] with the Admin API key in $CURSOR_API_KEY (or api_key_env)",
                   lambda c: c.vendors.cursor is not None, run_cursor),
        SourceSpec(openai_usage.SOURCE, "[vendors.openai_usage] with the admin key in $OPENAI_ADMIN_KEY (or admin_key_env)",
                   lambda c: c.vendors.openai_usage is not None, run_openai_usage),
    ]
