"""The configuration model: one frozen dataclass per TOML section.

Every field's type is checked when the file is read (see `config.load`), and a key that is not a field is
an error naming it, so a typo such as `min_samples` never silently falls back to a default.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from config.governance import AccessConfig, GovernanceConfig
from config.schedule import ScheduleConfig
from config.spend import BudgetConfig, SpendConfig
from config.vendors import VendorsConfig

DEFAULT_WAREHOUSE_URL = "sqlite:///data/scorecard.db"


@dataclass(frozen=True)
class WarehouseConfig:
    url: str = DEFAULT_WAREHOUSE_URL
    # Unused since the cube lives in the warehouse (reports/derived.py); still accepted so that existing
    # configuration files keep loading.
    cache_dir: str = ""


@dataclass(frozen=True)
class BaselineWindow:
    """Inclusive dates; the end counts through 23:59:59.999 UTC."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class BaselineConfig:
    """`window` is `[baseline] start/end`; `per_metric` holds `[baseline.<metric_id>]` windows.

    With neither, the revision-2 default (metrics/baseline.py): the 13 complete weeks before the AI
    adoption week, and for ai_cost_per_unit the first 13 complete weeks with spend.
    """

    window: BaselineWindow | None = None
    per_metric: dict[str, BaselineWindow] = field(default_factory=dict)


@dataclass(frozen=True)
class RulesConfig:
    rollback_window_days: float = 7
    production_environments: tuple[str, ...] = ("production", "prod")
    min_sample: int = 20
    csat_tolerance: float = 0.2
    cost_tolerance: float = 0.10
    # The change chain (DESIGN.md "The scorecard, second set").
    incident_link_hours: float = 24  # an incident's inferred cause finished at most this long before it; 0: source links only
    rework_window_days: float = 21  # a follow-up fix is merged within this many days of the PR it fixes
    fix_labels: tuple[str, ...] = ("bug", "fix", "hotfix", "regression")
    fix_title_pattern: str = r"(?i)^(\[[^\]]*\]\s*)?(fix(es|ed)?|hotfix|bugfix)\b"  # Python re, searched in the title
    senior_levels: tuple[str, ...] = ("senior", "staff", "principal")  # people.level values that make a senior
    review_tolerance: float = 0.2  # senior review load: worse above baseline × (1 + this), better below × (1 − this)
    # The AI adoption week (DESIGN.md "Default baseline (revision 2)"): the ISO week holding this date;
    # unset, the first week with min_sample merged PRs of which at least 5% are AI-assisted.
    ai_adoption_start: dt.date | None = None


@dataclass(frozen=True)
class AiAgentConfig:
    """`[ai_detection.agents."<name>"]`: an organisation's own agent or bot, a tool of its own in the
    registry (segment `tool:<name>`). Identities are matched whole; markers are literal text."""

    emails: tuple[str, ...] = ()  # whole addresses, e.g. "agent@acme.dev"
    bots: tuple[str, ...] = ()  # GitHub logins, matched with and without [bot]
    markers: tuple[str, ...] = ()  # text its messages carry, e.g. "Our-Agent-Run:"
    branch_prefixes: tuple[str, ...] = ()  # e.g. "our-agent/"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class AiDetectionConfig:
    """`[ai_detection]` extends the built-in registry of AI tools (connectors/common/ai_tools.py);
    `replace_defaults = true` makes these settings the whole registry."""

    replace_defaults: bool = False
    labels: tuple[str, ...] = ()  # AI labels that name no tool (default: ai-assisted, ai-generated)
    bot_authors: tuple[str, ...] = ()  # bot logins, each a tool named by its login
    trailers: tuple[str, ...] = ()  # policy trailers marking AI whatever they name (default: Assisted-by, Generated-by)
    agents: dict[str, AiAgentConfig] = field(default_factory=dict)  # tool name → its identities and markers


@dataclass(frozen=True)
class TeamConfig:
    owner: str = ""
    repos: tuple[str, ...] = ()  # globs such as "acme/pay-*", matched case-insensitively
    services: tuple[str, ...] = ()  # incident services (PagerDuty, Jira components)


@dataclass(frozen=True)
class ServiceConfig:
    """`[services.<name>]`: the repos whose deployments can cause the service's incidents (globs, as in
    `[teams]`); the service name matches the incident's case-insensitively."""

    repos: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeopleConfig:
    """`[people]`: logins that count as senior whatever the `people` table says (matched case-insensitively)."""

    senior: tuple[str, ...] = ()


@dataclass(frozen=True)
class GithubDeploymentsConfig:
    """Where GitHub deployments come from. GitHub's Deployments API also holds the deployments that
    Actions jobs with an `environment:` create; workflow runs are for pipelines that deploy without one."""

    source: str = "deployments"  # deployments, workflow_runs, both or none
    environments: tuple[str, ...] = ()  # only these GitHub environments (empty: all; the metrics count [rules] production_environments)
    workflow_pattern: str = "(?i)deploy"  # runs of workflows whose name matches are deployments
    workflow_environment: str = "production"  # the environment recorded for those runs
    workflow_branches: tuple[str, ...] = ()  # only runs on these branches (empty: any)
    # A deployment is flagged a rollback when this matches its description, task, payload or a status
    # description (a workflow run: its title or name); otherwise the sha rule decides.
    rollback_pattern: str = r"(?i)\broll(?:ed|ing)?[ _-]?back\b"
    payload_pr_keys: tuple[str, ...] = ("pull_requests", "prs")  # payload keys naming the PRs a deployment carries


@dataclass(frozen=True)
class GithubCopilotConfig:
    enabled: bool = True
    org: str = ""  # default: [github] org
    seats: bool = True  # seat count from the billing API (a daily snapshot)
    usage_metrics: bool = True  # daily active users, suggestions, acceptances, agent PRs from the usage reports
    user_metrics: bool = False  # per-user daily usage (users-1-day / users-28-day reports) into ai_usage_people
    billing: tuple[str, ...] = ()  # billing usage reports read into ai_spend: "premium_request", "ai_credit"


@dataclass(frozen=True)
class GithubConfig:
    """`[github]`: pull requests, deployments and Copilot adoption. The token comes from the environment
    variable named by `token_env` (or .streamlit/secrets.toml), never from this file."""

    token_env: str = "GITHUB_TOKEN"
    base_url: str = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
    org: str = ""  # every repo of the org, unless `repos` narrows it
    repos: tuple[str, ...] = ()  # "owner/name" or globs ("acme/pay-*"); without an owner, relative to `org`
    exclude_repos: tuple[str, ...] = ()
    include_forks: bool = False  # for repos found by listing an owner (named repos are always synced)
    include_archived: bool = True
    since: dt.date | None = None  # the first sync reads PRs updated (and deployments created) from this day
    page_size: int = 100  # PRs / deployments per GraphQL call (GitHub's maximum)
    max_retries: int = 6  # per request, for 5xx and rate limits
    backoff_seconds: float = 1.0  # 5xx waits 1, 2, 4, ... s
    max_backoff_seconds: float = 60.0
    secondary_wait_seconds: float = 60.0  # a secondary rate limit without Retry-After
    max_wait_seconds: float = 900.0  # a longer rate-limit wait stops the sync with a message instead
    timeout_seconds: int = 30
    deployments: GithubDeploymentsConfig = field(default_factory=GithubDeploymentsConfig)
    copilot: GithubCopilotConfig = field(default_factory=GithubCopilotConfig)


@dataclass(frozen=True)
class JiraIncidentsConfig:
    """`[jira.incidents]`: which issues are incidents, and where their values live. Field names are
    Jira's display names ("Severity") or ids ("customfield_10042"), resolved through GET /field."""

    jql: str  # e.g. 'project = OPS AND issuetype = Incident' (no ORDER BY: the connector orders by updated)
    started_field: str = "created"  # a date-time field; an issue with it empty starts at `created`
    resolved_from: str = "resolutiondate"  # or "changelog": the first transition into a done status
    done_statuses: tuple[str, ...] = ("Done", "Resolved", "Closed")  # for resolved_from = "changelog"
    severity_field: str = "priority"
    service_field: str = ""  # empty: the first component (matched by [teams.X] services)
    team_field: str = ""  # a field holding the team's name; wins over the mappings below
    ai_field: str = ""  # an explicit yes/no field; wins over AI labels ([ai_detection] labels)
    teams_by_project: dict[str, str] = field(default_factory=dict)  # project key → team
    teams_by_component: dict[str, str] = field(default_factory=dict)  # component name → team
    # The incident's causing deployment, where Jira knows it: a field holding the deployment's id, or an
    # issue link (its description as seen from the incident, e.g. "is caused by") to an issue that
    # stands for the deployment (a change request). Either value gets `deployment_id_prefix` in front
    # ("github:acme/api/deployments/" + a number, "jira:" + a change request imported as a deployment).
    caused_by_field: str = ""
    caused_by_link: str = ""
    deployment_id_prefix: str = ""


@dataclass(frozen=True)
class JiraTicketsConfig:
    """`[jira.tickets]`: support tickets (Jira Service Management), their channel and CSAT."""

    jql: str  # e.g. 'project = HELP AND resolution IS NOT EMPTY'
    channel_field: str = "Request Type"  # or a "Resolved by" select field
    channel_map: dict[str, str] = field(default_factory=dict)  # field value → self_serve, ai_bot or human
    default_channel: str = "human"  # for values not in channel_map (each run warns which they were)
    csat_field: str = "Satisfaction"  # JSM's satisfaction ({"rating": 1-5}) or a number field; "" for none
    resolved_from: str = "resolutiondate"  # or "changelog"
    done_statuses: tuple[str, ...] = ("Done", "Resolved", "Closed")
    team_field: str = ""
    teams_by_project: dict[str, str] = field(default_factory=dict)
    teams_by_component: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JiraConfig:
    """`[jira]`: incidents and support tickets from Jira Cloud or Server/Data Center. Credentials come
    from the environment variables named here (or .streamlit/secrets.toml), never from this file."""

    server: str  # https://acme.atlassian.net or https://jira.acme.internal
    deployment: str = "auto"  # auto (from serverInfo), cloud or server (Server and Data Center)
    email_env: str = ""  # Cloud: the account e-mail (basic auth with the API token); empty: token only (PAT)
    token_env: str = "JIRA_API_TOKEN"  # Cloud API token, or Server/DC personal access token
    incidents: JiraIncidentsConfig | None = None
    tickets: JiraTicketsConfig | None = None
    page_size: int = 100  # issues per search call
    overlap_minutes: int = 10  # re-read this much before the cursor (JQL dates are minute-precision)
    max_retries: int = 5  # per request, for 429 and 5xx
    backoff_seconds: float = 1.0  # without Retry-After: 1, 2, 4, ... s
    max_backoff_seconds: float = 60.0
    max_wait_seconds: float = 900.0  # a longer Retry-After stops the stream with a message instead
    timeout_seconds: float = 30.0
    ca_bundle: str = ""  # a CA file for a server with a private certificate


@dataclass(frozen=True)
class PagerDutyConfig:
    """`[pagerduty]`: incidents. The API key comes from the environment variable named here."""

    api_key_env: str = "PAGERDUTY_API_KEY"
    base_url: str = "https://api.pagerduty.com"  # EU: https://api.eu.pagerduty.com
    service_ids: tuple[str, ...] = ()  # only these services (empty: all)
    service_teams: dict[str, str] = field(default_factory=dict)  # service id or name → team
    use_incident_teams: bool = True  # an unmapped service: the incident's first PagerDuty team's name
    # Where severity comes from: "urgency" (high/low) or "priority" (the incident's priority.summary, P1-P5:
    # what most organisations call severity); the source's value is kept in `original_severity`.
    severity_field: str = "urgency"
    severity_by_urgency: dict[str, str] = field(default_factory=dict)  # e.g. {high = "sev1"}; unmapped: the urgency
    severity_by_priority: dict[str, str] = field(default_factory=dict)  # e.g. {P1 = "sev1"}; unmapped: the priority
    start_date: dt.date | None = None  # the first sync reads incidents created from this day (default: 365 days back)
    look_back_days: int = 30  # each sync re-reads incidents created this far back (to see them resolved)
    page_size: int = 100
    max_retries: int = 5  # per request, for 429 and 5xx
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 900.0  # a longer Retry-After stops the sync with a message instead
    timeout_seconds: float = 30.0
    ca_bundle: str = ""  # a CA file (a TLS-inspecting proxy, a test server)
    # The incident's causing deployment, where PagerDuty's incident JSON holds it: a dot path into the
    # incident (e.g. "metadata.deployment_id"; list items by index), its value prefixed with
    # `deployment_id_prefix`. Empty: the scorecard infers the cause (DESIGN.md "The incident's causing
    # deployment").
    caused_by_path: str = ""
    deployment_id_prefix: str = ""


@dataclass(frozen=True)
class MarkerConfig:
    """`[[markers]]`: a change worth drawing on every trend chart ("Copilot Business rollout")."""

    date: dt.date
    label: str


@dataclass(frozen=True)
class DashboardConfig:
    """`[dashboard] url`: where the dashboard is served, for links in the digest."""

    url: str = ""


@dataclass(frozen=True)
class DigestConfig:
    """`[digest] webhook_env`: the environment variable holding the Slack-compatible webhook URL
    (a secret: never in the config file)."""

    webhook_env: str = "SCORECARD_DIGEST_WEBHOOK"


@dataclass(frozen=True)
class Config:
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    ai_detection: AiDetectionConfig = field(default_factory=AiDetectionConfig)
    teams: dict[str, TeamConfig] = field(default_factory=dict)
    services: dict[str, ServiceConfig] = field(default_factory=dict)  # incident service → repos of its deployments
    people: PeopleConfig = field(default_factory=PeopleConfig)
    spend: SpendConfig = field(default_factory=SpendConfig)
    budgets: dict[str, BudgetConfig] = field(default_factory=dict)  # team → monthly AI budget
    github: GithubConfig | None = None
    jira: JiraConfig | None = None
    pagerduty: PagerDutyConfig | None = None
    governance: GovernanceConfig = field(default_factory=GovernanceConfig)  # AI inventory, owners, stop conditions
    access: AccessConfig = field(default_factory=AccessConfig)  # sign-in and roles
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)  # sync intervals, staleness (config/schedule.py)
    vendors: VendorsConfig = field(default_factory=VendorsConfig)  # per-person AI tool usage sources
    markers: tuple[MarkerConfig, ...] = ()  # change markers drawn on every trend chart
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    # Where the file was read from (None: defaults only); relative SQLite paths resolve against it.
    source_path: str | None = None
