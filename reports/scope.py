"""Row scope: the rows a signed-in user may see, applied the same way to every read the dashboard makes
(app/state.py calls these; no page does). `teams` is the user's row scope, a sorted tuple of team names,
or None for someone who sees every team (governance.access.User.row_teams)."""
from __future__ import annotations

import dataclasses

import polars as pl

from governance.access import scope_rows, scope_tables
from metrics.evidence import Evidence
from metrics.scorecard import Prepared
from reports.adoption_data import Adoption
from reports.alerts import SpendAlerts

Teams = tuple[str, ...] | None


def team_rows(frame: pl.DataFrame, teams: Teams) -> pl.DataFrame:
    """A per-team frame narrowed to `teams`; a frame without a team column is empty for a restricted user."""
    return frame if teams is None else scope_rows(frame, frozenset(teams))


def prepared_rows(prepared: Prepared, teams: Teams) -> Prepared:
    """The prepared evidence and outcomes of `teams` only (PR links follow their PRs)."""
    if teams is None:
        return prepared
    evidence = Evidence(**scope_tables(prepared.evidence.tables(), frozenset(teams)))
    return Prepared(evidence=evidence, outcomes=scope_rows(prepared.outcomes, frozenset(teams)), config=prepared.config)


def export_rows(frame: pl.DataFrame, teams: Teams, *, metric_records: bool) -> pl.DataFrame:
    """An export narrowed to `teams`: metric records keep their teams' rows and the whole-org aggregates
    (team null, as every role sees on the scorecard); a table without a team column is then empty."""
    if teams is None:
        return frame
    if metric_records:
        return frame.filter(pl.col("team").is_null() | pl.col("team").is_in(list(teams)))
    return scope_rows(frame, frozenset(teams))


def spend_alert_rows(result: SpendAlerts, teams: Teams) -> SpendAlerts:
    """Open alerts and budgets of `teams` only."""
    if teams is None:
        return result
    budgets = team_rows(result.budgets, teams) if result.budgets.height else result.budgets
    return dataclasses.replace(result, alerts=team_rows(result.alerts, teams), budgets=budgets)


@dataclasses.dataclass(frozen=True)
class AdoptionRows:
    """The Adoption page's rows as far as one user may see them (`adoption_rows`)."""

    # Every usage row, for numbers that name no person and no team: the tiles, the cohort comparison,
    # per-tool economics (as app/state._cohort_rows is for PRs).
    aggregate_usage: pl.DataFrame
    team_usage: pl.DataFrame  # usage of the teams whose aggregates the user may see: by team and tool
    people_usage: pl.DataFrame  # usage of the teams whose people the user may list (empty: nobody)
    unmatched: pl.DataFrame  # vendor users matched to no person: their e-mails name people outside any team
    seats: pl.DataFrame
    spend: pl.DataFrame
    ai_tools: pl.DataFrame | None
    unallocated: pl.DataFrame
    sees_people: bool


def adoption_rows(data: Adoption, people: Teams, aggregates: Teams) -> AdoptionRows:
    """`data` narrowed for a user who may list the people of `people` and see the usage aggregates of
    `aggregates` (governance.access.User.people_teams, aggregate_teams; None: every team)."""
    return AdoptionRows(
        aggregate_usage=data.usage,
        team_usage=team_rows(data.usage, aggregates),
        people_usage=team_rows(data.usage, people),
        unmatched=data.unmatched if people is None else data.unmatched.clear(),
        seats=data.seats, spend=data.spend, ai_tools=data.ai_tools, unallocated=data.unallocated,
        sees_people=people is None or bool(people),
    )
