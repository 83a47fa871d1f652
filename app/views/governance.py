"""How the Governance page shows the inventory, the ghost contributors and the stop-condition verdicts
(pure: frames in, display frames out)."""
from __future__ import annotations

import json

import polars as pl

from reports.format import fmt_delta, fmt_value
from config.governance import RISK_TIERS
from governance.inventory import KIND_WORDS
from config.governance import BUDGET_METRIC
from governance.policies import INSUFFICIENT, OK, PAUSE
from metrics.registry import METRICS

VERDICT_WORDS = {PAUSE: "PAUSE RECOMMENDED", OK: "within its limits", INSUFFICIENT: "not enough data to judge"}
# Where the rows behind a metric are listed (`MetricSpec.drill_down`), and a budget's (the spend page).
DRILL_DOWN = {
    **{m.id: f"app_pages/{m.drill_down}.py" for m in METRICS.values() if m.drill_down},
    BUDGET_METRIC: "app_pages/spend.py",
}


def unit(metric: str) -> str:
    return METRICS[metric].unit if metric in METRICS else "usd"


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.list.join(", ")


def found_table(found: pl.DataFrame) -> pl.DataFrame:
    """Identities as shown: what (in words), name, rows, spend, teams, first and last seen, examples."""
    return found.select(
        what=pl.col("kind").replace_strict(KIND_WORDS, default=pl.col("kind")), name="name", rows="rows",
        cost_usd="cost_usd", teams=_text(pl.col("teams")), first_seen="first_seen", last_seen="last_seen",
        examples=_text(pl.col("examples")),
    )


def inventory_table(items: pl.DataFrame) -> pl.DataFrame:
    return items.select(
        "name", kind="kind", risk=pl.col("risk_tier").cast(pl.String) + ": "
        + pl.col("risk_tier").replace_strict({k: v.split(":")[0] for k, v in RISK_TIERS.items()}, default=""),
        business_owner="business_owner", technical_owner="technical_owner", security_owner="security_owner",
        runs_in="runs_in", data_allowed="data_allowed", approved_models="approved_models", review_gate="review_gate",
        teams="teams", prs="prs", spend_usd="spend_usd", last_seen="last_seen", gaps="gaps",
    )


def verdict_table(verdicts: pl.DataFrame) -> pl.DataFrame:
    """Every condition × scope: workflow, where, the rule, the verdict in words, the latest period's value
    against its baseline (or budget) and the threshold, formatted in the metric's unit."""
    rows = []
    for r in verdicts.iter_rows(named=True):
        u = unit(r["metric"])
        rows.append({
            "workflow": r["workflow"], "where": r["team"] or "whole org", "rule": r["rule"],
            "verdict": VERDICT_WORDS[r["verdict"]], "period": r["period"], "value": fmt_value(r["value"], u),
            "against": fmt_value(r["baseline"], u), "owner": r["owner"],
        })
    return pl.DataFrame(rows, schema={"workflow": pl.String, "where": pl.String, "rule": pl.String, "verdict": pl.String,
                                      "period": pl.Date, "value": pl.String, "against": pl.String, "owner": pl.String})


def evidence_table(evidence: pl.DataFrame, verdict: dict) -> pl.DataFrame:
    """The records behind one verdict, oldest period first, formatted in the metric's unit."""
    team = pl.col("team").is_null() if verdict["team"] is None else pl.col("team") == verdict["team"]
    rows = evidence.filter((pl.col("workflow") == verdict["workflow"]) & (pl.col("condition") == verdict["condition"])
                           & team).sort("period")
    u = unit(verdict["metric"])
    return pl.DataFrame([{
        "period": r["period"], "value": fmt_value(r["value"], u), "baseline": fmt_value(r["baseline"], u),
        "delta": fmt_delta(r["delta"], u), "n": r["n"], "baseline_n": r["baseline_n"], "status": r["status"],
        "p_value": r["test_p"], "fired": r["fired"],
    } for r in rows.iter_rows(named=True)], schema={
        "period": pl.Date, "value": pl.String, "baseline": pl.String, "delta": pl.String, "n": pl.Int64,
        "baseline_n": pl.Int64, "status": pl.String, "p_value": pl.Float64, "fired": pl.Boolean})


def activity(audit: pl.DataFrame, actions: tuple[str, ...] = ("sign-in", "access denied", "view", "export")) -> pl.DataFrame:
    """Who looked at or exported what: the audit rows of those actions as ts, actor, action, what
    (page and team, or export name, format, rows and team), latest first."""
    rows = []
    for r in audit.filter(pl.col("action").is_in(actions)).sort("id", descending=True).iter_rows(named=True):
        try:
            d = json.loads(r["detail"] or "{}")
        except ValueError:
            d = {}
        if r["action"] == "view":
            what = f"{d.get('page')}" + (f", team {d['team']}" if d.get("team") else "")
        elif r["action"] == "export":
            what = (f"{d.get('name')} ({d.get('format')}, {d.get('rows')} rows"
                    + (f", team {d['team']}" if d.get("team") else "") + f") → {d.get('destination')}")
        else:
            what = f"{d.get('method')}: role {d.get('role')}" + (f" ({', '.join(d['teams'])})" if d.get("teams") else "")
        rows.append({"ts": r["ts"], "actor": r["actor"], "action": r["action"], "what": what})
    return pl.DataFrame(rows, schema={"ts": pl.Datetime("us", "UTC"), "actor": pl.String, "action": pl.String,
                                      "what": pl.String})
