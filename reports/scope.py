"""Row scope: the rows a signed-in user may see, applied the same way to every read the dashboard makes
(app/state.py calls these; no page does). `teams` is the user's row scope, a sorted tuple of team names,
or None for someone who sees every team (governance.access.User.row_teams)."""
from __future__ import annotations

import dataclasses

import polars as pl

from governance.access import scope_rows, scope_tables
from metrics.evidence import Evidence
from metrics.scorecard import Prepared
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
