"""How numbers, statuses and user text look on screen."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass

import polars as pl

from metrics.registry import METRICS


@dataclass(frozen=True)
class StatusStyle:
    words: str
    colour: str  # a Streamlit palette colour (st.metric delta_color, st.badge)
    icon: str  # a Material icon for st.badge
    mark: str  # a one-character mark for table cells


STATUS = {
    "better": StatusStyle("better than baseline", "green", ":material/trending_up:", "🟢"),
    "worse": StatusStyle("worse than baseline", "red", ":material/warning:", "🔴"),
    "at_baseline": StatusStyle("at baseline", "gray", ":material/drag_handle:", "⚪"),
    "info": StatusStyle("for information", "blue", ":material/info:", "🔵"),
    "insufficient_data": StatusStyle("not enough data", "gray", ":material/hourglass_empty:", "◽"),
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value, unit: str) -> str:
    """A metric value in its unit: 8.0%, 2.5 h, 4.01, $11.06."""
    if _missing(value):
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "hours":
        return f"{value:,.1f} h"
    if unit == "usd":
        return f"${value:,.2f}"
    if unit in _RATE_SUFFIX:
        return f"{value:,.2f}{_RATE_SUFFIX[unit]}"
    return f"{value:,.2f}"


_RATE_SUFFIX = {"per_day": " / day", "per_week": " / week"}


def fmt_delta(delta, unit: str) -> str:
    """A signed difference: +4.7 pp, −1.9 h, +$10.38."""
    if _missing(delta):
        return "—"
    sign = "+" if delta >= 0 else "−"
    size = abs(delta)
    if unit == "share":
        return f"{sign}{size * 100:.1f} pp"
    if unit == "hours":
        return f"{sign}{size:,.1f} h"
    if unit == "usd":
        return f"{sign}${size:,.2f}"
    return f"{sign}{size:,.2f}{_RATE_SUFFIX.get(unit, '')}"


def fmt_interval(low, high, unit: str) -> str:
    if _missing(low) or _missing(high):
        return ""
    return f"{fmt_value(low, unit)} – {fmt_value(high, unit)}"


def fmt_count(n) -> str:
    return "—" if _missing(n) else f"{int(n):,}"


def fmt_usd(amount) -> str:
    if _missing(amount):
        return "—"
    return f"${amount:,.0f}" if abs(amount) >= 1000 else f"${amount:,.2f}"


def fmt_rate(amount) -> str:
    """A small unit price: $0.0031 per 1k tokens, $0.42 per request."""
    if _missing(amount):
        return "—"
    return f"${amount:,.2f}" if abs(amount) >= 1 else f"${amount:.4f}"


def unit_of(metric_id: str) -> str:
    return METRICS[metric_id].unit


def _signals_line(raw: str | None) -> str:
    try:
        values = json.loads(raw) if raw else []
    except ValueError:  # not ours to fix here: show what the warehouse holds
        return str(raw)
    return "; ".join(str(v) for v in values) if isinstance(values, list) else str(values)


def signals_text(column: str = "ai_signals") -> pl.Expr:
    """The AI signals (a JSON list) as one readable line: "label:ai-assisted; trailer:Made-with: Cursor"."""
    return pl.col(column).map_elements(_signals_line, return_dtype=pl.String, skip_nulls=False).alias(column)


def tools_text(column: str = "ai_tools") -> pl.Expr:
    """The AI tools (a JSON list of registry names) as "Claude Code, Cursor"; empty when none is named."""
    return (
        pl.col(column).fill_null("[]").str.json_decode(pl.List(pl.String)).list.join(", ").fill_null("").alias(column)
    )


MODE_WORDS = {"agent": "agent (opened by the tool)", "co_authored": "co-authored", "labelled": "label or branch",
              "explicit": "explicit (source)"}


def mode_text(column: str = "ai_mode") -> pl.Expr:
    """How a PR was AI-assisted, in words ("agent (opened by the tool)", "co-authored", …)."""
    return pl.col(column).replace_strict(MODE_WORDS, default=pl.col(column), return_dtype=pl.String).alias(column)


def link_column(column: str = "url") -> pl.Expr:
    """Only http(s) links are shown as links; anything else (javascript:, data:) becomes null."""
    url = pl.col(column).str.strip_chars()
    lowered = url.str.to_lowercase()
    return pl.when(lowered.str.starts_with("https://") | lowered.str.starts_with("http://")).then(url).alias(column)


_MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~$:"


# Streamlit's Markdown turns URLs, `www.` names and e-mail addresses in *text* into links (GitHub's
# autolink literals are found after escapes are resolved, so escaping alone does not stop them). A word
# joiner (U+2060, invisible, no break) inside each of them leaves nothing a link finder recognises.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(://)|(?<![a-z0-9])(www)(?=\.)|(@)(?=[-\w])")


def _no_autolinks(text: str) -> str:
    return _AUTOLINK.sub(lambda m: (m.group(1) and ":" + _WORD_JOINER + "//") or (m.group(2) and m.group(2) + _WORD_JOINER)
                         or "@" + _WORD_JOINER, text)


def escape_markdown(text: str) -> str:
    """Text shown inside a Markdown element, rendered literally (no links, emphasis or HTML): data is
    plain text everywhere; links appear only where the product makes them (the URL columns)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in _no_autolinks(str(text)))


MISSING = "—"
# Streamlit's Moment.js date formats the tables use, as strftime.
_MOMENT = {"YYYY-MM-DD HH:mm": "%Y-%m-%d %H:%M", "YYYY-MM-DD": "%Y-%m-%d", "YYYY-MM-DD HH:mm:ss": "%Y-%m-%d %H:%M:%S"}


def cell_text(value, fmt: str | None) -> str:
    """One table cell as the table would show it, as text; a missing value reads "—". `fmt` is the
    column's Streamlit format: printf style ("%d", "%.1f", "%.1f%%"), "dollar", a Moment.js date format,
    or None (numbers with thousands separators, two decimals for fractions)."""
    if _missing(value):
        return MISSING
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime(_MOMENT.get(fmt or "", "%Y-%m-%d %H:%M" if isinstance(value, dt.datetime) else "%Y-%m-%d"))
    if isinstance(value, (dt.timedelta, bool)) or not isinstance(value, (int, float)):
        return str(value)
    if fmt == "dollar":
        return f"${value:,.2f}"
    if fmt and "%" in fmt:
        try:
            return fmt % value
        except (TypeError, ValueError):
            pass
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def nulls_as_text(frame: pl.DataFrame, formats: dict[str, str | None]) -> tuple[pl.DataFrame, list[str]]:
    """The frame with every numeric or date column that holds a null turned into text (`cell_text`,
    with `formats[column]`), so a missing number reads "—" rather than a grey "None"; and the names of
    the columns it turned. Columns without nulls, text and booleans are left as they are."""
    turned = [c for c, t in frame.schema.items()
              if (t.is_numeric() or t.is_temporal())
              and (frame.get_column(c).null_count() or (t.is_float() and frame.get_column(c).is_nan().any()))]
    return frame.with_columns(
        pl.col(c).map_elements(lambda v, f=formats.get(c): cell_text(v, f), return_dtype=pl.String, skip_nulls=False)
        for c in turned
    ), turned


def fmt_day(day: dt.date | dt.datetime) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def period_label(period: dt.date, grain: str) -> str:
    return f"week of {fmt_day(period)}" if grain == "week" else period.strftime("%B %Y")
