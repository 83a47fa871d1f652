"""The vendor usage sources `scorecard sync` runs: `claude_code`, `cursor`, `openai_usage`.

Each is a `Source` the runner (pipeline.runner) runs (batches upserted as they come, cursors moved
after their rows are committed, the key scrubbed from every message, failures reported, never raised).
A key the vendor refuses (401) fails the source; a key that lacks a permission (403) is a warning
naming what it needs, so the rest of the sync still counts.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping

from config.model import Config
from config.vendors import check_vendors
from connectors.common.http import HttpError
from connectors.common.secrets import get_secret
from connectors.contract import Batch, Credential, Source
from connectors.vendors import claude_code, cursor, openai_usage
from connectors.vendors.common import refused_warning


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _vendor(module, section_of: Callable[[Config], object]) -> Callable[..., Iterator[Batch]]:
    def extract(config: Config, key: str, cursors: Mapping[str, str | None], *, full: bool = False,
                stats: dict[str, int], today: dt.date | None = None,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[Batch]:
        """The vendor's usage batches. `today` fixes the clock and `sleep` replaces the retry waits (tests)."""
        section = section_of(config)
        client = module.api(section, key, stats, sleep=sleep)
        try:
            yield from module.batches(client, section, cursors={s: cursors.get(s) for s in module.STREAMS},
                                      today=today or _today(), full=full)
        except HttpError as exc:
            if exc.status != 403:
                raise
            yield Batch(warnings=[refused_warning(module.VENDOR, "usage", exc, module.NEEDS)])
        finally:
            client.close()

    return extract


def _key(env_of: Callable[[Config], str]) -> Callable[[Config], Credential]:
    def secret(config: Config) -> Credential:
        key = get_secret(env_of(config))
        return Credential(key, (key,))

    return secret


_claude_code = lambda c: c.vendors.claude_code  # noqa: E731
_cursor = lambda c: c.vendors.cursor  # noqa: E731
_openai_usage = lambda c: c.vendors.openai_usage  # noqa: E731

SOURCES = [
    Source(claude_code.SOURCE, "[vendors.claude_code] with the admin key in $ANTHROPIC_ADMIN_KEY (or admin_key_env)",
           lambda c: c.vendors.claude_code is not None, _vendor(claude_code, _claude_code), check=check_vendors,
           secret=_key(lambda c: c.vendors.claude_code.admin_key_env), counters=("calls",)),
    Source(cursor.SOURCE, "[vendors.cursor] with the Admin API key in $CURSOR_API_KEY (or api_key_env)",
           lambda c: c.vendors.cursor is not None, _vendor(cursor, _cursor), check=check_vendors,
           secret=_key(lambda c: c.vendors.cursor.api_key_env), counters=("calls",)),
    Source(openai_usage.SOURCE, "[vendors.openai_usage] with the admin key in $OPENAI_ADMIN_KEY (or admin_key_env)",
           lambda c: c.vendors.openai_usage is not None, _vendor(openai_usage, _openai_usage), check=check_vendors,
           secret=_key(lambda c: c.vendors.openai_usage.admin_key_env), counters=("calls",)),
]
