"""AI attribution of pull requests (DESIGN.md "AI-assisted PR"), vectorised over a frame of PRs.

An explicit value from the source wins; otherwise a PR is AI-assisted when any rule fires. Every rule
that fired is kept as a signal — the provenance a team lead sees on the drill-down:
`label:<name>`, `bot_author:<login>`, `trailer:<line>`, `body:<marker>`, and `explicit:<source>=<value>`.
The CSV import and every connector call `classify_prs`, so attribution is decided in one place.
"""
from __future__ import annotations

import re

import polars as pl

from config.model import AiDetectionConfig
from connectors.common.normalise import to_json_list

_NEVER = r"[^\s\S]"  # matches nothing (the regex engine has no lookahead)


def _alternation(words) -> str:
    words = sorted((w.strip() for w in words if w and w.strip()), key=len, reverse=True)
    return "|".join(re.escape(w) for w in words) or _NEVER


def _trailer_pattern(config: AiDetectionConfig) -> str:
    tools = _alternation(config.tools)
    others = _alternation(config.trailers)
    # `Co-authored-by: <name> <email>` naming a tool in the name or e-mail; the other trailers whatever
    # they name.
    return rf"(?im)^[ \t]*co-authored-by:[^\n]*?(?:{tools})[^\n]*$|^[ \t]*(?:{others}):[ \t]*\S[^\n]*$"


def _body_pattern(config: AiDetectionConfig) -> str:
    # "Generated with [Claude Code](https://...)": the tool may sit inside markdown brackets or quotes.
    return rf"(?i)(?:{_alternation(config.body_markers)})[ \t]*[\[(\"'*_`]*[ \t]*(?:{_alternation(config.tools)})\b"


def _bot_names(config: AiDetectionConfig) -> list[str]:
    names = set()
    for bot in config.bot_authors:
        base = bot.strip().lower().removesuffix("[bot]")
        if base:
            names.update({base, f"{base}[bot]"})
    return sorted(names)


def _squash(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars().str.slice(0, 200)


def _unbracket(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"[\[\]()\"'*_`]", "")


def classify_prs(frame: pl.DataFrame, config: AiDetectionConfig, *, source: str) -> pl.DataFrame:
    """Add `ai_assisted` (bool) and `ai_signals` (JSON array text) to a frame of PRs.

    Reads `labels` (list of str), `author`, `body`, `commit_messages` (list of str) and `ai_explicit`
    (bool or null); absent columns count as empty.
    """
    def col(name: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype)

    labels = col("labels", pl.List(pl.String)).fill_null([])
    author = col("author", pl.String)
    body = col("body", pl.String)
    messages = col("commit_messages", pl.List(pl.String)).fill_null([]).list.join("\n")
    explicit = col("ai_explicit", pl.Boolean)
    ai_labels = [label.strip().lower() for label in config.labels if label.strip()]

    label_signals = labels.list.eval(
        pl.lit("label:") + pl.element().str.strip_chars()
    ).list.gather(
        labels.list.eval(pl.arg_where(pl.element().str.strip_chars().str.to_lowercase().is_in(ai_labels)))
    )
    bot_signal = pl.when(author.str.strip_chars().str.to_lowercase().is_in(_bot_names(config))).then(
        pl.concat_list(pl.lit("bot_author:") + author.str.strip_chars())
    ).otherwise(pl.lit([], dtype=pl.List(pl.String)))
    trailer_signals = messages.str.extract_all(_trailer_pattern(config)).list.eval(
        pl.lit("trailer:") + _squash(pl.element())
    )
    body_match = body.str.extract(_body_pattern(config), 0)
    body_signal = pl.when(body_match.is_not_null()).then(
        pl.concat_list(pl.lit("body:") + _squash(_unbracket(body_match)))
    ).otherwise(pl.lit([], dtype=pl.List(pl.String)))
    explicit_signal = pl.when(explicit.is_not_null()).then(
        pl.concat_list(
            pl.format("explicit:{}={}", pl.lit(source), pl.when(explicit).then(pl.lit("true")).otherwise(pl.lit("false")))
        )
    ).otherwise(pl.lit([], dtype=pl.List(pl.String)))

    fired = pl.concat_list(
        label_signals.fill_null([]), bot_signal, trailer_signals.fill_null([]), body_signal
    ).list.unique(maintain_order=True)
    return frame.with_columns(
        ai_assisted=pl.coalesce(explicit, fired.list.len() > 0),
        ai_signals=pl.concat_list(explicit_signal, fired).cast(pl.List(pl.String)),
    ).with_columns(ai_signals=to_json_list(pl.col("ai_signals")))
