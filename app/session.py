"""Who is signed in, in this browser session: `app/access.gate()` admits a user here, the scoped loader
(app/state.py) and the pages read it. Apart from access.py so that the loader needs no sign-in code."""
from __future__ import annotations

import streamlit as st

from governance.access import User

_USER = "_access_user"


def admit(user: User) -> None:
    st.session_state[_USER] = user


def current() -> User:
    """The user `access.gate()` admitted in this run (pages and state call this)."""
    user = st.session_state.get(_USER)
    if user is None:  # a page run without the entry script (never in the app): admit nobody
        raise RuntimeError("access.gate() has not run")
    return user


def row_scope() -> tuple[str, ...] | None:
    """The teams whose rows the current user may see (None: every team), as a cache key."""
    return _key(current().row_teams)


def adoption_scope() -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(the teams whose people the current user may list, the teams whose usage aggregates they may
    see), each None for every team, as a cache key (governance.access.User.people_teams, aggregate_teams)."""
    user = current()
    return _key(user.people_teams), _key(user.aggregate_teams)


def _key(teams: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if teams is None else tuple(sorted(teams))
