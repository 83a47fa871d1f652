"""Configuration of AI spend: FOCUS import, provider cost APIs, Copilot seats, budgets and alerts.

`[spend]` and its sub-tables, and `[budgets.TEAM]`. Secrets are never here: a provider section names the
environment variable that holds its admin key, and `[spend.alerts]` the one that holds the webhook URL
(a Slack webhook URL is itself a credential).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from config.errors import ConfigError


@dataclass(frozen=True)
class RetryConfig:
    """How a provider API call is retried on 429 / 5xx / connection errors."""

    max_retries: int = 5
    backoff_seconds: float = 1.0  # the first wait without Retry-After; doubled on each further retry
    max_backoff_seconds: float = 60.0
    max_wait_seconds: float = 900.0  # a longer Retry-After stops the sync with a message instead
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class FocusConfig:
    """FinOps FOCUS 1.x billing exports (`scorecard import ai_spend FILE --format focus`)."""

    cost_column: str = "EffectiveCost"  # or BilledCost (invoiced), ListCost, ContractedCost
    # Tag keys (in the `Tags` JSON object) that name the team / workflow / model; the first present wins.
    team_tags: tuple[str, ...] = ("team",)
    workflow_tags: tuple[str, ...] = ("workflow",)
    model_tags: tuple[str, ...] = ("model",)
    # A row is AI spend when its ServiceCategory is one of these, or its ServiceName or ProviderName
    # matches one of `ai_services` (globs, case-insensitive): AI tools billed outside the AI category.
    ai_service_categories: tuple[str, ...] = ("AI and Machine Learning",)
    ai_services: tuple[str, ...] = ("*Copilot*", "*OpenAI*", "*Anthropic*", "*Claude*")
    # Tax is left out: it is not a cost of using AI. Credits and adjustments are kept (net spend).
    charge_categories: tuple[str, ...] = ("Usage", "Purchase", "Credit", "Adjustment")
    # A charge whose period spans several days (a monthly fee) is spread evenly over them, so that the
    # 1st of the month does not look like a spike.
    spread_multi_day: bool = True
    batch_rows: int = 100_000


@dataclass(frozen=True)
class OpenAiSpendConfig:
    """OpenAI organisation costs API (`GET /v1/organization/costs`)."""

    admin_key_env: str = "OPENAI_ADMIN_KEY"
    base_url: str = "https://api.openai.com"
    projects: dict[str, str] = field(default_factory=dict)  # project id → team
    workflows: dict[str, str] = field(default_factory=dict)  # project id → workflow (default: the id)
    start: dt.date | None = None  # first day fetched by the first sync (default: 90 days back)
    lookback_days: int = 3  # days re-fetched on each sync: late cost corrections land
    page_days: int = 31
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class AnthropicSpendConfig:
    """Anthropic cost report API (`GET /v1/organizations/cost_report`)."""

    admin_key_env: str = "ANTHROPIC_ADMIN_KEY"
    base_url: str = "https://api.anthropic.com"
    workspaces: dict[str, str] = field(default_factory=dict)  # workspace id → team
    workflows: dict[str, str] = field(default_factory=dict)  # workspace id → workflow (default: the id)
    start: dt.date | None = None
    lookback_days: int = 3
    page_days: int = 31
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class CopilotSeatsConfig:
    """GitHub Copilot seat cost from the seat counts in `ai_usage` (filled by the GitHub connector)."""

    price_per_seat_month: float = 19.0  # Copilot Business list price; Enterprise is 39
    tool: str = "github-copilot"  # the `ai_usage.tool` whose seats are billed
    lookback_days: int = 31  # seat counts of recent days may still be corrected


@dataclass(frozen=True)
class SpendAlertsConfig:
    """Spend anomalies (median + k·MAD over the trailing window, per team and tool) and budget pace."""

    window_days: int = 28
    k: float = 8.0  # in robust standard deviations (1.4826 × MAD)
    min_excess_usd: float = 100.0  # a day must also be this far above its normal: cents never alert
    min_history_days: int = 14  # a team's tool needs this much history before its days are judged
    open_days: int = 30  # an anomaly stays open this long after its day
    acknowledged: tuple[str, ...] = ()  # alert ids to stop reporting
    webhook_url_env: str | None = None  # env var holding a Slack-compatible incoming-webhook URL


@dataclass(frozen=True)
class SpendConfig:
    usd_rates: dict[str, float] = field(default_factory=dict)  # currency code → USD per unit
    focus: FocusConfig = field(default_factory=FocusConfig)
    openai: OpenAiSpendConfig | None = None
    anthropic: AnthropicSpendConfig | None = None
    copilot: CopilotSeatsConfig | None = None
    alerts: SpendAlertsConfig = field(default_factory=SpendAlertsConfig)


@dataclass(frozen=True)
class BudgetConfig:
    """`[budgets.TEAM]`: the team's monthly AI budget and who owns it."""

    monthly_usd: float
    owner: str = ""


def check_spend(config) -> None:
    """What the types alone do not rule out, for `[spend]` and `[budgets]`: raises `ConfigError` naming
    the key."""

    where = config.source_path or "configuration"
    spend, alerts = config.spend, config.spend.alerts
    rules = [
        ("spend.alerts.window_days", alerts.window_days >= 1, "at least 1"),
        ("spend.alerts.k", alerts.k > 0, "greater than 0"),
        ("spend.alerts.min_excess_usd", alerts.min_excess_usd >= 0, "0 or more"),
        ("spend.alerts.min_history_days", 1 <= alerts.min_history_days <= alerts.window_days,
         f"between 1 and window_days ({alerts.window_days})"),
        ("spend.alerts.open_days", alerts.open_days >= 1, "at least 1"),
        ("spend.focus.batch_rows", spend.focus.batch_rows >= 1, "at least 1"),
        *[(f"spend.usd_rates.{code}", rate > 0, "greater than 0 (USD per unit)") for code, rate in spend.usd_rates.items()],
        *[(f"budgets.{team}.monthly_usd", budget.monthly_usd > 0, "greater than 0") for team, budget in config.budgets.items()],
    ]
    for name, api in (("openai", spend.openai), ("anthropic", spend.anthropic)):
        if api is not None:
            rules += [(f"spend.{name}.page_days", api.page_days >= 1, "at least 1"),
                      (f"spend.{name}.lookback_days", api.lookback_days >= 0, "0 or more"),
                      (f"spend.{name}.retry.max_retries", api.retry.max_retries >= 0, "0 or more")]
    if spend.copilot is not None:
        rules += [("spend.copilot.price_per_seat_month", spend.copilot.price_per_seat_month >= 0, "0 or more"),
                  ("spend.copilot.lookback_days", spend.copilot.lookback_days >= 0, "0 or more")]
    for key, ok, wanted in rules:
        if not ok:
            raise ConfigError(f"{where}: '{key}' must be {wanted}")
