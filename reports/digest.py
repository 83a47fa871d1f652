"""The weekly digest for executives (`scorecard digest`): the review window's five numbers against the
baseline, what changed most, pause verdicts, budget alerts, and links into the dashboard — as Markdown,
HTML or plain text, and as a Slack-compatible webhook message.

No Streamlit: the digest reads the same `reports.review.Review` the Scorecard page draws, so its
numbers are the tiles' numbers."""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl

from config.model import Config
from metrics.registry import METRICS
from reports.format import STATUS, fmt_delta, fmt_value
from reports.review import Review, settling_days
from reports.tiles import EXTRA_TILES, TILES, headline, verdict

FORMATS = ("markdown", "html", "text")


@dataclass(frozen=True)
class Line:
    """One of the five numbers (plus CSAT, the deflection guardrail)."""

    title: str
    value: str
    baseline: str
    delta: str
    status: str
    n: int
    note: str  # "provisional: …" or ""


@dataclass(frozen=True)
class Digest:
    title: str
    scope: str
    window: str
    baseline: str
    verdict: str
    lines: tuple[Line, ...]
    changes: tuple[str, ...]
    pauses: tuple[str, ...]
    budget_alerts: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, url); empty without [dashboard] url


def build(review: Review, config: Config, *, team: str | None, pauses: list[str], pause_flows: list[str],
          budget_alerts: list[str]) -> Digest:
    """The digest of one review (reports.review.review) for the whole org (team None) or one team.
    `pauses` are Governance's pause sentences, `pause_flows` their workflow ids, `budget_alerts` the open
    budget alerts' messages."""
    scope = f"team {team}" if team else "the whole organisation"
    span = f"the last {review.describe()}"
    records = review.records
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    lines = []
    for spec in (*TILES, *EXTRA_TILES):
        rows = records.filter((pl.col("metric") == spec.metric) & (pl.col("segment") == spec.segment) & who)
        if rows.height == 0:
            continue
        r = rows.row(0, named=True)
        unit = METRICS[spec.metric].unit
        note = settling_days(r, config, review.as_of, review.window[1]) if review.window else None
        lines.append(Line(spec.title, fmt_value(r["value"], unit), fmt_value(r["baseline"], unit),
                          fmt_delta(r["delta"], unit), STATUS[r["status"]].words, r["n"],
                          f"provisional: {note}" if note else ""))
    scoped = records if team is None else records.filter(pl.col("team") == team)
    window = review.baselines.default
    baseline = ("none yet" if window.start > window.end
                else f"{window.first_day} to {window.last_day}: {review.baselines.why}")
    return Digest(
        title="AI impact scorecard: weekly digest",
        scope=scope,
        window=review.describe(),
        baseline=baseline,
        verdict=verdict(scoped, pause_flows, span) if review.window else "Not enough data for a review window yet.",
        lines=tuple(lines),
        changes=tuple(c.sentence for c in headline(records, team, "range", span=span)),
        pauses=tuple(pauses),
        budget_alerts=tuple(budget_alerts),
        links=_links(config.dashboard.url, team),
    )


def _links(base: str, team: str | None) -> tuple[tuple[str, str], ...]:
    if not base:
        return ()
    base = base.rstrip("/")
    query = urlencode({"team": team}) if team else ""

    def url(path: str, extra: str = "") -> str:
        q = "&".join(p for p in (query, extra) if p)
        return f"{base}/{path}" + (f"?{q}" if q else "")

    return (("Scorecard", url("")), ("Rolled-back PRs", url("rollbacks")), ("Governance", url("governance")),
            ("AI spend", url("spend")))


def render(digest: Digest, fmt: str) -> str:
    """The digest as Markdown, HTML or plain text (a page a VP reads in a minute)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    return {"markdown": _markdown, "html": _html, "text": _text}[fmt](digest)


def _markdown(d: Digest) -> str:
    out = [f"# {d.title}", "", f"**{d.verdict}**", "",
           f"Review window: {d.window} · {d.scope}. Baseline (fixed): {d.baseline}.", "",
           "| Metric | Now | Baseline | Change | Status | n |", "| --- | ---: | ---: | ---: | --- | ---: |"]
    out += [f"| {_md(line.title)} | {line.value} | {line.baseline} | {line.delta} | {line.status}"
            f"{' (' + line.note + ')' if line.note else ''} | {line.n:,} |" for line in d.lines]
    out += ["", "## What changed most", ""] + ([f"- {_md(c)}" for c in d.changes] or ["- Nothing settled has enough data."])
    out += ["", "## Pause verdicts", ""] + ([f"- {_md(p)}" for p in d.pauses] or ["- None: no workflow is past a stop condition."])
    out += ["", "## Spend and budget alerts", ""] + ([f"- {_md(a)}" for a in d.budget_alerts] or ["- None open."])
    if d.links:
        out += ["", "## In the dashboard", ""] + [f"- [{label}]({url})" for label, url in d.links]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Data (team, workflow names) inside Markdown: characters that would format are escaped."""
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in text)


def _text(d: Digest) -> str:
    out = [d.title.upper(), "", d.verdict, "", f"Review window: {d.window} · {d.scope}.", f"Baseline (fixed): {d.baseline}.", ""]
    width = max((len(line.title) for line in d.lines), default=10)
    out += [f"{line.title:<{width}}  {line.value:>9}  vs {line.baseline:>9}  {line.delta:>10}  {line.status}"
            + (f" ({line.note})" if line.note else "") for line in d.lines]
    out += ["", "What changed most:"] + ([f"- {c}" for c in d.changes] or ["- Nothing settled has enough data."])
    out += ["", "Pause verdicts:"] + ([f"- {p}" for p in d.pauses] or ["- None."])
    out += ["", "Spend and budget alerts:"] + ([f"- {a}" for a in d.budget_alerts] or ["- None open."])
    if d.links:
        out += ["", "In the dashboard:"] + [f"- {label}: {url}" for label, url in d.links]
    return "\n".join(out) + "\n"


def _html(d: Digest) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(line.title)}</td><td align=right>{e(line.value)}</td><td align=right>{e(line.baseline)}</td>"
        f"<td align=right>{e(line.delta)}</td><td>{e(line.status)}{(' <i>(' + e(line.note) + ')</i>') if line.note else ''}</td>"
        f"<td align=right>{line.n:,}</td></tr>" for line in d.lines)

    def items(values: tuple[str, ...], none: str) -> str:
        return "<ul>" + "".join(f"<li>{e(v)}</li>" for v in values or (none,)) + "</ul>"

    links = ("<h2>In the dashboard</h2><ul>" + "".join(f'<li><a href="{e(u)}">{e(label)}</a></li>' for label, u in d.links)
             + "</ul>") if d.links else ""
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{e(d.title)}</title></head><body>"
            f"<h1>{e(d.title)}</h1><p><b>{e(d.verdict)}</b></p>"
            f"<p>Review window: {e(d.window)} · {e(d.scope)}. Baseline (fixed): {e(d.baseline)}.</p>"
            "<table><tr><th>Metric</th><th>Now</th><th>Baseline</th><th>Change</th><th>Status</th><th>n</th></tr>"
            f"{rows}</table><h2>What changed most</h2>{items(d.changes, 'Nothing settled has enough data.')}"
            f"<h2>Pause verdicts</h2>{items(d.pauses, 'None.')}<h2>Spend and budget alerts</h2>{items(d.budget_alerts, 'None open.')}"
            f"{links}</body></html>\n")


def slack_payload(d: Digest) -> dict:
    """A Slack-compatible incoming-webhook message: `text` (what notifications show) and mrkdwn blocks."""
    def esc(text: str) -> str:  # Slack's three control characters
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    numbers = "\n".join(f"• *{esc(line.title)}*: {line.value} vs {line.baseline} ({line.delta}), {line.status}"
                        + (f" _({esc(line.note)})_" if line.note else "") for line in d.lines)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": d.title}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{esc(d.verdict)}*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": esc(f"Review window: {d.window} · {d.scope}. "
                                                                      f"Baseline: {d.baseline}.")}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": numbers or "No numbers yet."}},
    ]
    if d.pauses:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(f":double_vertical_bar: {esc(p)}" for p in d.pauses)}})
    if d.budget_alerts:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(f":moneybag: {esc(a)}" for a in d.budget_alerts)}})
    if d.links:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(f"<{u}|{esc(label)}>" for label, u in d.links)}})
    return {"text": f"{d.title}: {d.verdict}", "blocks": blocks}


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
