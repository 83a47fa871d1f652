"""Who may see what: roles from `[access]`, decided once per request from the signed-in identity.

Roles, each including what the one before may do:
- `viewer`: the org scorecard (aggregates of every team: tiles, trends, the teams table), definitions,
  the governance inventory and its verdicts;
- `team_lead`: the drill-downs (rollbacks, incidents, support, spend) and their row lists — only the
  rows of their own teams;
- `analyst`: every team's rows, and the Export page;
- `admin`: everything, plus Sync now and the audit log with the change history.

Row-level scope is one value, `User.row_teams` (None = every team): the app's data layer filters every
row-level frame by it before any page sees it (app/state.py), so no filter, URL parameter or download
can reach another team's PR titles or people. People's AI tool usage has two more (`people_teams`,
`aggregate_teams`), applied the same way.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from config.governance import ROLES, AccessConfig, RoleGrant

RANK = {role: i for i, role in enumerate(ROLES)}
CAPABILITIES = {
    "scorecard": "viewer",  # the org scorecard, definitions, governance
    "drill_down": "team_lead",  # row-level pages (scoped to the user's teams)
    "export": "analyst",  # the Export page
    "admin": "admin",  # Sync now, audit log, effective config
}
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class User:
    identity: str  # e-mail or login; "anonymous" when no sign-in is configured
    method: str  # none, oidc or header
    role: str | None  # None: signed in, but no role (refused)
    teams: frozenset[str] = frozenset()  # a team lead's teams
    groups: tuple[str, ...] = ()
    granted_by: tuple[str, ...] = field(default=())  # which grants applied, for the sidebar and the audit

    def can(self, capability: str) -> bool:
        return self.role is not None and RANK[self.role] >= RANK[CAPABILITIES[capability]]

    @property
    def row_teams(self) -> frozenset[str] | None:
        """The teams whose rows this user may see: None = every team; empty = none."""
        if self.role is None or self.role == "viewer":
            return frozenset()
        return self.teams if self.role == "team_lead" else None

    @property
    def people_teams(self) -> frozenset[str] | None:
        """The teams whose people (per-person AI tool usage, API keys) this user may list: None = every
        team (admins and analysts); a team lead their teams'; empty = nobody (a viewer)."""
        if self.role in ("admin", "analyst"):
            return None
        return self.teams if self.role == "team_lead" else frozenset()

    @property
    def aggregate_teams(self) -> frozenset[str] | None:
        """The teams whose per-team aggregates of people's usage (by team and tool) this user may see: a
        team lead their teams'; everyone else every team (None), as on the scorecard."""
        return self.teams if self.role == "team_lead" else None

    def sees_rows_of(self, team: str | None) -> bool:
        scope = self.row_teams
        return scope is None or (team is not None and team in scope)

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"dashboard:{self.identity}"

    def describe(self) -> str:
        if self.role is None:
            return f"{self.identity}: no access"
        teams = f" ({', '.join(sorted(self.teams))})" if self.role == "team_lead" else ""
        return f"{self.identity} · {self.role.replace('_', ' ')}{teams}"


def resolve(identity: str | None, groups: Iterable[str], access: AccessConfig) -> User | None:
    """The user for a request: None when sign-in is configured and nobody is signed in. Grants for the
    user (e-mail compared case-insensitively) and for each group combine: the highest role wins, and a
    team lead's teams are the union of their team-lead grants."""
    if access.sign_in == "none":
        role = None if access.anonymous_role == "none" else access.anonymous_role
        return User(ANONYMOUS, "none", role, granted_by=("anonymous_role",))
    if not identity or not identity.strip():
        return None
    identity = identity.strip()
    groups = tuple(g.strip() for g in groups if g and g.strip())
    users = {k.strip().lower(): v for k, v in access.users.items()}
    grants: list[tuple[str, RoleGrant]] = []
    if identity.lower() in users:
        grants.append((f"users.{identity.lower()}", users[identity.lower()]))
    grants += [(f"groups.{g}", access.groups[g]) for g in groups if g in access.groups]
    if not grants:
        if access.default_role == "none":
            return User(identity, access.sign_in, None, groups=groups)
        return User(identity, access.sign_in, access.default_role, groups=groups, granted_by=("default_role",))
    role = max((g.role for _, g in grants), key=RANK.__getitem__)
    teams = frozenset(t for _, g in grants if g.role == "team_lead" for t in g.teams) if role == "team_lead" else frozenset()
    return User(identity, access.sign_in, role, teams, groups, tuple(name for name, _ in grants))


def from_trusted_proxy(peer: str | None, access: AccessConfig) -> bool:
    """Whether a request whose connection comes from `peer` may sign in by header: only the configured
    proxy addresses may (None is the loopback: Streamlit hides 127.0.0.1 and ::1)."""
    try:
        address = ipaddress.ip_address((peer or "127.0.0.1").strip().strip("[]"))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if peer is None and any(_contains(p, ipaddress.ip_address("::1")) for p in access.trusted_proxies):
        return True
    return any(_contains(p, address) for p in access.trusted_proxies)


def _contains(network: str, address) -> bool:
    try:
        return address in ipaddress.ip_network(network.strip(), strict=False)
    except (ValueError, TypeError):
        return False


def groups_from(value) -> tuple[str, ...]:
    """Groups as an OIDC claim (a list, or a string) or a proxy header ("a, b") gives them."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(g.strip() for g in value.split(",") if g.strip())
    if isinstance(value, (list, tuple)):
        return tuple(str(g).strip() for g in value if str(g).strip())
    return ()


def scope_rows(frame: pl.DataFrame, teams: frozenset[str] | None, *, column: str = "team") -> pl.DataFrame:
    """The rows of `teams` only (None: all rows). A frame without a team column cannot be scoped, so a
    restricted user gets none of it."""
    if teams is None:
        return frame
    if column not in frame.columns:
        return frame.clear()
    return frame.filter(pl.col(column).is_in(sorted(teams)))


def scope_tables(tables: Mapping[str, pl.DataFrame], teams: frozenset[str] | None) -> dict[str, pl.DataFrame]:
    """Every evidence table scoped to `teams`; `deployment_prs`, `pull_request_files` and `reviews` (no
    team column) keep the rows whose PR is visible."""
    if teams is None:
        return dict(tables)
    by_pr = ("deployment_prs", "pull_request_files", "reviews")
    out = {name: scope_rows(frame, teams) for name, frame in tables.items() if name not in by_pr}
    visible = out.get("pull_requests", pl.DataFrame(schema={"id": pl.String}))["id"]
    for name in by_pr:
        if name in tables:
            out[name] = tables[name].filter(pl.col("pr_id").is_in(visible.implode()))
    return out
