"""The dashboard's cached access to config, warehouse and computed metrics.

Everything is keyed by the warehouse's data version: a finished sync or import changes it, so the
next page run reads the new rows without a restart. The scorecard records come from the daily cube
(reports/data.load_cube: kept in the warehouse's cube tables, current for every write), so tiles and trends never read
the big tables; drill-downs that list single rows use the prepared evidence, read once per version.
`st.cache_resource` holds both without copying (their frames are never changed; the cube keeps, beside
them, numpy columns and baselines made on first use — metrics.value_groups.ValueRows); the per-filter
records are small and go through `st.cache_data`.

The one door for pages: every read of rows a team owns (PRs, incidents, tickets, spend, exports, spend
alerts, per-team tables, people's AI tool usage) is narrowed here to the signed-in user's row scope (app/session.row_scope,
applied by reports/scope.py), so a page cannot forget it. The unscoped caches behind them are private;
the public readers that are not scoped return records and aggregates that every role may see, as on
the Scorecard.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import functools
import threading
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx

from app.session import adoption_scope, current, row_scope
from app.views.adoption import cohorts_compared
from app.views.adoption_panel import USAGE_COLUMNS
from app.views.rollbacks import baseline_counts, team_share_table
from app.views.spend import cost_per_unit_by_team as spend_per_team
from app.views.trends import TRENDS, trend_chart
from app.views.watch import teams_to_watch as find_teams_to_watch
from config import Config
from config.load import load_config
from governance.changes import record_config_version as record_version
from metrics.baseline import baselines as baseline_windows
from metrics.cohorts import WINDOW_DAYS as COHORT_WINDOW_DAYS
from metrics.cube import Cube
from metrics.evidence import SCHEMAS, Evidence, conform
from metrics.periods import Window
from metrics.registry import METRICS
from metrics.scorecard import Prepared, compute, metric_events, prepare
from metrics.senior_review import senior_people, senior_review_events
from metrics.teams import assign_team_column
from metrics.tool_economics import tool_economics as economics_of
from reports import scope
from reports.adoption_data import load_adoption, load_tool_prs, stored_spend_sums
from reports.alerts import SpendAlerts, load_alert_spend, spend_alerts as judge_spend
from reports.data import (
    item_day, item_repos, load_cube, load_evidence_since, load_incidents_since, warehouse_for, window_causes,
)
from reports.export import SCORECARD, ExportFilters, export_frame, export_names as exportable_names
from reports.filters import Filters
from reports.governance_data import (
    load_kept_identities, load_spend_groups, load_spend_rows, load_unapproved_models, policy_status as judge_policies,
    spend_by_kind as by_kind_of,
)
from reports.review import review as build_review
from scheduling.freshness import source_plans as read_source_plans
from warehouse import Warehouse, data_version, read_table
from warehouse.runs import last_runs
from warehouse.schema import TABLES
from warehouse.cube_store import read_facts
from warehouse.slice import (
    read_files_of_repos, read_pr_columns, read_reviews_by,
)

VERSION_TTL_SECONDS = 30


@st.cache_resource(show_spinner=False)
def config() -> Config:
    return load_config()


@st.cache_resource(show_spinner=False)
def warehouse() -> Warehouse:
    return warehouse_for(config())


@st.cache_data(ttl=VERSION_TTL_SECONDS, show_spinner=False)
def current_version() -> str:
    return data_version(warehouse())


# The evidence tables each kind of page shows (`prepared`'s `tables`): a page reads only those of its range.
# The change chain and the PR outcomes (Delivery, Rollbacks, the single items): PRs, deployments, their
# links and incidents.
CHANGES = ("pull_requests", "deployments", "deployment_prs", "incidents")
# The PR outcomes alone (who shipped what, rolled back or not): the Rollbacks page before a team is picked.
OUTCOMES = ("pull_requests", "deployments", "deployment_prs")
# Rework (a fix touching a file a PR touched) and the senior review load, beside the change chain: the
# Rollbacks page's team panel.
CHAIN = (*CHANGES, "pull_request_files", "reviews", "people")
# The Rollbacks page's team panel: the outcomes and the senior review load (no incidents; rework reads the PR
# files of the team's repos only: `team_rows`).
TEAM = (*OUTCOMES, "reviews", "people")
EVERY_TABLE = (*CHAIN, "tickets", "ai_spend")
# The PR columns a PR's rollback verdict and where it counts are decided from (metrics.linking.pr_outcomes:
# shipping, rollbacks, reverts by source id, number, sha or title; warehouse/slice.py's keys), AI-assisted
# or not: the Rollbacks page's baseline counts and the Delivery page's incidents and failed deployments (the
# change chain's causes and failures; its follow-up fixes, which read labels and files, are not shown there)
# need no more. Reading them leaves out the long text the drill-downs list (ai_signals, url, labels).
_VERDICT = ("id", "repo", "number", "title", "team", "merged_at", "merge_commit_sha", "ai_assisted", "is_revert",
            "reverts_pr_id", "revert_ref")
VERDICT_COLUMNS = (("pull_requests", _VERDICT),)
# The Rollbacks page's team panel over the organisation's range: the verdicts and rework (labels name fixes);
# the columns it lists PRs with (`DETAIL_COLUMNS`) are read for the picked team's listed PRs only (`with_details`).
TEAM_COLUMNS = (("pull_requests", (*_VERDICT, "labels")),)
DETAIL_COLUMNS = ("author", "url", "ai_signals", "ai_tools", "ai_mode")


def prepared(version: str, since: dt.date, tables: tuple[str, ...] = EVERY_TABLE, columns: tuple = (),
             reviewed_prs: bool = True) -> Prepared:
    """The rows the signed-in user may see that a view from the day `since` on is made of, teams assigned,
    rollbacks decided: for pages that list single PRs, deployments or incidents. Every PR, deployment,
    incident, ticket, review and spend row from `since` on is there, decided as on all the evidence (with
    the earlier rows they link to: reports/data.load_evidence_since); earlier rows may be missing, so
    callers show rows from `since` on only. Reading costs what the range holds, not the warehouse.

    `tables`: the evidence tables the page shows (`CHANGES`, `CHAIN`, ...), each exactly as read with every
    table; the others are empty, so facts made of them (rework without files, senior reviews without
    reviews) are not the page's to show. A page that shows deployments reads no tickets or spend.
    `columns`: ((table, columns), ...) of the tables whose other columns the page does not read
    (`VERDICT_COLUMNS`, ...): those are null. `reviewed_prs` False: without the PRs only a review from `since`
    on brings in (merged before the slice, or never: reports/data.load_evidence_since), for a page that shows
    its range's merged PRs, deployments and incidents and no reviews (Delivery)."""
    tables = tuple(sorted(set(tables)))
    teams = row_scope()
    return (_prepared_since(version, since, tables, columns, reviewed_prs) if teams is None
            else _prepared_scoped(version, since, teams, tables, columns, reviewed_prs))


def delivery_rows(version: str, since: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(incidents, deployments) from the day `since` on for the Delivery page's two tables
    (app/views/delivery.linked_incidents, failed_deployments): the facts kept beside the cube
    (metrics.cube.delivery_facts: every incident started and every failed deployment finished from that day on,
    decided as on all the evidence, kept by the same upkeep), so the page reads the rows it lists and not the
    range's PRs and deployments. For a signed-in user with a row scope, the change chain of the rows that user
    may see (`prepared`), as every page narrows it: its causes are decided from those rows."""
    if row_scope() is not None:
        chain = prepared(version, since, CHANGES, VERDICT_COLUMNS, reviewed_prs=False).chain
        return chain.incidents, chain.deployments
    return _delivery_facts(version, since)


@st.cache_resource(show_spinner="Reading the range's incidents and failed deployments…", max_entries=4)
def _delivery_facts(version: str, since: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    _cube(version)  # the facts are kept with the cube: up to date first
    return read_facts(warehouse(), "incident_facts", since), read_facts(warehouse(), "failed_facts", since)


def rollback_teams(version: str, filters: Filters, window) -> pl.DataFrame:
    """The Rollbacks page's table by team (app/views/rollbacks.share_table) from the cube's daily rollback
    counts, no PR read, of the teams the signed-in user may see."""
    return scope.team_rows(team_share_table(_cube(version), filters, window), row_scope())


def rollback_baseline(version: str, window, team: str) -> pl.DataFrame:
    """The baseline window's merged and rolled-back PRs of `team` per repo (`team, repo, merged_prs,
    rolled_back`: app/views/rollbacks.baseline_counts), if the signed-in user may see that team: what the
    Rollbacks page's team drill-down shows beside its range."""
    return scope.team_rows(_rollback_baseline(version, window.start, window.end, window.label, team), row_scope())


@st.cache_data(show_spinner="Reading the baseline window…", max_entries=16)
def _rollback_baseline(version: str, start: dt.datetime, end: dt.datetime, label: str, team: str) -> pl.DataFrame:
    _cube(version)  # the facts are kept with the cube: up to date first
    counts = team_baseline_counts(warehouse(), Window(start=start, end=end, label=label), team)
    release_freed_memory()
    return counts


def team_baseline_counts(warehouse: Warehouse, window: Window, team: str) -> pl.DataFrame:
    """`team`'s PRs merged in the baseline window and how many were rolled back, per repo (`team, repo,
    merged_prs, rolled_back`: app/views/rollbacks.baseline_counts) from the per-PR facts kept beside the cube
    (metrics.cube.pr_facts: each merged PR's team and rollback verdict as on all the evidence, kept current by
    the cube's upkeep) of the window's months, and the repo of the team's PRs, read by key: no PR of the
    window is decided again, and no other team's PR row is read."""
    facts = read_facts(warehouse, "pr_facts", window.first_day, window.last_day)
    mine = facts.filter(pl.col("team") == team).select("id", "team", "merged_at", "ai_assisted", "rolled_back")
    repos = read_pr_columns(warehouse, mine.get_column("id").unique().sort().to_list(), ["id", "repo"])
    outcomes = mine.join(repos, on="id", how="left", maintain_order="left")
    return baseline_counts(outcomes, ["team", "repo"], window)


@dataclass(frozen=True)
class TeamRows:
    """What the Rollbacks page's team drill-down shows of a team's range (`team_rows`), kept instead of the read
    it is made from: a dense team's repos hold PRs, deployments and PR files by the hundreds of thousands in a
    range, the page lists a few columns of the team's PRs and each one's first follow-up fix."""

    # the team's PR outcomes, `TEAM_OUTCOME_COLUMNS` (`DETAIL_COLUMNS` of the listed PRs only: `with_details`)
    outcomes: pl.DataFrame
    # per PR of the team's repos with a follow-up fix: `id, follow_ups, fixed_by, fixed_at, fix_how`
    # (metrics.change_chain.ChainFacts.first_fixes_in, over the PR files of those repos)
    first_fixes: pl.DataFrame


# The columns of a team's PR outcomes the Rollbacks page reads (app/views/rollbacks: the shares, the trend and
# the rolled-back PRs; app/views/delivery.reworked_rows).
TEAM_OUTCOME_COLUMNS = ("id", "title", "repo", "number", "author", "team", "url", "merged_at", "ai_assisted",
                        "ai_signals", "ai_tools", "ai_mode", "shipped_deployment_id", "rolled_back", "rolled_back_how",
                        "rolled_back_by", "rolled_back_at")


def team_rows(version: str, since: dt.date, team: str) -> TeamRows:
    """The Rollbacks page's team drill-down from the day `since` on (`TeamRows`), as far as the signed-in user
    may see it: `team_read`'s outcomes of `team`'s PRs, and the first follow-up fixes of the PRs of the repos of
    those PRs, matched among that read's PRs (those the user may see) over those repos' PR files (in every
    spelling the read gives them) from `since` on (warehouse.slice.read_files_of_repos). A follow-up fix is a PR of
    its PR's repo, so a selection of some of those repos has the same first fixes as its own match would."""
    teams = row_scope()
    return (_team_rows(version, since, team) if teams is None
            else _team_rows_scoped(version, since, team, teams))


@st.cache_resource(show_spinner="Reading the team's repositories…", max_entries=8)
def _team_rows(version: str, since: dt.date, team: str) -> TeamRows:
    return _kept(team_read(version, since, team), since, team)


@st.cache_resource(show_spinner="Reading the team's repositories…", max_entries=8)
def _team_rows_scoped(version: str, since: dt.date, team: str, teams: tuple[str, ...]) -> TeamRows:
    return _kept(scope.prepared_rows(team_read(version, since, team), teams), since, team)


def _kept(read: Prepared, since: dt.date, team: str) -> TeamRows:
    """What `team_rows` keeps of a team's read: its rows with the listed PRs' details, the read's memory handed back."""
    wh = warehouse()
    rows = with_details(wh, team_rows_of(wh, read, since, team))
    release_freed_memory()
    return rows


def team_read(version: str, since: dt.date, team: str) -> Prepared:
    """`prepared(version, since, OUTCOMES, TEAM_COLUMNS, reviewed_prs=False)` of the repos that hold `team`'s
    PRs merged from `since` on (`team_repos`) only: what the Rollbacks page's team drill-down is made of. Every
    PR of those repos from `since` on is decided as there (warehouse.slice.read_slice's `repos_of`), so the
    team's outcomes, and the follow-up fixes among them, are those of the organisation's read; other teams' PRs
    are missing. Not kept: `team_rows` keeps what the page shows of it."""
    _cube(version)  # the slice reads the cube's shipping table: up to date first
    return prepare(load_evidence_since(warehouse(), config(), since, OUTCOMES, _columns(TEAM_COLUMNS),
                                       reviewed_prs=False, repos_of=team_repos(team, config().teams)), config())


def team_rows_of(warehouse: Warehouse, read: Prepared, since: dt.date, team: str) -> TeamRows:
    """`TeamRows` of `team` from `read` (`team_read`, maybe narrowed to the user's teams), with the PR files of
    its repos read from the day `since` on."""
    outcomes = read.outcomes.filter(pl.col("team") == team).select(TEAM_OUTCOME_COLUMNS)
    # the PR files of the team's repos, in every spelling the read's PRs give them (compared lower-cased)
    keys = outcomes.get_column("repo").str.to_lowercase().unique().implode()
    spellings = read.evidence.pull_requests.filter(pl.col("repo").str.to_lowercase().is_in(keys)).get_column("repo")
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    files = read_files_of_repos(warehouse, cut, sorted(set(spellings.unique().to_list()) - {None}),
                                list(SCHEMAS["pull_request_files"]))
    first = read.follow_ups.first_fixes_in(outcomes.get_column("repo").unique().to_list(), files)
    return TeamRows(outcomes=outcomes, first_fixes=first)


def with_details(warehouse: Warehouse, rows: TeamRows) -> TeamRows:
    """`rows` (`team_rows_of`: the outcomes' `DETAIL_COLUMNS` null) with those columns as every column's read gives
    them for the PRs the page lists, those rolled back or with a follow-up fix (app/views/rollbacks.rolled_back_prs,
    app/views/delivery.reworked_rows), read for those PRs only; null for the others, of which no view reads them
    (a dense team has hundreds of thousands of PRs in a range, most neither rolled back nor reworked)."""
    outcomes = rows.outcomes
    listed = outcomes.filter(pl.col("rolled_back").fill_null(False)
                             | pl.col("id").is_in(rows.first_fixes.get_column("id").implode()))
    details = read_pr_columns(warehouse, listed.get_column("id").drop_nulls().unique().sort().to_list(),
                              ["id", *DETAIL_COLUMNS])
    shown = (outcomes.drop(DETAIL_COLUMNS).join(details, on="id", how="left", maintain_order="left")
             .select(outcomes.columns))
    return TeamRows(outcomes=shown, first_fixes=rows.first_fixes)


def team_repos(team: str, teams: dict):
    """For the slice (warehouse.slice.read_slice's `repos_of`): from the (repo, team) pairs of a span's PRs,
    the repos (as stored) holding a PR of `team` (its team, else the config's mapping `teams`:
    metrics.teams), in every spelling the span's PRs give them (follow-up fixes compare repos
    case-insensitively); None (every repo) when such a PR has no repo."""
    def repos_of(pairs: pl.DataFrame) -> list[str] | None:
        mine = assign_team_column(pairs, "pull_requests", teams).filter(pl.col("team") == team)
        if mine.get_column("repo").null_count():
            return None
        keys = mine.get_column("repo").str.to_lowercase().unique().implode()
        return pairs.filter(pl.col("repo").str.to_lowercase().is_in(keys)).get_column("repo").unique().sort().to_list()

    return repos_of


def senior_reviews(version: str, since: dt.date, team: str) -> pl.DataFrame:
    """The senior review load's events (metrics.senior_review.senior_review_events, with reasons) of
    `team`'s senior people, submitted from `since` on: the Rollbacks page's team drill-down. Read for those
    people only (`_senior_reviews`); for a signed-in user with a row scope from the organisation's read, whose
    reviews of PRs the user may not see are left out (reports/scope.py)."""
    if row_scope() is not None:
        rows = prepared(version, since, TEAM, TEAM_COLUMNS)
        return metric_events(rows, _REVIEW_METRIC).filter(pl.col("team") == team)
    return _senior_reviews(version, since, team)


_REVIEW_METRIC = next(m.id for m in METRICS.values() if m.event_kind == "review")


@st.cache_resource(show_spinner=False, max_entries=8)
def _senior_reviews(version: str, since: dt.date, team: str) -> pl.DataFrame:
    reviews = team_senior_reviews(warehouse(), config(), since, team)
    release_freed_memory()
    return reviews


def release_freed_memory() -> None:
    """Hands the memory that C's allocator (glibc's malloc) holds freed back to the system, after a team's reads:
    the SQLite reads and their Arrow buffers are allocated there, from one arena per reading thread, and what they
    free stays in those arenas (polars' own allocator returns its pages: app/serve.py). Each read of the team
    drill-down otherwise left its transient memory held beneath the next one's (at 1M PRs on the 6-team shape
    ~100 MB over the page's reads; docs/performance-log.md, session 14, team14). Nothing on another C library."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.cache
def _libc():
    return ctypes.CDLL(None)


def begin_team_reads(version: str, window, since: dt.date, team: str) -> None:
    """Begins the Rollbacks page's team drill-down reads on a worker thread, in the order the page makes them
    (`rollback_baseline`'s, `team_rows`' and, without a row scope, `senior_reviews`' cached reads), as far as the
    signed-in user may see them: they run while the page builds, and the browser draws, the table by team, which
    reads none of them. The page's own calls then find them cached, or wait for the worker's (Streamlit computes
    a cache key once; a second caller waits for the first). One read at a time, as the page would make them: a
    dense team's reads are what the server's peak memory is made of."""
    teams = row_scope()

    def read() -> None:
        try:
            _rollback_baseline(version, window.start, window.end, window.label, team)
            if teams is None:
                _team_rows(version, since, team)
                _senior_reviews(version, since, team)
            else:
                _team_rows_scoped(version, since, team, teams)
        except Exception:  # noqa: BLE001 - the page's own call of the same read computes it again and reports it
            return

    worker = threading.Thread(target=read, name="team-reads", daemon=True)
    # The run's context goes with the reads, so Streamlit's caches see a script's thread (and log no "missing
    # ScriptRunContext" warning for each read).
    add_script_run_ctx(worker)
    worker.start()


def team_senior_reviews(warehouse: Warehouse, config: Config, since: dt.date, team: str) -> pl.DataFrame:
    """`team`'s senior people's review events from `since` on as from every review and PR since then
    (metrics.senior_review.senior_review_events of `prepared(..., TEAM)`, the team's rows): the reviews by
    the team's seniors only (the reviewers compared as the events compare them: warehouse.slice.read_reviews_by)
    and the AI flag of the PRs they reviewed (a PR not in the warehouse is not AI-assisted there either)."""
    people = read_table(warehouse, "people", list(SCHEMAS["people"]))
    seniors = senior_people(conform(people, "people"), config).filter(pl.col("team") == team)
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    reviews = read_reviews_by(warehouse, cut, seniors.get_column("login").to_list(), list(SCHEMAS["reviews"]))
    ids = reviews.get_column("pr_id").drop_nulls().unique().sort().to_list()
    prs = read_pr_columns(warehouse, ids, ["id", "ai_assisted"])
    evidence = Evidence.of(pull_requests=prs, reviews=reviews, people=people)
    return senior_review_events(evidence, seniors)


def prepared_for_item(version: str, kind: str, item_id: str) -> Prepared:
    """`prepared` around one item (`kind`: pr, deployment or incident; reports/data.item_day says from
    when): what its page shows about it (`CHANGES`). An id that names no such item reads only the last day.

    Read of the item's repo only where that decides what the page shows exactly as the read of every repo
    (`_item_prepared`); otherwise, and whenever a check of that read fails, of every repo."""
    day = _item_day(version, kind, item_id) or last_day(version) or _now().date()
    teams = row_scope()
    item = _item_prepared(version, kind, item_id, day)
    if item is not None:
        return item if teams is None else _item_prepared_scoped(version, kind, item_id, day, teams)
    return prepared(version, day, CHANGES)


@st.cache_resource(show_spinner="Reading the item's repository…", max_entries=8)
def _item_prepared(version: str, kind: str, item_id: str, day: dt.date) -> Prepared | None:
    """`prepared(version, day, CHANGES)` of the repo that decides what the item's page shows, or None when
    that read would not show it exactly as the read of every repo (warehouse.slice.read_slice's `repos_of`: the
    repo's PRs from `day` on decided as with every repo's, the reverts of every repo read). The repo: a PR's own;
    a deployment's own, with those of the deployments that caused the incidents started soon after it; the
    causing deployment's for an incident (causes found as a read of every repo finds them: reports/data.item_repos,
    window_causes). Checked on the read: every PR the page lists (shipped with the PR, by the
    deployment, by the cause) is of that repo, and every incident the read links to the deployment by
    inference (a read of one repo sees fewer deployments that could be the cause) is linked to it as with
    every repo."""
    _cube(version)  # the slice and window_causes read the cube's shipping table: up to date first
    found = item_repos(warehouse(), config(), kind, item_id)
    if found is None or found[0] is None:
        return None  # no such item, or a repo not stored: the read of every repo
    repos, deployment_id = found
    read = prepare(load_evidence_since(warehouse(), config(), day, CHANGES, reviewed_prs=False,
                                       repos_of=lambda _pairs: repos), config())
    return read if _item_read_holds(read, kind, item_id, deployment_id, repos) else None


@st.cache_resource(show_spinner=False, max_entries=8)
def _item_prepared_scoped(version: str, kind: str, item_id: str, day: dt.date, teams: tuple[str, ...]) -> Prepared:
    return scope.prepared_rows(_item_prepared(version, kind, item_id, day), teams)


def _item_read_holds(read: Prepared, kind: str, item_id: str, deployment_id: str | None, repos: list[str]) -> bool:
    """Whether the read of `repos` shows the item as the read of every repo would (`_item_prepared`)."""
    outcomes = read.outcomes
    if kind == "pr":
        rows = outcomes.filter(pl.col("id") == item_id)
        if rows.height == 0:
            return False
        deployment_id = rows.get_column("shipped_deployment_id")[0]
    elif kind == "incident":
        incident = read.chain.incidents.filter(pl.col("id") == item_id)
        if incident.height == 0 or incident.get_column("caused_by_deployment_id")[0] != deployment_id:
            return False
    if deployment_id is None:
        return True
    listed = outcomes.filter(pl.col("shipped_deployment_id") == deployment_id)
    if not listed.get_column("repo").is_in(repos).all():  # (a PR without a repo is in none)
        return False
    if kind != "deployment":
        return True
    linked = read.chain.incidents.filter((pl.col("caused_by_deployment_id") == deployment_id)
                                         & (pl.col("cause_how") == "inferred"))
    # as the source gave them (an inferred cause has no source link)
    raw = linked.select(*SCHEMAS["incidents"]).with_columns(caused_by_deployment_id=pl.lit(None, pl.String))
    causes = window_causes(warehouse(), config(), raw)
    return bool(causes.get_column("caused_by_deployment_id").eq_missing(deployment_id).all())


@st.cache_data(show_spinner=False, max_entries=64)
def _item_day(version: str, kind: str, item_id: str) -> dt.date | None:
    return item_day(warehouse(), kind, item_id)


@st.cache_resource(show_spinner="Reading the warehouse…", max_entries=4)
def _prepared_since(version: str, since: dt.date, tables: tuple[str, ...], columns: tuple = (),
                    reviewed_prs: bool = True) -> Prepared:
    _cube(version)  # the slice reads the cube's shipping table: up to date first
    return prepare(load_evidence_since(warehouse(), config(), since, tables, _columns(columns), reviewed_prs=reviewed_prs),
                   config())


@st.cache_resource(show_spinner=False, max_entries=8)
def _prepared_scoped(version: str, since: dt.date, teams: tuple[str, ...], tables: tuple[str, ...],
                     columns: tuple = (), reviewed_prs: bool = True) -> Prepared:
    return scope.prepared_rows(_prepared_since(version, since, tables, columns, reviewed_prs), teams)


def _columns(columns: tuple) -> dict[str, list[str]]:
    return {table: list(names) for table, names in columns}


@st.cache_data(show_spinner=False, max_entries=16)
def synced(version: str, table: str) -> bool:
    """Whether the warehouse holds any row of `table` (a page's "nothing synced yet"): a slice of a range
    with no rows says nothing about that."""
    with warehouse().engine.connect() as conn:
        return conn.execute(sa.select(sa.literal(1)).select_from(TABLES[table]).limit(1)).first() is not None


@st.cache_resource(show_spinner="Reading the scorecard…", max_entries=2)
def _cube(version: str) -> Cube:
    return load_cube(warehouse(), config(), version)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@st.cache_data(show_spinner=False, max_entries=64)
def records(version: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> pl.DataFrame:
    # as_of is the data's latest merge or deployment, capped at now: real data never lies in the future,
    # so the cap only matters for clocks that disagree; the day is enough for the cache key.
    return compute(_cube(version), config(), grain=grain, start=start, end=end, team=team, now=_now(),
                   baselines=baselines(version))


@st.cache_resource(show_spinner=False, max_entries=4)
def baselines(version: str):
    """Every metric's baseline window and why (metrics.baseline): fixed by the data, never the range."""
    return baseline_windows(_cube(version), config())


@st.cache_data(show_spinner=False, max_entries=32)
def review(version: str, grain: str, start: dt.date, end: dt.date, team: str | None):
    """The review window's range records (reports/review.py): what the tiles, headline and teams
    table show."""
    return build_review(_cube(version), config(), grain=grain, start=start, end=end, team=team, now=_now())


@st.cache_data(show_spinner=False, max_entries=4)
def teams(version: str) -> list[str]:
    """Every team that has a row, for the team picker."""
    return _cube(version).teams()


@st.cache_data(show_spinner=False, max_entries=4)
def last_day(version: str) -> dt.date | None:
    """The last day any evidence counts on: where the default date range ends."""
    return _cube(version).last_day()


@st.cache_data(show_spinner=False, max_entries=4)
def runs(version: str) -> list[dict]:
    """The latest run per source (warehouse.runs.last_runs), for the freshness line."""
    return last_runs(warehouse())


@st.cache_data(ttl=VERSION_TTL_SECONDS, show_spinner=False, max_entries=4)
def source_plans(version: str) -> list:
    """Each configured source's schedule and freshness (scheduling/plan.py), re-read every few seconds:
    staleness grows with the clock, not only with the data version."""
    return read_source_plans(warehouse(), config(), dt.datetime.now(dt.timezone.utc))


def data_changed() -> None:
    """Forget the cached data version after a write from this process (Sync now), so the next run
    reads the new rows at once instead of after the version's ttl."""
    current_version.clear()
    source_plans.clear()


def export_names() -> list[str]:
    return exportable_names()


def export_rows(version: str, name: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> pl.DataFrame:
    """An export's rows (reports/export.export_frame) as far as the signed-in user may see them."""
    return _export_rows(version, name, grain, start, end, team, row_scope())


@st.cache_resource(show_spinner="Preparing the export…", max_entries=4)
def _export_rows(version: str, name: str, grain: str, start: dt.date, end: dt.date, team: str | None,
                 teams: tuple[str, ...] | None) -> pl.DataFrame:
    """Kept for the page's reruns; never mutated. A restricted scope keeps its teams' rows (and, of
    metric records, the whole-org aggregates); a table without a team column is then empty."""
    metric = name == SCORECARD or name in METRICS
    # Metric records come from the cube, as on every other page (the same records as from every row).
    frame = export_frame(warehouse(), config(), name, ExportFilters(grain=grain, start=start, end=end, team=team),
                         prepared=_cube(version) if metric else None)
    return scope.export_rows(frame, teams, metric_records=metric)


@st.cache_data(show_spinner=False, max_entries=4)
def _spend_alerts(version: str) -> SpendAlerts:
    # The days the alerts and budgets add up as of the last spend day, not every spend row: from the rollup
    # kept beside the cube (per day, team, tool, ...: the alerts sum per day, team and tool), not the rows; the
    # chunks of those days' months only, not kept (the result is small).
    def read_since(since: dt.date) -> pl.DataFrame:
        return _read_spend_rollup(version, since).select("date", "team", "tool", "cost_usd")

    return judge_spend(load_alert_spend(warehouse(), config(), read_since=read_since), config())


def spend_alerts(version: str) -> SpendAlerts:
    """Open spend alerts and budgets vs actual (the same as `scorecard alerts`) of the teams the signed-in
    user may see."""
    return scope.spend_alert_rows(_spend_alerts(version), row_scope())


# What the AI spend page sums (app/views/spend: totals, breakdowns by team, tool, model and workflow, seat-priced
# rows), per day × team × tool × model × workflow, and how many spend rows each holds (metrics.cube.spend_rollup):
# not the ids, sources, users or keys it never shows.
SPEND_COLUMNS = ("date", "team", "tool", "model", "workflow", "cost_usd", "tokens", "requests", "rows")


def spend_since(version: str, since: dt.date) -> pl.DataFrame:
    """The spend dated from `since` on (`SPEND_COLUMNS`), teams as the prepared evidence gives them (a row
    without one: `unassigned`), of the teams the signed-in user may see: what the AI spend page adds up. The
    rollup kept beside the cube (metrics.cube.spend_rollup of `prepared(version, since, ("ai_spend",))`'s spend
    rows, `day` as `date`): where each day, team, tool, model and workflow has one spend row (the demo's), those
    rows' values in their order; no spend row is read."""
    return scope.team_rows(_spend_since(version, since), row_scope())


@st.cache_resource(show_spinner="Reading the range's spend…", max_entries=4)
def _spend_since(version: str, since: dt.date) -> pl.DataFrame:
    return _read_spend_rollup(version, since)


def _read_spend_rollup(version: str, since: dt.date) -> pl.DataFrame:
    """The rollup's days from `since` on (`SPEND_COLUMNS`), read from the chunks of their months only: the range's
    spend and, apart, the alerts' few weeks. Not every day kept for both (it was, read once): the server then held
    the whole rollup and the range's copy of most of it (~60 + ~50 MB at 1M PRs), now read at its start
    (`read_ahead`), beside every page's own reads."""
    _cube(version)  # the rollup is kept with the cube: up to date first
    return read_facts(warehouse(), "spend_rollup", since).rename({"day": "date"}).select(SPEND_COLUMNS)


def read_ahead(version: str, start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    """The unscoped reads a first visit of the default view (every team, the weeks from `start` to `end`) makes
    besides the cube, made now (app/warmup.py, at the server's start): the ai_usage rows (the Scorecard's adoption
    panel, AI spend), the spend alerts and the range's spend from the spend rollup (AI spend), the per-person usage
    (Adoption), the range's incidents and failed deployments (Delivery); Governance's identities, spend sums,
    unapproved models and stop conditions (judged as of `today`: the visit's day, UTC); Adoption's cohort
    comparison (its default basis) and per-tool economics, kept as their tables. Each visit then narrows them to
    its user's scope, as it would have had it read them itself. Largest first, so the others are not held under
    its transient memory; Adoption's tables before all, their read dropped once they are made (the range's PR
    facts, ~50 MB at 1M PRs, and its PRs naming a tool: another range or basis reads them on its first visit).
    Every server holds what is kept (~150 MB at 1M PRs: the range's spend ~60 MB; Governance's PR identities,
    one row per AI-signalled PR, 81k at 1M, the one part that grows with the PRs), and the 3M team drill-down's
    server is the one nearest its bound (2 GB)."""
    # First what is made and dropped (the range's PR facts behind Adoption's tables), while little else is held.
    _cohort_comparison(version, start, end, None, DEFAULT_COHORT_BASIS)
    _tool_economics(version, start, end)
    _cohort_rows.clear()  # only the default range's: the warm-up read it
    tool_prs.clear()
    release_freed_memory()
    _spend_since(version, start)
    release_freed_memory()
    _spend_alerts(version)
    usage_rows(version)
    _adoption_all(version)
    _delivery_facts(version, start)
    identities(version)
    spend_by_kind(version)
    unapproved_models(version, None)
    if not _budget_conditions():  # those read every spend row, kept (millions at scale): left to the visit
        policy_status(version, today or dt.datetime.now(dt.timezone.utc).date())
    release_freed_memory()


def cost_per_unit_by_team(version: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> pl.DataFrame:
    """Spend, resolved units and cost per unit by team over the selected periods (app/views/spend), of the
    teams the signed-in user may drill into."""
    rows = spend_per_team(_cube(version), Filters(grain=grain, start=start, end=end, team=team))
    return scope.team_rows(rows, row_scope())


@st.cache_data(show_spinner=False, max_entries=32)
def teams_to_watch(version: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> list:
    """Teams whose AI-assisted PRs are rolled back clearly more often than their others (from the cube)."""
    return find_teams_to_watch(_cube(version), Filters(grain=grain, start=start, end=end, team=team))


@st.cache_resource(show_spinner=False, max_entries=256)
def trend_figure(version: str, grain: str, start: dt.date, end: dt.date, team: str | None, metric: str):
    """A scorecard trend chart (a Vega-Lite spec), built once per data version and filters. Never mutated
    by the pages."""
    trend = next(t for t in TRENDS if t.metric == metric)
    return trend_chart(records(version, grain, start, end, None), trend, team,
                       csat_tolerance=config().rules.csat_tolerance, markers=chart_markers(version), grain=grain)


def chart_markers(version: str) -> tuple[tuple[dt.date, str], ...]:
    """`[[markers]]` from the config, and the AI adoption week (revision 2), for every trend chart."""
    marks = [(m.date, m.label) for m in config().markers]
    adoption = baselines(version).adoption_week
    if adoption is not None:
        marks.append((adoption, "AI adoption"))
    return tuple(sorted(marks))


@st.cache_resource(show_spinner="Reading what AI the data names…", max_entries=2)
def identities(version: str):
    """Every AI identity in the warehouse (reports/governance_data.Identities), for the Governance page;
    never mutated."""
    _cube(version)  # the PRs' identities are kept with the cube: up to date first
    return load_kept_identities(warehouse(), config(), spend_groups=spend_groups(version))  # sums, not every spend row


@st.cache_data(show_spinner=False, max_entries=2)
def spend_rows(version: str) -> pl.DataFrame:
    """Every spend row: only budget stop conditions read them (`policy_status`)."""
    return load_spend_rows(warehouse())


@st.cache_data(show_spinner=False, max_entries=2)
def spend_groups(version: str) -> pl.DataFrame:
    """Spend summed per tool × model × workflow × team in SQL (reports/governance_data.load_spend_groups)."""
    return load_spend_groups(warehouse())


@st.cache_data(show_spinner=False, max_entries=2)
def spend_by_kind(version: str) -> pl.DataFrame:
    """Spend summed per tool × model × workflow (reports/governance_data.spend_by_kind): what the
    Governance page's inventory reads of the spend rows."""
    return by_kind_of(spend_groups(version))


@st.cache_data(show_spinner=False, max_entries=8)
def unapproved_models(version: str, visible_teams: frozenset[str] | None) -> pl.DataFrame:
    """Spend on models their tool's owner did not approve (governance.inventory.unapproved_models), examples
    from `visible_teams` only; reads only the spend rows of the flagged tool × model pairs."""
    return load_unapproved_models(warehouse(), config(), spend_by_kind(version), visible_teams)


@st.cache_resource(show_spinner="Judging the stop conditions…", max_entries=4)
def policy_status(version: str, today: dt.date):
    """Every workflow's stop conditions judged on the cube's records (reports/governance_data)."""
    # Only budget conditions read the spend rows (millions at scale): skip them otherwise.
    spend = spend_rows(version) if _budget_conditions() else pl.DataFrame(schema={"date": pl.Date})
    return judge_policies(_cube(version), config(), spend, today=today)


def _budget_conditions() -> bool:
    return any(s.metric == "budget" for f in config().governance.workflows.values() for s in f.stop)


@st.cache_resource(show_spinner=False)
def record_config_version(config_hash: str) -> bool:
    """Record the config and metric-definition version in the change history, once per process and
    version (the hash is the cache key)."""
    return record_version(warehouse(), config(), actor=current().actor)


@st.cache_data(ttl=10, show_spinner=False, max_entries=1)
def audit_rows() -> pl.DataFrame:
    """The audit log (admins' pages), re-read every few seconds: audit rows do not change the data version."""
    return read_table(warehouse(), "audit_log")


def adoption(version: str) -> scope.AdoptionRows:
    """Per-person usage, matched to people, with seats, spend and the PRs' AI tools (reports/adoption_data),
    as far as the signed-in user may see them (reports/scope.adoption_rows): people only of the teams
    they may list, aggregates of the teams they may see."""
    return _adoption_scoped(version, *adoption_scope())


@st.cache_resource(show_spinner="Reading AI tool usage…", max_entries=2)
def _adoption_all(version: str):
    _cube(version)  # the spend sums are kept with the cube: up to date first
    # The PRs naming a tool: `tool_prs`, a range's. The spend sums as the upkeep keeps them, not summed again
    # from every spend row (reports.adoption_data.stored_spend_sums).
    return load_adoption(warehouse(), tools=False, spend=stored_spend_sums(warehouse()))


@st.cache_data(show_spinner=False, max_entries=8)
def tool_prs(version: str, start: dt.date, end: dt.date) -> pl.DataFrame | None:
    """The PRs naming a tool that the Adoption page's per-tool economics count over [start, end)
    (reports/adoption_data.load_tool_prs; None: PRs name no tools in this warehouse). Like
    `_cohort_rows`, an aggregate's input that names no PR on the page: not scoped."""
    return load_tool_prs(warehouse(), start, end)


@st.cache_resource(show_spinner=False, max_entries=8)
def _adoption_scoped(version: str, people: tuple[str, ...] | None, aggregates: tuple[str, ...] | None):
    return scope.adoption_rows(_adoption_all(version), people, aggregates)


@dataclass(frozen=True)
class CohortRows:
    """What the Adoption page's aggregates over a range are made of (`_cohort_rows`): the merged PRs'
    outcomes (`OUTCOME_COLUMNS`), their lead_time_hours events and their rework events (without reasons),
    both with the PR's author (the cohort comparison then joins nothing by PR id)."""

    outcomes: pl.DataFrame
    lead_time: pl.DataFrame
    rework: pl.DataFrame


# The PR outcomes' columns the Adoption page's aggregates read (app/views/adoption.cohorts_compared,
# metrics.tool_economics).
OUTCOME_COLUMNS = ("id", "author", "team", "merged_at", "ai_assisted", "rolled_back", "shipped_deployment_id")


@st.cache_resource(show_spinner="Reading the range's PRs…", max_entries=2)
def _cohort_rows(version: str, start: dt.date) -> CohortRows:
    """The rows the Adoption page's aggregates over a range from `start` on are made of: the per-PR facts kept
    beside the cube (metrics.cube.pr_facts; as on all the evidence, kept by the same upkeep) of the PRs merged
    or shipped from the first day of the range's first 28-day cohort window (metrics.cohorts.WINDOW_DAYS) on.
    The page counts PRs merged or shipped in the range, and cohorts over windows from that day on
    (app/views/adoption.cohorts_compared); nothing is decided again from the evidence."""
    _cube(version)  # the facts are kept with the cube: up to date first
    since = start - dt.timedelta(days=COHORT_WINDOW_DAYS)
    merged = read_facts(warehouse(), "pr_facts", since)
    shipped = read_facts(warehouse(), "ship_facts", since)
    return CohortRows(outcomes=merged.select(OUTCOME_COLUMNS),
                      lead_time=shipped.select("id", "at", "team", "value", "author"),
                      rework=merged.select("id", "author", at="merged_at", team="team", hit="reworked"))


def incidents_since(version: str, since: dt.date) -> pl.DataFrame:
    """The incidents resolved from the day `since` on and the open ones started then or later
    (reports/data.load_incidents_since), of the teams the signed-in user may see: what the Incidents & MTTR
    page lists and counts over its periods, as `prepared(version, since, ("incidents",))` gives them."""
    return scope.team_rows(_incidents_since(version, since), row_scope())


@st.cache_data(show_spinner=False, max_entries=8)
def _incidents_since(version: str, since: dt.date) -> pl.DataFrame:
    return load_incidents_since(warehouse(), config(), since)


def ticket_counts(version: str, since: dt.date) -> pl.DataFrame:
    """The tickets resolved from the day `since` on, counted per day × team × channel (metrics.cube.ticket_facts,
    kept beside the cube by the same upkeep: a range's few thousand rows, not its tickets), of the teams the
    signed-in user may see: what the Support page's tables and chart are made of (app/views/support.py)."""
    return scope.team_rows(_ticket_counts(version, since), row_scope())


@st.cache_data(show_spinner=False, max_entries=8)
def _ticket_counts(version: str, since: dt.date) -> pl.DataFrame:
    _cube(version)  # the counts are kept with the cube: up to date first
    return read_facts(warehouse(), "ticket_facts", since)


def cohort_comparison(version: str, filters: Filters, basis: str
                      ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """The Adoption page's cohort comparison over `filters`' range and team (app/views/adoption.cohorts_compared
    on `_cohort_rows` and the per-person usage: (rollback share, lead time, rollback share by PR segment, rework
    rate)), kept per data version, range, team and `basis`: the tables, not the range's PR facts they are made
    of. An aggregate naming no PR or person, made of unscoped rows (`_cohort_rows`): every role sees
    the same. The default view's is made at the server's start (`read_ahead`)."""
    return _cohort_comparison(version, filters.start, filters.end, filters.team, basis)


# The Adoption page's cohort basis when none is picked (app/app_pages/adoption.py).
DEFAULT_COHORT_BASIS = "prs"


@st.cache_resource(show_spinner="Comparing the cohorts…", max_entries=16)
def _cohort_comparison(version: str, start: dt.date, end: dt.date, team: str | None, basis: str):
    rows = _cohort_rows(version, start)
    return cohorts_compared(rows.outcomes, rows.lead_time, _adoption_all(version).usage,
                            Filters(grain="week", start=start, end=end, team=team), basis=basis,
                            min_sample=config().rules.min_sample, rework=rows.rework)


def tool_economics(version: str, start: dt.date, end: dt.date) -> pl.DataFrame | None:
    """The Adoption page's per-tool economics over [start, end] (metrics.tool_economics of the spend, the range's
    PRs naming a tool (`tool_prs`), the PR outcomes of `_cohort_rows` and the vendors' per-person cost), kept per
    data version and range; None where PRs name no tools. Unscoped, like `cohort_comparison`; the default view's
    is made at the server's start (`read_ahead`)."""
    return _tool_economics(version, start, end)


@st.cache_resource(show_spinner="Counting each tool's PRs…", max_entries=16)
def _tool_economics(version: str, start: dt.date, end: dt.date) -> pl.DataFrame | None:
    prs = tool_prs(version, start, end)
    if prs is None:
        return None
    data = _adoption_all(version)
    return economics_of(data.spend, prs, _cohort_rows(version, start).outcomes, start=start, end=end,
                        min_sample=config().rules.min_sample, vendor_cost=data.usage)


def pr_extra(version: str, pr_id: str) -> dict:
    """A PR's warehouse columns the evidence does not carry (`ai_tools`, `ai_mode`), where the schema has
    them, for a PR the signed-in user may see ({} for any other)."""
    if (row_scope() is not None
            and prepared_for_item(version, "pr", pr_id).evidence.pull_requests.filter(pl.col("id") == pr_id).height == 0):
        return {}
    return _pr_extra(version, pr_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _pr_extra(version: str, pr_id: str) -> dict:
    table = TABLES["pull_requests"]
    wanted = [c for c in ("ai_tools", "ai_mode") if c in table.c]
    if not wanted:
        return {}
    with warehouse().engine.connect() as conn:
        row = conn.execute(sa.select(*[table.c[c] for c in wanted]).where(table.c.id == pr_id)).first()
    return dict(zip(wanted, row)) if row else {}


@st.cache_data(show_spinner=False, max_entries=2)
def usage_rows(version: str) -> pl.DataFrame:
    """ai_usage (seats, active users, acceptances, agent PRs), for the adoption panel."""
    return read_table(warehouse(), "ai_usage", USAGE_COLUMNS)
