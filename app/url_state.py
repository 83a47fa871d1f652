"""The URL is the state: one way to read it, on every page.

Streamlit seeds a widget bound to the query string (`bind="query-params"`) from the URL only on a first
load; afterwards the widget's state is carried across pages and wins over the URL. A link that opens a
page with `?team=payments` (`st.page_link(query_params=...)`), a typed URL or the browser's back button
would then show the old selection under a URL that names another. So every run first compares the URL
with the one the previous run ended with: when it changed from outside, the URL is applied to the
widgets' state before they are drawn. `link_params` builds every in-app link's query string from the
filters in force, so a link carries team, grain and range (and what the target page adds, e.g. repo)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

_SEEN = "_url_seen"


def _current(keys: tuple[str, ...]) -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in keys}


def apply_url(parsers: dict[str, Callable[[list[str]], object]]) -> None:
    """Before the bound widgets are drawn: when the URL's values of `parsers`' keys differ from what the
    last run left, set each widget's state from the URL (`parser(values)`; an absent key gives
    `parser([])`, the default), and run the script again when that changed a widget's state."""
    keys = tuple(parsers)
    seen = st.session_state.get(_SEEN, {})
    now = _current(keys)
    if not seen:
        return  # the first run: Streamlit seeds bound widgets from the URL itself
    changed = False
    for key, parser in parsers.items():
        if key in seen and now[key] != seen[key]:
            value = parser(now[key])
            changed |= st.session_state.get(key) != value
            st.session_state[key] = value
    if changed:
        # On a page change Streamlit may draw this run's widgets from the state it carried over, whatever
        # was assigned above; one more run (no browser reload) draws them from the URL's values.
        st.session_state[_SEEN] = {**seen, **now}
        st.rerun()


def remember(keys: tuple[str, ...]) -> None:
    """After the bound widgets are drawn: the URL this run ends with."""
    seen = dict(st.session_state.get(_SEEN, {}))
    seen.update(_current(keys))
    st.session_state[_SEEN] = seen


def parse_range(values: list[str], default: tuple[dt.date, dt.date]) -> tuple[dt.date, ...]:
    """`?range=2025-09-29&range=2026-03-29` (Streamlit's form for a date range); anything else: default."""
    try:
        days = tuple(dt.date.fromisoformat(v) for v in values)
    except ValueError:
        return default
    return days if len(days) == 2 and days[0] <= days[1] else default


def link_params(filters, **extra: str | None) -> dict[str, str | list[str]]:
    """The query string of an in-app link: the filters in force (team, grain, range) and `extra` (None
    removes a key: `team=None` links to the whole organisation)."""
    params: dict[str, str | list[str]] = {"grain": filters.grain, "range": [filters.start.isoformat(), filters.end.isoformat()]}
    if filters.team:
        params["team"] = filters.team
    for key, value in extra.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params
