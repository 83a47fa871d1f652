"""Configuration of the per-person AI tool usage sources (issue 18): `[vendors.claude_code]`,
`[vendors.cursor]` and `[vendors.openai_usage]`. Keys are never here: each section names the environment
variable that holds its key. Copilot's per-user reports and billing are switched on in `[github.copilot]`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from config.errors import ConfigError
from config.spend import RetryConfig


@dataclass(frozen=True)
class ClaudeCodeConfig:
    """Anthropic Admin API `GET /v1/organizations/usage_report/claude_code` (one call per day and page)."""

    admin_key_env: str = "ANTHROPIC_ADMIN_KEY"
    base_url: str = "https://api.anthropic.com"
    start: dt.date | None = None  # first day fetched by the first sync (default: 90 days back)
    lookback_days: int = 1  # days fetched again on each sync (a day's report can still grow for a while)
    page_size: int = 1000  # records per page (the API's maximum)
    # The estimated cost per user and model also as `ai_spend` rows. Off by default: for API customers
    # the Anthropic cost report already bills the same tokens, and the two would count them twice.
    to_spend: bool = False
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class CursorConfig:
    """Cursor Admin API (Basic auth, the key as user name): daily usage data and usage events."""

    api_key_env: str = "CURSOR_API_KEY"
    base_url: str = "https://api.cursor.com"
    start: dt.date | None = None
    lookback_days: int = 1
    window_days: int = 30  # days per request (daily usage allows 90, usage events 30)
    page_size: int = 500  # usage events per page
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class OpenAiUsageConfig:
    """OpenAI `GET /v1/organization/usage/completions`, grouped by project, user, API key and model."""

    admin_key_env: str = "OPENAI_ADMIN_KEY"
    base_url: str = "https://api.openai.com"
    start: dt.date | None = None
    lookback_days: int = 1
    page_days: int = 31  # daily buckets per page (the API's maximum for 1d buckets)
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass(frozen=True)
class VendorsConfig:
    claude_code: ClaudeCodeConfig | None = None
    cursor: CursorConfig | None = None
    openai_usage: OpenAiUsageConfig | None = None


def check_vendors(config) -> None:
    """Raises `ConfigError` naming the key when a `[vendors.*]` number is out of range."""

    where = config.source_path or "configuration"
    v = config.vendors
    rules = []
    for name, section in (("claude_code", v.claude_code), ("cursor", v.cursor), ("openai_usage", v.openai_usage)):
        if section is None:
            continue
        rules += [(f"vendors.{name}.lookback_days", section.lookback_days >= 0, "0 or more"),
                  (f"vendors.{name}.retry.max_retries", section.retry.max_retries >= 0, "0 or more")]
    if v.claude_code is not None:
        rules.append(("vendors.claude_code.page_size", 1 <= v.claude_code.page_size <= 1000, "between 1 and 1000"))
    if v.cursor is not None:
        rules += [("vendors.cursor.window_days", 1 <= v.cursor.window_days <= 30, "between 1 and 30"),
                  ("vendors.cursor.page_size", v.cursor.page_size >= 1, "at least 1")]
    if v.openai_usage is not None:
        rules.append(("vendors.openai_usage.page_days", 1 <= v.openai_usage.page_days <= 31, "between 1 and 31"))
    for key, ok, wanted in rules:
        if not ok:
            raise ConfigError(f"{where}: '{key}' must be {wanted}")
