"""Sign-in and roles in the dashboard: the one place that decides who is using it and what they may see.

`gate()` runs first on every script run (app/streamlit_app.py): it finds the identity — Streamlit's
OIDC sign-in (`st.user`, `[auth]` in .streamlit/secrets.toml) or the header a trusted reverse proxy
sets (`st.context.headers`) — resolves the role from `[access]` (governance.access), records the
sign-in in the audit log once per session, and stops the run with a sign-in page when nobody (allowed)
is signed in. The navigation offers only the pages the role may open, and app/state.py filters every
row-level frame by the user's row scope (app/session.row_scope, reports/scope.py) before a page sees it. With `sign_in = "none"` (the local demo)
everyone is `anonymous_role` and the sidebar says that no sign-in is configured.
"""
from __future__ import annotations

import logging

import streamlit as st

from app import state
from app.session import admit, current  # current: the pages ask access who is signed in
from governance.access import User, from_trusted_proxy, groups_from, resolve
from reports.format import escape_markdown
from warehouse.runs import audit

log = logging.getLogger(__name__)

_AUDITED = "_access_audited"  # identities whose sign-in this session has recorded
_VIEWED = "_access_viewed"  # (page, team) pairs this session has recorded
_UNTRUSTED = "_access_untrusted_peer"  # header mode: the address of a request not from a trusted proxy


def _oidc_ready(provider: str) -> bool:
    """Whether .streamlit/secrets.toml has the [auth] section st.login needs."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False
    if not auth:
        return False
    return not provider or provider in auth


def _identity() -> tuple[str | None, tuple[str, ...]]:
    access = state.config().access
    if access.sign_in == "oidc":
        if not st.user.get("is_logged_in"):
            return None, ()
        identity = st.user.get("email") or st.user.get("preferred_username") or st.user.get("sub")
        return identity, groups_from(st.user.get(access.groups_claim))
    if access.sign_in == "header":
        peer = st.context.ip_address
        peer = peer if isinstance(peer, str) else None  # no connection behind the run (AppTest): the loopback
        if not from_trusted_proxy(peer, access):
            # Anyone reaching the port directly could claim any identity with the header.
            st.session_state[_UNTRUSTED] = peer or "127.0.0.1"
            return None, ()
        st.session_state.pop(_UNTRUSTED, None)
        headers = st.context.headers
        groups = groups_from(headers.get(access.groups_header)) if access.groups_header else ()
        return headers.get(access.header), groups
    return None, ()


def gate() -> User:
    """The signed-in user with a role; otherwise draw the sign-in (or refusal) page and stop the run."""
    access = state.config().access
    if access.sign_in == "oidc" and not _oidc_ready(access.provider):
        section = f"[auth.{access.provider}]" if access.provider else "[auth]"
        st.error(f"Sign-in is set to OIDC ([access] sign_in = \"oidc\"), but .streamlit/secrets.toml has no {section} "
                 "section: add redirect_uri, cookie_secret, client_id, client_secret and server_metadata_url there "
                 "(README, Sign-in and roles).", icon=":material/lock:")
        st.stop()
    identity, groups = _identity()
    user = resolve(identity, groups, access)
    if user is None:
        _sign_in_page(access)
        st.stop()
    _record_sign_in(user)
    if user.role is None:
        st.title("AI impact scorecard")
        st.error(f"Signed in as {_plain(user.identity)}, but no role is granted to this account. Ask an admin to add it to "
                 "[access.users] or one of its groups to [access.groups] in scorecard.toml.", icon=":material/block:")
        if access.sign_in == "oidc":
            st.button("Sign out", on_click=st.logout)
        st.stop()
    admit(user)
    return user


def selectable_teams(teams_with_data: list[str]) -> list[str]:
    """The teams the sidebar offers: a team lead picks among their own teams; others among all."""
    user = current()
    scope = user.row_teams
    if user.role == "team_lead":
        return sorted(scope)
    return teams_with_data


def _sign_in_page(access) -> None:
    st.title("AI impact scorecard")
    if access.sign_in == "oidc":
        st.info("Sign in to see the scorecard.", icon=":material/lock:")
        provider = access.provider or None
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login, args=(provider,) if provider else ())
    elif st.session_state.get(_UNTRUSTED):
        log.warning("header sign-in refused: request from %s, not a trusted proxy", st.session_state[_UNTRUSTED])
        st.error("Not signed in: this request did not come through the sign-in proxy (its address is not in "
                 "[access] trusted_proxies), so its identity header is not trusted. Open the dashboard through "
                 "the proxy's address.", icon=":material/lock:")
    else:
        st.error(f"Not signed in: this dashboard expects the reverse proxy in front of it to sign you in and send "
                 f"the {access.header} header, and this request had none. Open the dashboard through the proxy's "
                 "address.", icon=":material/lock:")


def _record_sign_in(user: User) -> None:
    """One audit row per session and identity: `sign-in`, or `access denied` when no role is granted."""
    if user.method == "none":
        return
    audited = st.session_state.setdefault(_AUDITED, set())
    if user.identity in audited:
        return
    audited.add(user.identity)
    action = "sign-in" if user.role else "access denied"
    audit(state.warehouse(), action, {"method": user.method, "role": user.role, "teams": sorted(user.teams),
                                      "groups": list(user.groups), "granted_by": list(user.granted_by)},
          actor=user.actor)


def record_view(page: str, team: str | None) -> None:
    """Who looked at what: one `view` row per session, page and team selection."""
    viewed = st.session_state.setdefault(_VIEWED, set())
    key = (page, team)
    if key in viewed:
        return
    viewed.add(key)
    try:
        audit(state.warehouse(), "view", {"page": page, "team": team}, actor=current().actor)
    except Exception as exc:  # noqa: BLE001 - a read-only warehouse must not blank the page
        log.warning("could not record a page view: %s", type(exc).__name__)


def identity_panel() -> None:
    """The sidebar's line about who is signed in (or that nobody needs to be)."""
    user = current()
    if user.method == "none":
        st.caption(f":orange[:material/lock_open:] No sign-in configured: everyone who can open this address is "
                   f"{user.role.replace('_', ' ')}. Set [access] sign_in to oidc or header (README, Sign-in and roles).")
        return
    st.caption(f":material/account_circle: {_plain(user.describe())}")
    if user.method == "oidc":
        st.button("Sign out", on_click=st.logout, type="tertiary", icon=":material/logout:")


def _plain(text: str) -> str:
    return escape_markdown(text)
