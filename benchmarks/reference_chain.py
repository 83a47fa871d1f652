"""The change-chain metrics in plain pandas (DESIGN.md "The scorecard, second set"): deployment frequency,
lead time, change failure rate, MTTR by causing change, rework rate and senior review load.

Part of the pandas reference (benchmarks/reference_pandas.py calls `chain_records`); like it, it imports
nothing from `metrics/`. Where DESIGN.md leaves an edge open it follows the product's documented choice:
an incident's service entry is matched case-insensitively, a PR whose creation is after the finish of
the deployment that shipped it has no lead time, a fix title pattern is Python's `re.search`.
"""
from __future__ import annotations

import fnmatch
import json
import re

import numpy as np
import pandas as pd
from scipy import stats

HOUR = pd.Timedelta(hours=1)
WEEK_SECONDS = 7 * 86_400



def _tool_segments(ref, events: pd.DataFrame) -> pd.DataFrame:
    """DESIGN's settled point: `tool:<name>` segments of lead time and rework, AI-assisted PRs only (a PR
    with two tools counts in both); no `mode:` segments for these metrics."""
    rows = ref._ai_segments(events)
    return rows[rows["segment"].str.startswith("tool:")]

def _hours(delta: pd.Series) -> pd.Series:
    return delta / HOUR


# --- linking -----------------------------------------------------------------------------------------


def incident_causes(incidents: pd.DataFrame, candidates: pd.DataFrame, production_ids: set, link_hours: float,
                    services: dict[str, list[str]]) -> pd.DataFrame:
    """incidents + `cause` (deployment id or NaN) and `cause_counts` (a production non-rollback deployment).
    `candidates`: production deployments that are not rollbacks (id, repo, team, finished_at)."""
    by_team = candidates[candidates["team"] != "unassigned"]
    pools = [by_team.assign(key="team:" + by_team["team"])]
    repos = candidates["repo"].unique()
    for name, globs in services.items():
        matched = [r for r in repos if any(fnmatch.fnmatchcase(r.lower(), g.lower()) for g in globs)]
        pools.append(candidates[candidates["repo"].isin(matched)].assign(key="service:" + name.lower()))
    pool = (pd.concat(pools, ignore_index=True).sort_values(["key", "finished_at", "id"])
            .drop_duplicates(["key", "finished_at"], keep="last"))  # same instant: the highest id
    service = incidents["service"].fillna("").str.lower()
    key = np.where(service.isin({n.lower() for n in services}), "service:" + service,
                   np.where(incidents["team"] != "unassigned", "team:" + incidents["team"], None))
    out = incidents.assign(key=key, row=np.arange(len(incidents)))
    inferred = pd.Series(np.nan, index=out.index, dtype=object)
    keyed = out[out["key"].notna()]
    if link_hours > 0 and len(keyed) and len(pool):
        found = pd.merge_asof(keyed[["row", "key", "started_at"]].sort_values("started_at"),
                              pool[["key", "finished_at", "id"]].sort_values("finished_at"),
                              left_on="started_at", right_on="finished_at", by="key", direction="backward",
                              tolerance=pd.Timedelta(hours=link_hours))
        inferred = found.set_index("row")["id"].reindex(out["row"]).set_axis(out.index)
    cause = out["caused_by_deployment_id"].where(out["caused_by_deployment_id"].notna(), inferred)
    return out.assign(cause=cause, cause_counts=cause.isin(production_ids))


def follow_up_pairs(prs: pd.DataFrame, files: pd.DataFrame, revert_pairs: pd.DataFrame, window_days: float,
                    fix_labels, fix_pattern: str) -> pd.DataFrame:
    """(pr_id, fix_id) for every follow-up fix: `revert_pairs` (revert_id, target_id) or a fix touching a
    file the PR touched; same repo (any case), merged strictly after and within the window."""
    merged = prs[prs["merged_at"].notna()].assign(repo_key=lambda d: d["repo"].str.lower())
    window = pd.Timedelta(days=window_days)

    def within(pairs: pd.DataFrame) -> pd.DataFrame:
        pairs = pairs.merge(merged[["id", "repo_key", "merged_at"]].rename(columns={"id": "pr_id", "repo_key": "p_repo", "merged_at": "p_at"}), on="pr_id")
        pairs = pairs.merge(merged[["id", "repo_key", "merged_at"]].rename(columns={"id": "fix_id", "repo_key": "q_repo", "merged_at": "q_at"}), on="fix_id")
        gap = pairs["q_at"] - pairs["p_at"]
        return pairs[(pairs["p_repo"] == pairs["q_repo"]) & (gap > pd.Timedelta(0)) & (gap <= window)][["pr_id", "fix_id"]]

    by_revert = within(revert_pairs.rename(columns={"revert_id": "fix_id", "target_id": "pr_id"})[["pr_id", "fix_id"]])
    labels = {label.strip().lower() for label in fix_labels}
    compiled = re.compile(fix_pattern)
    label_fix = merged["labels"].map(lambda raw: any(str(x).strip().lower() in labels for x in json.loads(raw or "[]")))
    title_fix = merged["title"].map(lambda t: isinstance(t, str) and compiled.search(t) is not None)
    fixes = merged.loc[label_fix | title_fix, ["id", "repo_key"]]
    paths = files.assign(path=files["path"].str.strip())
    paths = paths[paths["path"].notna() & (paths["path"] != "")].drop_duplicates(["pr_id", "path"])
    q_files = fixes.rename(columns={"id": "fix_id"}).merge(paths.rename(columns={"pr_id": "fix_id"}), on="fix_id")
    p_files = merged[["id", "repo_key"]].rename(columns={"id": "pr_id"}).merge(paths, on="pr_id")
    touching = q_files.merge(p_files, on=["repo_key", "path"])[["pr_id", "fix_id"]].drop_duplicates()
    return pd.concat([by_revert, within(touching)]).drop_duplicates()


def seniors(people: pd.DataFrame, listed, levels) -> pd.DataFrame:
    """login (lower-case), team, since of every senior person."""
    levels = {level.strip().lower() for level in levels}
    listed = {login.strip().lower() for login in listed if login.strip()}
    rows = people.assign(login=people["login"].str.strip().str.lower()).drop_duplicates("login", keep="last")
    senior = rows["level"].fillna("").str.strip().str.lower().isin(levels) | rows["login"].isin(listed)
    found = rows.loc[senior, ["login", "team", "since"]]
    missing = sorted(listed - set(found["login"]))
    extra = pd.DataFrame({"login": missing, "team": "unassigned", "since": pd.Series([pd.NaT] * len(missing), dtype="datetime64[us]")})
    return pd.concat([found, extra], ignore_index=True).assign(team=lambda d: d["team"].fillna("unassigned"))


# --- records ------------------------------------------------------------------------------------------


def _median_interval(values: np.ndarray) -> tuple[float, float]:
    x = np.sort(values)
    n = len(x)
    if n < 2:
        return np.nan, np.nan
    j = max(1, int(np.floor(n / 2 - 0.97998 * np.sqrt(n))))
    k = min(n, int(np.ceil(1 + n / 2 + 0.97998 * np.sqrt(n))))
    return x[j - 1], x[k - 1]


def _values_records(metric: str, events: pd.DataFrame, frame, ref, *, by_median: bool, segments_all: bool,
                    base_events: pd.DataFrame | None = None, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """Records of one-value-per-event metrics (hours): events have `at`, `team`, `segment`, `hours`.
    The baseline is segment all of the same team (from `base_events`, default `events`); `extra`: more
    segments' events (cohort:<name>), counted under their own segment only."""
    current = frame.current(events, "at")
    views = [current.assign(team=ref.ORG), current]
    if segments_all:
        views += [v.assign(segment="all") for v in list(views)]
    if extra is not None and not extra.empty:
        more = frame.current(extra, "at")
        views += [more.assign(team=ref.ORG), more]
    current = pd.concat(views, ignore_index=True)
    base = frame.baseline(events if base_events is None else base_events, "at")
    base = pd.concat([base, base.assign(team=ref.ORG)], ignore_index=True)
    base_values = {team: g["hours"].to_numpy() for team, g in base.groupby("team")}
    rows = []
    for (bucket, team, segment), group in current.groupby(["bucket", "team", "segment"]):
        values = group["hours"].to_numpy()
        b = base_values.get(team, np.array([]))
        low, high = _median_interval(values) if by_median else (np.nan, np.nan)
        rows.append({"bucket": bucket, "team": team, "segment": segment, "n": len(values), "x": values.sum(),
                     "median": np.median(values), "p90": np.quantile(values, 0.9), "values": values,
                     "base_n": len(b), "base_values": b,
                     "baseline": (np.median(b) if by_median else b.mean()) if len(b) else np.nan,
                     "std": values.std(ddof=1) if len(values) > 1 else np.nan, "ci_low": low, "ci_high": high})
    rec = pd.DataFrame(rows)
    if rec.empty:
        return rec
    rec = rec.assign(metric=metric, numerator=rec["x"], value=rec["median"] if by_median else rec["x"] / rec["n"])
    if not by_median:
        half = (1.959963984540054 * rec["std"] / np.sqrt(rec["n"])).where(rec["n"] >= 2)
        rec = rec.assign(ci_low=(rec["value"] - half).clip(0, None), ci_high=(rec["value"] + half).clip(0, None))
    return rec


def _mann_whitney(rec: pd.DataFrame, min_sample: int) -> pd.Series:
    p = pd.Series(np.nan, index=rec.index)
    for i in rec.index[(rec["n"] >= min_sample) & (rec["base_n"] >= min_sample)]:
        p[i] = stats.mannwhitneyu(rec.at[i, "values"], rec.at[i, "base_values"]).pvalue
    return p


def _window_days(frame) -> float:
    lo, hi = frame.window
    return float((hi.normalize() - lo.normalize()).days + 1)


def _days(frame) -> pd.DataFrame:
    starts = frame.periods
    ends = list(starts[1:]) + [frame.end]
    return pd.DataFrame({"bucket": starts, "after": ends, "days": [(b - a).days for a, b in zip(starts, ends)]})


def _zero_grid(frame, teams: list[str], segments: list[str], ref) -> pd.DataFrame:
    grid = _days(frame).merge(pd.DataFrame({"team": [*teams, ref.ORG] if teams else []}), how="cross")
    return grid.merge(pd.DataFrame({"segment": segments}), how="cross")


def chain_records(frames, outcomes: pd.DataFrame, prod: pd.DataFrame, pairs: pd.DataFrame, shipped: pd.Series,
                  revert_pairs: pd.DataFrame, frame_for, ref, *, rules: dict, services: dict,
                  senior_logins, incident_link_hours: float, rework_window_days: float, fix_labels,
                  fix_title_pattern: str, senior_levels, review_tolerance: float) -> dict[str, pd.DataFrame]:
    """Records (with `test_p` / status inputs) per change-chain metric, and MTTR's change segments under
    "mttr_change". `ref` is the reference module (its frame and rollup helpers)."""
    window = pd.Timedelta(days=rules["rollback_window_days"])
    prs = frames["pull_requests"]
    merged = prs[prs["merged_at"].notna()]
    candidates = prod.loc[~prod["rollback"], ["id", "repo", "team", "finished_at"]]
    # What each production deployment shipped.
    ship = merged[["id", "created_at", "merged_at", "team", "ai_assisted", "ai_tools"]].assign(dep=shipped.to_numpy())
    ship = ship.merge(prod[["id", "finished_at"]].rename(columns={"id": "dep", "finished_at": "dep_at"}), on="dep", how="left")
    per_dep = ship[ship["dep"].notna()].groupby("dep").agg(prs=("id", "size"), ai=("ai_assisted", "sum"))
    deps = candidates.join(per_dep, on="id").fillna({"prs": 0, "ai": 0})
    deps["segment"] = np.where(deps["ai"] > 0, "ai", np.where(deps["prs"] > 0, "non_ai", None))
    # Failed: rolled back in the window, a shipped PR reverted (in the window) after it, or an incident.
    rolled = set(pairs.loc[pairs["rollback_at"] - pairs["deployment_at"] <= window, "deployment_id"])
    rv = revert_pairs.merge(ship, left_on="target_id", right_on="id")
    rv = rv[(rv["revert_at"] - rv["merged_at"] <= window) & (rv["revert_at"] > rv["merged_at"]) & (rv["revert_at"] > rv["dep_at"])]
    incidents = incident_causes(frames["incidents"], candidates, set(candidates["id"]), incident_link_hours, services)
    caused = set(incidents.loc[incidents["cause_counts"], "cause"])
    deps["x"] = deps["id"].isin(rolled) | deps["id"].isin(set(rv["dep"])) | deps["id"].isin(caused)
    out = {}

    if deps.empty:
        out["deployment_frequency"] = out["change_failure_rate"] = pd.DataFrame()
    else:
        out.update(_deployment_records(deps, frame_for, ref))
    # lead_time_hours: shipped PRs with a creation time, counted when their deployment finished.
    lead = ship[ship["dep_at"].notna() & ship["created_at"].notna() & (ship["dep_at"] >= ship["created_at"])]
    lead = lead.assign(at=lead["dep_at"], hours=_hours(lead["dep_at"] - lead["created_at"]),
                       segment=np.where(lead["ai_assisted"], "ai", "non_ai"))
    # Its tool:<name> segments (AI-assisted PRs, one row per tool) and cohort:<name> segments (the author's
    # cohort in the PR's merge week, from every merged PR).
    keys = ref._cohort_segments(merged.assign(segment=None))[["id", "segment"]]
    cohorts = lead.drop(columns="segment").merge(keys, on="id")
    rec = _values_records("lead_time_hours", lead, frame_for("lead_time_hours"), ref, by_median=True, segments_all=True,
                          extra=pd.concat([_tool_segments(ref, lead.assign(ai_mode=None)), cohorts], ignore_index=True))
    out["lead_time_hours"] = rec.assign(test_p=_mann_whitney(rec, rules["min_sample"])) if len(rec) else rec

    # mttr_hours' change segments: resolved incidents whose cause shipped PRs; baseline all incidents.
    cause_segment = incidents["cause"].map(deps.set_index("id")["segment"])
    resolved = incidents[incidents["resolved_at"].notna()].assign(
        at=lambda d: d["resolved_at"], hours=lambda d: _hours(d["resolved_at"] - d["started_at"]))
    changed = resolved.assign(segment=cause_segment.reindex(resolved.index).map({"ai": "ai_change", "non_ai": "non_ai_change"}))
    changed = changed[changed["segment"].notna()]
    rec = _values_records("mttr_hours", changed, frame_for("mttr_hours"), ref, by_median=False, segments_all=False,
                          base_events=resolved)
    out["mttr_change"] = rec.assign(test_p=_mann_whitney(rec, rules["min_sample"])) if len(rec) else rec

    # rework_rate: merged PRs with a follow-up fix.
    follow = follow_up_pairs(prs, frames["pull_request_files"], revert_pairs, rework_window_days, fix_labels, fix_title_pattern)
    events = merged.assign(x=merged["id"].isin(set(follow["pr_id"])), segment=np.where(merged["ai_assisted"], "ai", "non_ai"))
    out["rework_rate"] = ref._ratio("rework_rate", events, "merged_at", True, frame_for("rework_rate"),
                                    extra=pd.concat([_tool_segments(ref, events), ref._cohort_segments(events)],
                                                    ignore_index=True))

    # senior_review_load: senior reviews per senior-week, every team with seniors in the period.
    people = seniors(frames["people"], senior_logins, senior_levels)
    reviews = frames["reviews"]
    reviews = reviews[reviews["submitted_at"].notna() & (reviews["state"].str.strip().str.upper() != "PENDING")]
    reviews = reviews.assign(login=reviews["reviewer"].str.strip().str.lower()).merge(people, on="login")
    reviews = reviews[reviews["since"].isna() | (reviews["submitted_at"] >= reviews["since"])]
    ai_prs = set(prs.loc[prs["ai_assisted"], "id"])
    reviews = reviews.assign(x=True, segment=np.where(reviews["pr_id"].isin(ai_prs), "ai", "non_ai"))
    f = frame_for("senior_review_load")
    out["senior_review_load"] = _senior_records(reviews, people, f, ref)
    return out


def _deployment_records(deps: pd.DataFrame, frame_for, ref) -> dict[str, pd.DataFrame]:
    """deployment_frequency and change_failure_rate from the production deployments (not rollbacks)."""
    out = {}
    # deployment_frequency: every period for every team that ever deployed; count / days.
    f = frame_for("deployment_frequency")
    counted = ref._rollup(f.current(deps.assign(segment="all", one=1), "finished_at"), ["one"], False)
    grid = _zero_grid(f, sorted(deps["team"].unique()), ["all"], ref)
    rec = grid.merge(counted[["bucket", "team", "n"]], on=["bucket", "team"], how="left").fillna({"n": 0})
    base = ref._rollup(f.baseline(deps.assign(segment="all", one=1), "finished_at"), ["one"], False)
    rec = rec.merge(base[["team", "n"]].rename(columns={"n": "base_n"}), on="team", how="left")
    rec = rec.assign(metric="deployment_frequency", numerator=rec["n"], value=rec["n"] / rec["days"],
                     denominator_override=rec["days"], baseline=rec["base_n"] / _window_days(f), ci_low=np.nan, ci_high=np.nan)
    out["deployment_frequency"] = rec

    # change_failure_rate: deployments; one that shipped no PR counts in `all` only.
    f = frame_for("change_failure_rate")
    cur = f.current(deps, "finished_at")
    whole = ref._rollup(cur.assign(segment="all"), ["x"], False)
    split = ref._rollup(cur[cur["segment"].notna()], ["x"], True)
    split = split[split["segment"] != "all"]
    rec = ref._with_baseline(pd.concat([whole, split], ignore_index=True),
                             ref._rollup(f.baseline(deps.assign(segment="all"), "finished_at"), ["x"], False), "x")
    out["change_failure_rate"] = _wilson(rec.assign(metric="change_failure_rate", numerator=rec["x"], value=rec["x"] / rec["n"]))
    return out


def _weeks(people: pd.DataFrame, first: pd.Timestamp, after: pd.Timestamp) -> pd.Series:
    start = people["since"].fillna(first).where(people["since"].fillna(first) > first, first)
    seconds = ((after - start).dt.total_seconds()).clip(lower=0).astype(np.int64)
    return pd.Series(seconds / WEEK_SECONDS, index=people.index)


def _senior_records(reviews: pd.DataFrame, people: pd.DataFrame, f, ref) -> pd.DataFrame:
    rows = []
    current = f.current(reviews, "submitted_at")
    counts = ref._rollup(current, ["x"], True)
    counts = counts[counts["segment"] != "non_ai"]
    lo, hi = f.window
    base_weeks = _weeks(people, lo, hi + pd.Timedelta(microseconds=1))
    base_counts = ref._rollup(f.baseline(reviews, "submitted_at"), ["x"], False)
    for _, period in _days(f).iterrows():
        weeks = _weeks(people, period["bucket"], period["after"])
        per_team = weeks.groupby(people["team"]).sum()
        per_team[ref.ORG] = weeks.sum()
        for team, w in per_team.items():
            if w <= 0:
                continue
            for segment in ("all", "ai"):
                hit = counts[(counts["bucket"] == period["bucket"]) & (counts["team"] == team) & (counts["segment"] == segment)]
                n = int(hit["n"].sum())
                rows.append({"bucket": period["bucket"], "team": team, "segment": segment, "n": n, "weeks": w})
    if not rows:
        return pd.DataFrame()
    rec = pd.DataFrame(rows)
    b_weeks = base_weeks.groupby(people["team"]).sum()
    b_weeks[ref.ORG] = base_weeks.sum()
    base = pd.DataFrame({"team": base_counts["team"].astype(object), "base_n": base_counts["n"].astype(float)})
    base = base.assign(b_weeks=base["team"].map(b_weeks).astype(float))
    base = base[base["b_weeks"] > 0]
    rec = rec.merge(base, on="team", how="left")
    return rec.assign(metric="senior_review_load", numerator=rec["n"], value=rec["n"] / rec["weeks"],
                      denominator_override=rec["weeks"], baseline=rec["base_n"] / rec["b_weeks"],
                      ci_low=np.nan, ci_high=np.nan)


def _wilson(rec: pd.DataFrame) -> pd.DataFrame:
    z = 1.959963984540054
    p, n = rec["value"], rec["n"].astype(float)
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return rec.assign(ci_low=(centre - half).clip(0, 1), ci_high=(centre + half).clip(0, 1))
