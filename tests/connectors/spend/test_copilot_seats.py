"""Copilot seat cost from `ai_usage` seat counts: prorated per day, seats counted once, idempotent."""
import datetime as dt

import polars as pl

from config import Config, WarehouseConfig
from config.spend import CopilotSeatsConfig, SpendConfig
from connectors.spend.copilot import seat_spend
from pipeline import run_sources
from pipeline import ingest
from warehouse import read_table
from warehouse.runs import get_cursor

NOVEMBER = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(30)]


def usage_rows() -> pl.DataFrame:
    rows = []
    for day in NOVEMBER:
        web = 5 if day.day <= 15 else 8
        rows += [
            {"source": "github", "date": day, "team": "payments", "tool": "github-copilot", "seats": 10},
            {"source": "github", "date": day, "team": "web", "tool": "github-copilot", "seats": web},
            # The org-wide row counts every seat: 20, of which the teams hold 15, then 18.
            {"source": "github", "date": day, "team": None, "tool": "github-copilot", "seats": 20},
            {"source": "github", "date": day, "team": "web", "tool": "cursor", "seats": 99},  # another tool
        ]
    # The same payments seats imported from a CSV as well: still 10 seats, not 20.
    rows.append({"source": "csv", "date": dt.date(2026, 11, 1), "team": "payments", "tool": "GitHub-Copilot", "seats": 10})
    rows.append({"source": "github", "date": dt.date(2026, 12, 1), "team": "payments", "tool": "github-copilot", "seats": 10})
    frame = pl.DataFrame(rows, schema={"source": pl.String, "date": pl.Date, "team": pl.String, "tool": pl.String,
                                       "seats": pl.Int64})
    return frame.with_columns(id=pl.format("{}:{}:{}:{}", "source", "date", pl.col("team").fill_null("-"), "tool"))


def totals(spend: pl.DataFrame, month: int) -> dict[str, float]:
    november = spend.filter(pl.col("date").dt.month() == month)
    grouped = november.group_by(pl.col("team").fill_null("unassigned")).agg(pl.col("cost_usd").sum())
    return {team: round(cost, 2) for team, cost in grouped.iter_rows()}


def test_seats_are_prorated_per_day_and_counted_once():
    spend = seat_spend(usage_rows(), CopilotSeatsConfig(price_per_seat_month=19.0))
    # A seat costs 19 / 30 a day in November. payments: 10 seats all month = 190.00.
    # web: 5 seats for 15 days and 8 for 15 = 195 seat-days × 19 / 30 = 123.50.
    # Unassigned: 20 − 15 = 5 seats for 15 days, 20 − 18 = 2 for 15 = 105 seat-days = 66.50.
    assert totals(spend, 11) == {"payments": 190.0, "web": 123.5, "unassigned": 66.5}
    # December has 31 days: one day of 10 seats = 190 / 31 = 6.13.
    assert totals(spend, 12) == {"payments": 6.13}
    first = spend.filter(pl.col("id") == "copilot:seats:2026-11-01:payments").row(0, named=True)
    assert (first["source"], first["tool"], first["workflow"], round(first["cost_usd"], 4)) == (
        "copilot", "github-copilot", "seats", round(190 / 30, 4))


def test_copilot_seats_source_writes_spend_and_reruns_idempotently(warehouse):
    ingest(warehouse, "github", {"ai_usage": usage_rows()})
    config = Config(warehouse=WarehouseConfig(url=warehouse.display_url),
                    spend=SpendConfig(copilot=CopilotSeatsConfig(price_per_seat_month=39.0, lookback_days=10)))
    (report,) = run_sources(warehouse, config, only="copilot_seats")
    assert report.status == "success" and report.tables["ai_spend"].inserted == 30 * 3 + 1
    # Copilot Enterprise, 39 a seat: payments 10 × 39 = 390.00 for November.
    assert totals(read_table(warehouse, "ai_spend"), 11) == {"payments": 390.0, "web": 253.5, "unassigned": 136.5}
    assert get_cursor(warehouse, "copilot_seats", "seats") == "2026-12-01"
    (again,) = run_sources(warehouse, config, only="copilot_seats")
    # Only the look-back is priced again (from 10 days before the cursor: Nov 21 - Dec 1, 10 × 3 + 1 rows),
    # and nothing changed.
    assert again.tables["ai_spend"].inserted == again.tables["ai_spend"].updated == 0
    assert again.tables["ai_spend"].unchanged == 31
    assert read_table(warehouse, "ai_spend").height == 91
