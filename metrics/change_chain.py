"""The change chain, written once (DESIGN.md "The scorecard, second set"): which deployment caused an
incident, which PRs that deployment shipped, which production deployments failed, and which later PRs
were follow-up fixes of a merged PR. Every link carries how it was made, so `scorecard explain` and the
drill-downs can say why.

Pure: frames in, frames out. `chain_facts` is the one the scorecard, the drill-down and the exports read.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from config.model import Config
from metrics.evidence import Evidence
from metrics.linking import detect_rollbacks, production_deployments, resolve_reverts
from metrics.teams import UNASSIGNED

_FMT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class ChainFacts:
    """What the change-chain metrics read.

    - `deployments`: every production deployment that is not a rollback, one row each: `id, repo,
      environment, team, finished_at, url, shipped_prs` (count), `ai_prs` (count), `segment` ("ai",
      "non_ai", or null when it shipped no PR), `failed` (bool), `failed_how` (the first of "rolled back",
      "reverted PR", "caused incident"), `failed_by` (the rollback, the revert PR or the incident),
      `failed_reason` (words for the drill-down).
    - `incidents`: every incident: its own columns plus `caused_by_deployment_id`, `cause_how`
      ("source" / "inferred" / null), `cause_rule` (words: which rule and window), `cause_production`
      (the cause is a production deployment that is not a rollback), `cause_segment` ("ai_change",
      "non_ai_change", or null), `cause_prs` (the ids of the PRs the cause shipped).
    - `follow_ups`: one row per (P, Q) pair, Q a follow-up fix of P: `pr_id, fix_id, fix_merged_at,
      how` ("revert" or "fix touching <path>").
    """

    deployments: pl.DataFrame
    incidents: pl.DataFrame
    # `follow_ups`, computed on first use: a page that shows only incidents and deployments (Delivery) does
    # not pay for matching every PR's files and fix titles.
    _follow_ups: Callable[[], pl.DataFrame] = field(repr=False, compare=False)
    # `follow_ups_in`: the same from the PRs and files (the evidence's, or those given) of some repos
    # (lower-cased names) only; with `first`, `first_fixes` of them (`first_follow_ups`).
    _follow_ups_in: Callable[[frozenset[str], pl.DataFrame | None, bool], pl.DataFrame] = field(repr=False, compare=False)
    # `first_fixes`, computed on first use likewise
    _first_fixes: Callable[[], pl.DataFrame] = field(repr=False, compare=False)
    _by_repos: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def follow_ups(self) -> pl.DataFrame:
        return self._follow_ups()

    @cached_property
    def first_fixes(self) -> pl.DataFrame:
        """`first_fixes(follow_ups)` (each PR's first follow-up fix and how many) from the same match, without a
        row of text per pair (`first_follow_ups`): what the rework events are made of (metrics/rework.py). A
        dense organisation's PRs pair with their fixes by the millions; the cube's build needs only the first."""
        return self._first_fixes()

    def follow_ups_in(self, repos, files: pl.DataFrame | None = None) -> pl.DataFrame:
        """The rows of `follow_ups` whose P is a PR of `repos` (compared case-insensitively), found from
        those repos' PRs and files only: a follow-up fix is a PR of P's repo, so they are the same rows
        (a team's drill-down need not match every PR of the organisation). `files`: those repos' PR files
        when the evidence was read without them (warehouse.slice.read_files_of_repos; rows of other PRs
        are ignored). Kept per set of repos (and files)."""
        return self._in(repos, files, first=False)

    def first_fixes_in(self, repos, files: pl.DataFrame | None = None) -> pl.DataFrame:
        """`first_fixes(follow_ups_in(repos, files))` (one row per PR of `repos` with a follow-up fix: how many,
        the first and how it was linked), without a row per pair (`first_follow_ups`). Kept likewise."""
        return self._in(repos, files, first=True)

    def _in(self, repos, files: pl.DataFrame | None, first: bool) -> pl.DataFrame:
        keys = frozenset(r.lower() for r in repos if r is not None)
        key = (keys, None if files is None else id(files), first)
        if key not in self._by_repos:
            if len(self._by_repos) >= 16:  # a few selections' worth (each a team's or a repo's fixes)
                self._by_repos.pop(next(iter(self._by_repos)))
            self._by_repos[key] = (files, self._follow_ups_in(keys, files, first))  # (the files kept: their id is the key)
        return self._by_repos[key][1]


def chain_facts(evidence: Evidence, outcomes: pl.DataFrame, config: Config,
                reverts: pl.DataFrame | None = None) -> ChainFacts:
    """The change chain of teams-assigned evidence and its PR outcomes (metrics.linking.pr_outcomes).
    `reverts`: `resolve_reverts(evidence.pull_requests)` when the caller has it (computed here otherwise)."""
    rules = config.rules
    production, pairs = detect_rollbacks(
        production_deployments(evidence.deployments, rules.production_environments)
    )
    incidents = incident_causes(evidence.incidents, production, config)
    if reverts is None:
        reverts = resolve_reverts(evidence.pull_requests)
    deployments = deployment_failures(production, pairs, outcomes, reverts, incidents, rules.rollback_window_days)
    incidents = cause_segments(incidents, deployments, outcomes)
    return ChainFacts(deployments=deployments, incidents=incidents, **_follow_up_parts(evidence, config, reverts))


def follow_ups_facts(evidence: Evidence, config: Config, reverts: pl.DataFrame | None = None) -> ChainFacts:
    """The change chain's follow-up fixes alone (`follow_ups`, `follow_ups_in`, the same rows as
    `chain_facts`'), its deployments and incidents left empty: for a view that shows rework and no
    deployment failure or incident cause (the Rollbacks page's team panel), without deciding those for
    every deployment and incident of the evidence."""
    if reverts is None:
        reverts = resolve_reverts(evidence.pull_requests)
    return ChainFacts(deployments=pl.DataFrame(), incidents=pl.DataFrame(), **_follow_up_parts(evidence, config, reverts))


def _follow_up_parts(evidence: Evidence, config: Config, reverts: pl.DataFrame) -> dict:
    rules = config.rules

    def follow_ups() -> pl.DataFrame:
        return follow_up_fixes(evidence.pull_requests, evidence.pull_request_files, rules.rework_window_days,
                               rules.fix_labels, rules.fix_title_pattern, reverts=reverts)

    def first() -> pl.DataFrame:
        return first_follow_ups(evidence.pull_requests, evidence.pull_request_files, rules.rework_window_days,
                                rules.fix_labels, rules.fix_title_pattern, reverts=reverts)

    def follow_ups_in(repos: frozenset[str], files: pl.DataFrame | None, first: bool) -> pl.DataFrame:
        prs = evidence.pull_requests.filter(pl.col("repo").str.to_lowercase().is_in(list(repos)))
        files = (evidence.pull_request_files if files is None else files).filter(
            pl.col("pr_id").is_in(prs.get_column("id").implode()))
        find = first_follow_ups if first else follow_up_fixes
        return find(prs, files, rules.rework_window_days, rules.fix_labels, rules.fix_title_pattern, reverts=reverts)

    return {"_follow_ups": follow_ups, "_follow_ups_in": follow_ups_in, "_first_fixes": first}


# --- the incident's causing deployment ---------------------------------------------------------


def _service_repos(production: pl.DataFrame, config: Config) -> pl.DataFrame:
    """(link_key, deployment) for every `[services.<name>]` entry and the production deployments of its
    repos (globs, case-insensitive, as in `[teams]`), whatever their team."""
    repos = production.get_column("repo").unique().drop_nulls().to_list()
    rows = []
    for name, service in config.services.items():
        globs = [g.lower() for g in service.repos]
        for repo in repos:
            if any(fnmatch.fnmatchcase(repo.lower(), g) for g in globs):
                rows.append({"link_key": "service:" + name.lower(), "repo": repo})
    return pl.DataFrame(rows, schema={"link_key": pl.String, "repo": pl.String})


def incident_causes(incidents: pl.DataFrame, production: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Every incident with its causing deployment (see `ChainFacts.incidents`, without the segments).

    The source's `caused_by_deployment_id` stands. Otherwise the latest production deployment, not a
    rollback, that finished at or before the incident's start and no more than `incident_link_hours`
    before it (same instant: the highest id), among the deployments of the repos of the incident's
    `[services.<service>]` entry, else of the incident's team; none for an `unassigned` incident
    without such an entry, and none at all when `incident_link_hours` is 0.
    """
    hours = config.rules.incident_link_hours
    services = {name.lower() for name in config.services}
    candidates = production.filter(~pl.col("rollback")).select(
        "id", "repo", "team", "finished_at"
    )
    by_team = candidates.filter(pl.col("team") != UNASSIGNED).with_columns(link_key=pl.lit("team:") + pl.col("team"))
    by_service = _service_repos(production, config).join(candidates, on="repo", how="inner")
    pool = (
        pl.concat([by_team.select("link_key", "id", "finished_at"), by_service.select("link_key", "id", "finished_at")])
        # Same instant: the highest id.
        .sort(["link_key", "finished_at", "id"])
        .unique(["link_key", "finished_at"], keep="last", maintain_order=True)
        .select("link_key", inferred_id="id", inferred_at="finished_at", started_at="finished_at")
        .sort("started_at")
    )
    service_key = pl.col("service").str.to_lowercase()
    keyed = incidents.with_columns(
        link_key=pl.when(service_key.is_in(sorted(services))).then(pl.lit("service:") + service_key)
        .when(pl.col("team") != UNASSIGNED).then(pl.lit("team:") + pl.col("team"))
        .otherwise(None),
        _row=pl.int_range(pl.len()),
    )
    if hours > 0 and pool.height:
        linked = (
            keyed.filter(pl.col("link_key").is_not_null() & pl.col("started_at").is_not_null())
            .select("_row", "link_key", "started_at")
            .sort("started_at")
            .join_asof(
                pool, on="started_at", by="link_key", strategy="backward",
                tolerance=dt.timedelta(hours=hours), check_sortedness=False,
            )
            .select("_row", "inferred_id", "inferred_at")
        )
    else:
        linked = pl.DataFrame(schema={"_row": pl.Int64, "inferred_id": pl.String, "inferred_at": incidents.schema["started_at"]})
    keyed = keyed.join(linked.with_columns(pl.col("_row").cast(keyed.schema["_row"])), on="_row", how="left")
    source = pl.col("caused_by_deployment_id").is_not_null()
    scope = (
        pl.when(pl.col("link_key").str.starts_with("service:"))
        .then(pl.format("the repos of [services.{}]", pl.col("service")))
        .otherwise(pl.format("team {}", pl.col("team")))
    )
    gap = ((pl.col("started_at") - pl.col("inferred_at")).dt.total_seconds() / 3600).round(1)
    rule = (
        pl.when(source).then(pl.lit("named by the source"))
        .when(pl.col("inferred_id").is_not_null())
        .then(pl.format(
            "inferred: latest production deployment of {} finished within {} h before the start ({} h before)",
            scope, pl.lit(_number(hours)), gap,
        ))
        .when(pl.col("started_at").is_null()).then(pl.lit("no start: not linked"))
        .when(pl.lit(hours <= 0)).then(pl.lit("not linked: incident_link_hours = 0 keeps source links only"))
        .when(pl.col("link_key").is_null()).then(pl.lit("not linked: unassigned incident without a [services] entry"))
        .otherwise(pl.format("not linked: no production deployment of {} within {} h before the start", scope, pl.lit(_number(hours))))
    )
    prod_ids = production.filter(~pl.col("rollback")).get_column("id").implode()
    return keyed.with_columns(
        caused_by_deployment_id=pl.coalesce("caused_by_deployment_id", "inferred_id"),
        cause_how=pl.when(source).then(pl.lit("source")).when(pl.col("inferred_id").is_not_null()).then(pl.lit("inferred")),
        cause_rule=rule,
    ).with_columns(
        cause_production=pl.col("caused_by_deployment_id").is_in(prod_ids).fill_null(False),
    ).drop("link_key", "_row", "inferred_id", "inferred_at")


def _number(value: float) -> str:
    return f"{value:g}"


# --- change failure ----------------------------------------------------------------------------


def deployment_failures(production: pl.DataFrame, pairs: pl.DataFrame, outcomes: pl.DataFrame, reverts: pl.DataFrame,
                        incidents: pl.DataFrame, rollback_window_days: float) -> pl.DataFrame:
    """Every production deployment that is not a rollback, with what it shipped and whether it failed
    (see `ChainFacts.deployments`). Failed: a rollback rolls it back within the window; a PR it shipped
    is rolled back by a revert (the Rolled-back PR rule: `reverts` from metrics.linking.resolve_reverts)
    merged strictly after its `finished_at`; or it caused an incident (a source link or an inferred one)."""
    window = dt.timedelta(days=rollback_window_days)
    deployments = production.filter(~pl.col("rollback")).select(
        "id", "repo", "environment", "team", "finished_at", "url"
    )
    shipped = (
        outcomes.filter(pl.col("shipped_deployment_id").is_not_null())
        .group_by(id="shipped_deployment_id")
        .agg(shipped_prs=pl.len().cast(pl.Int64), ai_prs=pl.col("ai_assisted").fill_null(False).sum().cast(pl.Int64))
    )
    rolled = (
        pairs.filter(pl.col("rollback_finished_at") - pl.col("deployment_finished_at") <= window)
        .sort(["deployment_id", "rollback_finished_at", "rollback_id"])
        .unique("deployment_id", keep="first", maintain_order=True)
        .select(id="deployment_id", rb_by="rollback_id", rb_at="rollback_finished_at")
    )
    # Any revert of a shipped PR within the window of the PR's merge (the Rolled-back PR rule) that was
    # merged after the deployment finished; the earliest names it.
    reverted = (
        reverts.join(outcomes.select(reverted_pr_id="id", pr_at="merged_at", dep="shipped_deployment_id",
                                     dep_at="shipped_at"), on="reverted_pr_id")
        .filter(pl.col("dep").is_not_null() & (pl.col("revert_merged_at") - pl.col("pr_at") <= window)
                & (pl.col("revert_merged_at") > pl.col("dep_at")))
        .sort(["dep", "revert_merged_at", "revert_id"])
        .unique("dep", keep="first", maintain_order=True)
        .select(id="dep", rv_by="revert_id", rv_pr="reverted_pr_id", rv_at="revert_merged_at")
    )
    caused = (
        incidents.filter(pl.col("cause_production"))
        .sort(["caused_by_deployment_id", "started_at", "id"])
        .unique("caused_by_deployment_id", keep="first", maintain_order=True)
        .select(id="caused_by_deployment_id", inc_by="id", inc_at="started_at", inc_how="cause_how")
    )
    out = (
        deployments.join(shipped, on="id", how="left")
        .join(rolled, on="id", how="left")
        .join(reverted, on="id", how="left")
        .join(caused, on="id", how="left")
        .with_columns(pl.col("shipped_prs").fill_null(0), pl.col("ai_prs").fill_null(0))
    )
    return out.with_columns(
        segment=pl.when(pl.col("ai_prs") > 0).then(pl.lit("ai"))
        .when(pl.col("shipped_prs") > 0).then(pl.lit("non_ai")),
        failed=pl.col("rb_by").is_not_null() | pl.col("rv_by").is_not_null() | pl.col("inc_by").is_not_null(),
        failed_how=pl.when(pl.col("rb_by").is_not_null()).then(pl.lit("rolled back"))
        .when(pl.col("rv_by").is_not_null()).then(pl.lit("reverted PR"))
        .when(pl.col("inc_by").is_not_null()).then(pl.lit("caused incident")),
        failed_by=pl.coalesce("rb_by", "rv_by", "inc_by"),
        failed_reason=pl.when(pl.col("rb_by").is_not_null())
        .then(pl.format("failed: rolled back by {} at {}", "rb_by", pl.col("rb_at").dt.strftime(_FMT)))
        .when(pl.col("rv_by").is_not_null())
        .then(pl.format("failed: {} it shipped was reverted by {} at {}", "rv_pr", "rv_by", pl.col("rv_at").dt.strftime(_FMT)))
        .when(pl.col("inc_by").is_not_null())
        .then(pl.format("failed: caused incident {} ({} link)", "inc_by", "inc_how"))
        .otherwise(pl.format("did not fail (shipped {} PR(s), {} AI-assisted)", "shipped_prs", "ai_prs")),
    ).drop("rb_by", "rb_at", "rv_by", "rv_pr", "rv_at", "inc_by", "inc_at", "inc_how")


def cause_segments(incidents: pl.DataFrame, deployments: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """`incidents` (with `caused_by_deployment_id`) plus `cause_segment` and `cause_prs` (`ChainFacts.incidents`),
    from `ChainFacts.deployments`' segments and the PR outcomes' shipping deployments."""
    causes = incidents.get_column("caused_by_deployment_id").drop_nulls().unique().implode()
    prs = (
        outcomes.filter(pl.col("shipped_deployment_id").is_in(causes))
        .sort("id")
        .group_by(caused_by_deployment_id="shipped_deployment_id")
        .agg(cause_prs=pl.col("id").str.join(", "))
    )
    seg = deployments.select(
        caused_by_deployment_id="id",
        cause_segment=pl.when(pl.col("segment") == "ai").then(pl.lit("ai_change"))
        .when(pl.col("segment") == "non_ai").then(pl.lit("non_ai_change")),
    )
    return incidents.join(seg, on="caused_by_deployment_id", how="left").join(prs, on="caused_by_deployment_id", how="left")


# --- follow-up fixes and rework ----------------------------------------------------------------


def fix_title_matches(titles: pl.Series, pattern: str) -> pl.Series:
    """`re.search(pattern, title)` for each title (DESIGN.md: a Python regular expression). Polars'
    regex engine agrees with Python's on the patterns both accept and is far faster; a pattern it
    rejects (look-arounds, back-references) runs through Python's `re`."""
    try:
        return titles.str.contains(pattern).fill_null(False)
    except pl.exceptions.ComputeError:
        compiled = re.compile(pattern)
        return pl.Series(titles.name, [bool(t is not None and compiled.search(t)) for t in titles.to_list()], dtype=pl.Boolean)


def fixes(prs: pl.DataFrame, fix_labels, fix_title_pattern: str) -> pl.Series:
    """Per PR (`labels`: a JSON list, `title`): whether it is a fix, by a label in `fix_labels` (trimmed,
    case-insensitive) or a title matching `fix_title_pattern` (DESIGN.md "Follow-up fix and rework")."""
    labels = [label.strip().lower() for label in fix_labels]
    label_hit = (
        pl.col("labels").str.json_decode(pl.List(pl.String)).list.eval(pl.element().str.to_lowercase().str.strip_chars().is_in(labels)).list.any()
    ).fill_null(False)
    return prs.select(label_hit).to_series() | fix_title_matches(prs.get_column("title"), fix_title_pattern)


def follow_up_fixes(prs: pl.DataFrame, files: pl.DataFrame, window_days: float,
                    fix_labels: tuple[str, ...], fix_title_pattern: str, reverts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every (P, Q) where Q is a follow-up fix of P (see `ChainFacts.follow_ups`).

    Same repo (case-insensitive), Q merged strictly after P and within `window_days` of P's merge, and
    Q reverts P (the source's link, else the resolved one), or Q touches a file P touched (paths
    trimmed, empty ones ignored) and Q is a fix (a label in `fix_labels`, case-insensitive, or a title
    matching `fix_title_pattern`). A revert that is also such a fix is one pair, said "revert". `reverts`:
    `resolve_reverts(prs)` when the caller has it.
    """
    out_schema = {"pr_id": pl.String, "fix_id": pl.String, "fix_merged_at": prs.schema["merged_at"], "how": pl.String}
    found = _follow_up_pairs(prs, files, window_days, fix_labels, fix_title_pattern, reverts)
    if found is None:
        return pl.DataFrame(schema=out_schema)
    pairs, merged, paths = found
    return (
        pairs.join(merged.select(p="idx", pr_id="id"), on="p")
        .join(merged.select(q="idx", fix_id="id", fix_merged_at="merged_at"), on="q")
        .join(paths, on="path_no", how="left")
        .select("pr_id", "fix_id", "fix_merged_at", how=_how())
        .cast(out_schema)
        .sort(["pr_id", "fix_merged_at", "fix_id"])
    )


def first_follow_ups(prs: pl.DataFrame, files: pl.DataFrame, window_days: float,
                     fix_labels: tuple[str, ...], fix_title_pattern: str, reverts: pl.DataFrame | None = None) -> pl.DataFrame:
    """`first_fixes(follow_up_fixes(...))` (the same arguments) without making a row of text per pair: one row
    per PR with a follow-up fix, `id, follow_ups, fixed_by, fixed_at, fix_how`. A dense repo's PRs have
    follow-up pairs by the millions over a long range; a view that shows each PR's first fix and how many
    (the Rollbacks page's team panel) needs only this."""
    schema = {"id": pl.String, "follow_ups": pl.Int64, "fixed_by": pl.String, "fixed_at": prs.schema["merged_at"],
              "fix_how": pl.String}
    found = _follow_up_pairs(prs, files, window_days, fix_labels, fix_title_pattern, reverts)
    if found is None:
        return pl.DataFrame(schema=schema)
    pairs, merged, paths = found
    # the first fix by merge time, then id (as `first_fixes` sorts them): the PRs numbered in that order, the
    # smallest number per P, and that pair's path
    order = merged.sort("merged_at", "id").select(q="idx", order=pl.int_range(pl.len(), dtype=pl.UInt32))
    first = (
        pairs.join(order, on="q")
        .group_by("p")
        .agg(follow_ups=pl.len().cast(pl.Int64), order=pl.col("order").min())
        .join(order, on="order")
        .join(pairs, on=["p", "q"])
    )
    return (
        first.join(merged.select(p="idx", id="id"), on="p")
        .join(merged.select(q="idx", fixed_by="id", fixed_at="merged_at"), on="q")
        .join(paths, on="path_no", how="left")
        .select("id", "follow_ups", "fixed_by", "fixed_at", fix_how=_how())
        .cast(schema)
    )


def _how() -> pl.Expr:
    """How a pair was linked: "revert" (no path), else "fix touching <its first path>"."""
    return (pl.when(pl.col("path_no").is_null()).then(pl.lit("revert"))
            .otherwise(pl.format("fix touching {}", "path")))


def _follow_up_pairs(prs: pl.DataFrame, files: pl.DataFrame, window_days: float, fix_labels: tuple[str, ...],
                     fix_title_pattern: str, reverts: pl.DataFrame | None
                     ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """`follow_up_fixes`' pairs by row number: (`p, q, path_no`: null for a revert, else P's and Q's first
    shared path), the merged PRs (`id, merged_at, idx`) and the paths (`path_no, path`); None without a merged PR."""
    window = dt.timedelta(days=window_days)
    merged = prs.filter(pl.col("merged_at").is_not_null()).select(
        "id", "title", "labels", "merged_at", repo_key=pl.col("repo").str.to_lowercase()
    ).with_columns(idx=pl.int_range(pl.len(), dtype=pl.UInt32))
    if merged.height == 0:
        return None
    # PRs by row number from here on: joins and de-duplication on integers, not on ids (a large org has
    # millions of file rows).
    p_side = merged.select(p="idx", p_repo="repo_key", p_at="merged_at")
    q_side = merged.select(q="idx", q_repo="repo_key", q_at="merged_at")
    in_window = (pl.col("q_at") > pl.col("p_at")) & (pl.col("q_at") - pl.col("p_at") <= window)

    if reverts is None:
        reverts = resolve_reverts(prs.filter(pl.col("merged_at").is_not_null()))
    ids = merged.select("id", "idx")
    by_revert = (
        reverts.join(ids.rename({"id": "revert_id", "idx": "q"}), on="revert_id")
        .join(ids.rename({"id": "reverted_pr_id", "idx": "p"}), on="reverted_pr_id")
        .join(q_side, on="q").join(p_side, on="p")
        .filter(in_window & (pl.col("q_repo") == pl.col("p_repo")))
        .select("p", "q", path_no=pl.lit(None, pl.UInt32))
    )

    is_fix = fixes(merged, fix_labels, fix_title_pattern)
    # Paths and repos by number too: a large org's files pair up by the hundreds of thousands before the
    # window is applied, and strings in those rows cost memory (the path's text is looked up for the pairs).
    # The paths are numbered in their sort order, so the smallest number of a pair's paths is its first path.
    touched = (
        files.select("pr_id", path=pl.col("path").str.strip_chars())
        .filter(pl.col("path").is_not_null() & (pl.col("path") != ""))
        .join(ids.rename({"id": "pr_id", "idx": "p"}), on="pr_id")
        .drop("pr_id")
    )
    paths = touched.select("path").unique().sort("path").with_row_index("path_no")
    repos = merged.select("repo_key").unique().with_row_index("repo_no")
    repo_of = merged.join(repos, on="repo_key", how="left").select("idx", "repo_no")  # a null repo: no number
    touched = (touched.join(paths, on="path").drop("path")
               .join(repo_of.rename({"idx": "p"}), on="p").filter(pl.col("repo_no").is_not_null())
               .join(p_side.select("p", "p_at"), on="p"))
    fix_rows = merged.filter(is_fix).get_column("idx")
    q_files = (touched.filter(pl.col("p").is_in(fix_rows.implode()))
               .select("repo_no", "path_no", q="p", q_at="p_at").sort("q_at"))
    by_file = _file_pairs(q_files, touched.select("repo_no", "path_no", "p", "p_at").sort("p_at"), window)
    # a revert that is also such a fix is one pair, said "revert" (each side holds a pair once)
    both = pl.concat([by_revert, by_file.select("p", "q", "path_no").join(by_revert, on=["p", "q"], how="anti")])
    return both, merged.select("id", "merged_at", "idx"), paths


# The fixes' file rows matched at once (`_file_pairs`): each block's pairs are those of its fixes' files with
# the files of the PRs merged within the window before them, so a block holds a window's worth of a repo's
# file rows per path, not the whole slice's.
FIX_FILE_BLOCK = 20_000


def _file_pairs(q_files: pl.DataFrame, p_files: pl.DataFrame, window: dt.timedelta) -> pl.DataFrame:
    """(p, q, path_no): P touched the path Q touched (same repo), Q merged strictly after P and within `window`
    of it, path_no the smallest such path. `q_files`: the fixes' rows (repo_no, path_no, q, q_at) by q_at;
    `p_files`: every PR's (repo_no, path_no, p, p_at) by p_at. Matched about `FIX_FILE_BLOCK` fix rows at a
    time, each fix's rows in one block, against the PRs merged from `window` before the block's first fix to
    its last: the pairs a match of every row at once finds, with the memory of a block's (a dense repo's files
    over a long range pair up by the tens of millions before the window is applied)."""
    schema = {"p": pl.UInt32, "q": pl.UInt32, "path_no": pl.UInt32}
    q_files = q_files.sort("q_at", "q")
    p_at = p_files.get_column("p_at")
    blocks = [pl.DataFrame(schema=schema)]
    for start, end in _blocks(q_files.get_column("q"), FIX_FILE_BLOCK):
        block = q_files.slice(start, end - start)
        reach = block.select(low=pl.col("q_at").min() - window, high=pl.col("q_at").max())
        low = p_at.search_sorted(reach.get_column("low"), side="left")[0]
        high = p_at.search_sorted(reach.get_column("high"), side="left")[0]  # P merged strictly before Q
        blocks.append(
            block.join(p_files.slice(low, high - low), on=["repo_no", "path_no"])
            .filter((pl.col("q_at") > pl.col("p_at")) & (pl.col("q_at") - pl.col("p_at") <= window))
            .group_by("p", "q").agg(pl.col("path_no").min())
            .cast(schema)
        )
    return pl.concat(blocks)  # each pair in one block: its fix's


def _blocks(q: pl.Series, size: int) -> list[tuple[int, int]]:
    """[start, end) row ranges of about `size` rows each over `q` (rows of one value together), never splitting
    a value's rows."""
    values = q.to_numpy()
    if len(values) == 0:
        return []
    firsts = np.flatnonzero(values[1:] != values[:-1]) + 1  # where each value's rows begin, after the first
    cuts = sorted({int(firsts[i]) for i in np.searchsorted(firsts, np.arange(size, len(values), size)) if i < len(firsts)})
    edges = [0, *cuts, len(values)]
    return list(zip(edges[:-1], edges[1:]))


def first_fixes(follow_ups: pl.DataFrame) -> pl.DataFrame:
    """Per PR with a follow-up fix (`follow_ups`: `follow_up_fixes`' pairs): `id, follow_ups` (how many),
    `fixed_by` (the first fix by merge time, then id), `fixed_at`, `fix_how` (how that one was linked)."""
    return (
        follow_ups.group_by("pr_id")
        .agg(
            follow_ups=pl.len().cast(pl.Int64),
            fixed_by=pl.col("fix_id").sort_by(["fix_merged_at", "fix_id"]).first(),
            fixed_at=pl.col("fix_merged_at").min(),
            fix_how=pl.col("how").sort_by(["fix_merged_at", "fix_id"]).first(),
        )
        .rename({"pr_id": "id"})
    )


def rework_of_first(outcomes: pl.DataFrame, first: pl.DataFrame) -> pl.DataFrame:
    """One row per merged PR of `outcomes`: `id, team, merged_at, ai_assisted, reworked` (bool), `fixed_by` (the
    first follow-up fix), `fixed_at`, `fix_how`, `follow_ups` (how many), from the first fixes (`first_fixes`, or
    `first_follow_ups`)."""
    return outcomes.select("id", "team", "merged_at", "ai_assisted").join(first, on="id", how="left").with_columns(
        reworked=pl.col("fixed_by").is_not_null(), follow_ups=pl.col("follow_ups").fill_null(0)
    )
