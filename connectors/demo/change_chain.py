"""The demo organisation's change chain: the files each PR touched, reviews, people with levels, and
incidents that follow deployments (`scorecard demo`; see connectors/demo/generator.py for the rest).

The story, on the same risky team whose AI-assisted PRs are rolled back more often:
- its deployments that ship AI-assisted PRs cause incidents far more often than other deployments;
- its AI-assisted PRs need follow-up fixes (a "Fix ..." PR touching the same file) far more often;
- its seniors review more and more AI-assisted PRs as adoption grows, while their other reviews fall.

Vectorised like the generator: `--scale large` adds about 2 reviews and 4 files per PR in seconds.
"""
from __future__ import annotations

import numpy as np
import polars as pl

SOURCE = "demo"
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
PATHS_PER_REPO = 2_000  # a repo's files; a PR touches 1-7 of them (about 4)
ENGINEERS_PER_TEAM = 8  # the generator's authors: <team>-dev0 … <team>-dev7
SENIOR_LEVELS = {0: "staff", 1: "senior"}  # dev0 and dev1 of every team; the others are "mid"
PRINCIPAL = "principal-eng"  # a senior in no team: reviews across the org


def add_change_chain(frames: dict[str, pl.DataFrame], *, seed: int, risky_team: str, rollout_us: int,
                     end_us: int) -> dict[str, pl.DataFrame]:
    """`frames` (the generator's tables) with `pull_request_files`, `reviews`, `people`, follow-up fix
    PRs added to `pull_requests`, and incidents caused by deployments added to `incidents`."""
    rng = np.random.default_rng(seed + 16)
    prs = frames["pull_requests"]
    fixes = _follow_up_fixes(rng, prs, risky_team, end_us)
    prs = pl.concat([prs, fixes], how="diagonal_relaxed")
    files = _files(rng, prs, fixes)
    teams = sorted(prs.get_column("team").unique().drop_nulls().to_list())
    out = dict(frames)
    out["pull_requests"] = prs.drop("fixes_pr")
    out["pull_request_files"] = files
    out["people"] = _people(teams)
    out["reviews"] = _reviews(rng, prs, risky_team, rollout_us, end_us)
    out["incidents"] = pl.concat(
        [frames["incidents"], _caused_incidents(rng, prs, frames["deployments"], risky_team, end_us)],
        how="diagonal_relaxed",
    )
    return out


def _follow_up_fixes(rng, prs: pl.DataFrame, risky_team: str, end_us: int) -> pl.DataFrame:
    """A "Fix ..." PR 1-14 days after some merged PRs (the risky team's AI-assisted ones far more often),
    touching one of their files (see `_files`): the rework the story needs."""
    merged = prs.filter(pl.col("merged_at").is_not_null() & ~pl.col("is_revert"))
    risky_ai = (merged["team"] == risky_team) & merged["ai_assisted"]
    p = np.where(risky_ai.to_numpy(), 0.30, np.where(merged["ai_assisted"].to_numpy(), 0.06, 0.04))
    chosen = merged.filter(pl.Series(rng.random(merged.height) < p))
    delay = rng.integers(1 * US_PER_DAY, 14 * US_PER_DAY, chosen.height)
    at = chosen["merged_at"].dt.epoch("us").to_numpy() + delay
    # Merged on a working day, 08:00-19:00 UTC, like the rest of the demo (a weekend day moves to Monday).
    day = at // US_PER_DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    day = day + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    at = day * US_PER_DAY + rng.integers(8 * US_PER_HOUR, 19 * US_PER_HOUR, chosen.height)
    keep = at < end_us
    chosen, at = chosen.filter(pl.Series(keep)), at[keep]
    start = int(prs["number"].max() or 0) + 1
    number = np.arange(start, start + chosen.height)
    return chosen.select(
        "repo", "team", "author",
        id=pl.format("demo:{}#{}", "repo", pl.Series(number)),
        number=pl.Series(number),
        title=pl.lit("Fix ") + pl.col("title"),
        url=pl.format("https://github.example/{}/pull/{}", "repo", pl.Series(number)),
        created_at=pl.Series(at - US_PER_HOUR).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        merged_at=pl.Series(at).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        merge_commit_sha=pl.lit(None, pl.String), labels=pl.lit('["bug"]'), ai_assisted=pl.lit(False),
        ai_signals=pl.lit("[]"), is_revert=pl.lit(False), reverts_pr_id=pl.lit(None, pl.String),
        revert_ref=pl.lit(None, pl.String), source=pl.lit(SOURCE), fixes_pr=pl.col("id"),
    )


def _files(rng, prs: pl.DataFrame, fixes: pl.DataFrame) -> pl.DataFrame:
    """1-7 paths per PR (about 4) from its repo's 2,000; a follow-up fix touches the first file of the PR
    it fixes."""
    n = prs.height
    counts = rng.integers(1, 8, n)
    owner = np.repeat(np.arange(n), counts)
    path = rng.integers(0, PATHS_PER_REPO, len(owner))
    files = pl.DataFrame({"pr_id": prs["id"].to_numpy()[owner], "p": path, "k": np.arange(len(owner))})
    first = files.group_by("pr_id").agg(pl.col("p").sort_by("k").first().alias("fixed_p"))
    fix_files = fixes.select(pr_id="id", fixed="fixes_pr").join(first.rename({"pr_id": "fixed"}), on="fixed").select(
        "pr_id", p="fixed_p"
    )
    return (
        pl.concat([files.select("pr_id", "p"), fix_files])
        .unique(maintain_order=True)
        .select("pr_id", path=pl.format("src/m{}/file{}.py", pl.col("p") // 50, pl.col("p") % 50), source=pl.lit(SOURCE))
    )


def _people(teams: list[str]) -> pl.DataFrame:
    logins, team, level = [], [], []
    for name in teams:
        for k in range(ENGINEERS_PER_TEAM):
            logins.append(f"{name}-dev{k}")
            team.append(name)
            level.append(SENIOR_LEVELS.get(k, "mid"))
    logins.append(PRINCIPAL)
    team.append(None)
    level.append("principal")
    return pl.DataFrame({"login": logins, "team": team, "level": level}).with_columns(
        name=pl.col("login").str.replace_all("-", " ").str.to_titlecase(),
        since=pl.lit(None, pl.Datetime("us", "UTC")),
        emails=pl.format("{}@acme.example", "login"),
        source=pl.lit(SOURCE),
    )


def _reviews(rng, prs: pl.DataFrame, risky_team: str, rollout_us: int, end_us: int) -> pl.DataFrame:
    """About 2 submitted reviews per PR by its team's engineers. On the risky team after the rollout,
    AI-assisted PRs get more reviews, mostly from seniors, and its other PRs fewer senior reviews."""
    n = prs.height
    ai = prs["ai_assisted"].fill_null(False).to_numpy()
    created = prs["created_at"].dt.epoch("us").to_numpy()
    merged = prs["merged_at"].dt.epoch("us").fill_null(end_us).to_numpy()
    risky = (prs["team"] == risky_team).to_numpy() & (merged >= rollout_us)
    k = rng.integers(1, 4, n) + np.where(risky & ai, 2, 0)  # 1-3 reviews, 3-5 on the risky team's AI PRs
    owner = np.repeat(np.arange(n), k)
    p_senior = np.where(risky & ai, 0.8, np.where(risky, 0.12, 0.3))[owner]
    senior = rng.random(len(owner)) < p_senior
    who = np.where(senior, rng.integers(0, 2, len(owner)), rng.integers(2, ENGINEERS_PER_TEAM, len(owner)))
    span = np.maximum(merged - created, US_PER_HOUR)[owner]
    # Most reviews before the merge; one in ten after it (a late comment, picked up by incremental syncs).
    late = rng.random(len(owner)) < 0.1
    at = created[owner] + (rng.random(len(owner)) * span).astype(np.int64) + np.where(late, span, 0)
    keep = at < end_us
    states = np.array(["APPROVED", "COMMENTED", "CHANGES_REQUESTED"], dtype=object)[rng.choice(3, len(owner), p=[0.6, 0.3, 0.1])]
    principal = rng.random(len(owner)) < 0.02
    frame = pl.DataFrame(
        {"pr_id": prs["id"].to_numpy()[owner], "team": prs["team"].to_numpy()[owner], "who": who, "state": states,
         "at": at, "principal": principal, "seq": np.arange(len(owner))}
    ).filter(pl.Series(keep))
    return frame.select(
        id=pl.format("demo:review:{}", "seq"), pr_id="pr_id",
        reviewer=pl.when(pl.col("principal")).then(pl.lit(PRINCIPAL)).otherwise(pl.format("{}-dev{}", "team", "who")),
        state="state", submitted_at=pl.col("at").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), source=pl.lit(SOURCE),
    )


def _caused_incidents(rng, prs: pl.DataFrame, deployments: pl.DataFrame, risky_team: str, end_us: int) -> pl.DataFrame:
    """Incidents starting 1-12 hours after a production deployment: after 15% of the risky team's
    deployments that shipped an AI-assisted PR, 2% of the others. Linked by the inference rule (the
    demo's source gives no link), so an earlier unrelated deployment never takes the blame here."""
    production = deployments.filter(
        (pl.col("environment") == "production") & (pl.col("status") == "success") & ~pl.col("is_rollback").fill_null(False)
    ).select("id", "repo", "team", "finished_at").sort("finished_at")
    merged = prs.filter(pl.col("merged_at").is_not_null()).select("repo", "ai_assisted", finished_at="merged_at").sort("finished_at")
    shipped_ai = (
        merged.join_asof(production.select("repo", "finished_at", dep="id"), on="finished_at", by="repo", strategy="forward",
                       check_sortedness=False)
        .filter(pl.col("ai_assisted") & pl.col("dep").is_not_null())
        .get_column("dep").unique()
    )
    ships_ai = production["id"].is_in(shipped_ai.implode()).to_numpy()
    risky = (production["team"] == risky_team).to_numpy()
    p = np.where(risky & ships_ai, 0.15, 0.02)
    hit = production.filter(pl.Series(rng.random(production.height) < p))
    lag = rng.integers(1 * US_PER_HOUR, 12 * US_PER_HOUR, hit.height)
    started = hit["finished_at"].dt.epoch("us").to_numpy() + lag
    hours = rng.lognormal(np.log(2.5), 0.8, hit.height)
    resolved = started + (hours * US_PER_HOUR).astype(np.int64)
    keep = started < end_us
    hit, started, resolved = hit.filter(pl.Series(keep)), started[keep], resolved[keep]
    utc = pl.Datetime("us", "UTC")
    return hit.select(
        id=pl.format("demo:incident:deploy:{}", pl.int_range(pl.len())),
        title=pl.format("Errors after deploy of {}", "repo"), team="team",
        service=pl.format("{}-svc", "team"), severity=pl.lit("sev2"), ai_assisted=pl.lit(False),
        started_at=pl.Series(started).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        resolved_at=pl.when(pl.Series(resolved) > end_us).then(None).otherwise(
            pl.Series(resolved).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        ).cast(utc),
        source=pl.lit(SOURCE), url=pl.lit(None, pl.String), caused_by_deployment_id=pl.lit(None, pl.String),
    )
