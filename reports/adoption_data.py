"""What the Adoption page reads (no Streamlit): per-person usage with each vendor user's person and team,
the vendor users no person claims, Copilot seat counts, spend, and the PRs' AI tools; OpenAI usage rows
carry their share of the day's project cost (metrics.openai_allocation), so spend is cut by user and key.

Rows a source already tied to a person (the demo) keep theirs; the others are matched against the
`people` table (metrics.people_match) when the warehouse has one, and are otherwise all unmatched. The
PRs' `ai_tools` column is read when the warehouse has it (PRs name no tool otherwise).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from metrics.openai_allocation import COST_SOURCE, UNALLOCATED_SCHEMA, with_allocated_cost
from metrics.people_match import UNMATCHED_SCHEMA, match_people
from metrics.teams import UNASSIGNED
from warehouse import Warehouse, read_table
from warehouse.read import instant_literal, read_where
from warehouse.schema import TABLES

PEOPLE_COLUMNS = {"login": pl.String, "name": pl.String, "team": pl.String, "level": pl.String, "since": pl.Date,
                  "emails": pl.String}
USAGE_COLUMNS = ["id", "source", "date", "tool", "vendor_user", "email", "login", "person", "team", "active",
                 "engaged", "used_chat", "used_agent", "used_cli", "suggestions", "acceptances", "lines_added",
                 "sessions", "requests", "tokens", "model", "project", "api_key", "cost_usd"]


@dataclass(frozen=True)
class Adoption:
    # USAGE_COLUMNS; person null for unmatched vendor users, whose team is `unassigned`; OpenAI rows' cost_usd
    # is their share of the day's project cost (metrics.openai_allocation)
    usage: pl.DataFrame
    unmatched: pl.DataFrame  # metrics.people_match.UNMATCHED_SCHEMA
    seats: pl.DataFrame  # ai_usage: date, team, tool, seats
    spend: pl.DataFrame  # ai_spend summed per date, source, tool, model (`load_spend_sums`): id, source, date, tool, model, cost_usd
    ai_tools: pl.DataFrame | None  # pull_requests naming a tool: id, merged_at, closed_at, ai_tools (None: no such column)
    # OpenAI cost of days and projects without usage rows to share it to: date, project, cost_usd
    unallocated: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=UNALLOCATED_SCHEMA))


def resolve_people(usage: pl.DataFrame, people: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every usage row with person and team, the unmatched vendor users)."""
    known = usage.filter(pl.col("person").is_not_null())
    pending = usage.filter(pl.col("person").is_null()).drop("person", "team")
    result = match_people(people, pending)
    matched = pending.join(result.matched.select("id", "person", "team"), on="id", how="left")
    rows = pl.concat([known.with_columns(pl.col("team").fill_null(UNASSIGNED)),
                      matched.with_columns(pl.col("team").fill_null(UNASSIGNED)).select(known.columns)])
    return rows, result.unmatched


def load_people(warehouse: Warehouse) -> pl.DataFrame:
    if "people" not in TABLES:
        return pl.DataFrame(schema=PEOPLE_COLUMNS)
    table = TABLES["people"]
    present = [c for c in PEOPLE_COLUMNS if c in table.c]
    frame = read_table(warehouse, "people", present)
    return frame.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in PEOPLE_COLUMNS.items() if c not in present)


def load_adoption(warehouse: Warehouse, tools: bool = True, spend: pl.DataFrame | None = None) -> Adoption:
    """`tools` False: `ai_tools` is not read (None), for a caller that reads a range's with `load_tool_prs`.
    `spend`: the spend sums (`load_spend_sums`' rows, e.g. `stored_spend_sums`), else summed from the spend rows."""
    spend = load_spend_sums(warehouse) if spend is None else spend
    usage, unallocated = with_allocated_cost(read_table(warehouse, "ai_usage_people", USAGE_COLUMNS), spend)
    rows, unmatched = resolve_people(usage, load_people(warehouse))
    prs = TABLES["pull_requests"]
    # Only PRs that name a tool count for one (metrics.tool_economics): the others stay in the warehouse.
    tools = (read_where(warehouse, "pull_requests", _TOOL_PR_COLUMNS, _NAMES_A_TOOL)
             if tools and "ai_tools" in prs.c else None)
    return Adoption(
        usage=rows, unmatched=unmatched.cast(UNMATCHED_SCHEMA),
        seats=read_table(warehouse, "ai_usage", ["date", "team", "tool", "seats"]),
        spend=spend, ai_tools=tools, unallocated=unallocated,
    )


_TOOL_PR_COLUMNS = ["id", "merged_at", "closed_at", "ai_tools"]
# The predicate of the PRs' partial index `ix_pull_requests_tools_merged_at` (migration 0014), word for word: a
# query's WHERE must imply it for the database to read that index.
_NAMES_A_TOOL = "ai_tools IS NOT NULL AND ai_tools <> '[]'"


def tool_pr_conditions(warehouse: Warehouse, start: dt.date, end: dt.date) -> list[str]:
    """`load_tool_prs`' two WHERE clauses: merged in [start, end), and closed unmerged then; PRs naming a tool."""
    prs = TABLES["pull_requests"]
    lo, hi = (instant_literal(warehouse.dialect, dt.datetime.combine(day, dt.time(), dt.timezone.utc), prs.c.merged_at)
              for day in (start, end))
    return [f"merged_at >= {lo} AND merged_at < {hi} AND {_NAMES_A_TOOL}",
            f"merged_at IS NULL AND closed_at >= {lo} AND closed_at < {hi} AND {_NAMES_A_TOOL}"]


def load_tool_prs(warehouse: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame | None:
    """Of the PRs that name a tool (`Adoption.ai_tools`' rows), those metrics.tool_economics counts over
    [start, end): merged then, or closed unmerged then (its `tool_economics(..., start=start, end=end)` gives
    what it gives from every such PR). Both from the partial index of the PRs naming a tool
    (`ix_pull_requests_tools_merged_at`: merge time, close time, id, tools), not from the table: the range's
    other PRs are not touched. None when PRs have no `ai_tools` column."""
    if "ai_tools" not in TABLES["pull_requests"].c:
        return None
    return pl.concat([read_where(warehouse, "pull_requests", _TOOL_PR_COLUMNS, where)
                      for where in tool_pr_conditions(warehouse, start, end)])


SPEND_SCHEMA = {"id": pl.String, "source": pl.String, "date": pl.Date, "tool": pl.String, "model": pl.String,
                "cost_usd": pl.Float64}
# The spend sums' grouping, in the order SQLite's GROUP BY gives its groups (nulls first, strings by bytes).
_SUM_KEYS = ["id", "source", "date", "tool", "model"]
# The part kept beside the cube (warehouse.cube_chunks.FACT_PARTS) that holds `load_spend_sums`' rows, by day.
SPEND_SUMS_PART = "spend_sums"


def load_spend_sums(warehouse: Warehouse, since: dt.date | None = None, until: dt.date | None = None) -> pl.DataFrame:
    """ai_spend summed per day, source, tool and model in SQL (`id` null), what the page's spend per tool and
    model and the per-tool economics add up over a range; the OpenAI costs source's rows one by one, with
    their ids (metrics.openai_allocation reads each cost line's project from its id). Millions of rows stay
    in the warehouse. `since`: the days from that one on only (the upkeep's, `spend_sums_by_day`); `until`: the
    days before that one only (a rebuild's window).

    Each sum is the database's `sum()` over its group's rows: SQLite adds them one by one in the order it
    reads them, the table's (rowid) order, whether it scans the table or reads a range of days through the
    date index (within a day the index lists rows by rowid), so a day's sums are the same bits either way.
    Rows in `_SUM_KEYS` order."""
    spend = TABLES["ai_spend"]
    own_id = sa.case((spend.c.source == COST_SOURCE, spend.c.id), else_=None).label("id")
    query = (sa.select(own_id, spend.c.source, spend.c.date, spend.c.tool, spend.c.model,
                       sa.func.sum(spend.c.cost_usd).label("cost_usd"))
             .group_by(own_id, spend.c.source, spend.c.date, spend.c.tool, spend.c.model))
    if since is not None:
        query = query.where(spend.c.date >= since)
    if until is not None:
        query = query.where(spend.c.date < until)
    with warehouse.engine.connect() as conn:
        rows = [(r.id, r.source, r.date, r.tool, r.model, None if r.cost_usd is None else float(r.cost_usd))
                for r in conn.execute(query)]
    return _in_sum_order(pl.DataFrame(rows, schema=SPEND_SCHEMA, orient="row"))


def spend_sums_by_day(warehouse: Warehouse, since: dt.date | None = None, until: dt.date | None = None) -> pl.DataFrame:
    """`load_spend_sums` (the days in [since, until)) as the part kept beside the cube stores it (`SPEND_SUMS_PART`, kept
    by reports/derived.py for the days a write reaches): `day` for `date`, rows by day."""
    sums = load_spend_sums(warehouse, since, until).rename({"date": "day"})
    return sums.select("day", *(c for c in SPEND_SCHEMA if c != "date")).sort(
        "day", "id", "source", "tool", "model", nulls_last=False)


def stored_spend_sums(warehouse: Warehouse) -> pl.DataFrame:
    """`load_spend_sums`' rows as the upkeep keeps them beside the cube (`SPEND_SUMS_PART`; the cube must be up to
    date: reports.data.load_cube), in its order: no read of the spend rows."""
    from warehouse.cube_store import read_facts  # pyarrow: not for the commands that import scope alone

    kept = read_facts(warehouse, SPEND_SUMS_PART, dt.date.min).rename({"day": "date"})
    return _in_sum_order(kept.select(list(SPEND_SCHEMA)))


def _in_sum_order(sums: pl.DataFrame) -> pl.DataFrame:
    # The pages add these sums up again (polars, in row order): the same rows in the same order give the same bits.
    return sums.sort(_SUM_KEYS, nulls_last=False)
