"""The configuration model: one frozen dataclass per TOML section.

Every field's type is checked when the file is read (see `config.load`), and a key that is not a field is
an error naming it, so a typo such as `min_samples` never silently falls back to a default.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DEFAULT_WAREHOUSE_URL = "sqlite:///data/scorecard.db"


@dataclass(frozen=True)
class WarehouseConfig:
    url: str = DEFAULT_WAREHOUSE_URL
    # Where the dashboard's columnar cache lives (default: beside a SQLite file, else data/cache/).
    cache_dir: str = ""


@dataclass(frozen=True)
class BaselineWindow:
    """Inclusive dates; the end counts through 23:59:59.999 UTC."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class BaselineConfig:
    """`window` is `[baseline] start/end`; `per_metric` holds `[baseline.<metric_id>]` windows.

    With neither, each metric's baseline is the 13 weeks before the first reported period.
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


# Tools whose names mark a `Co-authored-by:` trailer or a `Generated with` body marker as AI.
DEFAULT_AI_TOOLS = (
    "Copilot", "Claude Code", "Claude", "Cursor", "Devin", "Codex", "ChatGPT", "OpenAI", "Gemini", "Jules",
    "Amazon Q", "Aider", "Windsurf", "Cline", "Sweep",
)
# Bot accounts of coding agents. REST names them `login[bot]`, GraphQL `login`: both forms match.
DEFAULT_AI_BOTS = (
    "copilot-swe-agent", "Copilot", "devin-ai-integration", "cursor", "cursor-agent",
    "chatgpt-codex-connector", "openai-codex", "google-labs-jules", "gemini-code-assist",
    "amazon-q-developer", "amazon-q-developer-agent", "claude", "sweep-ai",
)


@dataclass(frozen=True)
class AiDetectionConfig:
    labels: tuple[str, ...] = ("ai-assisted", "ai-generated", "copilot")
    bot_authors: tuple[str, ...] = DEFAULT_AI_BOTS
    tools: tuple[str, ...] = DEFAULT_AI_TOOLS
    # Trailers that mark AI assistance whatever they name (`Co-authored-by:` must name a tool).
    trailers: tuple[str, ...] = ("Assisted-by", "Generated-by", "Made-with")
    # Phrases that, followed by a tool's name, mark a PR body as AI-generated.
    body_markers: tuple[str, ...] = ("Generated with",)


@dataclass(frozen=True)
class TeamConfig:
    owner: str = ""
    repos: tuple[str, ...] = ()  # globs such as "acme/pay-*", matched case-insensitively
    services: tuple[str, ...] = ()  # incident services (PagerDuty, Jira components)


@dataclass(frozen=True)
class Config:
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    ai_detection: AiDetectionConfig = field(default_factory=AiDetectionConfig)
    teams: dict[str, TeamConfig] = field(default_factory=dict)
    # Where the file was read from (None: defaults only); relative SQLite paths resolve against it.
    source_path: str | None = None
