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

from config.model import Config
from governance.inventory import partials, pr_identities, spend_partials, usage_identities
from governance.policies import PAUSE, evaluate
from metrics.cube import Cube
from metrics.periods import latest_complete_range, period_starts
from metrics.registry import METRICS
from metrics.scorecard import compute
from metrics.spend import ALERT_SCHEMA, budget_vs_actual
from metrics.teams import assign_team_column
from reports.format import fmt_value
from warehouse import Warehouse, read_table

STOP_KIND = "stop_condition"


@dataclass(frozen=True)
class Identities:
    """What AI the warehouse names: the PRs' identities row by row (for the inventory's PR counts) and
    every identity summed per kind × name × team (governance.inventory.partials)."""

    prs: pl.DataFrame
    partials: pl.DataFrame


def load_identities(warehouse: Warehouse, config: Config, spend: pl.DataFrame | None = None) -> Identities:
    """Every AI identity the warehouse names (governance.inventory), teams assigned as the pages do."""
    prs = assign_team_column(read_table(warehouse, "pull_requests", ["id", "repo", "team", "created_at", "merged_at",
                                                                      "ai_signals", "ai_tools"]), "pull_requests", config.teams)
    spend = load_spend_rows(warehouse) if spend is None else spend
    usage = read_table(warehouse, "ai_usage", ["id", "team", "date", "tool"]).with_columns(
        team=pl.col("team").fill_null("unassigned"))
    pr_rows = pr_identities(prs)
    return Identities(pr_rows, pl.concat([partials(pr_rows), spend_partials(spend), partials(usage_identities(usage))]))


def load_spend_rows(warehouse: Warehouse) -> pl.DataFrame:
    return read_table(warehouse, "ai_spend", ["id", "team", "date", "tool", "model", "workflow", "cost_usd"]).with_columns(
        team=pl.col("team").fill_null("unassigned"))


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
