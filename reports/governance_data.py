"""Governance for the CLI and the dashboard: the identities the warehouse names, and the stop-condition
verdicts judged on the scorecard records the tiles show (the cube, the dashboard's default range).

Policies are judged as of the latest complete period that has data (metrics.periods.latest_complete_range,
the dashboard's default range — so a verdict's numbers are the tiles' numbers when the sidebar is at
its defaults); budget conditions as of the last day with spend, like the spend alerts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from config.model import Config
from governance.inventory import (
    EXAMPLES, PARTIAL_SCHEMA, partials, pr_identities, spend_partials, unapproved_models, usage_identities,
)
from governance.policies import PAUSE, evaluate
from metrics.cube import Cube
from metrics.periods import latest_complete_range, period_starts
from metrics.registry import METRICS
from metrics.scorecard import compute
from metrics.spend import ALERT_SCHEMA, budget_vs_actual
from metrics.teams import assign_team_column
from reports.format import fmt_value
from warehouse import Warehouse, read_table
from warehouse.cube_store import read_facts
from warehouse.read import instant_literal, read_where
from warehouse.schema import ai_spend as ai_spend_table
from warehouse.slice import read_unmerged_signals

STOP_KIND = "stop_condition"


@dataclass(frozen=True)
class Identities:
    """What AI the warehouse names: the PRs' identities row by row (for the inventory's PR counts) and
    every identity summed per kind × name × team (governance.inventory.partials)."""

    prs: pl.DataFrame
    partials: pl.DataFrame


def load_identities(warehouse: Warehouse, config: Config, spend: pl.DataFrame | None = None,
                    spend_groups: pl.DataFrame | None = None) -> Identities:
    """Every AI identity the warehouse names (governance.inventory), teams assigned as the pages do. The PRs
    read are those with an AI signal (the others name no identity); the spend identities come from `spend`
    rows when given, else from the sums in SQL (`load_spend_partials`; `spend_groups` if already read)."""
    prs = assign_team_column(read_where(warehouse, "pull_requests", _PR_COLUMNS, _WITH_SIGNALS), "pull_requests",
                             config.teams)
    return _identities(warehouse, pr_identities(prs), spend, spend_groups)


def load_kept_identities(warehouse: Warehouse, config: Config, spend: pl.DataFrame | None = None,
                         spend_groups: pl.DataFrame | None = None) -> Identities:
    """`load_identities` with the PRs' identities kept beside the cube (governance.inventory.identity_facts,
    kept by the cube's upkeep: bring the cube up to date first), not read from every PR: the rows of every day,
    and those of the PRs without a day (never merged, no creation time), read through their partial index. The
    same rows as `load_identities`' (in another order)."""
    kept = read_facts(warehouse, "identity_facts", dt.date(1, 1, 1))
    undated = assign_team_column(read_unmerged_signals(warehouse, _PR_COLUMNS, None), "pull_requests", config.teams)
    rows = pl.concat([kept.select("id", "team", "day", "kind", "name", cost_usd=pl.lit(None, pl.Float64)),
                      pr_identities(undated)])
    return _identities(warehouse, rows, spend, spend_groups)


def _identities(warehouse: Warehouse, pr_rows: pl.DataFrame, spend: pl.DataFrame | None,
                spend_groups: pl.DataFrame | None) -> Identities:
    spent = load_spend_partials(warehouse, spend_groups) if spend is None else spend_partials(spend)
    usage = read_table(warehouse, "ai_usage", ["id", "team", "date", "tool"]).with_columns(
        team=pl.col("team").fill_null("unassigned"))
    return Identities(pr_rows, pl.concat([partials(pr_rows), spent, partials(usage_identities(usage))]))


# The PRs governance.inventory.pr_identities reads identities from (it drops the others first), and their columns
# it reads (the repo assigns the team).
_WITH_SIGNALS = "ai_signals IS NOT NULL AND ai_signals <> '[]'"
_PR_COLUMNS = ["id", "repo", "team", "created_at", "merged_at", "ai_signals", "ai_tools"]


def load_spend_rows(warehouse: Warehouse) -> pl.DataFrame:
    return read_table(warehouse, "ai_spend", ["id", "team", "date", "tool", "model", "workflow", "cost_usd"]).with_columns(
        team=pl.col("team").fill_null("unassigned"))


def load_spend_groups(warehouse: Warehouse) -> pl.DataFrame:
    """Every ai_spend row summed per tool × model × workflow × team (a null team is `unassigned`, as in
    `load_spend_rows`), in one pass in SQL: `rows`, `cost_usd`, `first_seen`, `last_seen`, ordered by those
    four (nulls first). What the Governance page reads of millions of spend rows (`load_spend_partials`,
    `spend_by_kind`). Grouped by the stored team, so that the index on exactly these columns answers it
    from its entries in their order (`ix_ai_spend_kinds`, migration 0013: no sort, no row read); a null team
    and a stored `unassigned` of the same tool × model × workflow are summed together here."""
    spend = ai_spend_table
    keys = (spend.c.tool, spend.c.model, spend.c.workflow, spend.c.team)
    query = (sa.select(*keys, sa.func.count().label("rows"), sa.func.sum(spend.c.cost_usd).label("cost_usd"),
                       sa.func.min(spend.c.date).label("first_seen"), sa.func.max(spend.c.date).label("last_seen"))
             .group_by(*keys))
    with warehouse.engine.connect() as conn:
        rows = [(r.tool, r.model, r.workflow, r.team, r.rows, None if r.cost_usd is None else float(r.cost_usd),
                 r.first_seen, r.last_seen) for r in conn.execute(query)]
    groups = pl.DataFrame(rows, schema=_GROUPS_SCHEMA, orient="row").with_columns(team=pl.col("team").fill_null("unassigned"))
    by = ["tool", "model", "workflow", "team"]
    if groups.select(by).is_duplicated().any():
        groups = groups.group_by(by, maintain_order=True).agg(
            rows=pl.col("rows").sum(), cost_usd=pl.col("cost_usd").sum(), first_seen=pl.col("first_seen").min(),
            last_seen=pl.col("last_seen").max())
    return groups.sort(by, nulls_last=False).cast(_GROUPS_SCHEMA)


_GROUPS_SCHEMA = {"tool": pl.String, "model": pl.String, "workflow": pl.String, "team": pl.String, "rows": pl.Int64,
                  "cost_usd": pl.Float64, "first_seen": pl.Date, "last_seen": pl.Date}


def load_spend_partials(warehouse: Warehouse, groups: pl.DataFrame | None = None) -> pl.DataFrame:
    """governance.inventory.spend_partials of every ai_spend row, from `load_spend_groups` (read when not
    given): rows, cost, first and last day per tool, model and workflow and team; the example ids (the
    latest of each group's last day) from the rows of those last days only."""
    groups = load_spend_groups(warehouse) if groups is None else groups
    found = pl.concat([
        groups.filter(pl.col(dim).is_not_null() & (pl.col(dim) != "")).group_by(dim, "team").agg(
            rows=pl.col("rows").sum(), cost_usd=pl.col("cost_usd").sum(), first_seen=pl.col("first_seen").min(),
            last_seen=pl.col("last_seen").max())
        .select(kind=pl.lit(f"spend_{dim}"), name=pl.col(dim), team="team", rows="rows", cost_usd="cost_usd",
                first_seen="first_seen", last_seen="last_seen")
        for dim in ("tool", "model", "workflow")
    ])
    if found.height == 0:
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    last_days = sorted(set(found.get_column("last_seen").drop_nulls().to_list()))
    latest = load_spend_rows_of_days(warehouse, last_days)
    examples = pl.concat([
        latest.filter(pl.col(dim).is_not_null() & (pl.col(dim) != ""))
        .join(found.filter(pl.col("kind") == f"spend_{dim}").select("name", "team", "last_seen"),
              left_on=[dim, "team", "date"], right_on=["name", "team", "last_seen"])
        .group_by(dim, "team").agg(ex_id=pl.col("id").sort(descending=True).head(EXAMPLES))
        .select(kind=pl.lit(f"spend_{dim}"), name=pl.col(dim), team="team", ex_id="ex_id")
        for dim in ("tool", "model", "workflow")
    ])
    return (found.join(examples, on=["kind", "name", "team"], how="left")
            .with_columns(ex_id=pl.col("ex_id").fill_null(pl.lit([], pl.List(pl.String))))
            .select(list(PARTIAL_SCHEMA)).cast(PARTIAL_SCHEMA))


def load_spend_rows_of_days(warehouse: Warehouse, days: list[dt.date]) -> pl.DataFrame:
    """`load_spend_rows` of the given days only (through the date index)."""
    if not days:
        return read_where(warehouse, "ai_spend", _SPEND_COLUMNS, "1 = 0").with_columns(team=pl.col("team").fill_null("unassigned"))
    literal = ", ".join(instant_literal(warehouse.dialect, dt.datetime.combine(d, dt.time(), dt.timezone.utc),
                                        ai_spend_table.c.date) for d in days)
    return read_where(warehouse, "ai_spend", _SPEND_COLUMNS, f"date IN ({literal})").with_columns(
        team=pl.col("team").fill_null("unassigned"))


_SPEND_COLUMNS = ["id", "team", "date", "tool", "model", "workflow", "cost_usd"]


def spend_by_kind(groups: pl.DataFrame) -> pl.DataFrame:
    """Spend summed per tool × model × workflow (`cost_usd`, `rows`), from `load_spend_groups`: what
    governance.inventory.inventory reads of the spend rows (which rows its patterns recognise, each once,
    and their cost)."""
    return groups.group_by("tool", "model", "workflow").agg(rows=pl.col("rows").sum(), cost_usd=pl.col("cost_usd").sum())


def load_unapproved_models(warehouse: Warehouse, config: Config, by_kind: pl.DataFrame,
                           visible_teams: frozenset[str] | None = None) -> pl.DataFrame:
    """governance.inventory.unapproved_models of every spend row, reading only the rows of the tool × model
    pairs it flags (found from `by_kind`, `spend_by_kind`'s sums: one row per pair)."""
    pairs = by_kind.select("tool", "model").unique().with_columns(
        id=pl.lit(""), team=pl.lit(""), date=pl.lit(None, pl.Date), cost_usd=pl.lit(0.0))
    flagged = unapproved_models(pairs, config.governance).select("tool", "model")
    if flagged.height == 0:
        return unapproved_models(pairs.clear(), config.governance, visible_teams)
    terms = [f"tool = {_text(tool)} AND " + (f"model = {_text(model)}" if model is not None else "model IS NULL")
             for tool, model in flagged.iter_rows()]
    rows = read_where(warehouse, "ai_spend", _SPEND_COLUMNS, " OR ".join(f"({t})" for t in terms)).with_columns(
        team=pl.col("team").fill_null("unassigned"))
    return unapproved_models(rows, config.governance, visible_teams)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class PolicyStatus:
    verdicts: pl.DataFrame  # governance.policies.VERDICT_SCHEMA
    evidence: pl.DataFrame  # governance.policies.EVIDENCE_SCHEMA
    ranges: dict[str, tuple[dt.date, dt.date]]  # grain → the range judged (the dashboard's default)

    @property
    def pauses(self) -> pl.DataFrame:
        return self.verdicts.filter(pl.col("verdict") == PAUSE)


def has_policies(config: Config) -> bool:
    return any(flow.stop for flow in config.governance.workflows.values())


def policy_status(cube: Cube, config: Config, spend: pl.DataFrame, *, today: dt.date) -> PolicyStatus:
    """Every workflow's stop conditions judged on the scorecard records of the default range."""
    grains = sorted({s.grain for f in config.governance.workflows.values() for s in f.stop if s.metric in METRICS})
    records, periods, ranges = {}, {}, {}
    last_day = cube.last_day()
    for grain in grains:
        start, end = latest_complete_range(last_day, today, grain)
        ranges[grain] = (start, end)
        periods[grain] = period_starts(start, end, grain)
        records[grain] = compute(cube, config, grain=grain, start=start, end=end)
    budgets = None
    if any(s.metric == "budget" for f in config.governance.workflows.values() for s in f.stop):
        as_of = spend.get_column("date").max()
        budgets = budget_vs_actual(spend, config, as_of=as_of) if as_of is not None else None
    verdicts, evidence = evaluate(config.governance.workflows, records, periods, min_sample=config.rules.min_sample,
                                  budgets=budgets)
    return PolicyStatus(verdicts, evidence, ranges)


def _fmt(value, metric: str) -> str:
    return fmt_value(value, _unit(metric))


def _unit(metric: str) -> str:
    """A metric's unit; a budget's is USD."""
    return METRICS[metric].unit if metric in METRICS else "usd"


def pause_message(row: dict, config: Config) -> str:
    flow = config.governance.workflows[row["workflow"]]
    where = f"team {row['team']}" if row["team"] else "the whole org"
    numbers = ""
    if row["value"] is not None:
        against = "budget" if row["metric"] == "budget" else "baseline"
        numbers = f": {_fmt(row['value'], row['metric'])} vs {against} {_fmt(row['baseline'], row['metric'])}"
    return (f"Pause recommended for {flow.name or row['workflow']} ({where}) — {row['rule']}{numbers}, "
            f"{row['grain'] if row['metric'] != 'budget' else 'month'} of {row['period']}")


def policy_alerts(status: PolicyStatus, config: Config) -> pl.DataFrame:
    """Pauses as alerts (metrics.spend.ALERT_SCHEMA, kind `stop_condition`), for `scorecard alerts` and
    its webhook; ids in `[governance] acknowledged` are left out."""
    rows = []
    for row in status.pauses.iter_rows(named=True):
        flow = config.governance.workflows[row["workflow"]]
        rows.append({
            "id": f"{STOP_KIND}:{row['workflow']}:{row['condition']}:{row['team'] or 'org'}:{row['period']}",
            "kind": STOP_KIND, "team": row["team"] or "(org)", "tool": row["workflow"], "date": row["period"],
            "amount_usd": row["value"] if _unit(row["metric"]) == "usd" else None,
            "threshold_usd": row["baseline"] if row["metric"] == "budget" else None,
            "owner": flow.technical_owner or flow.business_owner, "message": pause_message(row, config),
        })
    alerts = pl.DataFrame(rows, schema=ALERT_SCHEMA)
    return alerts.filter(~pl.col("id").is_in(list(config.governance.acknowledged)))
