"""Streamlit pieces the pages share: the page header, a scorecard tile, tables, charts, empty states
and download buttons (every download encoded by reports/export.py and written to the audit log)."""
from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from app import state
from app.access import current
from app.url_state import apply_url, remember
from app.views.bars_html import interval_bars_html
from app.views.freshness import stale_banner_text
from app.views.sparkline import sparkline_html
from app.views.stacked_html import stacked_bars_html
from app.views.table_html import table_html
from app.views.trend_html import trend_html
from metrics.registry import METRICS
from reports.export import ExportFilters, encode, record_export
from reports.filters import Filters
from reports.format import STATUS, escape_markdown, fmt_delta, fmt_interval, fmt_value, nulls_as_text, period_label
from reports.tiles import Tile, status_words



# Our own static style (never user text): a denser page top than Streamlit's default.
_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
[data-testid="stMetricValue"] { font-size: 2rem; }
</style>"""


def header(title: str, filters: Filters, what: str | None = None) -> None:
    st.html(_STYLE)
    st.title(title)
    line = filters.describe() if what is None else f"{what} · {filters.describe()}"
    st.caption(escape_markdown(line))


def stale_banner(*tables: str) -> None:
    """A warning on a page that reads `tables` when a source feeding them is stale (no success for twice
    its interval). One line per page: `ui.stale_banner("pull_requests", "deployments")`."""
    text = stale_banner_text(state.source_plans(state.current_version()), tables, utc_now())
    if text:
        st.warning(escape_markdown(text), icon=":material/schedule:")


def empty(message: str) -> None:
    """An empty state that says what to do."""
    st.info(escape_markdown(message), icon=":material/lightbulb:")


def item_id(label: str, *, placeholder: str, help: str, when_empty: str) -> str:
    """The `?id=…` of a single-item page (PR, deployment, incident): a text box bound to the URL, so that a
    link to another item lands on it; with no id, an empty state saying `when_empty` and the page stops."""
    apply_url({"id": lambda values: values[-1] if values else ""})
    value = st.text_input(label, key="id", bind="query-params", placeholder=placeholder, help=help).strip()
    remember(("id",))
    if not value:
        empty(when_empty)
        st.stop()
    return value


def text(line: str) -> None:
    """A sentence built from data (team names, titles): shown literally, never as Markdown."""
    st.markdown(escape_markdown(line))


def actor() -> str:
    """Who is downloading, for the audit log: the signed-in user (app/access.py), or
    `dashboard:anonymous` when no sign-in is configured."""
    return current().actor


def download(frame: pl.DataFrame, name: str, filters: Filters, *, key: str, label: str = "Download CSV") -> None:
    """A CSV download of `frame` (formula-safe), recorded in the audit log when it is generated.
    The file is built only when the button is clicked, so a page with many tables stays fast."""
    # What a page shows is what it downloads: row-level frames come scoped to the user's teams (app/state).
    warehouse, who = state.warehouse(), actor()
    export_filters = ExportFilters(grain=filters.grain, start=filters.start, end=filters.end, team=filters.team)

    def build() -> bytes:
        data = encode(frame, "csv")
        record_export(warehouse, name, "csv", export_filters, frame.height, who, "dashboard download")
        return data

    st.download_button(
        label, data=build, file_name=file_name(name, filters, "csv"), mime="text/csv", key=key,
        on_click="ignore", icon=":material/download:", type="tertiary",
    )


def downloads(items: list[tuple[str, pl.DataFrame, str, str]], filters: Filters, *, label: str, key: str) -> None:
    """Several CSV downloads in one popover (`items`: the button's words, the frame, its file's name, its key), for
    a row of charts: one element on the page where each chart had its own button (a popover's buttons are drawn
    only when it opens). Each download is `download(...)`'s: built on click, recorded in the audit log."""
    with st.popover(label, icon=":material/download:", type="tertiary", key=key):
        for words, frame, name, item_key in items:
            download(frame, name, filters, key=item_key, label=words)


def file_name(name: str, filters: Filters, fmt: str) -> str:
    team = f"_{filters.team}" if filters.team else ""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{name}{team}")
    return f"{safe}_{filters.start}_{filters.end}.{fmt}"


PERCENT = "%.1f%%"


def percent(label: str, **kw) -> object:
    """A column of shares (0–1) shown as 12.3% (pass the column in `table(percent=...)`)."""
    return st.column_config.NumberColumn(label, format=PERCENT, **kw)


def table(frame: pl.DataFrame, *, column_config: dict | None = None, percent: tuple[str, ...] = (),
          height: int | str = "auto", key: str | None = None, **selection) -> object:
    """A read-only table: cells are shown as text, never as Markdown or HTML. `percent` columns hold
    shares and are shown ×100 (the frame itself, and its download, keep the shares)."""
    if percent:
        frame = frame.with_columns(pl.col(c) * 100 for c in percent)
    # A missing text reads "—", never a grey "None" (the download keeps the nulls).
    links = {name for name, conf in (column_config or {}).items()
             if isinstance(conf, dict) and (conf.get("type_config") or {}).get("type") == "link"}
    frame = frame.with_columns(pl.col(c).fill_null("—") for c, t in frame.schema.items() if t == pl.String and c not in links)
    frame, column_config = _missing_numbers_as_dash(frame, column_config or {})
    return st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config, height=height, key=key,
                        **selection)


def on_open(label: str, draw, *, key: str, icon: str | None = ":material/table_rows:") -> None:
    """A closed expander whose contents (`draw()`: rows behind a control that counts them) are built and sent only
    once it is opened: Streamlit's `st.expander(key=..., on_change="rerun")` tracks whether it is open, and opening
    or closing it reruns this control alone (an `st.fragment`: `draw` with the frames of the page's last run), not the
    page. A closed one sends its label alone: a grid of thousands of rows in it was serialized, sent and parsed on
    every visit though never drawn (docs/performance-log.md, session 15, team15). As an expander whose contents are
    always sent, it starts closed and closes again when its label changes (a new count: another element, as
    Streamlit draws it)."""
    @st.fragment
    def control() -> None:
        box = st.expander(label, key=key, icon=icon, on_change="rerun")
        if box.open:
            with box:
                draw()

    control()


def small_table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]]) -> None:
    """A short table (a few rows, nothing to select) as static HTML (`st.table`) rather than the data grid, which
    costs the browser ~0.35 CPU-s to set up whatever its rows (docs/performance-log.md, draw11). `columns`: each
    column's label and format — "text" (shown literally, never as Markdown; missing: "—"), "int" (as the grid's
    "%d") or "percent" (a share 0–1 as 12.3%, the grid's "%.1f%%" of ×100)."""
    def cell(value, kind: str) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return "—"
        if kind == "int":
            return f"{int(value):d}"
        if kind == "percent":
            return f"{value * 100:.1f}%"
        return escape_markdown(str(value))

    shown = {label: [cell(v, kind) for v in frame.get_column(name).to_list()] for name, (label, kind) in columns.items()}
    st.table(pl.DataFrame(shown, schema={label: pl.String for label in shown}).to_pandas(), hide_index=True, border="horizontal")


def static_rows(frame: pl.DataFrame, columns: dict[str, tuple[str, object]]) -> None:
    """The first rows of a row-level list as static HTML (app/views/table_html.py: escaped text, the grid's formats,
    links in a new tab), above the control that holds every row in the grid (`on_open`): one element, no grid set-up."""
    st.html(table_html(frame, columns))


def _missing_numbers_as_dash(frame: pl.DataFrame, column_config: dict) -> tuple[pl.DataFrame, dict]:
    """Streamlit draws a missing number or date as a grey "None": such a column becomes text in its own
    format ("—" where missing), right-aligned, under the same label and help (the download keeps it)."""
    def conf(name: str) -> dict:
        c = column_config.get(name)
        return c if isinstance(c, dict) else {"label": c}

    formats = {name: (conf(name).get("type_config") or {}).get("format") for name in frame.columns}
    frame, turned = nulls_as_text(frame, formats)
    config = dict(column_config)
    for name in turned:
        c = conf(name)
        config[name] = st.column_config.TextColumn(c.get("label") or name, help=c.get("help"), width=c.get("width"),
                                                   alignment="right")
    return frame, config


STATUS_CELL = {
    "better": "background-color: #e6f4ea; color: #0d652d",
    "worse": "background-color: #fce8e6; color: #a50e0e; font-weight: 600",
    "info": "background-color: #e8f0fe; color: #174ea6",
    "at_baseline": "",
    "insufficient_data": "color: #9aa0a6",
}


def status_table(frame: pl.DataFrame, *, status_suffix: str, key: str, **selection) -> object:
    """A table whose cells are coloured by a status column beside each (`{column}{status_suffix}`),
    the status columns themselves hidden."""
    shown = [c for c in frame.columns if not c.endswith(status_suffix)]
    data = nulls_as_text(frame.select(shown), {})[0].to_pandas()
    statuses = frame.to_pandas()

    def colours(df):
        return df.apply(lambda col: [STATUS_CELL.get(s, "") for s in statuses[col.name + status_suffix]]
                        if col.name + status_suffix in statuses else [""] * len(col))

    styled = data.style.apply(colours, axis=None)
    return st.dataframe(styled, hide_index=True, width="stretch", key=key, **selection)


def chart(spec: dict, *, key: str) -> None:
    """A Vega-Lite chart of app/views/charts.py, the container's width, our own colours (no theme)."""
    st.vega_lite_chart(spec=spec, width="stretch", theme=None, key=key)


def trend(spec: dict) -> None:
    """A trend chart of app/views/charts.py `trend_figure`, drawn as static HTML (app/views/trend_html.py), not as
    a Vega view: a page of them spent 0.5–0.7 CPU-s of the browser on their views (docs/performance-log.md)."""
    st.html(trend_html(spec))


def interval_bars(spec: dict) -> None:
    """Bars with 95% error bars of app/views/charts.py `interval_bars`, drawn as static HTML (app/views/bars_html.py),
    not as a Vega view: on a page with no other Vega chart (Adoption), Vega's chart code is never fetched."""
    st.html(interval_bars_html(spec))


def stacked_bars(spec: dict) -> None:
    """Stacked bars of app/views/charts.py `stacked_bars`, drawn as static HTML (app/views/stacked_html.py), not as a
    Vega view: they were the last Vega views of AI spend and Support, whose first view loads Vega's bundle."""
    st.html(stacked_bars_html(spec))


def tile(t: Tile, grain: str, *, empty_hint: str, when: str | None = None, settling: str | None = None) -> None:
    """One scorecard tile: value, delta against the baseline coloured by status, sparkline, the
    status in words, what it compares, n and the period it is for (`when`: a range's words), and
    `settling` when its last days can still change. Four elements (the border, the metric, the sparkline, one
    caption whose paragraphs are the status badge and each line): each element costs the browser its own React
    rendering, so the badge and the lines are one caption (docs/performance-log.md, draw11); the sparkline is
    static HTML, not the metric's own Vega view (app/views/sparkline.py, draw12)."""
    spec = METRICS[t.spec.metric]
    with st.container(border=True, height="stretch"):
        if t.empty:
            st.metric(t.spec.title, "—", help=spec.description)
            st.caption(tile_lines([badge("no data", "gray", ":material/block:"), escape_markdown(empty_hint)]))
            return
        style = STATUS[t.status]
        delta = None if t.delta is None else fmt_delta(t.delta, t.unit)
        st.metric(
            t.spec.title, fmt_value(t.value, t.unit), delta=delta, delta_color=style.colour,
            delta_arrow="off" if not t.delta else ("up" if t.delta > 0 else "down"),
            delta_description=f"vs {fmt_value(t.baseline, t.unit)}" if t.baseline is not None else "no baseline",
            help=spec.description,
        )
        if len(t.trend) > 1:
            st.html(sparkline_html(list(t.trend), style.colour, [fmt_value(v, t.unit) for v in t.trend]))
        interval = fmt_interval(t.ci_low, t.ci_high, t.unit)
        counted = t.spec.counted[:-1] if t.n == 1 and t.spec.counted.endswith("s") else t.spec.counted
        parts = [f"Baseline {fmt_value(t.baseline, t.unit)}", f"n = {t.n:,} {counted}"]
        if interval:
            parts.insert(1, f"95% {interval}")
        parts.append(when or period_label(t.period, grain))
        lines = [badge(status_words(t), style.colour, style.icon), escape_markdown(" · ".join(parts))]
        if t.spec.compares:
            lines.append(escape_markdown(f"Compares {t.spec.compares}."))
        if settling:
            lines.append(f":orange[:material/hourglass_top:] Provisional: {escape_markdown(settling)}.")
        if t.companion is not None:
            c = t.companion
            if c.empty:
                lines.append("CSAT: no scored tickets in this period")
            else:
                lines.append(f":{STATUS[c.status].colour}[{STATUS[c.status].icon}] CSAT **{fmt_value(c.value, 'score')}** "
                             f"vs {fmt_value(c.baseline, 'score')} · {STATUS[c.status].words} (n = {c.n:,})")
        st.caption(tile_lines(lines))


def badge(label: str, colour: str, icon: str) -> str:
    """The Markdown of `st.badge(label, color=colour, icon=icon)` (what st.badge itself sends), to sit in a
    caption with other lines: our own words, brackets escaped as st.badge escapes them."""
    escaped = label.replace("[", "\\[").replace("]", "\\]")
    return f":{colour}-badge[{icon} {escaped}]"


def tile_lines(lines: list[str]) -> str:
    """A tile's lines as the paragraphs of one caption (each was its own caption element)."""
    return "\n\n".join(lines)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
