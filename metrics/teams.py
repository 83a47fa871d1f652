"""Team attribution (DESIGN.md "Teams"): a row's own team, else the config mapping, else `unassigned`."""
from __future__ import annotations

import fnmatch
from collections.abc import Mapping

import polars as pl

from config.model import TeamConfig
from metrics.evidence import Evidence

UNASSIGNED = "unassigned"


def team_for(value: str | None, patterns: Mapping[str, tuple[str, ...]]) -> str | None:
    """The team whose patterns match `value` (case-insensitive): an exact match first, then the
    first matching glob in config order."""
    if value is None:
        return None
    lowered = value.lower()
    for team, globs in patterns.items():
        if any(g.lower() == lowered for g in globs):
            return team
    for team, globs in patterns.items():
        if any(fnmatch.fnmatchcase(lowered, g.lower()) for g in globs):
            return team
    return None


def _assign(frame: pl.DataFrame, key: str | None, patterns: Mapping[str, tuple[str, ...]]) -> pl.DataFrame:
    if key is None or not any(patterns.values()) or frame.height == 0:
        return frame.with_columns(team=pl.col("team").fill_null(UNASSIGNED))
    keys = frame.get_column(key).unique().drop_nulls().to_list()
    mapping = pl.DataFrame(
        {key: keys, "_mapped": [team_for(k, patterns) for k in keys]},
        schema={key: frame.schema[key], "_mapped": pl.String},
    )
    return (
        frame.join(mapping, on=key, how="left")
        .with_columns(team=pl.coalesce("team", "_mapped", pl.lit(UNASSIGNED)))
        .drop("_mapped")
    )


def assign_teams(evidence: Evidence, teams: Mapping[str, TeamConfig]) -> Evidence:
    """Fill every row's team: PRs and deployments by repo, incidents by service, others as given."""
    return evidence.replace(
        **{name: assign_team_column(frame, name, teams) for name, frame in evidence.tables().items() if name in TEAM_KEYS}
    )


# How each table's rows find their team in the config mapping.
TEAM_KEYS = {
    "pull_requests": "repo", "deployments": "repo", "incidents": "service",
    "tickets": None, "ai_spend": None, "ai_usage": None,
}


def assign_team_column(frame: pl.DataFrame, table: str, teams: Mapping[str, TeamConfig]) -> pl.DataFrame:
    """The same attribution as `assign_teams`, for one whole table (exports show what pages show)."""
    key = TEAM_KEYS.get(table)
    if "team" not in frame.columns:
        return frame
    patterns = {name: (t.repos if key == "repo" else t.services) for name, t in teams.items()}
    return _assign(frame, key, patterns if key else {})
