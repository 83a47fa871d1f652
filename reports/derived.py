"""The derived daily cube, kept in the warehouse next to the evidence and kept current by time.

Every write notes in `cube_state` how far back it reaches (warehouse/reach.py, in the write's own
transaction). `bring_up_to_date`, run once after a run (`refresh_cube`) or by any reader that finds a
reach pending, reads only the evidence from that reach on (warehouse/slice.py, windows from
metrics/reach.py) with the earlier rows it links to, and the authors' weekly merge counts of the weeks
before it that adoption cohorts look back to (summed by the warehouse), builds the cube of that slice
with the same `prepare` / `build_cube` a full build uses, and replaces the cube's days from the reach on
in one transaction. So a write's cost grows with how
far back it reaches (a write of last week's PRs: a few weeks of evidence; a write of rows from three
years ago: three years), not with the warehouse. A config whose fingerprint differs from the stored
one, a write to `people`, or an empty cube means a full rebuild (`scorecard rebuild` forces one).

A full rebuild of a warehouse with more than `WINDOW_PRS` merged PRs goes window by window in time order
(`_rebuild_by_windows`): each window's days from the slice from its start, of the evidence before a bound
past its end, so it holds a window of evidence at a time, not every row (at 3.15M PRs the rebuild at once
held 11.3 GB: it could not run for a larger organisation, nor could a cube-format upgrade, which rebuilds).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

import polars as pl
import sqlalchemy as sa

from config.model import Config
from connectors.common.progress import NoProgress, Progress
from metrics.change_chain import ChainFacts, cause_segments
from metrics.cohorts import WINDOW_DAYS, EarlierMerges
from metrics.cube import SPEND_ROLLUP_READS, Cube, build_cube, facts, spend_rollup
from metrics.evidence import SCHEMAS, Evidence, conform
from metrics.linking import deployment_outcomes
from metrics.reach import reach_of
from metrics.scorecard import prepare, values_ahead
from metrics.teams import assign_team_column
from reports.adoption_data import SPEND_SUMS_PART, spend_sums_by_day
from warehouse import Warehouse, read_table
from warehouse.cube_store import (DAILY, CubeState, fix_rule_json, read_cube_parts, read_facts, read_state,
                                  record_fix_rule, replace_cube, start_build)
from warehouse.read import instant_literal, one_connection, read_where, text_literal
from warehouse.schema import deployments, incidents, pull_requests
from warehouse.slice import SliceStarts, read_slice, read_unmerged_signals, span_pairs

log = logging.getLogger(__name__)


def bring_up_to_date(warehouse: Warehouse, config: Config, fingerprint: str, columns: dict[str, list[str]],
                     progress: Progress | None = None) -> str:
    """Fold pending writes into the cube (or rebuild it); returns what was done: "fresh", "updated" or
    "rebuilt"."""
    state = read_state(warehouse)
    if state is None or state.fingerprint != fingerprint or state.pending_full:
        why = ("no cube yet" if state is None else "the configuration or the cube's format changed" if state.fingerprint != fingerprint
               else "a write reached all history")
        rebuild(warehouse, config, fingerprint, columns, progress, why=why)
        return "rebuilt"
    if state.pending_from is None:
        return "fresh"
    if state.fix_rule is None:  # built before the rule was kept (the same fingerprint: the same rule)
        record_fix_rule(warehouse, _fix_rule(config))
    _update_from(warehouse, config, state, columns)
    return "updated"


# How many merged PRs a rebuild reads at once at most (with what a window reads around them): a warehouse with
# more is rebuilt window by window (`_rebuild_by_windows`). At 1M PRs the whole rebuild held 3.1 GB, at 3.15M
# 11.3 GB: reading every row at once cannot scale.
WINDOW_PRS = 250_000


def rebuild(warehouse: Warehouse, config: Config, fingerprint: str, columns: dict[str, list[str]],
            progress: Progress | None = None, why: str = "asked for", window_prs: int = WINDOW_PRS,
            unit: str = "1mo") -> None:
    """Build the whole cube from every row of evidence and store it: at once when the warehouse holds at
    most `window_prs` merged PRs, else window by window (`_rebuild_by_windows`; windows of whole `unit`s,
    a polars duration: "1mo", "1w")."""
    progress = progress or NoProgress()
    reach = reach_of(config)
    log.info("rebuilding the scorecard cube (%s)", why)
    progress.update(0, 3, f"rebuilding the scorecard cube ({why}): reading the evidence")
    seen = start_build(warehouse, fingerprint, reach.look_back, reach.rollback_window,
                       list(config.rules.production_environments), _fix_rule(config))
    starts = _window_starts(warehouse, window_prs, unit)
    if starts:
        _rebuild_by_windows(warehouse, config, columns, starts, seen, progress)
        return
    evidence = _evidence({name: read_table(warehouse, name, cols) for name, cols in _all(columns).items()})
    spend = _spend_parts(warehouse, config, None)
    progress.update(1, 3, "rebuilding the scorecard cube: linking and summing")
    prepared = prepare(evidence, config)
    parts = {**_parts(prepared.cube), **_facts(prepared), **spend}
    del prepared  # its frames (teams assigned, outcomes, the change chain) are not held while the parts are stored
    progress.update(2, 3, "rebuilding the scorecard cube: storing it")
    replace_cube(warehouse, parts, _shipping(evidence, config), from_day=None, deployments_from=None,
                 seen_seq=seen)
    progress.update(3, 3, "rebuilt the scorecard cube")


def _window_starts(warehouse: Warehouse, window_prs: int, unit: str) -> list[dt.datetime]:
    """Where the windows after the first begin (midnights UTC at the start of a `unit`), each holding at
    most `window_prs` merged PRs where a single `unit` does not hold more; [] when the whole warehouse holds
    at most `window_prs` (one build of everything). From the merged PRs counted per day (the merged_at index)."""
    if warehouse.dialect == "sqlite":
        day = f"merged_at / {86_400 * 1_000_000}"
        sql = f"SELECT {day} AS day, count(*) AS n FROM pull_requests WHERE merged_at IS NOT NULL GROUP BY {day}"
    else:
        sql = ("SELECT (merged_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day, count(*) AS n FROM pull_requests "
               "WHERE merged_at IS NOT NULL GROUP BY 1")
    with warehouse.engine.connect() as conn:
        rows = conn.exec_driver_sql(sql).all()
    if sum(n for _, n in rows) <= window_prs:
        return []
    epoch = dt.date(1970, 1, 1)
    days = pl.DataFrame({"day": [epoch + dt.timedelta(days=int(d)) for d, _ in rows], "n": [int(n) for _, n in rows]},
                        schema={"day": pl.Date, "n": pl.Int64})
    periods = (days.group_by(start=pl.col("day").dt.truncate(unit)).agg(pl.col("n").sum()).sort("start"))
    starts, held = [], 0
    for start, n in periods.iter_rows():
        if held and held + n > window_prs:
            starts.append(dt.datetime.combine(start, dt.time(), dt.timezone.utc))
            held = 0
        held += n
    return starts


# The first window's cut: before any evidence (its slice reads every row before its bound).
_BEGINNING = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)


def _rebuild_by_windows(warehouse: Warehouse, config: Config, columns: dict[str, list[str]],
                        starts: list[dt.datetime], seen: int, progress: Progress) -> None:
    """The whole cube built window by window in time order, each window's days as the upkeep builds the
    days from a cut on (`_update_from`: the slice from the window's start, warehouse/slice.py), but of the
    evidence before the window's bound only (`read_slice`'s `until`, `bounded`): every row of every table
    whose counting time lies before it, with its final values. So no step holds more than a window and its
    bound's margin of the warehouse, and each stores its window's days. The last window reads to the end.

    A day's numbers can change with later rows only through links that reach back (metrics/reach.py): within
    the look-back (reverts, rollbacks, follow-up fixes, inferred incident causes, a week's adoption cohort)
    or unboundedly — a PR ships with its repo's first shipping production deployment after its merge, or
    the earliest the source names; an incident's source link names its deployment. So the bound lies past
    the window's end by the look-back (a week at least) and a day, past every first production deployment
    from the window's end on of a repo with PRs merged in the window (plus the rollback window, `_bound`), and
    past every naming deployment and source-linked incident that reaches further back than the look-back
    into the window (`_FarLinks`). After the build, a PR merged in the window that waits to ship while its
    repo deploys after the bound, or shipped within the rollback window before it, moves the bound past that
    deployment and the window is built again: its days are then exactly a full build's (tests/reports/
    test_windowed_rebuild.py). Each window's start is a cut the upkeep could make: the shipping verdicts
    kept for earlier deployments (`cube_deployments`) are those the earlier windows stored, exact (a
    deployment's rollback verdict rests on earlier rows only)."""
    reach = reach_of(config)
    envs = list(config.rules.production_environments)
    margin = max(reach.look_back, dt.timedelta(days=7)) + dt.timedelta(days=1)
    tail = reach.rollback_window + dt.timedelta(days=1)
    shippers = _production_times(warehouse, envs)
    far = _far_links(warehouse, envs, reach)
    cuts = [_BEGINNING, *starts]
    for at, cut in enumerate(cuts):
        end = cuts[at + 1] if at + 1 < len(cuts) else None
        bound = None if end is None else far.bound(cut, end, _first_shipments(warehouse, shippers, cut, end, margin, tail))
        while True:
            progress.update(at, len(cuts), f"rebuilding the scorecard cube: window {at + 1} of {len(cuts)}, from "
                            f"{cut.date() if at else 'the start'} (evidence to {bound.date() if bound else 'the end'})")
            built = None  # not held while the window is built again
            built = _build_window(warehouse, config, columns, cut, bound, end)
            later = None if end is None else _later_bound(built.outcomes, shippers, cut, end, bound, tail)
            if later is None:
                break
            log.info("the cube's window from %s: a PR merged in it ships or is rolled back after %s; built again to %s",
                     cut.date(), bound, later)
            bound = far.bound(cut, end, later)
        first = at == 0
        replace_cube(warehouse, built.parts, built.shipping, from_day=None if first else cut.date(),
                     deployments_from=None if first else built.since, seen_seq=seen if end is None else -1)
        del built
    progress.update(len(cuts), len(cuts), "rebuilt the scorecard cube")


@dataclass
class _Window:
    parts: dict[str, pl.DataFrame]
    shipping: pl.DataFrame
    since: dt.datetime
    outcomes: pl.DataFrame  # id, repo, merged_at, shipped_at of the PRs merged in the window


def _build_window(warehouse: Warehouse, config: Config, columns: dict[str, list[str]], cut: dt.datetime,
                  bound: dt.datetime | None, end: dt.datetime | None) -> _Window:
    """The cube's days in [cut, end) (from `cut` on when `end` is None) from the evidence before `bound`
    (all of it when None), as `_update_from` builds the days from a cut on (`_days_from`); and the shipping
    verdicts of the deployments from the slice's start on."""
    # The spend's parts do not depend on other tables' rows: the window's days of spend, read apart.
    spend = _spend_parts(warehouse, config, None if cut == _BEGINNING else cut.date(), None if end is None else end.date())
    built = _days_from(warehouse, config, columns, cut, spend, until=bound)
    days = pl.col("day") >= cut.date() if end is None else pl.col("day").is_between(cut.date(), end.date(), closed="left")
    outcomes = built.outcomes
    window = outcomes.filter(pl.col("merged_at") >= cut) if end is None else outcomes.filter(
        pl.col("merged_at").is_between(cut, end, closed="left"))
    return _Window(_days_of(built.parts, days), built.shipping, built.since,
                   window.select("id", "repo", "merged_at", "shipped_at"))


@dataclass
class _Days:
    parts: dict[str, pl.DataFrame]  # every day the slice counts (the caller keeps its own: `_days_of`)
    shipping: pl.DataFrame
    since: dt.datetime
    outcomes: pl.DataFrame


def _days_from(warehouse: Warehouse, config: Config, columns: dict[str, list[str]], cut_at: dt.datetime,
               spend: dict[str, pl.DataFrame], *, until: dt.datetime | None = None, kept_causes: bool = False) -> _Days:
    """The steps the upkeep from a cut (`_update_from`) and a rebuild's window (`_build_window`) share: the
    slice of the evidence the cube's days from `cut_at` on are made of (before `until` only, `read_slice`'s
    `bounded`, when given), prepared, the cube built with the PRs' cohorts, the facts and identities kept
    beside it, `spend`'s parts (read apart: they depend on the spend rows alone) and the span; and the
    shipping verdicts of the deployments from the slice's start on, which it decides exactly (earlier ones
    in the slice are context and keep theirs).

    `kept_causes` (the upkeep's): an incident started before the cut whose inferred cause the slice cannot
    decide takes the cause its start day's stored row holds (`_with_kept_causes`), instead of the slice's
    PRs and deployments starting at its start minus the link window (`slice_starts`)."""
    reach = reach_of(config)
    starts = slice_starts(warehouse, config, cut_at, reach.upkeep_read_back, until, kept_causes=kept_causes)
    tables, since = read_slice(warehouse, cut_at, starts, list(config.rules.production_environments), _all(columns),
                               until=until, bounded=True)
    evidence = _evidence(tables)
    prepared = prepare(evidence, config)
    chain = prepared.chain
    if kept_causes:
        chain = _with_kept_causes(warehouse, chain, prepared.outcomes, cut_at, since.changes, reach.incident_link)
        if chain is None:  # an incident without its kept row (`_with_kept_causes`): the slice from the causes' window
            log.info("the cube's upkeep from %s: an incident's kept cause is missing; read from its start", cut_at.date())
            return _days_from(warehouse, config, columns, cut_at, spend, until=until, kept_causes=False)
        prepared.__dict__["chain"] = chain  # (`Prepared.chain` is a cached property: the facts below read it)
    # A PR's cohort segments count on its merge day (rollback_share, rework_rate) or its shipping day
    # (lead_time_hours): the PRs merged or shipped from the cut on need their cohorts. The slice holds every
    # PR merged from `since.changes` on; the earlier weeks those cohorts look back to come from the
    # warehouse's own counts (aggregate reads), so the slice need not hold them.
    outcomes = prepared.outcomes
    counted = outcomes.filter((pl.col("merged_at") >= cut_at) | (pl.col("shipped_at") >= cut_at)).get_column("merged_at")
    cube = build_cube(prepared.evidence, outcomes, chain, prepared.seniors,
                      _earlier_merges(warehouse, since.changes, counted))
    parts = {**_parts(cube), **_facts(prepared, _identity_prs(warehouse, config, prepared, cut_at)), **spend,
             "span": _span(warehouse)}
    shipping = _shipping(evidence, config).filter(pl.col("finished_at") >= since.changes)
    return _Days(parts, shipping, since.changes, outcomes)


def _days_of(parts: dict[str, pl.DataFrame], days: pl.Expr) -> dict[str, pl.DataFrame]:
    """The daily parts' rows of `days` (`DAILY`); the other parts as they are."""
    return {name: frame.filter(days) if name in DAILY else frame for name, frame in parts.items()}


def _production_times(warehouse: Warehouse, production_environments: list[str]) -> pl.DataFrame:
    """repo, finished_at of every successful production deployment (what can ship a PR), sorted."""
    envs = ", ".join(text_literal(e.lower()) for e in production_environments) or "NULL"
    rows = read_where(warehouse, "deployments", ["repo", "finished_at"],
                      f"lower(status) = 'success' AND lower(environment) IN ({envs}) AND finished_at IS NOT NULL")
    return rows.sort("repo", "finished_at")


def _first_shipments(warehouse: Warehouse, shippers: pl.DataFrame, cut: dt.datetime, end: dt.datetime,
                     margin: dt.timedelta, tail: dt.timedelta) -> dt.datetime:
    """The window [cut, end)'s first bound: `margin` past its end, and `tail` (the rollback window and a day)
    past the first production deployment from `end` on of every repo with PRs merged in it (it ships those
    still waiting; it may be a rollback, which ships none: `_later_bound` finds out)."""
    pairs, _ = span_pairs(warehouse, cut, end)
    repos = pl.DataFrame({"repo": pairs.get_column("repo").unique().sort()})
    first = (shippers.filter(pl.col("finished_at") >= end).join(repos, on="repo", how="semi")
             .group_by("repo").agg(pl.col("finished_at").min()).get_column("finished_at").max())
    return max(end + margin, first + tail) if first is not None else end + margin


def _later_bound(window: pl.DataFrame, shippers: pl.DataFrame, cut: dt.datetime, end: dt.datetime,
                 bound: dt.datetime, tail: dt.timedelta) -> dt.datetime | None:
    """None when every PR merged in the window (`window`: id, repo, merged_at, shipped_at as built from the
    evidence before `bound`) is decided as on all the evidence: shipped more than the rollback window before
    `bound` (its deployment's rollback lies before it), or waiting in a repo that does not deploy to
    production from `bound` on. Else a later bound: `tail` past the latest such shipment, and past each
    waiting PR's repo's first production deployment from `bound` on."""
    late = window.filter(pl.col("shipped_at") >= bound - tail + dt.timedelta(days=1)).get_column("shipped_at").max()
    waiting = window.filter(pl.col("shipped_at").is_null()).select("repo").unique()
    first = (shippers.filter(pl.col("finished_at") >= bound).join(waiting, on="repo", how="semi")
             .group_by("repo").agg(pl.col("finished_at").min()).get_column("finished_at").max())
    found = [t for t in (late, first) if t is not None]
    return max(found) + tail if found else None


@dataclass(frozen=True)
class _FarLinks:
    """The source's links that reach further back than the look-back: (the PR's merge, its earliest naming
    production deployment's finish) where that deployment finished more than the look-back after the merge,
    and (a deployment's finish, the start of an incident whose source names it) where the incident started
    more than the look-back after it. A window [cut, end)'s bound must lie past the naming deployments of
    the PRs merged before its end (the naming one ships the PR: its merge day's facts, and the lead time on
    the day an earlier deployment would ship it) and the incidents naming its deployments (their
    change failure)."""

    named: pl.DataFrame  # early, late
    caused: pl.DataFrame  # early, late
    tail: dt.timedelta

    def bound(self, cut: dt.datetime, end: dt.datetime, bound: dt.datetime) -> dt.datetime:
        while True:
            later = [frame.filter(early & (pl.col("late") >= bound)).get_column("late").max()
                     for frame, early in ((self.named, pl.col("early") < end),
                                          (self.caused, pl.col("early").is_between(cut, end, closed="left")))]
            later = [t for t in later if t is not None]
            if not later:
                return bound
            bound = max(later) + self.tail


def _far_links(warehouse: Warehouse, production_environments: list[str], reach) -> _FarLinks:
    envs = ", ".join(text_literal(e.lower()) for e in production_environments) or "NULL"
    look_back = reach.look_back
    schema = {"early": pl.Datetime("us", "UTC"), "late": pl.Datetime("us", "UTC")}
    named = pl.DataFrame(schema=schema)
    with warehouse.engine.connect() as conn:
        links = conn.exec_driver_sql("SELECT 1 FROM deployment_prs LIMIT 1").first() is not None
    if links:
        rows = read_where(warehouse, "deployments", ["id", "finished_at"],
                          f"lower(status) = 'success' AND lower(environment) IN ({envs}) AND finished_at IS NOT NULL"
                          " AND id IN (SELECT deployment_id FROM deployment_prs)")
        pairs = read_where(warehouse, "deployment_prs", ["deployment_id", "pr_id"], None)
        merged = read_where(warehouse, "pull_requests", ["id", "merged_at"],
                            "merged_at IS NOT NULL AND id IN (SELECT pr_id FROM deployment_prs)")
        named = (pairs.join(rows, left_on="deployment_id", right_on="id")
                 .group_by("pr_id").agg(pl.col("finished_at").min())
                 .join(merged, left_on="pr_id", right_on="id")
                 .select(early=pl.col("merged_at"), late=pl.col("finished_at"))
                 .filter(pl.col("late") > pl.col("early") + look_back).cast(schema))
    incidents = read_where(warehouse, "incidents", ["caused_by_deployment_id", "started_at"],
                           "caused_by_deployment_id IS NOT NULL")
    caused = pl.DataFrame(schema=schema)
    if incidents.height:
        ids = incidents.get_column("caused_by_deployment_id").unique().sort().to_list()
        deployed = pl.concat([read_where(warehouse, "deployments", ["id", "finished_at"],
                                         f"id IN ({', '.join(text_literal(i) for i in ids[at:at + 5000])})")
                              for at in range(0, len(ids), 5000)])
        caused = (incidents.join(deployed, left_on="caused_by_deployment_id", right_on="id")
                  .select(early=pl.col("finished_at"), late=pl.col("started_at"))
                  .filter(pl.col("early").is_not_null() & (pl.col("late") > pl.col("early") + look_back)).cast(schema))
    return _FarLinks(named=named, caused=caused, tail=reach.rollback_window + dt.timedelta(days=1))


def _fix_rule(config: Config) -> str:
    return fix_rule_json(config.rules.fix_labels, config.rules.fix_title_pattern)


def _update_from(warehouse: Warehouse, config: Config, state: CubeState, columns: dict[str, list[str]]) -> None:
    cut = state.pending_from.astimezone(dt.timezone.utc).date()
    cut_at = dt.datetime.combine(cut, dt.time(), dt.timezone.utc)
    # On PostgreSQL every read below through one connection in one snapshot (warehouse.read.one_connection, which
    # the slice opens anyway): the spend's and the unmerged PRs' reads too, not each on a connection of its own
    # (connectorx's: a new server process and, in a small import, connectorx's own import, for one read each).
    with one_connection(warehouse):
        # The spend's parts depend on the spend rows alone: summed again only after a write of them (`spend_pending`).
        spend = _spend_parts(warehouse, config, cut) if state.spend_pending else {}
        built = _days_from(warehouse, config, columns, cut_at, spend, kept_causes=True)
    replace_cube(warehouse, _days_of(built.parts, pl.col("day") >= cut), built.shipping, from_day=cut,
                 deployments_from=built.since, seen_seq=state.pending_seq)
    log.info("scorecard cube updated from %s (PRs and deployments read from %s)", cut, built.since.date())


def slice_starts(warehouse: Warehouse, config: Config, cut_at: dt.datetime,
                 read_back: dt.timedelta | None = None, until: dt.datetime | None = None, *,
                 kept_causes: bool = False) -> SliceStarts:
    """Where the slice of the cube's days from `cut_at` on begins (metrics/reach.py): PRs and deployments
    `read_back` before it (the config's `Reach.read_back` when None), or earlier where an incident resolved
    since started earlier (deployments from its start minus the link window on can have caused it);
    incidents from the link window before it. `until`: of the incidents started before then only (a slice
    of the evidence before `until`, `read_slice`'s `bounded`). `kept_causes`: not earlier for an incident
    started before `cut_at` (the upkeep takes such an incident's inferred cause from the cube's stored row,
    `_with_kept_causes`), only for the deployments the source names (`_incidents_start`)."""
    reach = reach_of(config)
    read_back = reach.read_back if read_back is None else read_back
    causes_since = min(cut_at, _incidents_start(warehouse, cut_at, until, started=not kept_causes)) - reach.incident_link
    return SliceStarts(changes=min(cut_at - read_back, causes_since), incidents=cut_at - reach.incident_link)


def _earlier_merges(warehouse: Warehouse, complete_from: dt.datetime, merged: pl.Series) -> EarlierMerges:
    """The authors' weekly merge counts (metrics.cohorts.EarlierMerges) that the cohorts of PRs merged at
    `merged` look back to (each PR's week and the three before), but of the weeks before the first whole
    week from `complete_from` on only (the slice holds every PR merged since then). One aggregate read per
    run of consecutive weeks, summed by the warehouse through the merged_at index."""
    utc = complete_from.astimezone(dt.timezone.utc)
    first = utc.date() if utc.time() == dt.time() else utc.date() + dt.timedelta(days=1)  # the first whole day
    end = first + dt.timedelta(days=-first.weekday() % 7)  # the first Monday on or after it
    mondays = {day - dt.timedelta(days=day.weekday()) for day in merged.drop_nulls().dt.date().unique().to_list()}
    looked_back = {monday - dt.timedelta(days=7 * back) for monday in mondays for back in range(WINDOW_DAYS // 7)}
    weeks = sorted(week for week in looked_back if week < end)
    runs: list[list[dt.date]] = []
    for week in weeks:
        if runs and week - runs[-1][-1] == dt.timedelta(days=7):
            runs[-1].append(week)
        else:
            runs.append([week])
    frames = [_merge_counts(warehouse, run[0], run[-1] + dt.timedelta(days=7)) for run in runs]
    weekly = pl.concat(frames) if frames else _merge_counts_frame([], [], [], [])
    return EarlierMerges(weeks=tuple(weeks), weekly=weekly.filter(~pl.col("author").str.ends_with("[bot]")))


def _merge_counts(warehouse: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per author and ISO week (its Monday) of the PRs merged in [start, end): n and ai (AI-assisted)."""
    bounds = [dt.datetime.combine(day, dt.time(), dt.timezone.utc) for day in (start, end)]
    if warehouse.dialect == "sqlite":
        # The index entries themselves (the merged_at index holds the author and the flag), summed here:
        # SQLite's GROUP BY sorted them first (four weeks at 3M PRs: 83k entries, 0.06 CPU-s of sorting
        # for 0.01 of reading them).
        low, high = (instant_literal("sqlite", bound, pull_requests.c.merged_at) for bound in bounds)
        rows = read_where(warehouse, "pull_requests", ["author", "merged_at", "ai_assisted"],
                          f"merged_at >= {low} AND merged_at < {high} AND author IS NOT NULL")
        return (rows.group_by("author", week=pl.col("merged_at").dt.truncate("1w").dt.date())
                .agg(n=pl.len().cast(pl.UInt32), ai=pl.col("ai_assisted").fill_null(False).sum().cast(pl.UInt32))
                .sort("author", "week"))
    merged = pull_requests.c.merged_at
    week = sa.cast(sa.func.date_trunc("week", sa.func.timezone("UTC", merged)), sa.Date)
    ai = sa.func.sum(sa.case((pull_requests.c.ai_assisted, 1), else_=0))
    query = (sa.select(pull_requests.c.author, week.label("week"), sa.func.count().label("n"), ai.label("ai"))
             .where(merged >= bounds[0], merged < bounds[1], pull_requests.c.author.is_not(None))
             .group_by(pull_requests.c.author, week))
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query).all()
    authors, weeks, ns, ais = (list(column) for column in zip(*rows)) if rows else ([], [], [], [])
    return _merge_counts_frame(authors, weeks, ns, ais)


def _merge_counts_frame(authors: list, weeks: list, ns: list, ais: list) -> pl.DataFrame:
    return pl.DataFrame({"author": authors, "week": weeks, "n": ns, "ai": ais},
                        schema={"author": pl.String, "week": pl.Date, "n": pl.UInt32, "ai": pl.UInt32})


def evidence_from(warehouse: Warehouse, config: Config, cut_at: dt.datetime, columns: dict[str, list[str]],
                  tables: Collection[str] | None = None, *, reviewed_prs: bool = True,
                  until: dt.datetime | None = None, repos_of: Callable | None = None) -> Evidence:
    """The evidence (`columns` of each table, every column where it names none) whose prepared facts from
    `cut_at` on are exactly those of all the evidence: the rows from `cut_at` on and the earlier ones they link to
    (warehouse/slice.py). `tables`: only those are read (each as the read of every table gives it), the
    others are empty; None: every table. `reviewed_prs`, `until`, `repos_of`: as warehouse.slice.read_slice. Reads the stored
    cube's shipping table: bring the cube up to date first."""
    tables, _ = read_slice(warehouse, cut_at, slice_starts(warehouse, config, cut_at),
                           list(config.rules.production_environments), _all(columns), tables, reviewed_prs=reviewed_prs,
                           until=until, repos_of=repos_of)
    return _evidence(tables)


def _shipping(evidence: Evidence, config: Config) -> pl.DataFrame:
    """Every production deployment: id, repo, finished_at, ships (not a rollback)."""
    outcomes = deployment_outcomes(evidence, config.rules.production_environments)
    return outcomes.select("id", "repo", "finished_at", ships=~pl.col("rollback").fill_null(False))


def _incidents_start(warehouse: Warehouse, cut_at: dt.datetime, until: dt.datetime | None = None, *,
                     started: bool = True) -> dt.datetime:
    """The earliest start of an incident resolved from `cut_at` on (its cause lies before its start), and
    the earliest deployment the source links such an incident, or one started from `cut_at` on (resolved or
    not: the Delivery page lists it with its cause's segment and PRs, metrics.cube.delivery_facts), to.
    `until`: of the incidents started before then only. `started` False: the deployments the source links
    only (not the incidents' starts)."""
    # Both databases answered a lone min() by walking the started_at index from its first entry, filtering
    # on resolved_at: every incident that resolved before the cut (PostgreSQL: 54k at 1M PRs, 0.15 s;
    # SQLite: 167k at 3M PRs, 0.19 s, growing with history). OFFSET 0 keeps the subquery as written (SQLite
    # flattens no subquery with a LIMIT into an aggregate): the resolved_at range, then the min of its rows.
    before = [] if until is None else [incidents.c.started_at < until]
    resolved = sa.select(incidents.c.started_at).where(incidents.c.resolved_at >= cut_at, *before).offset(0)
    with warehouse.engine.connect() as conn:
        started = conn.execute(sa.select(sa.func.min(resolved.subquery().c.started_at))).scalar() if started else None
        # Each through its own index (an OR of the two ranges would scan the table).
        named = sa.union(sa.select(incidents.c.caused_by_deployment_id).where(incidents.c.resolved_at >= cut_at, *before),
                         sa.select(incidents.c.caused_by_deployment_id).where(incidents.c.started_at >= cut_at, *before))
        linked = conn.execute(
            sa.select(sa.func.min(deployments.c.finished_at)).where(deployments.c.id.in_(named))
        ).scalar()
    found = [t for t in (started, linked, cut_at) if t is not None]
    return min(found)


def _with_kept_causes(warehouse: Warehouse, chain: ChainFacts, outcomes: pl.DataFrame, cut_at: dt.datetime,
                      since: dt.datetime, link: dt.timedelta) -> ChainFacts | None:
    """`chain` with the cause of every incident started before `cut_at` that the slice cannot link (its link window,
    `link` before its start, begins before the slice's PRs and deployments, `since`; and the source names no
    cause: a named one is in the slice, `_incidents_start`) taken from its row kept beside the cube on its start
    day (`incident_facts`): the deployment, how and by which rule it was linked, and that deployment's segment
    and PRs, where the deployment finished before `since` (a later one's are the slice's, decided exactly).

    Of such an incident only its MTTR event counts from the cut on (on its resolved day, in its cause's segment:
    metrics.change_failure.mttr_change_events); its row, the deployments it fails and what they shipped lie
    before the cut. A kept row is exact (the cube's days before the cut are a full build's): a write that can
    change an inferred cause (the incident, a production deployment within the window before its start, a PR
    its cause ships: by merge order, or by the source, even one merged after the deployment or not merged, whose
    write reaches the earliest deployment naming it; a rollback verdict) reaches back to its start day
    (warehouse/reach.py). An incident without its kept row makes this return None (the caller reads the slice
    from the incident's start)."""
    incidents = chain.incidents
    undecided = (pl.col("started_at").is_not_null() & (pl.col("started_at") < cut_at)
                 & (pl.col("started_at") - link < since) & pl.col("cause_how").ne_missing("source"))
    rows = incidents.with_row_index("_row").filter(undecided)
    if rows.height == 0:
        return chain
    log.debug("%d incidents started before the cut take their kept causes", rows.height)
    days = rows.get_column("started_at").dt.date()
    stored = read_facts(warehouse, "incident_facts", days.min(), days.max(), libpq=False).filter(
        pl.col("id").is_in(rows.get_column("id").implode()))
    causes = stored.select("id", "started_at", "caused_by_deployment_id", "cause_how", "cause_rule",
                           kept_segment="cause_segment", kept_prs="cause_prs")
    found = rows.select("id", "started_at").join(causes, on=["id", "started_at"], how="semi")
    if causes.height != rows.height or found.height != rows.height:
        return None
    decided = chain.deployments.filter(pl.col("finished_at") >= since).get_column("id").implode()
    in_slice = pl.col("caused_by_deployment_id").is_in(decided)
    kept = rows.drop("caused_by_deployment_id", "cause_how", "cause_rule", "cause_production", "cause_segment",
                     "cause_prs").join(causes.drop("started_at"), on="id", how="left", maintain_order="left")
    fresh = cause_segments(kept.select("id", "caused_by_deployment_id"), chain.deployments, outcomes)
    kept = kept.join(fresh.select("id", "cause_segment", "cause_prs"), on="id", how="left", maintain_order="left").with_columns(
        cause_production=pl.col("caused_by_deployment_id").is_not_null(),  # an inferred cause: production, not a rollback
        cause_segment=pl.when(in_slice).then(pl.col("cause_segment")).otherwise(pl.col("kept_segment")),
        cause_prs=pl.when(in_slice).then(pl.col("cause_prs")).otherwise(pl.col("kept_prs")),
    )
    schema = {"_row": rows.schema["_row"], **incidents.schema}
    merged = pl.concat([incidents.with_row_index("_row").filter(~undecided),
                        kept.select(list(schema)).cast(schema)]).sort("_row").drop("_row")
    return replace(chain, incidents=merged)


def _span(warehouse: Warehouse) -> pl.DataFrame:
    """The data span (metrics.cube.data_span) from the warehouse's indexes: min and max of merged_at and
    of deployments' finished_at."""
    # Each min and max its own scalar subquery: SQLite reads one end of the index for a lone min() or
    # max(), but scans the whole index for both in one SELECT.
    bounds = [sa.select(fn(column)).scalar_subquery() for column in (pull_requests.c.merged_at, deployments.c.finished_at)
              for fn in (sa.func.min, sa.func.max)]
    with warehouse.engine.connect() as conn:
        values = conn.execute(sa.select(*bounds)).one()
    prs, deps = values[:2], values[2:]
    firsts = [t for t in (prs[0], deps[0]) if t is not None]
    lasts = [t for t in (prs[1], deps[1]) if t is not None]
    span_type = pl.Datetime("us", "UTC")
    return pl.DataFrame({"first": [min(firsts) if firsts else None], "last": [max(lasts) if lasts else None]},
                        schema={"first": span_type, "last": span_type})


def stored_cube(warehouse: Warehouse) -> Cube:
    """The cube as its tables hold it, rows in the order `build_cube` gives them.

    Every reader computes the scorecard from it next, and lead time's first step is the slowest: two
    million rows made into arrays and ranked by value (metrics.scorecard.values_ahead). So the values
    table is read first, and a worker thread makes its rows ready while this one reads the rest (the read
    otherwise has one core to itself)."""
    hand_to = []

    def values_read(early: dict[str, pl.DataFrame]) -> None:
        if "values" in early:
            hand_to.append(values_ahead(early["values"]))

    cube = Cube(**read_cube_parts(warehouse, early=["values"], on_early=values_read))
    for hand in hand_to:
        hand(cube)
    return cube


def _parts(cube: Cube) -> dict[str, pl.DataFrame]:
    return {"ratio": cube.ratio, "mean": cube.mean, "values": cube.values, "spend": cube.spend, "units": cube.units,
            "span": cube.span, "seniors": cube.seniors}


def _spend_parts(warehouse: Warehouse, config: Config, since: dt.date | None,
                 until: dt.date | None = None) -> dict[str, pl.DataFrame]:
    """The spend's parts kept beside the cube, of the days in [since, until) (None: no bound): the spend sums,
    summed by the warehouse as a full build sums them (the same rows in the same order: the same bits), and the
    rollup (metrics.cube.spend_rollup) of the spend rows read apart from the cube's evidence, whose spend columns
    stay the cube's own (the cube's spend sums are made of that frame as read: a wider read of the same rows
    comes in other chunks, which changed 524 of 11,200 day × team sums at 1M PRs in their last bit)."""
    at, to = (None if day is None else dt.datetime.combine(day, dt.time(), dt.timezone.utc) for day in (since, until))
    rows = read_table(warehouse, "ai_spend", list(SPEND_ROLLUP_READS), since=at, until=to)
    return {SPEND_SUMS_PART: spend_sums_by_day(warehouse, since, until),
            "spend_rollup": spend_rollup(assign_team_column(rows, "ai_spend", config.teams))}


def _facts(prepared, identity_prs: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """The parts kept beside the cube (metrics.cube.facts: per-PR facts, ticket counts, AI identities), by part
    name; the identities of `identity_prs` (default: the evidence's PRs)."""
    return facts(prepared.evidence, prepared.outcomes, prepared.chain, identity_prs)


def _identity_prs(warehouse: Warehouse, config: Config, prepared, cut_at: dt.datetime) -> pl.DataFrame:
    """Every PR whose AI identities lie on a day from `cut_at` on (governance.inventory.identity_facts: its merge
    day, else its creation day): the slice's PRs (every PR merged from the cut on is among them) and the PRs
    never merged that name a signal created from the cut on, which the slice, read by merge time, leaves out
    (through their partial index: a few rows)."""
    prs = prepared.evidence.pull_requests
    unmerged = assign_team_column(conform(read_unmerged_signals(warehouse, ["repo", *_IDENTITY_COLUMNS], cut_at),
                                          "pull_requests"), "pull_requests", config.teams)  # the repo assigns the team
    return pl.concat([prs.select(_IDENTITY_COLUMNS), unmerged.select(_IDENTITY_COLUMNS)]).unique(
        "id", keep="first", maintain_order=True)


# What governance.inventory.pr_identities reads of a PR.
_IDENTITY_COLUMNS = ["id", "team", "created_at", "merged_at", "ai_signals", "ai_tools"]


def _all(columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """The cube's columns of each evidence table (every column of those `columns` does not name)."""
    return {name: columns.get(name, list(schema)) for name, schema in SCHEMAS.items()}


def _evidence(tables: dict[str, pl.DataFrame]) -> Evidence:
    return Evidence.of(**tables)

