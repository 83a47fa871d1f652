"""Workflow policies: the stop conditions that would pause an AI workflow, judged on the scorecard's own
records (`metrics.scorecard.compute`, the numbers on the tiles) and on the team budgets
(`metrics.spend.budget_vs_actual`).

A condition is judged for each of its scopes — the whole org, the workflow's teams, or every team
(`per_team`) — over the last `periods` periods of the range the caller computed. One period *fires*
when its record says so (see `fires`); a period is *judged* only when its record exists and carries
enough data: n ≥ `min_sample`, and for conditions relative to the baseline a baseline with n ≥
`min_sample` too (a handful of events never pauses a workflow, as it never colours a tile). Verdict:
`pause_recommended` when every one of the periods is judged and fires; `ok` when any judged period does
not fire; else `insufficient_data`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from config.governance import BUDGET_METRIC, StopCondition, WorkflowConfig
from metrics.registry import METRICS

PAUSE, OK, INSUFFICIENT = "pause_recommended", "ok", "insufficient_data"
VERDICT_SCHEMA = {
    "workflow": pl.String, "condition": pl.Int64, "rule": pl.String, "metric": pl.String, "segment": pl.String,
    "grain": pl.String, "team": pl.String, "verdict": pl.String, "period": pl.Date, "value": pl.Float64,
    "baseline": pl.Float64, "threshold": pl.Float64, "owner": pl.String,
}
EVIDENCE_SCHEMA = {
    "workflow": pl.String, "condition": pl.Int64, "team": pl.String, "period": pl.Date, "value": pl.Float64,
    "baseline": pl.Float64, "delta": pl.Float64, "n": pl.Int64, "baseline_n": pl.Int64, "status": pl.String,
    "test_p": pl.Float64, "judged": pl.Boolean, "fired": pl.Boolean,
}


def _amount(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value * 100:.1f} pp" if abs(value) < 1 else f"{value:.0%}"
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "hours":
        return f"{value:,.1f} h"
    return f"{value:,.2f} points"


def _level(value: float, unit: str) -> str:
    return f"{value:.1%}" if unit == "share" else _amount(value, unit).removesuffix(" points")


def describe(stop: StopCondition) -> str:
    """The rule in words (its own `description` when the config gives one)."""
    if stop.description:
        return stop.description
    if stop.metric == BUDGET_METRIC:
        return ("team AI spend over its monthly budget" if stop.when == "over_budget"
                else "team AI spend pacing over its monthly budget")
    spec = METRICS[stop.metric]
    segment = {"all": "", "ai": " of AI-assisted work", "non_ai": " of other work"}[stop.segment]
    what = {
        "worse": "worse than its baseline" + (" (significant at 5%)" if spec.significance_test else ""),
        "above_baseline": f"more than {_amount(stop.threshold, spec.unit)} above its baseline",
        "below_baseline": f"more than {_amount(stop.threshold, spec.unit)} below its baseline",
        "above": f"above {_level(stop.threshold, spec.unit)}",
        "below": f"below {_level(stop.threshold, spec.unit)}",
    }[stop.when]
    when = f"for {stop.periods} consecutive {stop.grain}s" if stop.periods > 1 else f"in the latest {stop.grain}"
    return f"{spec.title}{segment} {what} {when}"


def fires(stop: StopCondition, record: Mapping, min_sample: int) -> tuple[bool, bool]:
    """(judged, fired) for one scorecard record (a dict with the record columns)."""
    n = record.get("n") or 0
    if n < min_sample:
        return False, False
    value, baseline = record.get("value"), record.get("baseline")
    if stop.when == "worse":
        judged = record.get("status") not in ("insufficient_data", "info")
        return judged, judged and record.get("status") == "worse"
    if stop.when in ("above", "below"):
        return True, (value > stop.threshold) if stop.when == "above" else (value < stop.threshold)
    if baseline is None or (record.get("baseline_n") or 0) < min_sample:
        return False, False
    if stop.when == "above_baseline":
        return True, value > baseline + stop.threshold
    return True, value < baseline - stop.threshold


def _scopes(stop: StopCondition, flow: WorkflowConfig, teams_with_records: Sequence[str]) -> list[str | None]:
    if stop.per_team:
        return [t for t in teams_with_records if not flow.teams or t in flow.teams]
    return list(flow.teams) or [None]


def evaluate(
    workflows: Mapping[str, WorkflowConfig],
    records: Mapping[str, pl.DataFrame],
    periods: Mapping[str, Sequence[dt.date]],
    *,
    min_sample: int,
    budgets: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Judge every stop condition. `records[grain]` are scorecard records over a range whose period
    starts are `periods[grain]` (oldest first); `budgets` is `budget_vs_actual` as of the evaluation day.

    Returns (verdicts, evidence): one verdict per workflow × condition × scope (columns VERDICT_SCHEMA,
    `team` null = the whole org; `period`, `value` and `baseline` from the latest period judged), and
    the records behind each (EVIDENCE_SCHEMA), oldest period first. Pauses first in the verdicts.
    """
    verdicts, evidence = [], []
    for flow_id, flow in workflows.items():
        owner = flow.technical_owner or flow.business_owner
        for index, stop in enumerate(flow.stop):
            if stop.metric == BUDGET_METRIC:
                v, e = _budget_verdicts(flow_id, index, stop, flow, budgets)
            else:
                v, e = _record_verdicts(flow_id, index, stop, flow, records.get(stop.grain), periods.get(stop.grain, ()),
                                        min_sample)
            verdicts += [{**row, "owner": owner} for row in v]
            evidence += e
    order = {PAUSE: 0, INSUFFICIENT: 1, OK: 2}
    frame = pl.DataFrame(verdicts, schema=VERDICT_SCHEMA)
    frame = frame.with_columns(_o=pl.col("verdict").replace_strict(order, return_dtype=pl.Int32)).sort(
        "_o", "workflow", "condition", "team", nulls_last=False, maintain_order=True).drop("_o")
    return frame, pl.DataFrame(evidence, schema=EVIDENCE_SCHEMA)


def _record_verdicts(flow_id, index, stop, flow, records, periods, min_sample):
    wanted = list(periods)[-stop.periods:] if periods else []
    rows = pl.DataFrame(schema={"team": pl.String}) if records is None else records.filter(
        (pl.col("metric") == stop.metric) & (pl.col("segment") == stop.segment))
    teams_with_records = sorted(t for t in rows["team"].unique().to_list() if t is not None) if rows.height else []
    by_key = {(r["team"], r["period"]): r for r in rows.iter_rows(named=True)} if rows.height else {}
    verdicts, evidence = [], []
    for team in _scopes(stop, flow, teams_with_records):
        judged_all, fired_all, any_ok = True, True, False
        for period in wanted:
            record = by_key.get((team, period))
            judged, fired = fires(stop, record, min_sample) if record else (False, False)
            judged_all &= judged
            fired_all &= fired
            any_ok |= judged and not fired
            if record:
                evidence.append({
                    "workflow": flow_id, "condition": index, "team": team, "period": period, "value": record["value"],
                    "baseline": record["baseline"], "delta": record["delta"], "n": record["n"],
                    "baseline_n": record.get("baseline_n"), "status": record["status"], "test_p": record.get("test_p"),
                    "judged": judged, "fired": fired,
                })
        verdict = OK if any_ok else (PAUSE if wanted and judged_all and fired_all else INSUFFICIENT)
        latest = by_key.get((team, wanted[-1])) if wanted else None
        verdicts.append(_verdict(flow_id, index, stop, team, verdict, latest, wanted[-1] if wanted else None))
    return verdicts, evidence


def _budget_verdicts(flow_id, index, stop, flow, budgets):
    rows = budgets if budgets is not None else pl.DataFrame(schema={"team": pl.String})
    by_team = {r["team"]: r for r in rows.iter_rows(named=True)} if rows.height else {}
    with_budget = sorted(t for t, r in by_team.items() if r.get("budget_usd") is not None)
    scopes = list(flow.teams) if flow.teams else with_budget
    verdicts, evidence = [], []
    for team in scopes:
        row = by_team.get(team)
        judged = bool(row) and row.get("budget_usd") is not None
        statuses = ("over_budget",) if stop.when == "over_budget" else ("over_budget", "over_pace")
        fired = judged and row["status"] in statuses
        amount = None
        if row:
            amount = row["actual_usd"] if stop.when == "over_budget" else row["projected_usd"]
            evidence.append({
                "workflow": flow_id, "condition": index, "team": team, "period": row["month"], "value": amount,
                "baseline": row["budget_usd"], "delta": None if row["budget_usd"] is None else amount - row["budget_usd"],
                "n": row["days_elapsed"], "baseline_n": None, "status": row["status"], "test_p": None,
                "judged": judged, "fired": fired,
            })
        verdict = PAUSE if fired else (OK if judged else INSUFFICIENT)
        latest = {"value": amount, "baseline": row["budget_usd"] if row else None} if row else None
        verdicts.append(_verdict(flow_id, index, stop, team, verdict, latest, row["month"] if row else None))
    return verdicts, evidence


def _verdict(flow_id, index, stop, team, verdict, latest, period) -> dict:
    return {
        "workflow": flow_id, "condition": index, "rule": describe(stop), "metric": stop.metric,
        "segment": stop.segment, "grain": stop.grain, "team": team, "verdict": verdict, "period": period,
        "value": latest["value"] if latest else None, "baseline": latest["baseline"] if latest else None,
        "threshold": stop.threshold if stop.when not in ("worse", "over_budget", "over_pace") else None,
    }
