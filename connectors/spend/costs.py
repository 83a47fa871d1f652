"""What the provider cost connectors share: the day window a sync fetches, USD conversion, and the
`ai_spend` frame of daily cost rows."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

from connectors.contract import Batch, Rejected

log = logging.getLogger(__name__)

DEFAULT_HISTORY_DAYS = 90
SPEND_SCHEMA = {
    "id": pl.String, "source": pl.String, "date": pl.Date, "team": pl.String, "tool": pl.String,
    "model": pl.String, "workflow": pl.String, "cost_usd": pl.Float64, "tokens": pl.Int64, "requests": pl.Int64,
}


def fetch_window(cursor: str | None, *, today: dt.date, start: dt.date | None, lookback_days: int,
                 full: bool) -> tuple[dt.date, dt.date]:
    """[first, end) in UTC days. Only complete days are fetched (end = today), and the last
    `lookback_days` before the cursor again, because providers restate recent days."""
    first = start or today - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
    if cursor and not full:
        first = max(first, dt.date.fromisoformat(cursor) + dt.timedelta(days=1 - max(lookback_days, 0)))
    return first, today


def utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class CostLine:
    id: str
    date: dt.date
    amount: Decimal  # in `currency`
    currency: str
    team: str | None
    tool: str
    model: str | None
    workflow: str | None


def decimal(value) -> Decimal | None:
    """A JSON number or decimal string, exactly (floats go through their shortest text)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def spend_frame(lines: Iterable[CostLine], source: str, usd_rates: Mapping[str, float],
                stream: str) -> tuple[pl.DataFrame, list[Rejected]]:
    """Daily cost rows in USD (lines with the same id summed); a currency without a rate is rejected."""
    rates = {code.strip().upper(): Decimal(str(rate)) for code, rate in usd_rates.items()} | {"USD": Decimal(1)}
    totals: dict[str, tuple[CostLine, Decimal]] = {}
    rejected = []
    for line in lines:
        rate = rates.get(line.currency.upper())
        if rate is None or rate <= 0:
            rejected.append(Rejected(stream, line.id, f"amount in {line.currency.upper()} and no USD rate for it in "
                                                      "[spend] usd_rates"))
            continue
        usd = line.amount * rate
        previous = totals.get(line.id)
        totals[line.id] = (line, usd + (previous[1] if previous else 0))
    rows = [{"id": line.id, "source": source, "date": line.date, "team": line.team, "tool": line.tool,
             "model": line.model, "workflow": line.workflow, "cost_usd": float(usd), "tokens": None, "requests": None}
            for line, usd in totals.values()]
    return pl.DataFrame(rows, schema=SPEND_SCHEMA), rejected


def warn_unmapped(provider: str, kind: str, section: str, ids: Iterable[str]) -> None:
    """Spend of a project/workspace with no team counts as `unassigned`: say so once per sync."""
    ids = sorted(set(ids))
    if ids:
        log.warning("%s: %d %s(s) not mapped to a team (their spend counts as unassigned): %s; map them under %s",
                    provider, len(ids), kind, ", ".join(ids[:10]) + (" …" if len(ids) > 10 else ""), section)


@dataclass(frozen=True)
class CostReport:
    """How one provider's cost endpoint pages and what its pages hold."""

    provider: str  # "OpenAI"
    path: str
    source: str
    stream: str
    unmapped_kind: str  # "project" / "workspace"
    unmapped_section: str  # where to map them, e.g. "[spend.openai] projects"
    # page JSON, set of unmapped ids to fill → (lines, rejected, last complete day on the page)
    lines: Callable[[dict, set[str]], tuple[list[CostLine], list[Rejected], dt.date | None]]


def report_batches(client, report: CostReport, params: dict, usd_rates: Mapping[str, float], *,
                   first: dt.date, end: dt.date) -> Iterator[Batch]:
    """One batch per page of a `has_more` / `next_page` report; the cursor (the last complete day
    fetched) moves with each page."""
    total_days = (end - first).days
    unmapped: set[str] = set()
    while True:
        page = client.get(report.path, params)
        lines, rejected, last_day = report.lines(page, unmapped)
        frame, unconverted = spend_frame(lines, report.source, usd_rates, report.stream)
        more = bool(page.get("has_more")) and bool(page.get("next_page"))
        cursor_day = min(last_day, end - dt.timedelta(days=1)) if last_day and more else end - dt.timedelta(days=1)
        done = (cursor_day - first).days + 1
        yield Batch(frames={"ai_spend": frame}, cursors={report.stream: cursor_day.isoformat()},
                    rejected=rejected + unconverted, progress_done=done, progress_total=total_days,
                    progress_message=f"{report.provider} costs: {done} of {total_days} days")
        if not more:
            break
        params = {**params, "page": page["next_page"]}
    warn_unmapped(report.provider, report.unmapped_kind, report.unmapped_section, unmapped)
