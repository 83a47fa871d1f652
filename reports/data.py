"""The one way from the warehouse to the metrics.

- `load_evidence`: the evidence tables as polars frames (for drill-downs and explanations), optionally
  from an instant on (`since`, filtered in SQL by each table's counting time).
- `load_cube`: the scorecard's daily cube, kept in the warehouse's `cube_*` tables next to the evidence
  (reports/derived.py) for the config that shapes it (teams, production environments, windows: its
  fingerprint). Every write notes how far back it reaches; the writer folds that in right after its run
  (`refresh_cube`), and a reader that still finds some pending does so itself before reading. So
  readers — the dashboard, `scorecard metrics`, every PostgreSQL replica — read the same few tables
  instead of millions of rows, and no file beside the warehouse holds numbers.
- `load_cube_outline` / `load_cube_days`: the same cube read by month, for a command that reports one range
  (`scorecard metrics`): what the range and the baselines are found from first, then only the months the
  range and the baseline windows lie in (at 1M PRs, a tenth of the cube's 200 MB). When reading needs no
  write, `reports.cube_months.open_current_cube` reads the same without SQLAlchemy.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from config.model import Config
from connectors.common.progress import Progress
from metrics.change_chain import incident_causes
from metrics.cube import Cube
from metrics.linking import production_deployments
from metrics.evidence import SCHEMAS, Evidence, conform
from metrics.teams import assign_team_column
from reports.cube_months import cube_fingerprint, months_of, state_is_current, whole_history_parts
from reports.derived import bring_up_to_date, evidence_from, rebuild, stored_cube
from warehouse import Warehouse, open_warehouse, read_table
from warehouse.cube_store import read_cube_months
from warehouse.read import COUNTING_TIME, instant_literal, read_where, text_literal
from warehouse.slice import read_incidents_since
from warehouse.schema import deployments, incidents, pull_requests

log = logging.getLogger(__name__)

# The columns the cube is built from (drill-downs read every column of SCHEMAS; files, reviews and
# people are read whole).
CUBE_COLUMNS = {
    # ai_signals: the AI identities kept beside the cube (governance.inventory.identity_facts)
    "pull_requests": ["id", "repo", "number", "title", "author", "team", "created_at", "merged_at", "merge_commit_sha",
                      "ai_assisted", "is_revert", "reverts_pr_id", "revert_ref", "labels", "ai_tools", "ai_mode",
                      "ai_signals"],
    "deployments": ["id", "repo", "team", "environment", "sha", "finished_at", "status", "is_rollback"],
    "deployment_prs": ["deployment_id", "pr_id"],
    # title and url: the Delivery page lists them from the facts kept beside the cube (metrics.cube.delivery_facts)
    "incidents": ["id", "title", "team", "service", "started_at", "resolved_at", "ai_assisted",
                  "caused_by_deployment_id", "url"],
    "tickets": ["team", "resolved_at", "channel", "csat"],
    "ai_spend": ["date", "team", "cost_usd"],
}


def warehouse_for(config: Config) -> Warehouse:
    return open_warehouse(config.warehouse.url, base_dir=_base_dir(config))


def _base_dir(config: Config) -> Path | None:
    return Path(config.source_path).parent if config.source_path else None


def load_evidence(warehouse: Warehouse, columns: dict[str, list[str]] | None = None, *,
                  since: dt.datetime | None = None, until: dt.datetime | None = None) -> Evidence:
    """Every evidence table, with the columns the metrics and drill-downs read (or just `columns`).
    `since` / `until` keep the rows whose counting time lies in [since, until) (warehouse.read.COUNTING_TIME;
    tables without one — deployment_prs, files, people — are read whole)."""
    tables: dict[str, pl.DataFrame] = {}
    for name, schema in SCHEMAS.items():
        window = {"since": since, "until": until} if name in COUNTING_TIME else {}
        tables[name] = read_table(warehouse, name, (columns or {}).get(name, list(schema)), **window)
    return Evidence.of(**tables)


def load_evidence_since(warehouse: Warehouse, config: Config, since: dt.date | None,
                        tables: Collection[str] | None = None, columns: dict[str, list[str]] | None = None, *,
                        reviewed_prs: bool = True, until: dt.datetime | None = None,
                        repos_of: Callable | None = None) -> Evidence:
    """Every evidence column of the rows a view from the day `since` on is made of: the rows that count from
    then on and the earlier ones they link to (reports/derived.evidence_from), so that `prepare` decides
    every PR, deployment and incident from `since` on as it would on all the evidence. `None`: all of it.
    `tables`: only those tables (a page's: each as the read of every table gives it), the others empty;
    None: every table. `columns`: only those columns of the tables it names (the others null; the slice's
    own keys are always read). `reviewed_prs` False: without the PRs only a review since brings in (merged
    before the slice, or never: warehouse.slice.read_slice), for pages that show no reviews. `until`: the PRs
    and deployments only up to then (warehouse.slice.read_slice, `settled_by`). `repos_of`: the PRs and
    deployments of the repos it chooses only, each of their PRs from `since` on decided as with every repo's
    (warehouse.slice.read_slice; `since` given). The slice reads the cube's shipping table: `load_cube` first."""
    columns = columns or {}
    if since is None:
        if tables is None:
            return load_evidence(warehouse, columns)
        return Evidence.of(**{name: read_table(warehouse, name, columns.get(name, list(SCHEMAS[name]))) for name in tables})
    return evidence_from(warehouse, config, dt.datetime.combine(since, dt.time(), dt.timezone.utc), columns, tables,
                         reviewed_prs=reviewed_prs, until=until, repos_of=repos_of)


def load_incidents_since(warehouse: Warehouse, config: Config, since: dt.date) -> pl.DataFrame:
    """Every evidence column of the incidents resolved from the day `since` on and of those still open that
    started then or later, teams assigned (metrics.teams): each as `load_evidence_since(..., ("incidents",))`
    and `prepare` give it, without the deployments and PR ids that slice reads to decide causes. For the
    Incidents & MTTR page, which lists and counts incidents resolved, or open and started, in its periods."""
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    frame = conform(read_incidents_since(warehouse, cut, list(SCHEMAS["incidents"])), "incidents")
    return assign_team_column(frame, "incidents", config.teams)


def window_causes(warehouse: Warehouse, config: Config, incidents: pl.DataFrame) -> pl.DataFrame:
    """metrics.change_chain.incident_causes of `incidents` (teams assigned) as a read of every repo gives them:
    the production deployments of every repo that finished within the link window before one of their
    starts (`incident_link_hours`; no earlier or later one can be a cause), teams assigned, each one's
    rollback verdict as the cube decided it (`cube_deployments.ships`: bring the cube up to date first).
    Columns: id, caused_by_deployment_id, cause_how. For a single item's view read of some repos only
    (app/state.py): the cause it must find."""
    out = {"id": pl.String, "caused_by_deployment_id": pl.String, "cause_how": pl.String}
    starts = incidents.get_column("started_at").drop_nulls()
    hours = config.rules.incident_link_hours
    if incidents.height == 0:
        return pl.DataFrame(schema=out)
    production = pl.DataFrame(schema={**SCHEMAS["deployments"], "env_key": pl.String, "rollback": pl.Boolean})
    if starts.len() and hours > 0:
        low = starts.min() - dt.timedelta(hours=hours)
        window = (f"finished_at >= {instant_literal(warehouse.dialect, low, deployments.c.finished_at)} AND "
                  f"finished_at <= {instant_literal(warehouse.dialect, starts.max(), deployments.c.finished_at)}")
        rows = assign_team_column(conform(read_where(warehouse, "deployments", list(SCHEMAS["deployments"]), window),
                                          "deployments"), "deployments", config.teams)
        ships = read_where(warehouse, "cube_deployments", ["id", "ships"], window)
        production = (production_deployments(rows, config.rules.production_environments)
                      .join(ships, on="id", how="left")
                      .with_columns(rollback=~pl.col("ships").fill_null(True)).drop("ships"))
    return incident_causes(incidents, production, config).select(list(out))


def item_repos(warehouse: Warehouse, config: Config, kind: str, item_id: str) -> tuple[list[str] | None, str | None] | None:
    """The repos (as stored) whose PRs and deployments decide a single item's view, and the deployment it
    centres on: a PR's repo (no deployment: its outcome names it); a deployment's repo and itself, with the
    repos of the causes (`window_causes`) of every incident started within the link window after it finished
    (a read of its repo alone would see none of the later deployments that such an incident's cause may be);
    for an incident its causing deployment's repo and that deployment (the source's link, else the one a read
    of every repo infers; ([], None) without a cause). Repos None: a deployment without a repo (every repo
    decides). None when there is no such item."""
    if kind == "pr":
        with warehouse.engine.connect() as conn:
            row = conn.execute(sa.select(pull_requests.c.repo).where(pull_requests.c.id == item_id)).first()
        return None if row is None else ([row[0]] if row[0] is not None else None, None)
    if kind == "deployment":
        rows = assign_team_column(_deployments_of(warehouse, [item_id]), "deployments", config.teams)
        if rows.height == 0:
            return None
        finished, team = rows.get_column("finished_at")[0], rows.get_column("team")[0]
        repos = [rows.get_column("repo")[0]]
        hours = config.rules.incident_link_hours
        if finished is not None and hours > 0:
            after = (f"started_at >= {instant_literal(warehouse.dialect, finished, incidents.c.started_at)} AND started_at <= "
                     f"{instant_literal(warehouse.dialect, finished + dt.timedelta(hours=hours), incidents.c.started_at)}")
            later = assign_team_column(conform(read_where(warehouse, "incidents", list(SCHEMAS["incidents"]), after),
                                               "incidents"), "incidents", config.teams)
            # Those whose cause may be this deployment (metrics.change_chain.incident_causes): of its team, or of
            # a service with repos of its own.
            services = sorted(name.lower() for name in config.services)
            later = later.filter((pl.col("team") == team) | pl.col("service").str.to_lowercase().is_in(services))
            causes = window_causes(warehouse, config, later)
            ids = causes.get_column("caused_by_deployment_id").drop_nulls().unique().sort().to_list()
            repos += _deployments_of(warehouse, ids).get_column("repo").to_list()
        return (None if None in repos else sorted(set(repos))), item_id
    incident = conform(read_where(warehouse, "incidents", list(SCHEMAS["incidents"]),
                                  f"id = {text_literal(item_id)}"), "incidents")
    if incident.height == 0:
        return None
    cause = window_causes(warehouse, config, assign_team_column(incident, "incidents", config.teams))
    deployment_id = cause.get_column("caused_by_deployment_id")[0]
    if deployment_id is None:
        return [], None
    rows = _deployments_of(warehouse, [deployment_id])
    repo = rows.get_column("repo")[0] if rows.height else None
    return ([repo] if repo is not None else None), deployment_id


def _deployments_of(warehouse: Warehouse, ids: list[str]) -> pl.DataFrame:
    """id, repo, team, finished_at of the deployments `ids` (those in the warehouse)."""
    where = f"id IN ({', '.join(text_literal(i) for i in ids)})" if ids else "1 = 0"
    return read_where(warehouse, "deployments", ["id", "repo", "team", "finished_at"], where)


def item_day(warehouse: Warehouse, kind: str, item_id: str) -> dt.date | None:
    """The first day a single item's view reads from (`kind`: pr, deployment or incident): a PR's merge (or
    that of the PR it reverts, if earlier), a deployment's finish, an incident's start (or its source-linked
    deployment's finish, if earlier). None when there is no such item (or it has no time)."""
    pr, target = pull_requests.alias("pr"), pull_requests.alias("target")
    query = {
        "pr": sa.select(pr.c.merged_at, sa.select(target.c.merged_at).where(target.c.id == pr.c.reverts_pr_id)
                        .scalar_subquery()).where(pr.c.id == item_id),
        "deployment": sa.select(deployments.c.finished_at).where(deployments.c.id == item_id),
        "incident": sa.select(incidents.c.started_at, sa.select(deployments.c.finished_at).where(
            deployments.c.id == incidents.c.caused_by_deployment_id).scalar_subquery()).where(incidents.c.id == item_id),
    }[kind]
    with warehouse.engine.connect() as conn:
        row = conn.execute(query).first()
    times = [t for t in (row or ()) if t is not None]
    return min(times).date() if times else None


def load_cube(warehouse: Warehouse, config: Config, version: str | None = None,
              progress: Progress | None = None) -> Cube:
    """The cube for the warehouse's current data, read from its tables (pending writes folded in first;
    a missing cube, or one built for another fingerprint, rebuilt and said so). `version` keys callers'
    caches (warehouse.data_version); the tables themselves are always current."""
    bring_up_to_date(warehouse, config, cube_fingerprint(config), CUBE_COLUMNS, progress)
    return stored_cube(warehouse)


def cube_is_current(warehouse: Warehouse, config: Config) -> bool:
    """Whether the stored cube is there, built for this config, with no write pending: reading it needs no
    write (a read-only warehouse's cube can be read only then)."""
    from warehouse.cube_store import read_state

    state = read_state(warehouse)
    return state is not None and state_is_current(state.fingerprint, state.pending_from, state.pending_full, config)


def refresh_cube(warehouse: Warehouse, config: Config, progress: Progress | None = None) -> str:
    """Fold a finished run's writes into the cube, so the next reader finds it fresh; returns "fresh",
    "updated" or "rebuilt"."""
    return bring_up_to_date(warehouse, config, cube_fingerprint(config), CUBE_COLUMNS, progress)


def rebuild_cube(warehouse: Warehouse, config: Config, progress: Progress | None = None) -> None:
    """Build the cube again from every row (`scorecard rebuild`)."""
    rebuild(warehouse, config, cube_fingerprint(config), CUBE_COLUMNS, progress)


def load_cube_outline(warehouse: Warehouse, config: Config, progress: Progress | None = None) -> Cube:
    """The cube's parts a report's range and baselines are found from, brought up to date first (as
    `load_cube`): those the scorecard reads over all their history (`whole_history_parts`) and the latest
    month of every part (the last day with data). Other days of the daily parts are left out: read them
    with `load_cube_days` once the range is known."""
    bring_up_to_date(warehouse, config, cube_fingerprint(config), CUBE_COLUMNS, progress)
    return _cube_of_months(warehouse, set())


def load_cube_days(warehouse: Warehouse, spans: list[tuple[dt.date, dt.date]]) -> Cube:
    """The stored cube with the daily parts' rows of every month a (first, last) day span of `spans`
    touches, plus all that `load_cube_outline` holds: `compute` gives the same records from it as from the
    whole cube for every report whose periods and baseline windows lie in `spans` (it filters the daily
    parts by day, and reads the rest whole). Read after `load_cube_outline`, which brought the cube up to date."""
    return _cube_of_months(warehouse, months_of(spans))


def _cube_of_months(warehouse: Warehouse, months: set[str]) -> Cube:
    """The stored cube's chunks of `months`, of the latest month, the whole-history parts, the parts
    stored whole and every part's empty schema chunk (warehouse.cube_store.read_cube_months)."""
    return Cube(**read_cube_months(warehouse, months, whole_history_parts()))
