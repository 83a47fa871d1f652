"""Configuration of governance and access: the AI inventory with its owners, workflow policies with
stop conditions, sign-in and roles.

`[governance.tools.<id>]` and `[governance.workflows.<id>]` declare what AI runs, who owns it and how to
recognise it in the data; `[[governance.workflows.<id>.stop]]` the metric that would pause a workflow;
`[access]` how people sign in and what each may see. Secrets never live here: the OIDC client secret
and cookie secret belong in .streamlit/secrets.toml ([auth]), as Streamlit requires.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from config.errors import ConfigError

RISK_TIERS = {
    1: "low risk, high volume: automated checks suffice",
    2: "medium risk: human review of every change",
    3: "high risk: mandatory human sign-off before use",
}
# What fires a stop condition for one period (see governance.policies).
STOP_WHEN = {
    "worse": "the scorecard status is worse than baseline (significant, or past the tolerance)",
    "above_baseline": "the value is more than `threshold` above its baseline",
    "below_baseline": "the value is more than `threshold` below its baseline",
    "above": "the value is above `threshold`",
    "below": "the value is below `threshold`",
    "over_budget": "the team's month-to-date AI spend is over its [budgets] monthly budget",
    "over_pace": "the team's AI spend is pacing over its monthly budget (or already over it)",
}
BUDGET_METRIC = "budget"  # a stop condition on [budgets.TEAM] rather than a scorecard metric
ROLES = ("viewer", "team_lead", "analyst", "admin")
SIGN_IN = ("none", "oidc", "header")


@dataclass(frozen=True)
class StopCondition:
    """One rule that would pause a workflow, judged on the scorecard's records (the tiles' numbers)."""

    metric: str  # a scorecard metric id (rollback_share, csat, ...) or "budget"
    when: str = "worse"  # see STOP_WHEN
    threshold: float = 0.0  # in the metric's unit (a share as 0.05, CSAT points, USD)
    segment: str = "all"  # all, ai or non_ai where the metric has segments
    periods: int = 1  # how many consecutive latest periods must all fire
    grain: str = "week"
    per_team: bool = False  # judge every team separately (default: the workflow's teams, else the org)
    description: str = ""  # the rule in words, shown beside the verdict


@dataclass(frozen=True)
class InventoryItem:
    """What a declared AI tool or workflow is, who owns it, and how to recognise it in the data."""

    risk_tier: int  # 1 low risk/high volume … 3 high risk with mandatory human sign-off
    name: str = ""  # shown instead of the id
    description: str = ""
    business_owner: str = ""  # accountable for the outcome ("AI proposes; a named human owns")
    technical_owner: str = ""  # runs it, can pause it
    security_owner: str = ""  # approved its data and models
    runs_in: str = ""  # where it runs (SaaS, our cloud account, laptops ...)
    data_allowed: tuple[str, ...] = ()  # data types it may see
    approved_models: tuple[str, ...] = ()  # globs; spend on another model of this tool is flagged
    review_gate: str = ""  # the human gate its output passes (e.g. "CODEOWNERS review")
    teams: tuple[str, ...] = ()  # where it is approved to run (empty: the whole org)
    # How it shows up in the data; case-insensitive globs ("claude*").
    bot_logins: tuple[str, ...] = ()  # PR authors (the `[bot]` suffix is ignored)
    signal_tools: tuple[str, ...] = ()  # AI tools the PR attribution names (the registry's names, e.g. "Claude Code")
    spend_tools: tuple[str, ...] = ()  # ai_spend.tool
    spend_models: tuple[str, ...] = ()  # ai_spend.model (approved_models count too)
    spend_workflows: tuple[str, ...] = ()  # ai_spend.workflow
    usage_tools: tuple[str, ...] = ()  # ai_usage.tool


@dataclass(frozen=True)
class ToolConfig(InventoryItem):
    """`[governance.tools.<id>]`: an AI tool people use (a coding assistant, an agent, an API)."""


@dataclass(frozen=True)
class WorkflowConfig(InventoryItem):
    """`[governance.workflows.<id>]`: an automation built on AI tools, with its stop conditions."""

    tools: tuple[str, ...] = ()  # ids of [governance.tools] it uses
    stop: tuple[StopCondition, ...] = ()


@dataclass(frozen=True)
class GovernanceConfig:
    tools: dict[str, ToolConfig] = field(default_factory=dict)
    workflows: dict[str, WorkflowConfig] = field(default_factory=dict)
    acknowledged: tuple[str, ...] = ()  # stop-condition alert ids `scorecard alerts` stops reporting


@dataclass(frozen=True)
class RoleGrant:
    role: str  # viewer, team_lead, analyst or admin
    teams: tuple[str, ...] = ()  # a team lead's teams


@dataclass(frozen=True)
class AccessConfig:
    """`[access]`: who signs in how, and what each role may see (see governance.access)."""

    sign_in: str = "none"  # none (local demo), oidc (st.login; [auth] in .streamlit/secrets.toml) or header
    provider: str = ""  # OIDC: the [auth.<provider>] section to use ("" = [auth] itself)
    header: str = "X-Forwarded-Email"  # header mode: the identity the trusted reverse proxy sets
    groups_header: str = ""  # header mode: a comma-separated group list the proxy sets (e.g. X-Forwarded-Groups)
    # header mode: the addresses (or networks) the proxy connects from; a request from anywhere else is
    # not signed in, whatever headers it sends. Default: a proxy on the same host.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    groups_claim: str = "groups"  # OIDC: the identity-token claim listing the user's groups
    anonymous_role: str = "admin"  # everyone's role while sign_in = "none" (the local demo)
    default_role: str = "viewer"  # a signed-in user no grant names; "none" refuses them
    users: dict[str, RoleGrant] = field(default_factory=dict)  # e-mail / login → grant
    groups: dict[str, RoleGrant] = field(default_factory=dict)  # group name → grant


def check_governance(config, METRICS, GRAINS) -> None:
    """What the types alone do not rule out, for `[governance]` and `[access]`: raises `ConfigError`
    naming the key. `METRICS` and `GRAINS` are the metric registry's (metrics.registry reads this
    package's models, so it is handed in rather than imported)."""

    where = config.source_path or "configuration"

    def fail(key: str, message: str):
        raise ConfigError(f"{where}: '{key}' {message}")

    gov = config.governance
    for kind, items in (("tools", gov.tools), ("workflows", gov.workflows)):
        for item_id, item in items.items():
            key = f"governance.{kind}.{item_id}"
            if item.risk_tier not in RISK_TIERS:
                fail(f"{key}.risk_tier", f"must be 1, 2 or 3, not {item.risk_tier}")
    for item_id, flow in gov.workflows.items():
        key = f"governance.workflows.{item_id}"
        for tool in flow.tools:
            if tool not in gov.tools:
                fail(f"{key}.tools", f"names '{tool}', which is not a [governance.tools] id "
                                     f"(declared: {', '.join(gov.tools) or 'none'})")
        for i, stop in enumerate(flow.stop):
            at = f"{key}.stop[{i}]"
            if stop.when not in STOP_WHEN:
                fail(f"{at}.when", f"must be one of {', '.join(STOP_WHEN)}, not '{stop.when}'")
            if stop.metric == BUDGET_METRIC:
                if stop.when not in ("over_budget", "over_pace"):
                    fail(f"{at}.when", "must be over_budget or over_pace for metric = \"budget\"")
                continue
            if stop.metric not in METRICS:
                fail(f"{at}.metric", f"must be a metric id ({', '.join(METRICS)}) or \"budget\", not '{stop.metric}'")
            if stop.when in ("over_budget", "over_pace"):
                fail(f"{at}.when", f"{stop.when} needs metric = \"budget\"")
            if stop.segment not in METRICS[stop.metric].segments:
                fail(f"{at}.segment", f"must be one of {', '.join(METRICS[stop.metric].segments)} for {stop.metric}")
            if stop.grain not in GRAINS:
                fail(f"{at}.grain", f"must be one of {', '.join(GRAINS)}")
            if stop.periods < 1:
                fail(f"{at}.periods", "must be at least 1")
            if stop.when == "worse" and METRICS[stop.metric].better == "info":
                fail(f"{at}.when", f"cannot be 'worse': {stop.metric} is for information, never worse")
            if stop.when.endswith("_baseline") and stop.threshold < 0:
                fail(f"{at}.threshold", "must be 0 or more (how far beyond the baseline)")
    access = config.access
    if access.sign_in not in SIGN_IN:
        fail("access.sign_in", f"must be one of {', '.join(SIGN_IN)}, not '{access.sign_in}'")
    if access.sign_in == "header" and not access.header.strip():
        fail("access.header", "must name the header the reverse proxy sets")
    for i, proxy in enumerate(access.trusted_proxies):
        try:
            ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            fail(f"access.trusted_proxies[{i}]", f"must be an IP address or network (10.0.0.0/8), not '{proxy}'")
    for key, role in (("access.anonymous_role", access.anonymous_role), ("access.default_role", access.default_role)):
        if role not in (*ROLES, "none"):
            fail(key, f"must be one of {', '.join(ROLES)} or none, not '{role}'")
    if access.anonymous_role == "team_lead":
        fail("access.anonymous_role", "cannot be team_lead: without sign-in nobody has teams")
    for kind, grants in (("users", access.users), ("groups", access.groups)):
        for name, grant in grants.items():
            key = f"access.{kind}.{name}"
            if grant.role not in ROLES:
                fail(f"{key}.role", f"must be one of {', '.join(ROLES)}, not '{grant.role}'")
            if grant.role == "team_lead" and not grant.teams:
                fail(f"{key}.teams", "must list the team lead's teams")
