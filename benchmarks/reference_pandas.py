"""The scorecard in plain pandas: what an analyst would write without the product.

It follows DESIGN.md "Definitions" and "The scorecard" on its own: tables read from the SQLite file
with `pd.read_sql_query`, rows linked with `merge` / `merge_asof`, numbers made with `groupby`. It
imports nothing from `metrics/`, so when the two agree on the same data, each checks the other. The
benchmark times it beside the product (benchmarks/run.py).

Where DESIGN.md leaves an edge open, this follows the product's documented choice: a flagged rollback
whose T is the deployment just before it rolls back nothing; a source's `deployment_prs` wins (its
earliest production deployment); a source's `reverts_pr_id` wins over the parsed reference when it
names a PR merged before the revert (else the lookups get their turn); a configured baseline window
runs through the whole end day.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks import reference_chain

Z = 1.959963984540054
ALPHA = 0.05
EPS = 1e-9  # "more than the tolerance" with float slack: 4.0 is not more than 0.2 below 4.2
ORG = "\x00org"  # the whole org while grouping; null in the output
METRIC_ORDER = ("ai_merge_rate", "rollback_share", "mttr_hours", "deflection_rate", "csat", "ai_cost_per_unit",
                "deployment_frequency", "lead_time_hours", "change_failure_rate", "rework_rate", "senior_review_load")
SEGMENT_ORDER = {"all": 0, "ai": 1, "non_ai": 2, "ai_change": 3, "non_ai_change": 4}
OUTPUT_COLUMNS = ["metric", "grain", "period", "team", "segment", "value", "numerator", "denominator", "n",
                  "ci_low", "ci_high", "baseline", "delta", "status", "median", "p90"]

COLUMNS = {
    "pull_requests": ["id", "repo", "number", "title", "author", "team", "created_at", "merged_at", "merge_commit_sha",
                      "ai_assisted", "is_revert", "reverts_pr_id", "revert_ref", "labels", "ai_tools", "ai_mode"],
    "deployments": ["id", "repo", "team", "environment", "sha", "finished_at", "status", "is_rollback"],
    "deployment_prs": ["deployment_id", "pr_id"],
    "incidents": ["id", "team", "service", "started_at", "resolved_at", "ai_assisted", "caused_by_deployment_id"],
    "tickets": ["id", "team", "resolved_at", "channel", "csat"],
    "ai_spend": ["date", "team", "cost_usd"],
    "pull_request_files": ["pr_id", "path"],
    "reviews": ["id", "pr_id", "reviewer", "state", "submitted_at"],
    "people": ["login", "team", "level", "since"],
}
_TIMES = {"pull_requests": ["created_at", "merged_at"], "deployments": ["finished_at"],
          "incidents": ["started_at", "resolved_at"], "tickets": ["resolved_at"], "ai_spend": ["date"],
          "reviews": ["submitted_at"], "people": ["since"]}
_FLAGS = {"pull_requests": ["ai_assisted", "is_revert"], "incidents": ["ai_assisted"]}


# --- reading ------------------------------------------------------------------------------------


def load_sqlite(path: str) -> dict[str, pd.DataFrame]:
    """The evidence tables of a SQLite warehouse file, only the columns the scorecard needs."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        frames = {t: pd.read_sql_query(f"SELECT {', '.join(cols)} FROM {t}", con) for t, cols in COLUMNS.items()}
    finally:
        con.close()
    return {table: _conform(table, frame) for table, frame in frames.items()}


def load_frames_from_polars(evidence) -> dict[str, pd.DataFrame]:
    """The same frames from a `metrics.evidence.Evidence` (polars), for tests."""
    return {t: _conform(t, getattr(evidence, t).select(cols).to_pandas()) for t, cols in COLUMNS.items()}


def _conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Naive-UTC datetime64[us] times, bool flags, a nullable `is_rollback`, whatever the source."""
    frame = frame.copy()
    for col in _TIMES.get(table, []):
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            if values.dt.tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        else:  # SQLite: integer microseconds since the epoch, or integer days for dates
            values = pd.to_datetime(values, unit="D" if col == "date" else "us")
        frame[col] = values.astype("datetime64[us]")
    for col in _FLAGS.get(table, []):
        frame[col] = frame[col].fillna(False).astype(bool)
    if table == "deployments":
        frame["is_rollback"] = frame["is_rollback"].astype("boolean")
    if table == "pull_requests":
        frame["number"] = frame["number"].astype("Int64")
    if "team" in frame:
        frame["team"] = frame["team"].fillna("unassigned")
    return frame


# --- linking: rollbacks, shipping, reverts --------------------------------------------------------


def _production(deployments: pd.DataFrame, environments) -> pd.DataFrame:
    envs = [e.lower() for e in environments]
    keep = (deployments["status"].str.lower().eq("success") & deployments["environment"].str.lower().isin(envs)
            & deployments["finished_at"].notna())
    return deployments[keep].assign(env_key=lambda d: d["environment"].str.lower())


def _rollbacks(production: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Production deployments with `rollback`, and the (rollback, rolled-back deployment) pairs."""
    prod = production.sort_values(["repo", "env_key", "finished_at", "id"], ignore_index=True)
    prod["idx"] = prod.groupby(["repo", "env_key"]).cumcount()
    # T: the most recent earlier deployment of the same sha in the same repo and environment.
    prod["t_idx"] = prod.groupby(["repo", "env_key", "sha"])["idx"].shift()
    sha_rule = prod["t_idx"].notna() & (prod["idx"] - prod["t_idx"] >= 2)
    flag = prod["is_rollback"]
    prod["rollback"] = np.where(flag.isna(), sha_rule, flag.fillna(False).astype(bool))
    # R rolls back everything strictly between T and R; flagged without such a T (none, or the live sha
    # redeployed), the one just before it.
    lo = np.where(sha_rule, prod["t_idx"] + 1, prod["idx"] - 1).astype(np.int64)
    hi = prod["idx"].to_numpy() - 1
    takes = prod["rollback"].to_numpy() & (lo >= 0) & (lo <= hi)
    rows = np.flatnonzero(takes)
    counts = (hi - lo + 1)[takes]
    first = rows - prod["idx"].to_numpy()[takes] + lo[takes]  # rows are contiguous per repo/environment
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    victims = np.repeat(first, counts) + offsets
    pairs = pd.DataFrame({
        "rollback_at": np.repeat(prod["finished_at"].to_numpy()[rows], counts),
        "deployment_id": prod["id"].to_numpy()[victims],
        "deployment_at": prod["finished_at"].to_numpy()[victims],
    })
    return prod, pairs


def _shipped_in(merged: pd.DataFrame, prod: pd.DataFrame, deployment_prs: pd.DataFrame) -> pd.Series:
    """The id of the deployment that shipped each merged PR, on `merged`'s index (NaN: not shipped yet)."""
    candidates = (prod.loc[~prod["rollback"], ["repo", "finished_at", "id"]]
                  .sort_values(["finished_at", "id"]).drop_duplicates(["repo", "finished_at"])
                  .rename(columns={"id": "first_id"}))
    first = pd.merge_asof(merged[["repo", "merged_at"]].rename_axis("row").reset_index().sort_values("merged_at"),
                          candidates, left_on="merged_at", right_on="finished_at", by="repo", direction="forward")
    shipped = first.set_index("row")["first_id"].reindex(merged.index)
    if deployment_prs.empty:
        return shipped
    named = (deployment_prs.merge(prod[["id", "finished_at"]].rename(columns={"id": "deployment_id"}), on="deployment_id")
             .sort_values(["pr_id", "finished_at", "deployment_id"]).drop_duplicates("pr_id")
             .set_index("pr_id")["deployment_id"])
    return merged["id"].map(named).fillna(shipped)


def _reverted_pairs(merged: pd.DataFrame) -> pd.DataFrame:
    """One row per merged revert that found its reverted PR: revert_id, revert_at, target_id."""
    is_revert = merged["is_revert"] | merged["revert_ref"].notna() | merged["reverts_pr_id"].notna()
    reverts = merged.loc[is_revert, ["id", "repo", "merged_at", "reverts_pr_id", "revert_ref"]].rename(
        columns={"id": "revert_id", "merged_at": "revert_at"})
    explicit = reverts[reverts["reverts_pr_id"].notna()].assign(target_id=lambda d: d["reverts_pr_id"])
    parsed = reverts[reverts["revert_ref"].notna()]
    ref = pd.DataFrame(parsed["revert_ref"].map(json.loads).tolist(), index=parsed.index)
    ref = ref.reindex(columns=["repo", "number", "sha", "title"]).astype(
        {"repo": "str", "number": "Int64", "sha": "str", "title": "str"}).add_prefix("ref_")
    parsed = parsed.join(ref)
    targets = merged[["id", "repo", "number", "title", "merge_commit_sha", "merged_at"]].rename(
        columns={"id": "target_id", "merged_at": "target_at", "number": "target_number"})

    def lookup(reverts, targets, left_on, right_on, rank):
        found = reverts.merge(targets, left_on=left_on, right_on=right_on, suffixes=("", "_t"))
        return found[found["target_at"] < found["revert_at"]].assign(rank=rank)

    by_number = parsed[parsed["ref_number"].notna()].assign(key_repo=lambda d: d["ref_repo"].fillna(d["repo"]))
    found = [lookup(explicit, targets.drop(columns="repo"), ["target_id"], ["target_id"], 0),
             lookup(by_number, targets, ["key_repo", "ref_number"], ["repo", "target_number"], 1)]
    with_sha = parsed[parsed["ref_sha"].notna()].assign(prefix=lambda d: d["ref_sha"].str.lower())
    target_sha = targets["merge_commit_sha"].str.lower()
    for length in with_sha["prefix"].str.len().unique():  # one merge per prefix length (7-40)
        prefixed = targets[target_sha.str.len() >= length].assign(prefix=target_sha.str[:length])
        shas = with_sha[with_sha["prefix"].str.len() == length]
        found.append(lookup(shas, prefixed, ["repo", "prefix"], ["repo", "prefix"], 2))
    # Titles compare without a trailing " (#n)" (revision 2).
    titled = parsed[parsed["ref_title"].notna()].assign(key_title=lambda d: d["ref_title"].str.replace(r"\s*\(#\d+\)\s*$", "", regex=True).str.strip())
    found.append(lookup(titled, targets.assign(key_title=targets["title"].str.replace(r"\s*\(#\d+\)\s*$", "", regex=True).str.strip()),
                        ["repo", "key_title"], ["repo", "key_title"], 3))
    columns = ["revert_id", "revert_at", "target_id", "target_at", "target_number", "rank"]
    candidates = pd.concat([f.reindex(columns=columns) for f in found])
    # The first lookup that finds one; among its matches the latest merged, then the highest number.
    return (candidates.sort_values(["revert_id", "rank", "target_at", "target_number", "target_id"],
                                   ascending=[True, True, False, False, True], na_position="last")
            .drop_duplicates("revert_id")[["revert_id", "revert_at", "target_id"]])


def pr_outcomes(frames: dict[str, pd.DataFrame], production_environments, rollback_window_days: float) -> pd.DataFrame:
    """One row per merged PR: id, merged_at, team, ai_assisted, rolled_back."""
    window = pd.Timedelta(days=rollback_window_days)
    prs = frames["pull_requests"]
    merged = prs[prs["merged_at"].notna()]
    prod, pairs = _rollbacks(_production(frames["deployments"], production_environments))
    rolled_back_deployments = pairs.loc[pairs["rollback_at"] - pairs["deployment_at"] <= window, "deployment_id"]
    shipped = _shipped_in(merged, prod, frames["deployment_prs"])
    reverts = _reverted_pairs(merged).merge(merged[["id", "merged_at"]], left_on="target_id", right_on="id")
    # The reverted PR merged before the revert (DESIGN.md "Revert"), for a source's own link too.
    elapsed = reverts["revert_at"] - reverts["merged_at"]
    reverted = reverts.loc[(elapsed > pd.Timedelta(0)) & (elapsed <= window), "target_id"]
    out = merged[["id", "merged_at", "team", "author", "ai_assisted", "ai_tools", "ai_mode"]].copy()
    out["rolled_back"] = shipped.isin(set(rolled_back_deployments)) | out["id"].isin(set(reverted))
    return out


# --- aggregation -----------------------------------------------------------------------------------


def _period_start(ts: pd.Series, grain: str) -> pd.Series:
    days = ts.to_numpy().astype("datetime64[D]")
    if grain == "week":  # day 0 (1970-01-01) was a Thursday: (day + 3) % 7 is 0 on Mondays
        first = days - (days.view("int64") + 3) % 7
    else:
        first = days.astype("datetime64[M]").astype("datetime64[D]")
    return pd.Series(first.astype("datetime64[us]"), index=ts.index)


class _Frame:
    """The report's periods and one metric's baseline window, and how events fall into them."""

    def __init__(self, grain: str, start: dt.date, end: dt.date, window: tuple[pd.Timestamp, pd.Timestamp]):
        freq = {"week": "W-MON", "month": "MS"}[grain]
        self.grain, self.periods = grain, pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=freq)
        last = self.periods[-1]
        self.end = last + (pd.Timedelta(days=7) if grain == "week" else pd.offsets.MonthBegin(1))
        self.window = window

    def current(self, events: pd.DataFrame, ts: str) -> pd.DataFrame:
        inside = events[(events[ts] >= self.periods[0]) & (events[ts] < self.end)]
        return inside.assign(bucket=_period_start(inside[ts], self.grain))

    def baseline(self, events: pd.DataFrame, ts: str) -> pd.DataFrame:
        lo, hi = self.window
        return events[(events[ts] >= lo) & (events[ts] <= hi)].assign(bucket=lo)


def _rollup(events: pd.DataFrame, sums: list[str], segments: bool) -> pd.DataFrame:
    """n and `sums` per bucket × team × segment, with the whole org (team ORG) and segment 'all' added."""
    keys = ["bucket", "team"] + (["segment"] if segments else [])
    grouped = events.groupby(keys, sort=False)
    fine = grouped[sums].sum().assign(n=grouped.size()).reset_index()
    levels = []
    for by_team in (True, False):
        for by_segment in ((True, False) if segments else (False,)):
            by = ["bucket"] + (["team"] if by_team else []) + (["segment"] if by_segment else [])
            part = fine.groupby(by, sort=False)[["n", *sums]].sum().reset_index()
            levels.append(part.assign(**({} if by_team else {"team": ORG}), **({} if by_segment else {"segment": "all"})))
    return pd.concat(levels, ignore_index=True)


def _with_baseline(current: pd.DataFrame, base: pd.DataFrame, total: str) -> pd.DataFrame:
    base = base.loc[base["segment"] == "all", ["team", "n", total]].rename(columns={"n": "base_n", total: "base_total"})
    return current.merge(base, on="team", how="left").assign(baseline=lambda d: d["base_total"] / d["base_n"])


def _segmented(events: pd.DataFrame, flag: str) -> pd.DataFrame:
    return events.assign(segment=np.where(events[flag], "ai", "non_ai"))


def _ai_segments(events: pd.DataFrame) -> pd.DataFrame:
    """The AI-assisted PRs' events again, as `tool:<name>` (one row per tool) and `mode:<mode>`."""
    ai = events[events["ai_assisted"]]
    tools = ai.assign(tool=ai["ai_tools"].fillna("[]").map(json.loads)).explode("tool").dropna(subset=["tool"])
    modes = ai.dropna(subset=["ai_mode"])
    return pd.concat([tools.assign(segment="tool:" + tools["tool"].astype(str)).drop(columns="tool"),
                      modes.assign(segment="mode:" + modes["ai_mode"])], ignore_index=True)


def _cohort_segments(events: pd.DataFrame) -> pd.DataFrame:
    """Merged PRs' events again as `cohort:<name>`: the author's share of AI-assisted PRs among their
    merged PRs of the merge week (Monday, UTC) and the three weeks before — none 0, light < 25 %,
    moderate 25–60 %, heavy > 60 %. Bots (`…[bot]`) and PRs without an author: no cohort."""
    m = events[events["author"].notna() & ~events["author"].astype(str).str.endswith("[bot]")]
    m = m.assign(week=_period_start(m["merged_at"], "week"), ai=m["ai_assisted"].fillna(False).astype(bool))
    weekly = m.groupby(["author", "week"], as_index=False).agg(n=("id", "size"), ai=("ai", "sum"))
    trailing = pd.concat([weekly.assign(week=weekly["week"] + pd.Timedelta(weeks=k)) for k in range(4)]).groupby(
        ["author", "week"], as_index=False)[["n", "ai"]].sum()
    share = trailing["ai"] / trailing["n"]
    trailing["segment"] = "cohort:" + pd.Series(np.select([share == 0, share < 0.25, share <= 0.60],
                                                          ["none", "light", "moderate"], "heavy"), index=trailing.index)
    keyed = m.drop(columns=["segment", "ai"], errors="ignore").merge(trailing[["author", "week", "segment"]],
                                                                     on=["author", "week"])
    return keyed.drop(columns="week")


def _ratio(metric: str, events: pd.DataFrame, ts: str, segments: bool, frame: _Frame,
           extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """events carry `x` (counted in the numerator); `extra`: more segments' events, counted in no other."""
    events = events if segments else events.assign(segment="all")
    current = _rollup(frame.current(events, ts), ["x"], segments)
    if extra is not None and not extra.empty:
        more = _rollup(frame.current(extra, ts), ["x"], True)
        current = pd.concat([current, more[more["segment"] != "all"]], ignore_index=True)
    rec = _with_baseline(current, _rollup(frame.baseline(events, ts), ["x"], False), "x")
    rec = rec.assign(metric=metric, numerator=rec["x"], value=rec["x"] / rec["n"])
    p = rec["value"]
    n = rec["n"].astype(float)
    denom = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denom
    half = Z / denom * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return rec.assign(ci_low=(centre - half).clip(0, 1), ci_high=(centre + half).clip(0, 1))


def _mean_interval(rec: pd.DataFrame, low: float | None, high: float | None) -> pd.DataFrame:
    half = (Z * rec["std"] / np.sqrt(rec["n"])).where(rec["n"] >= 2)
    return rec.assign(ci_low=(rec["value"] - half).clip(low, high), ci_high=(rec["value"] + half).clip(low, high))


def _csat(tickets: pd.DataFrame, frame: _Frame) -> pd.DataFrame:
    scored = tickets[tickets["resolved_at"].notna() & tickets["csat"].notna()]
    scored = scored.assign(segment=np.where(scored["channel"].str.lower().eq("ai_bot"), "ai", "non_ai"),
                           x=scored["csat"], x2=scored["csat"] ** 2)
    rec = _with_baseline(_rollup(frame.current(scored, "resolved_at"), ["x", "x2"], True),
                         _rollup(frame.baseline(scored, "resolved_at"), ["x", "x2"], False), "x")
    variance = ((rec["x2"] - rec["x"] ** 2 / rec["n"]) / (rec["n"] - 1)).clip(lower=0)
    rec = rec.assign(metric="csat", numerator=rec["x"], value=rec["x"] / rec["n"], std=np.sqrt(variance))
    return _mean_interval(rec, 1.0, 5.0)


def _views(events: pd.DataFrame) -> pd.DataFrame:
    """Each event under its team and the whole org, its segment and 'all'."""
    by_team = pd.concat([events, events.assign(team=ORG)], ignore_index=True)
    return pd.concat([by_team, by_team.assign(segment="all")], ignore_index=True)


def _mttr(incidents: pd.DataFrame, frame: _Frame, min_sample: int) -> pd.DataFrame:
    resolved = incidents[incidents["resolved_at"].notna() & incidents["started_at"].notna()]
    resolved = _segmented(resolved, "ai_assisted").assign(
        hours=(resolved["resolved_at"] - resolved["started_at"]) / pd.Timedelta(hours=1))
    current = _views(frame.current(resolved, "resolved_at")).groupby(["bucket", "team", "segment"])["hours"]
    rec = current.agg(n="size", x="sum", std="std", median="median").join(current.quantile(0.9).rename("p90"))
    base_values = _views(frame.baseline(resolved, "resolved_at")).query("segment == 'all'").groupby("team")["hours"]
    base = base_values.agg(n="size", x="sum").reset_index().assign(segment="all")
    rec = _with_baseline(rec.reset_index(), base, "x")
    rec = _mean_interval(rec.assign(metric="mttr_hours", numerator=rec["x"], value=rec["x"] / rec["n"]), 0.0, None)
    # Rule 5: Mann-Whitney U of the period's durations against the baseline's (scipy's defaults).
    tested = rec.index[(rec["n"] >= min_sample) & (rec["base_n"] >= min_sample)]
    p_values = pd.Series(np.nan, index=rec.index)
    for i in tested:
        row = rec.loc[i]
        sample = current.get_group((row["bucket"], row["team"], row["segment"])).to_numpy()
        p_values[i] = stats.mannwhitneyu(sample, base_values.get_group(row["team"]).to_numpy()).pvalue
    return rec.assign(test_p=p_values)


def _cost(frames, outcomes: pd.DataFrame, frame: _Frame) -> pd.DataFrame:
    spend = frames["ai_spend"].rename(columns={"date": "at", "cost_usd": "x"}).assign(segment="all")
    tickets, incidents = frames["tickets"], frames["incidents"]
    units = [outcomes[["merged_at", "team"]].rename(columns={"merged_at": "at"}),
             tickets.loc[tickets["resolved_at"].notna(), ["resolved_at", "team"]].rename(columns={"resolved_at": "at"}),
             incidents.loc[incidents["resolved_at"].notna(), ["resolved_at", "team"]].rename(columns={"resolved_at": "at"})]

    def per_team(select) -> pd.DataFrame:
        cost = _rollup(select(spend, "at"), ["x"], False).rename(columns={"n": "rows"})
        counted = pd.concat([_rollup(select(u.assign(segment="all"), "at"), [], False) for u in units])
        counted = counted.groupby(["bucket", "team"], as_index=False)["n"].sum()
        return cost.merge(counted, on=["bucket", "team"])  # no record without spend rows or without units

    rec = per_team(frame.current)
    base = per_team(frame.baseline)[["team", "n", "x"]].rename(columns={"n": "base_n", "x": "base_total"})
    rec = rec.merge(base, on="team", how="left")
    return rec.assign(metric="ai_cost_per_unit", segment="all", numerator=rec["x"], value=rec["x"] / rec["n"],
                      baseline=rec["base_total"] / rec["base_n"], ci_low=np.nan, ci_high=np.nan)


# --- status ------------------------------------------------------------------------------------------


def _two_proportion_p(rec: pd.DataFrame) -> pd.Series:
    x1, n1, x2, n2 = rec["x"], rec["n"], rec["base_total"], rec["base_n"]
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    p = pd.Series(2 * stats.norm.sf(np.abs(z)), index=rec.index)
    return p.where((pooled > 0) & (pooled < 1))  # pooled 0 or 1: nothing to test


def _status(rec: pd.DataFrame, metric: str, csat: pd.DataFrame, rules: dict) -> pd.Series:
    """DESIGN.md "Status": the first numbered rule that applies."""
    value, baseline = rec["value"], rec["baseline"]
    at = pd.Series("at_baseline", index=rec.index)
    if metric in ("rollback_share", "deflection_rate"):
        significant = _two_proportion_p(rec) < ALPHA
        good = value > baseline if metric == "deflection_rate" else value < baseline
        verdict = at.mask(significant & good, "better").mask(significant & ~good, "worse")
        if metric == "deflection_rate":
            guard = csat.loc[csat["segment"] == "all", ["bucket", "team", "n", "base_n", "value", "baseline"]]
            joined = rec[["bucket", "team"]].merge(guard, on=["bucket", "team"], how="left", suffixes=("", "_c"))
            fires = ((joined["n"] >= rules["min_sample"]) & (joined["base_n"] >= rules["min_sample"])
                     & (joined["value"] < joined["baseline"] - rules["csat_tolerance"] - EPS))
            verdict = verdict.mask(fires.to_numpy(), "worse")
    elif metric in ("change_failure_rate", "rework_rate"):
        significant = _two_proportion_p(rec) < ALPHA
        verdict = at.mask(significant & (value < baseline), "better").mask(significant & (value > baseline), "worse")
    elif metric in ("mttr_hours", "lead_time_hours"):  # lead time: direction by the median (its value)
        significant = rec["test_p"] < ALPHA
        verdict = at.mask(significant & (value < baseline), "better").mask(significant & (value > baseline), "worse")
    elif metric == "senior_review_load":
        tol = rules["review_tolerance"]
        verdict = at.mask(value < baseline * (1 - tol) - EPS, "better").mask(value > baseline * (1 + tol) + EPS, "worse")
        verdict = verdict.mask(rec["segment"] == "ai", "info")  # no pre-AI comparison for AI reviews
    elif metric == "deployment_frequency":
        return pd.Series("info", index=rec.index)
    elif metric == "csat":
        tol = rules["csat_tolerance"]
        verdict = at.mask(value > baseline + tol + EPS, "better").mask(value < baseline - tol - EPS, "worse")
    else:
        tol = rules["cost_tolerance"]
        verdict = at.mask(value < baseline * (1 - tol) - EPS, "better").mask(value > baseline * (1 + tol) + EPS, "worse")
    n_low = rec["n"] < rules["min_sample"]
    return pd.Series(np.select(
        [n_low, pd.Series(metric == "ai_merge_rate", index=rec.index) | baseline.isna()
         | ((metric == "senior_review_load") & (rec["segment"] == "ai")), rec["base_n"] < rules["min_sample"]],
        ["insufficient_data", "info", "insufficient_data"], default=verdict.to_numpy()), index=rec.index)


# --- the scorecard -------------------------------------------------------------------------------------


def _window(metric: str, windows: dict | None, defaults: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    """`baseline_windows[metric]`, else (except for the cost, which has its own default) `baseline_windows["*"]`
    (inclusive dates, through the end of the end day), else the revision-2 default."""
    windows = windows or {}
    chosen = windows.get(metric) or (windows.get("*") if metric != "ai_cost_per_unit" else None)
    if chosen:
        return pd.Timestamp(chosen[0]), pd.Timestamp(chosen[1]) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return defaults["ai_cost_per_unit" if metric == "ai_cost_per_unit" else "*"]


_NONE = (pd.Timestamp("1970-01-02"), pd.Timestamp("1970-01-01"))  # an empty window: no baseline


def default_windows(frames: dict[str, pd.DataFrame], outcomes: pd.DataFrame, min_sample: int,
                    adoption_start: dt.date | None = None) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """DESIGN.md "Default baseline (revision 2)", written again in pandas: "*" the up-to-13 complete weeks
    of the data span before the adoption week (else the first 13, not pre-AI); "ai_cost_per_unit" the 13
    weeks from the first complete week with spend."""
    week, tick = pd.Timedelta(days=7), pd.Timedelta(microseconds=1)
    instants = pd.concat([outcomes["merged_at"], frames["deployments"]["finished_at"]]).dropna()
    if instants.empty:
        return {"*": _NONE, "ai_cost_per_unit": _NONE}
    first, last = instants.min(), instants.max()
    first_week = first.normalize() - pd.Timedelta(days=first.weekday())
    first_week += week if first_week < first else pd.Timedelta(0)
    last_week = last.normalize() - pd.Timedelta(days=last.weekday())
    last_week -= week if last_week + week - tick > last else pd.Timedelta(0)
    if first_week > last_week:
        return {"*": _NONE, "ai_cost_per_unit": _NONE}
    if adoption_start is not None:
        adoption = pd.Timestamp(adoption_start) - pd.Timedelta(days=adoption_start.weekday())
    else:
        merged_week = outcomes["merged_at"].dt.normalize() - pd.to_timedelta(outcomes["merged_at"].dt.day_of_week, unit="D")
        weekly = outcomes.assign(w=merged_week).groupby("w").agg(n=("ai_assisted", "size"), ai=("ai_assisted", "sum"))
        hits = weekly[(weekly["n"] >= min_sample) & (weekly["ai"] >= 0.05 * weekly["n"])]
        adoption = hits.index.min() if len(hits) else None
    begin = end = None
    if adoption is not None:
        begin, end = max(adoption - 13 * week, first_week), min(adoption, last_week + week)
    if begin is None or begin >= end:
        begin, end = first_week, min(first_week + 13 * week, last_week + week)
    out = {"*": (begin, end - tick)}
    spend_days = frames["ai_spend"]["date"]
    spend_weeks = (spend_days - pd.to_timedelta(spend_days.dt.day_of_week, unit="D")).unique()
    candidates = sorted(w for w in spend_weeks if first_week <= w <= last_week)
    if candidates:
        start = pd.Timestamp(candidates[0])
        out["ai_cost_per_unit"] = (start, min(start + 13 * week, last_week + week) - tick)
    else:
        out["ai_cost_per_unit"] = _NONE
    return out


def scorecard(frames: dict[str, pd.DataFrame], *, grain: str, start: dt.date, end: dt.date, min_sample: int = 20,
              rollback_window_days: float = 7, production_environments=("production", "prod"),
              csat_tolerance: float = 0.2, cost_tolerance: float = 0.10,
              baseline_windows: dict[str, tuple[dt.date, dt.date]] | None = None,
              incident_link_hours: float = 24, rework_window_days: float = 21,
              fix_labels=("bug", "fix", "hotfix", "regression"),
              fix_title_pattern: str = r"(?i)^(\[[^\]]*\]\s*)?(fix(es|ed)?|hotfix|bugfix)\b",
              senior_levels=("senior", "staff", "principal"), senior_logins=(), review_tolerance: float = 0.2,
              services: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One record per metric × period × team (None: whole org) × segment, in DESIGN.md's output columns."""
    if grain not in ("week", "month"):
        raise ValueError(f"grain must be week or month, not '{grain}'")
    rules = {"min_sample": min_sample, "csat_tolerance": csat_tolerance, "cost_tolerance": cost_tolerance,
             "review_tolerance": review_tolerance, "rollback_window_days": rollback_window_days}
    periods = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq={"week": "W-MON", "month": "MS"}[grain])
    if len(periods) == 0:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)

    outcomes = pr_outcomes(frames, production_environments, rollback_window_days)
    defaults = default_windows(frames, outcomes, min_sample)

    def frame(metric: str) -> _Frame:
        return _Frame(grain, start, end, _window(metric, baseline_windows, defaults))

    prs = frames["pull_requests"]
    merged = prs[prs["merged_at"].notna()]
    prod, pairs = _rollbacks(_production(frames["deployments"], production_environments))
    chain = reference_chain.chain_records(
        frames, outcomes, prod, pairs, _shipped_in(merged, prod, frames["deployment_prs"]), _reverted_pairs(merged),
        frame, sys.modules[__name__], rules=rules, services=services or {}, senior_logins=senior_logins,
        incident_link_hours=incident_link_hours, rework_window_days=rework_window_days, fix_labels=fix_labels,
        fix_title_pattern=fix_title_pattern, senior_levels=senior_levels, review_tolerance=review_tolerance)
    tickets = frames["tickets"]
    resolved = tickets[tickets["resolved_at"].notna()]
    records = {
        "ai_merge_rate": _ratio("ai_merge_rate", outcomes.assign(x=outcomes["ai_assisted"]), "merged_at", False,
                                frame("ai_merge_rate")),
        "rollback_share": _ratio("rollback_share", _segmented(outcomes, "ai_assisted").assign(x=outcomes["rolled_back"]),
                                 "merged_at", True, frame("rollback_share"),
                                 extra=pd.concat([_ai_segments(outcomes.assign(x=outcomes["rolled_back"])),
                                                  _cohort_segments(outcomes.assign(x=outcomes["rolled_back"]))],
                                                 ignore_index=True)),
        "mttr_hours": _mttr(frames["incidents"], frame("mttr_hours"), min_sample),
        "deflection_rate": _ratio(
            "deflection_rate", resolved.assign(x=resolved["channel"].str.lower().isin(["self_serve", "ai_bot"])),
            "resolved_at", False, frame("deflection_rate")),
        "csat": _csat(tickets, frame("csat")),
        "ai_cost_per_unit": _cost(frames, outcomes, frame("ai_cost_per_unit")),
        **{m: chain[m] for m in METRIC_ORDER[6:]},
    }
    if len(chain["mttr_change"]):
        records["mttr_hours"] = pd.concat([records["mttr_hours"], chain["mttr_change"]], ignore_index=True)
    out = []
    for metric in METRIC_ORDER:
        rec = records[metric]
        if rec.empty:
            continue
        rec = rec.assign(status=_status(rec, metric, records["csat"], rules))
        if metric == "deployment_frequency":  # rules 1 and 3 do not apply: always info
            rec = rec.assign(status="info")
        out.append(rec)
    result = pd.concat(out, ignore_index=True)
    override = result["denominator_override"] if "denominator_override" in result else pd.Series(np.nan, index=result.index)
    result = result.reindex(columns=[*OUTPUT_COLUMNS, "bucket"])
    result = result.assign(
        grain=grain, denominator=override.fillna(result["n"].astype(float)), delta=result["value"] - result["baseline"],
        numerator=result["numerator"].astype(float), n=result["n"].astype(np.int64),
        _m=result["metric"].map({m: i for i, m in enumerate(METRIC_ORDER)}), _s=result["segment"].map(SEGMENT_ORDER),
    ).sort_values(["_m", "bucket", "team", "_s"], ignore_index=True)
    result["period"] = result["bucket"].dt.date
    result["team"] = pd.Series(np.where(result["team"] == ORG, None, result["team"]), dtype=object)
    return result[OUTPUT_COLUMNS]
