"""A synthetic organisation that tells the story a VP recognises (`scorecard demo`).

- An AI rollout 32 weeks before the end: before it a few pilots; after it adoption ramps to ~45% of
  merged PRs (labels, agent bot authors, Co-authored-by trailers, "Generated with" bodies — the same
  rules real data goes through).
- One team ("payments" in the small org) whose AI-assisted PRs are rolled back far more often than its
  other PRs (rolled-back deployments and reverts).
- Incidents resolved faster when AI tooling helped the response.
- Support deflection rising as an AI bot takes tickets, while one team's ("mobile") CSAT slips.
- AI spend from the rollout on, priced as vendors bill it (seats; tokens × list price per model), differing
  by team and tool; coding agents move from Opus to Sonnet, so the cost per unit falls; one spike (a
  runaway code-review agent) three weeks before the end.

Everything is vectorised with numpy so that `--scale large` (about 1M PRs, 300k deployments, 50k
incidents, 2M tickets and 5M spend rows over 50 teams and 3 years) takes seconds, not hours. The same
seed and end date give the same rows, ids included.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from config.model import AiDetectionConfig
from connectors.common.ai_detection import classify_prs
from connectors.common.normalise import to_json_list
from connectors.common.reverts import revert_columns
from connectors.demo.change_chain import add_change_chain
from connectors.demo.vendor_usage import people_usage

SOURCE = "demo"
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR


@dataclass(frozen=True)
class Scale:
    teams: int
    repos: int
    weeks: int
    prs: int
    deployments: int
    incidents: int
    tickets: int
    spend_rows_per_team_day: int  # tools × models × workflows
    # Which teams carry the story's effects (indexes into the team list).
    risky_team: int = 0
    csat_slip_team: int = 2


SCALES = {
    # ~1.2 incidents per team per week (a busy but healthy org), not 4.
    "small": Scale(teams=6, repos=20, weeks=78, prs=15_000, deployments=8_000, incidents=560, tickets=20_000,
                   spend_rows_per_team_day=5),
    "large": Scale(teams=50, repos=400, weeks=156, prs=1_000_000, deployments=300_000, incidents=50_000,
                   tickets=2_000_000, spend_rows_per_team_day=90),
}

SMALL_TEAMS = ["payments", "platform", "mobile", "web", "data", "growth"]
ROLLOUT_WEEKS_BEFORE_END = 32
SPIKE_DAYS_BEFORE_END = 21

_VERBS = ["Add", "Fix", "Refactor", "Remove", "Update", "Speed up", "Harden", "Document", "Migrate", "Simplify"]
_NOUNS = ["retry logic", "cache layer", "webhook handler", "login flow", "rate limiter", "search index", "CSV export",
          "billing job", "feature flag", "API client", "schema migration", "error page", "metrics endpoint",
          "queue consumer", "checkout form", "push notifications", "audit trail", "onboarding email"]
_AI_BOTS = ["copilot-swe-agent[bot]", "devin-ai-integration[bot]", "chatgpt-codex-connector[bot]"]
_TRAILERS = [
    "Co-Authored-By: Claude <noreply@anthropic.com>",
    "Co-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
    "Made-with: Cursor",
    "Assisted-by: Gemini",
]
_BODY_MARKERS = ["🤖 Generated with [Claude Code](https://claude.com/claude-code)", "Generated with Codex"]


def team_names(scale: Scale) -> list[str]:
    if scale.teams <= len(SMALL_TEAMS):
        return SMALL_TEAMS[: scale.teams]
    return SMALL_TEAMS + [f"team-{i:02d}" for i in range(len(SMALL_TEAMS), scale.teams)]


def _hex(rng: np.random.Generator, n: int, length: int = 40) -> np.ndarray:
    raw = rng.integers(0, 16, size=(n, length), dtype=np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[raw]
    return chars.view(f"S{length}").ravel().astype(str)


def _ramp(t: np.ndarray, rollout: int, end: int, low: float, high: float) -> np.ndarray:
    """Adoption over time: `low` before the rollout, an S-curve up to `high` by the end."""
    x = (t - rollout) / max(end - rollout, 1)
    s = 1 / (1 + np.exp(-10 * (x - 0.35)))
    return np.where(t < rollout, low, low + (high - low) * s)


def _choice(rng, options: list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _utc(us: np.ndarray) -> pl.Series:
    return pl.Series(us.astype(np.int64)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def resized(scale: Scale, prs: int) -> Scale:
    """`scale` with `prs` pull requests and its deployments, incidents and tickets in the same proportion
    to them; the teams, repos, weeks and spend per team-day stay (the benchmark's 100k and 3M-PR runs)."""
    factor = prs / scale.prs
    return replace(scale, prs=prs, deployments=max(1, round(scale.deployments * factor)),
                   incidents=max(1, round(scale.incidents * factor)), tickets=max(1, round(scale.tickets * factor)))


def generate(scale_name: str = "small", *, seed: int = 7, end: dt.date, ai_detection: AiDetectionConfig | None = None,
             prs: int | None = None) -> dict[str, pl.DataFrame]:
    """The demo organisation as warehouse frames (table name → frame), ending on `end` (UTC); `prs`
    resizes the scale (see `resized`)."""
    scale = SCALES[scale_name] if prs is None else resized(SCALES[scale_name], prs)
    rng = np.random.default_rng(seed)
    teams = team_names(scale)
    end_us = int(dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc).timestamp() * 1_000_000) + US_PER_DAY
    start_us = end_us - scale.weeks * 7 * US_PER_DAY
    rollout_us = end_us - ROLLOUT_WEEKS_BEFORE_END * 7 * US_PER_DAY

    repo_team = np.arange(scale.repos) % scale.teams
    repo_names = np.array([f"acme/{teams[t]}-{'svc' if i < scale.teams else f'svc{i // scale.teams}'}" for i, t in enumerate(repo_team)], dtype=object)

    deployments, base_dep_times, base_dep_repo, base_dep_sha = _base_deployments(rng, scale, start_us, end_us)
    prs = _pull_requests(rng, scale, teams, repo_team, repo_names, start_us, end_us, rollout_us)
    # Which base deployment ships each PR: the first one of its repo at or after the merge.
    order = np.lexsort((base_dep_times, base_dep_repo))
    dep_repo_sorted, dep_time_sorted = base_dep_repo[order], base_dep_times[order]
    key_dep = dep_repo_sorted.astype(np.int64) * (1 << 40) + (dep_time_sorted - start_us)
    key_pr = prs["repo_idx"].astype(np.int64) * (1 << 40) + (prs["merged"] - start_us)
    pos = np.searchsorted(key_dep, key_pr, side="left")
    valid = pos < len(key_dep)
    valid[valid] &= dep_repo_sorted[pos[valid]] == prs["repo_idx"][valid]
    ship = np.where(valid, order[np.minimum(pos, len(order) - 1)], -1)

    risky_pr = prs["ai"] & (repo_team[prs["repo_idx"]] == scale.risky_team)
    # Deployments carrying a risky AI PR are rolled back far more often.
    risky_dep = np.zeros(len(base_dep_times), dtype=bool)
    risky_dep[ship[risky_pr & (ship >= 0)]] = True
    ai_dep = np.zeros(len(base_dep_times), dtype=bool)
    ai_dep[ship[prs["ai"] & (ship >= 0)]] = True
    p_rollback = np.where(risky_dep, 0.10, np.where(ai_dep, 0.025, 0.02))
    rolled = rng.random(len(base_dep_times)) < p_rollback
    deployments = _add_rollbacks(rng, deployments, rolled, base_dep_times, base_dep_repo, base_dep_sha, end_us)

    pr_frame, revert_frame = _pr_frames(rng, prs, teams, repo_team, repo_names, risky_pr, end_us)
    pr_frame = pl.concat([pr_frame, revert_frame], how="diagonal_relaxed")
    pr_frame = classify_prs(pr_frame, ai_detection or AiDetectionConfig(), source=SOURCE)
    pr_frame = revert_columns(pr_frame).with_columns(labels=to_json_list(pl.col("labels")))
    pr_frame = pr_frame.drop("body", "commit_messages", "ai_explicit", strict=False)

    dep_frame = pl.DataFrame(
        {
            "id": np.char.add("demo:deploy:", np.arange(len(deployments["time"])).astype(str)),
            "repo": repo_names[deployments["repo"]],
            "team": np.asarray(teams, dtype=object)[repo_team[deployments["repo"]]],
            "environment": deployments["env"],
            "sha": deployments["sha"],
            "status": deployments["status"],
            "is_rollback": pl.Series(deployments["flag"].tolist(), dtype=pl.Boolean),
        }
    ).with_columns(finished_at=_utc(deployments["time"]), source=pl.lit(SOURCE), url=pl.lit(None, pl.String))

    frames = {
        "pull_requests": pr_frame.with_columns(source=pl.lit(SOURCE)),
        "deployments": dep_frame,
        "incidents": _incidents(rng, scale, teams, start_us, end_us, rollout_us),
        "tickets": _tickets(rng, scale, teams, start_us, end_us, rollout_us),
        "ai_spend": _priced_spend(rng, scale, teams, start_us, end_us, rollout_us),
        "ai_usage": _usage(rng, scale, teams, start_us, end_us, rollout_us),
        "ai_usage_people": people_usage(teams, end=end, seed=seed),  # issue 18: per person, three tools
    }
    return add_change_chain(frames, seed=seed, risky_team=teams[scale.risky_team], rollout_us=rollout_us, end_us=end_us)


def _workday_times(rng, n: int, start_us: int, end_us: int) -> np.ndarray:
    """`n` instants on weekdays between 08:00 and 19:00 UTC."""
    days = (end_us - start_us) // US_PER_DAY
    day = rng.integers(0, days, n * 2)
    weekday = (dt.datetime.fromtimestamp(start_us / 1e6, dt.timezone.utc).weekday() + day) % 7
    day = day[weekday < 5][:n]
    if len(day) < n:  # pragma: no cover - only with absurdly short ranges
        day = np.resize(day, n)
    return start_us + day * US_PER_DAY + rng.integers(8 * US_PER_HOUR, 19 * US_PER_HOUR, n)


def _base_deployments(rng, scale: Scale, start_us: int, end_us: int):
    n = int(scale.deployments * 0.93)  # the rest are added as rollbacks and non-production noise
    repo = rng.integers(0, scale.repos, n)
    times = _workday_times(rng, n, start_us, end_us)
    sha = _hex(rng, n)
    deployments = {"repo": repo, "time": times, "sha": sha, "env": np.full(n, "production", dtype=object),
                   "status": np.full(n, "success", dtype=object), "flag": np.full(n, None, dtype=object)}
    return deployments, times, repo, sha


def _add_rollbacks(rng, deployments, rolled, times, repos, shas, end_us):
    """For each rolled-back deployment D, a rollback R a few hours after it that redeploys the sha that
    was live before D (so T exists and D lies between), flagged by the source half of the time."""
    order = np.lexsort((times, repos))
    prev = np.full(len(times), -1)
    same_repo = repos[order][1:] == repos[order][:-1]
    prev[order[1:][same_repo]] = order[:-1][same_repo]
    idx = np.flatnonzero(rolled & (prev >= 0))
    r_time = times[idx] + rng.integers(1 * US_PER_HOUR, 30 * US_PER_HOUR, len(idx))
    keep = r_time < end_us
    idx, r_time = idx[keep], r_time[keep]
    flag = np.where(rng.random(len(idx)) < 0.5, True, None).astype(object)
    # Noise the metrics must ignore: staging deploys and failed production deploys.
    n_noise = max(int(len(times) * 0.05), 1)
    noise_src = rng.integers(0, len(times), n_noise)
    noise_env = np.where(rng.random(n_noise) < 0.6, "staging", "production").astype(object)
    noise_status = np.where(noise_env == "staging", "success", "failure").astype(object)
    return {
        "repo": np.concatenate([deployments["repo"], repos[idx], repos[noise_src]]),
        "time": np.concatenate([deployments["time"], r_time, times[noise_src] - rng.integers(1, 3 * US_PER_HOUR, n_noise)]),
        "sha": np.concatenate([deployments["sha"], shas[prev[idx]], _hex(rng, n_noise)]),
        "env": np.concatenate([deployments["env"], np.full(len(idx), "production", dtype=object), noise_env]),
        "status": np.concatenate([deployments["status"], np.full(len(idx), "success", dtype=object), noise_status]),
        "flag": np.concatenate([deployments["flag"], flag, np.full(n_noise, None, dtype=object)]),
    }


def _pull_requests(rng, scale: Scale, teams, repo_team, repo_names, start_us, end_us, rollout_us):
    n = scale.prs
    merged = _workday_times(rng, n, start_us, end_us)
    repo_idx = rng.integers(0, scale.repos, n)
    p_ai = _ramp(merged, rollout_us, end_us, 0.02, 0.48)
    ai = rng.random(n) < p_ai
    return {"merged": merged, "repo_idx": repo_idx, "ai": ai}


def _pr_frames(rng, prs, teams, repo_team, repo_names, risky_pr, end_us):
    n = len(prs["merged"])
    ai = prs["ai"]
    team_idx = repo_team[prs["repo_idx"]]
    number = np.arange(1, n + 1)
    titles = _titles_for_teams(rng, [teams[t] for t in team_idx])
    engineers = np.array([f"{teams[t]}-dev{k}" for t in range(len(teams)) for k in range(8)], dtype=object)
    author = engineers[team_idx * 8 + rng.integers(0, 8, n)]
    how = rng.integers(0, 4, n)  # which AI signal an AI-assisted PR carries
    author = np.where(ai & (how == 1), _choice(rng, _AI_BOTS, n), author)
    labels = [["ai-assisted"] if (a and h == 0) else (["bug"] if r < 0.2 else []) for a, h, r in zip(ai, how, rng.random(n))]
    messages = np.where(ai & (how == 2), _choice(rng, _TRAILERS, n), "Small change").astype(object)
    body = np.where(ai & (how == 3), _choice(rng, _BODY_MARKERS, n), None).astype(object)
    merge_sha = _hex(rng, n)
    created = prs["merged"] - rng.integers(1 * US_PER_HOUR, 72 * US_PER_HOUR, n)
    repos = repo_names[prs["repo_idx"]]
    pr_frame = pl.DataFrame(
        {
            "id": [f"demo:{r}#{k}" for r, k in zip(repos, number)],
            "repo": repos, "number": number, "title": titles, "author": author,
            "team": np.asarray(teams, dtype=object)[team_idx],
            "url": [f"https://github.example/{r}/pull/{k}" for r, k in zip(repos, number)],
            "merge_commit_sha": merge_sha,
            "labels": pl.Series(labels, dtype=pl.List(pl.String)),
            "commit_messages": pl.Series(messages.tolist(), dtype=pl.String).reshape((n, 1)).cast(pl.List(pl.String)),
            "body": pl.Series(body.tolist(), dtype=pl.String),
        }
    ).with_columns(created_at=_utc(created), merged_at=_utc(prs["merged"]))
    # Reverts: risky AI PRs often, others rarely; some land after the window (they must not count).
    p_revert = np.where(risky_pr, 0.22, np.where(ai, 0.012, 0.008))
    reverted = np.flatnonzero(rng.random(n) < p_revert)
    delay = np.where(rng.random(len(reverted)) < 0.85, rng.integers(2 * US_PER_HOUR, 6 * US_PER_DAY, len(reverted)),
                     rng.integers(8 * US_PER_DAY, 20 * US_PER_DAY, len(reverted)))
    when = prs["merged"][reverted] + delay
    keep = when < end_us
    reverted, when = reverted[keep], when[keep]
    m = len(reverted)
    rnum = n + 1 + np.arange(m)
    style = rng.integers(0, 2, m)  # GitHub's revert button (title) or `git revert` (commit sha)
    rtitle = np.array([f'Revert "{t}"' for t in titles[reverted]], dtype=object)
    rbody = np.where(style == 0, "Reverts " + repos[reverted] + "#" + number[reverted].astype(str),
                     np.char.add("This reverts commit ", merge_sha[reverted].astype(str)).astype(object))
    rrepos = repos[reverted]
    revert_frame = pl.DataFrame(
        {
            "id": [f"demo:{r}#{k}" for r, k in zip(rrepos, rnum)],
            "repo": rrepos, "number": rnum, "title": rtitle, "author": author[reverted],
            "team": np.asarray(teams, dtype=object)[team_idx[reverted]],
            "url": [f"https://github.example/{r}/pull/{k}" for r, k in zip(rrepos, rnum)],
            "merge_commit_sha": _hex(rng, m),
            "labels": pl.Series([[] for _ in range(m)], dtype=pl.List(pl.String)),
            "commit_messages": pl.Series([["Revert"] for _ in range(m)], dtype=pl.List(pl.String)),
            "body": pl.Series(rbody.tolist(), dtype=pl.String),
        }
    ).with_columns(created_at=_utc(when - US_PER_HOUR), merged_at=_utc(when))
    return pr_frame, revert_frame


def _incidents(rng, scale: Scale, teams, start_us, end_us, rollout_us) -> pl.DataFrame:
    n = scale.incidents
    started = rng.integers(start_us, end_us, n)
    team_idx = rng.integers(0, scale.teams, n)
    ai = rng.random(n) < _ramp(started, rollout_us, end_us, 0.0, 0.65)
    hours = rng.lognormal(mean=np.log(3.0), sigma=0.9, size=n) * np.where(ai, 0.5, 1.0)
    resolved = started + (hours * US_PER_HOUR).astype(np.int64)
    open_ = resolved > end_us
    severity = _choice(rng, ["sev1", "sev2", "sev3", "sev3", "sev4"], n)
    names = np.asarray(teams, dtype=object)
    return pl.DataFrame(
        {
            "id": np.char.add("demo:incident:", np.arange(n).astype(str)),
            "title": (_choice(rng, ["Elevated errors in", "Latency spike in", "Outage of", "Degraded"], n) + " "
                      + names[team_idx] + "-svc").astype(object),
            "team": names[team_idx], "service": (names[team_idx] + "-svc").astype(object), "severity": severity,
            "ai_assisted": ai,
        }
    ).with_columns(
        started_at=_utc(started),
        resolved_at=pl.when(pl.Series(open_)).then(None).otherwise(_utc(resolved)),
        source=pl.lit(SOURCE), url=pl.lit(None, pl.String), caused_by_deployment_id=pl.lit(None, pl.String),
    )


def _tickets(rng, scale: Scale, teams, start_us, end_us, rollout_us) -> pl.DataFrame:
    n = scale.tickets
    resolved = rng.integers(start_us, end_us, n)
    team_idx = rng.integers(0, scale.teams, n)
    p_bot = _ramp(resolved, rollout_us, end_us, 0.0, 0.38)
    u = rng.random(n)
    channel = np.where(u < p_bot, "ai_bot", np.where(u < p_bot + 0.22, "self_serve", "human")).astype(object)
    base = np.where(channel == "human", 4.3, np.where(channel == "self_serve", 4.2, 4.25))
    # The slipping team's bot gives poor answers: its CSAT falls as the bot takes more of its tickets.
    base = np.where((team_idx == scale.csat_slip_team) & (channel == "ai_bot"), 2.6, base)
    score = np.clip(np.rint(base + rng.normal(0, 0.8, n)), 1, 5)
    scored = rng.random(n) < 0.4
    return pl.DataFrame(
        {
            "id": np.char.add("demo:ticket:", np.arange(n).astype(str)),
            "team": np.asarray(teams, dtype=object)[team_idx], "channel": channel,
            "csat": pl.Series(np.where(scored, score, np.nan)).fill_nan(None),
        }
    ).with_columns(
        created_at=_utc(resolved - rng.integers(10 * 60_000_000, 48 * US_PER_HOUR, n)),
        resolved_at=_utc(resolved), source=pl.lit(SOURCE),
    )


def _days(start_us: int, end_us: int) -> np.ndarray:
    first = np.datetime64(dt.datetime.fromtimestamp(start_us / 1e6, dt.timezone.utc).date(), "D")
    return first + np.arange((end_us - start_us) // US_PER_DAY)


def _usage(rng, scale: Scale, teams, start_us, end_us, rollout_us) -> pl.DataFrame:
    days = _days(start_us, end_us)
    day_us = start_us + np.arange(len(days)) * US_PER_DAY
    adoption = _ramp(day_us, rollout_us, end_us, 0.05, 0.85)
    d = np.repeat(np.arange(len(days)), scale.teams)
    t = np.tile(np.arange(scale.teams), len(days))
    seats = np.where(day_us[d] < rollout_us, 2, 10)
    active = np.minimum(seats, np.rint(seats * adoption[d] * rng.uniform(0.8, 1.0, len(d)))).astype(np.int64)
    suggestions = (active * rng.integers(20, 60, len(d))).astype(np.int64)
    return pl.DataFrame(
        {
            "d": d, "t": t,
            "team": np.asarray(teams, dtype=object)[t], "tool": "github-copilot",
            "seats": seats.astype(np.int64), "active_users": active,
            "engaged_users": (active * 0.7).astype(np.int64), "suggestions": suggestions,
            "acceptances": (suggestions * 0.3).astype(np.int64),
            "prs_created_by_agent": rng.poisson(adoption[d] * 1.5).astype(np.int64),
        }
    ).with_columns(id=pl.format("demo:usage:{}:{}", "d", "t"), date=pl.Series(days[d]), source=pl.lit(SOURCE)).drop("d", "t")


# --- issue 13: a demo that tells a true story -----------------------------------------------------
# Titles that fit their team's repos, and AI spend priced the way vendors bill it: per-seat tools by
# seats (no tokens), API tools by tokens × the model's list price, different per team and tool, with
# workflows that cut across tools.

_TEAM_NOUNS = {
    "payments": ["refund flow", "invoice PDF", "card tokenisation", "payout job", "ledger reconciliation",
                 "3-D Secure challenge", "currency rounding", "chargeback webhook"],
    "platform": ["Kubernetes autoscaler", "CI cache", "service mesh config", "secrets rotation", "Terraform module",
                 "log shipping", "base image", "deploy pipeline"],
    "mobile": ["push notifications", "offline sync", "iOS widget", "Android deep links", "app start time",
               "biometric login", "in-app review prompt", "crash reporter"],
    "web": ["checkout form", "search page", "cookie banner", "SSR hydration", "design tokens", "image lazy loading",
            "account settings page", "sitemap"],
    "data": ["dbt model", "Airflow DAG", "event schema", "warehouse partitioning", "feature store", "ETL backfill",
             "data quality checks", "Kafka consumer"],
    "growth": ["onboarding email", "referral codes", "A/B test flag", "pricing page", "signup funnel events",
               "trial expiry banner", "UTM tracking", "win-back campaign"],
}
_TEAM_PLACES = {
    "payments": ["", " for EU cards", " in the payout worker", " (PCI)"],
    "platform": ["", " in staging", " for the EU cluster", " (v2)"],
    "mobile": ["", " on iOS", " on Android", " for tablets"],
    "web": ["", " on desktop", " for logged-out users", " (v2)"],
    "data": ["", " for finance", " in the nightly run", " (v2)"],
    "growth": ["", " for trials", " behind flag", " in the EU"],
}


def _titles_for_teams(rng, team_of_pr: list[str]) -> np.ndarray:
    """PR titles in their team's words ("Fix refund flow for EU cards" in payments, never "… on mobile")."""
    n = len(team_of_pr)
    verbs = _choice(rng, _VERBS, n)
    pick, place = rng.integers(0, 1 << 30, n), rng.integers(0, 1 << 30, n)
    out = []
    for i, team in enumerate(team_of_pr):
        nouns, places = _TEAM_NOUNS.get(team, _NOUNS), _TEAM_PLACES.get(team, [""])
        out.append(f"{verbs[i]} {nouns[pick[i] % len(nouns)]}{places[place[i] % len(places)]}")
    return np.asarray(out, dtype=object)


# List prices, USD per 1M tokens, blended for the demo's input:output mix (about 4:1).
MODEL_PRICES = {
    "claude-opus-4": 27.0,    # $15 in / $75 out
    "claude-sonnet-4": 5.4,   # $3 in / $15 out
    "gpt-5": 3.0,             # $1.25 in / $10 out
    "gpt-5-mini": 0.6,        # $0.25 in / $2 out
}
SEAT_PRICE_PER_MONTH = {"copilot": 19.0}  # Copilot Business, per seat
ENGINEERS_PER_TEAM = 8
# How heavily each team uses the API tools (the data team runs big-context agents; growth barely).
_TEAM_INTENSITY = [1.5, 1.3, 0.6, 0.9, 1.8, 0.5]
_MODEL_SWITCH_WEEKS_AFTER_ROLLOUT = 10  # coding agents move from Opus to Sonnet: cost per unit falls


def _spend_combos(per_day: int) -> list[tuple[str, str, str]]:
    """(tool, model, workflow) rows per team and day; the coding-agent workflow spans two tools. The
    model "claude-opus-4" stands for the coding agent's model, switched to Sonnet by date."""
    base = [("github-copilot", "copilot", "seats"), ("anthropic", "claude-opus-4", "coding-agent"),
            ("anthropic", "claude-sonnet-4", "code-review"), ("openai", "gpt-5", "support-bot"),
            ("openai", "gpt-5-mini", "coding-agent")]
    if per_day <= len(base):
        return base[:per_day]
    return [(tool, model, f"{flow}-{i // len(base)}") for i, (tool, model, flow) in
            ((i, base[i % len(base)]) for i in range(per_day))]


def _priced_spend(rng, scale: Scale, teams, start_us, end_us, rollout_us) -> pl.DataFrame:
    """AI spend from the rollout on: Copilot seats (cost = seats × list price, no tokens), API tools
    priced as tokens × the model's list price, usage growing with adoption and differing by team; the
    coding agents switch from Opus to Sonnet some weeks after the rollout; one runaway code-review
    agent day three weeks before the end."""
    days = _days(start_us, end_us)
    day_us = start_us + np.arange(len(days)) * US_PER_DAY
    live = day_us >= rollout_us
    days, day_us = days[live], day_us[live]
    adoption = _ramp(day_us, rollout_us, end_us, 0.05, 1.0)
    combos = _spend_combos(scale.spend_rows_per_team_day)
    n_days, n_teams, n_combo = len(days), scale.teams, len(combos)
    d = np.repeat(np.arange(n_days), n_teams * n_combo)
    t = np.tile(np.repeat(np.arange(n_teams), n_combo), n_days)
    c = np.tile(np.arange(n_combo), n_days * n_teams)
    tool = np.array([x[0] for x in combos], dtype=object)[c]
    model = np.array([x[1] for x in combos], dtype=object)[c]
    flow = np.array([x[2] for x in combos], dtype=object)[c]
    intensity = np.asarray(_TEAM_INTENSITY * (n_teams // len(_TEAM_INTENSITY) + 1))[:n_teams][t]
    switched = day_us[d] >= rollout_us + _MODEL_SWITCH_WEEKS_AFTER_ROLLOUT * 7 * US_PER_DAY
    model = np.where((model == "claude-opus-4") & switched, "claude-sonnet-4", model).astype(object)
    active = ENGINEERS_PER_TEAM * adoption[d] * intensity
    weekday = ((days[d].astype("datetime64[D]").astype(np.int64) + 3) % 7) < 5  # 1970-01-01 was a Thursday
    # Tokens per active engineer per working day; weekends a tenth.
    per_engineer = {"claude-opus-4": 2.2e6, "claude-sonnet-4": 0.75e6, "gpt-5-mini": 0.4e6}
    tokens = np.zeros(len(d))
    for name, amount in per_engineer.items():
        tokens = np.where((model == name) & (flow != "code-review"), active * amount, tokens)
    tokens = np.where(flow == "code-review", active * 0.3e6, tokens)
    # The support bot: ~200k tokens (retrieved articles included) per ticket it answers.
    tokens = np.where(flow == "support-bot", 6 * adoption[d] * 2e5, tokens)
    tokens = tokens * np.where(weekday, 1.0, 0.1) * rng.lognormal(0, 0.2, len(d))
    spike_day = n_days - SPIKE_DAYS_BEFORE_END
    tokens = np.where((d == spike_day) & (t == min(4, n_teams - 1)) & (flow == "code-review"), tokens * 40, tokens)
    price = np.array([MODEL_PRICES.get(m, 0.0) for m in model]) / 1e6
    seat = tool == "github-copilot"
    seats = np.full(len(d), ENGINEERS_PER_TEAM)
    cost = np.where(seat, seats * SEAT_PRICE_PER_MONTH["copilot"] / 30.4375, tokens * price)
    token_col = pl.Series(np.where(seat, 0, tokens).astype(np.int64)).set(pl.Series(seat), None)
    requests = pl.Series((tokens // 6000).astype(np.int64)).set(pl.Series(seat), None)
    return pl.DataFrame(
        {
            "d": d, "t": t, "c": c,
            "team": np.asarray(teams, dtype=object)[t], "tool": tool, "model": model,
            "workflow": flow, "cost_usd": np.round(cost, 4), "tokens": token_col, "requests": requests,
        }
    ).with_columns(
        id=pl.format("demo:spend:{}:{}:{}", "d", "t", "c"), date=pl.Series(days[d]), source=pl.lit(SOURCE)
    ).drop("d", "t", "c")
