"""The spend sources `scorecard sync` runs: `openai`, `anthropic` (cost APIs) and `copilot_seats`.

Each is a `Source` the runner (pipeline.runner) runs: batches upserted as they come, the cursor per
stream moved only after its rows are committed, the admin key scrubbed from every message, and a
failure reported (never raised), so one failing source never blocks the others.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping

import polars as pl

from config.model import Config
from config.spend import check_spend
from connectors.common.secrets import get_secret
from connectors.contract import Batch, Credential, Source
from connectors.spend import anthropic, copilot, openai

COPILOT_SEATS = "copilot_seats"


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _cost_api(module, section_of: Callable[[Config], object]) -> Callable[..., Iterator[Batch]]:
    def extract(config: Config, key: str, cursors: Mapping[str, str | None], *, full: bool = False,
                stats: dict[str, int], today: dt.date | None = None,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[Batch]:
        """The provider's cost batches. `today` fixes the clock and `sleep` replaces the retry waits (tests)."""
        section = section_of(config)
        client = module.api(section, key, stats, sleep=sleep)
        try:
            yield from module.batches(client, section, config.spend.usd_rates, cursor=cursors.get(module.STREAM),
                                      today=today or _today(), full=full)
        finally:
            client.close()

    return extract


def _admin_key(section_of: Callable[[Config], object]) -> Callable[[Config], Credential]:
    def secret(config: Config) -> Credential:
        key = get_secret(section_of(config).admin_key_env)
        return Credential(key, (key,))

    return secret


def copilot_seat_batches(config: Config, _secret, cursors: Mapping[str, str | None], *, full: bool = False,
                         stats: dict[str, int], inputs: Mapping[str, pl.DataFrame]) -> Iterator[Batch]:
    """Seat costs priced from the seat counts already in `ai_usage` (`inputs`), from the last priced day
    less the look-back."""
    cfg = config.spend.copilot
    cursor = None if full else cursors.get(copilot.STREAM)
    since = dt.date.fromisoformat(cursor) - dt.timedelta(days=cfg.lookback_days) if cursor else None
    frame = copilot.seat_spend(inputs["ai_usage"], cfg, since=since)
    last = frame.get_column("date").max()
    cursors = {copilot.STREAM: last.isoformat()} if last else {}
    yield Batch(frames={"ai_spend": frame}, cursors=cursors, progress_done=frame.height,
                progress_total=frame.height, progress_message=f"Copilot seats: {frame.height} team-days priced")


_openai = lambda config: config.spend.openai  # noqa: E731
_anthropic = lambda config: config.spend.anthropic  # noqa: E731

SOURCES = [
    Source("openai", "[spend.openai] with the admin key in $OPENAI_ADMIN_KEY (or admin_key_env)",
           lambda c: c.spend.openai is not None, _cost_api(openai, _openai), check=check_spend,
           secret=_admin_key(_openai), counters=("calls",)),
    Source("anthropic", "[spend.anthropic] with the admin key in $ANTHROPIC_ADMIN_KEY (or admin_key_env)",
           lambda c: c.spend.anthropic is not None, _cost_api(anthropic, _anthropic), check=check_spend,
           secret=_admin_key(_anthropic), counters=("calls",)),
    Source(COPILOT_SEATS, "[spend.copilot] price_per_seat_month (seat counts come from ai_usage)",
           lambda c: c.spend.copilot is not None, copilot_seat_batches, check=check_spend,
           inputs={"ai_usage": ("source", "date", "team", "tool", "seats")}),
]
