"""`[schedule]`: how often `scorecard schedule` syncs each source, and when a source's data is stale.

    [schedule]
    github = "1h"        # a source by name (see `scorecard sync --source`)
    jira = "15m"
    spend = "1d"         # a group: openai, anthropic and copilot_seats, unless named on their own
    default = "1h"       # any other configured source
    jitter = 0.1         # each wait stretched by up to 10%, so replicas and sources drift apart
    retry = "5m"         # after a failure the next try comes this soon, doubled per further failure...
    max_backoff = "6h"   # ...up to this
    lease = "2m"         # SQLite: a sync's lease expires this long after its holder's last heartbeat

Durations are a number and a unit (`s`, `m`, `h`, `d`), or several (`1h30m`). A source with no success
for twice its interval is stale. Keys are checked against the sources the connectors register, so a
typo (`githib`) is an error naming it, never a silent default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from config.errors import ConfigError

# Every source the connectors register (connectors/sources.py; a test keeps the two equal): the keys a
# schedule may name. Here, not read from the registry, so that reading a config never loads a connector.
SOURCES = ("openai", "anthropic", "copilot_seats", "github", "jira", "pagerduty", "claude_code", "cursor",
           "openai_usage")
# Sensible defaults: incidents and tickets move fastest, providers report spend once a day.
DEFAULT_INTERVALS = {"github": 3600.0, "jira": 900.0, "pagerduty": 900.0, "spend": 86_400.0}
# Group keys: a source in a group takes the group's interval unless it is named itself.
GROUPS = {"spend": ("openai", "anthropic", "copilot_seats")}
SETTINGS = ("default", "jitter", "retry", "max_backoff", "lease")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


@dataclass(frozen=True)
class ScheduleConfig:
    """Seconds throughout. `intervals` holds what the file names (sources and groups)."""

    intervals: dict[str, float] = field(default_factory=dict)
    default: float = 3600.0
    jitter: float = 0.1
    retry: float = 300.0
    max_backoff: float = 6 * 3600.0
    lease: float = 120.0

    def interval(self, source: str) -> float:
        """The interval of `source`: its own key, else its group's, else the built-in default for it or
        its group, else `default`."""
        group = next((g for g, members in GROUPS.items() if source in members), None)
        for table in (self.intervals, DEFAULT_INTERVALS):
            if source in table:
                return table[source]
            if group in table:
                return table[group]
        return self.default


def parse_duration(value: Any) -> float | None:
    """Seconds in `"15m"`, `"1h30m"`, `"1d"`; None when `value` is not such a text."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in parts)


def fmt_duration(seconds: float) -> str:
    """The shortest exact form: 900 → '15m', 5400 → '1h30m', 86400 → '1d'."""
    seconds = round(seconds)
    out = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"


def parse_schedule(raw: Any, where: str, known_sources: tuple[str, ...] = SOURCES) -> ScheduleConfig:
    """`[schedule]` from parsed TOML; `known_sources` names the sources a key may name. Raises
    `ConfigError` naming the key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [schedule] must be a table")

    def duration(key: str, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds is None:
            raise ConfigError(f"{where}: 'schedule.{key}' must be a duration such as \"15m\", \"1h\" or \"1d\", "
                              f"got {value!r}")
        if seconds < 1:
            raise ConfigError(f"{where}: 'schedule.{key}' must be at least 1s, got {value!r}")
        return seconds

    settings: dict[str, float] = {}
    intervals: dict[str, float] = {}
    names = [k for k in raw if k not in SETTINGS]
    if names:
        known = sorted(set(known_sources) | set(GROUPS))
        for key in names:
            if key not in known:
                raise ConfigError(f"{where}: unknown key 'schedule.{key}' (a source or group: {', '.join(known)}; "
                                  f"or a setting: {', '.join(SETTINGS)})")
            intervals[key] = duration(key, raw[key])
    for key in ("default", "retry", "max_backoff", "lease"):
        if key in raw:
            settings[key] = duration(key, raw[key])
    if "jitter" in raw:
        jitter = raw["jitter"]
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ConfigError(f"{where}: 'schedule.jitter' must be a number from 0 to 1 (a share of the interval), "
                              f"got {jitter!r}")
        settings["jitter"] = float(jitter)
    schedule = ScheduleConfig(intervals=intervals, **settings)
    if schedule.max_backoff < schedule.retry:
        raise ConfigError(f"{where}: 'schedule.max_backoff' ({fmt_duration(schedule.max_backoff)}) is shorter than "
                          f"'schedule.retry' ({fmt_duration(schedule.retry)})")
    return schedule
