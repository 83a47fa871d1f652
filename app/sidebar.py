"""The sidebar every page shares: period grain, date range and team — bound to the URL's query
string, so a link carries the selection — the baseline window they imply, and the data's freshness
with "Sync now". Rendered once by the entry script, before the page, so it keeps its state across
pages; pages read the result with `current()`."""
from __future__ import annotations

import datetime as dt
import logging

import streamlit as st

from app import access, state
from app.url_state import apply_url, parse_range, remember
from app.views.freshness import freshness, schedule_rows
from metrics.periods import latest_complete_range
from metrics.registry import METRICS
from reports.data import refresh_cube
from reports.filters import ALL_TEAMS, Filters
from reports.format import escape_markdown, fmt_day
from warehouse.lease import describe_self
from warehouse.runs import acting_as

log = logging.getLogger(__name__)

GRAINS = ("week", "month")
_FILTERS = "_filters"
_RANGE_DEFAULT = "_range_default"
_SYNC_MESSAGES = "_sync_messages"


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def default_range(grain: str) -> tuple[dt.date, dt.date]:
    """The range a visit without one in its URL shows: the latest complete weeks (or months) with data."""
    return latest_complete_range(state.last_day(state.current_version()), _today(), grain)


def _on_grain_change() -> None:
    # A range the user picked stays; the default range follows the grain (whole weeks or months).
    if tuple(st.session_state.get("range") or ()) == st.session_state.get(_RANGE_DEFAULT):
        st.session_state["range"] = default_range(st.session_state["grain"])


BOUND = ("grain", "range", "team")


def _apply_url() -> None:
    """A link or typed URL that names other filters than the widgets hold: the URL wins (app/url_state)."""
    grain_values = st.query_params.get_all("grain")
    grain = grain_values[-1] if grain_values and grain_values[-1] in GRAINS else "week"
    apply_url({
        "grain": lambda values: grain,
        "range": lambda values: parse_range(values, default_range(grain)),
        # A team the user may not pick (a team lead's other teams) falls back to "All teams", as on a first load.
        "team": lambda values: values[-1] if values and values[-1] in _team_options() else ALL_TEAMS,
    })


def _team_options() -> list[str]:
    return [ALL_TEAMS, *access.selectable_teams(state.teams(state.current_version()))]


def render() -> Filters:
    version = state.current_version()
    _apply_url()
    with st.sidebar:
        # No format_func: a bound widget writes its label into the URL, and ?grain=week reads best.
        # A default only when the state holds none: Streamlit warns (with a stack trace in the terminal)
        # when a widget gets both a default and a value set through st.session_state.
        grain = st.segmented_control(
            "Period", GRAINS, default=None if "grain" in st.session_state else "week", required=True, key="grain",
            bind="query-params", on_change=_on_grain_change,
        ) or "week"
        default = default_range(grain)
        st.session_state[_RANGE_DEFAULT] = default
        picked = st.date_input(
            "Date range", value="today" if "range" in st.session_state else default, key="range",
            bind="query-params", format="YYYY-MM-DD",
            help="Periods whose first day lies in this range are shown. By default: the latest "
                 "complete periods that have data.",
        )
        picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
        start, end = (picked[0], picked[1]) if len(picked) == 2 else (picked[0] if picked else default[0], default[1])
        # A team lead is offered their own teams only; a URL naming another falls back to "All teams".
        team = st.selectbox("Team", _team_options(), key="team", bind="query-params")
        filters = Filters(grain=grain, start=start, end=end, team=None if team == ALL_TEAMS else team)
        remember(BOUND)
        _baseline_caption(filters)
        st.divider()
        _data_panel(version)
        access.identity_panel()
    st.session_state[_FILTERS] = filters
    return filters


def current() -> Filters:
    """The filters the sidebar rendered in this run."""
    return st.session_state[_FILTERS]


def _baseline_caption(filters: Filters) -> None:
    """Which baseline is in force and why: it is fixed by the data (or [baseline]), not by the range."""
    if not filters.periods:
        st.caption(f"No {filters.grain} starts in this range: widen it.")
        return
    windows = state.baselines(state.current_version())
    window = windows.default
    if window.start > window.end:
        st.caption(f"Baseline: none yet ({windows.why}).")
    else:
        st.caption(f"Baseline (fixed): {fmt_day(window.first_day)} – {fmt_day(window.last_day)}: {windows.why}. "
                   "It does not move with the date range.")
    if not windows.pre_ai and state.config().baseline.window is None:
        st.caption(":orange[The baseline is not pre-AI]: AI-assisted PRs are already in it, so deltas understate "
                   "the change. Set [rules] ai_adoption_start or [baseline] in scorecard.toml.")
    for metric_id, why in sorted(windows.own_why.items()):
        own = windows.own[metric_id]
        span = "none yet" if own.start > own.end else f"{fmt_day(own.first_day)} – {fmt_day(own.last_day)}"
        st.caption(f"{METRICS[metric_id].title}: {span} ({why}).")


def _data_panel(version: str) -> None:
    line, _ = freshness(state.runs(version), dt.datetime.now(dt.timezone.utc))
    st.caption(escape_markdown(line[:1].upper() + line[1:]))
    _schedule(version)
    for kind, message in st.session_state.pop(_SYNC_MESSAGES, []):
        getattr(st, kind)(escape_markdown(message))
    if not access.current().can("admin"):
        return
    if st.button("Sync now", icon=":material/sync:", help="Pull new evidence from every configured source.",
                 width="stretch"):
        sync_now()


def _schedule(version: str) -> None:
    """Each configured source's interval, last success and next run ([schedule]; `scorecard schedule`)."""
    rows = schedule_rows(state.source_plans(version), dt.datetime.now(dt.timezone.utc))
    if not rows:
        return
    with st.expander("Sync schedule", icon=":material/schedule:"):
        for r in rows:
            mark = ":red[stale]" if r["state"] == "stale" else ":green[fresh]"
            st.caption(f"**{escape_markdown(r['source'])}** {mark} · every {r['every']} · last success "
                       f"{r['last success']} · next run {r['next run']}")


class StreamlitProgress:
    """`connectors.common.progress.Progress` drawn as an st.progress bar."""

    def __init__(self, bar) -> None:
        self._bar = bar
        self._fraction = 0.0

    def update(self, done: int, total: int | None, message: str) -> None:
        if total:
            self._fraction = max(0.0, min(1.0, done / total))
        self._bar.progress(self._fraction, text=message)


def sync_now() -> None:
    """Run every configured source with a progress bar; say what to configure when none is."""
    # Here, on the click: the runner and the source list load every connector's client library (PyGithub, jira…).
    from connectors.sources import sources
    from pipeline import run_sources

    config = state.config()
    available = sources()
    if not any(s.is_configured(config) for s in available.values()):
        hints = "; ".join(f"{s.name}: {s.config_hint}" for s in available.values())
        where = config.source_path or "scorecard.toml"
        st.info(escape_markdown(f"No source is configured yet. Add one to {where}" + (f" ({hints})" if hints else "")
                                + ", or import CSV files with: scorecard import ENTITY FILE.csv"))
        return
    bar = st.progress(0.0, text="Starting the sync…")
    with acting_as(access.current().actor):  # the audit log names the signed-in admin, not the server's OS user
        # No waiting: a source another process is syncing is reported as such (its rows arrive with it).
        reports = run_sources(state.warehouse(), config, progress=StreamlitProgress(bar),
                              holder=describe_self(f"Sync now ({access.current().actor})"))
    if any(r.rows for r in reports):
        bar.progress(1.0, text="Updating the scorecard for the new rows…")
        refresh_cube(state.warehouse(), config)
    bar.empty()
    state.data_changed()
    messages = []
    for report in reports:
        message = f"{report.source}: {report.status}, {report.rows:,} rows written"
        if report.status == "skipped":
            messages.append(("info", f"{report.error}: its new rows appear when that sync finishes."))
        elif report.error:
            messages.append(("error", f"{message}. {report.error}"))
        elif report.rejected or report.warnings:
            messages.append(("warning", f"{message}; {len(report.rejected)} records could not be read, "
                                        f"{len(report.warnings)} warnings (`scorecard status` lists them)."))
        else:
            messages.append(("success", message + "."))
    log.info("sync from the dashboard: %s", ", ".join(f"{r.source}={r.status}" for r in reports))
    # Shown by the next run, which reads the new data version.
    st.session_state[_SYNC_MESSAGES] = messages
    st.rerun()
