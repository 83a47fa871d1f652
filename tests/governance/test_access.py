"""Roles from [access]: grants for users and groups combine, row scope follows the role."""
import polars as pl
import pytest

from config.governance import AccessConfig, RoleGrant
from governance.access import groups_from, resolve, scope_rows, scope_tables

ACCESS = AccessConfig(
    sign_in="header",
    users={"Maya@Acme.example": RoleGrant("team_lead", ("payments",)), "dana@acme.example": RoleGrant("admin")},
    groups={"web-leads": RoleGrant("team_lead", ("web",)), "analysts": RoleGrant("analyst")},
)


def test_no_sign_in_is_everyone_in_the_anonymous_role():
    user = resolve(None, (), AccessConfig())
    assert (user.identity, user.role, user.actor, user.row_teams) == ("anonymous", "admin", "dashboard:anonymous", None)
    assert resolve(None, (), AccessConfig(anonymous_role="viewer")).row_teams == frozenset()


def test_signed_in_users_get_their_grants():
    assert resolve(None, (), ACCESS) is None and resolve("  ", (), ACCESS) is None
    maya = resolve("maya@acme.example", (), ACCESS)  # e-mail compared case-insensitively
    assert (maya.role, maya.row_teams, maya.can("drill_down"), maya.can("export")) == ("team_lead", {"payments"}, True, False)
    assert maya.sees_rows_of("payments") and not maya.sees_rows_of("web") and not maya.sees_rows_of(None)
    both = resolve("maya@acme.example", ("web-leads",), ACCESS)
    assert both.row_teams == {"payments", "web"}  # team-lead grants add up
    lead_and_analyst = resolve("maya@acme.example", ("analysts",), ACCESS)
    assert lead_and_analyst.role == "analyst" and lead_and_analyst.row_teams is None  # the highest role wins
    dana = resolve("dana@acme.example", (), ACCESS)
    assert dana.can("admin") and dana.describe() == "dana@acme.example · admin"


def test_strangers_get_the_default_role_or_nothing():
    stranger = resolve("eve@elsewhere.example", (), ACCESS)
    assert (stranger.role, stranger.can("scorecard"), stranger.can("drill_down"), stranger.row_teams) == (
        "viewer", True, False, frozenset())
    refused = resolve("eve@elsewhere.example", (), AccessConfig(sign_in="oidc", default_role="none"))
    assert refused.role is None and not refused.can("scorecard")


@pytest.mark.parametrize("value, groups", [(None, ()), ("a, b ,", ("a", "b")), (["x", " y "], ("x", "y")), (3, ())])
def test_groups_from_claims_and_headers(value, groups):
    assert groups_from(value) == groups


def test_scoping_keeps_only_the_visible_teams_rows():
    prs = pl.DataFrame({"id": ["p1", "p2"], "team": ["payments", "web"]})
    links = pl.DataFrame({"deployment_id": ["d1", "d2"], "pr_id": ["p1", "p2"]})
    scoped = scope_tables({"pull_requests": prs, "deployment_prs": links}, frozenset({"payments"}))
    assert scoped["pull_requests"]["id"].to_list() == ["p1"]
    assert scoped["deployment_prs"]["pr_id"].to_list() == ["p1"]
    assert scope_rows(pl.DataFrame({"id": ["x"]}), frozenset({"payments"})).height == 0  # no team column: nothing
    assert scope_rows(prs, None).height == 2


def test_only_the_configured_proxy_addresses_may_sign_in_by_header():
    import dataclasses

    from governance.access import from_trusted_proxy

    default = dataclasses.replace(ACCESS, trusted_proxies=("127.0.0.1", "::1"))
    assert from_trusted_proxy(None, default)  # Streamlit reports the loopback as None
    assert from_trusted_proxy("::ffff:127.0.0.1", default)
    assert not from_trusted_proxy("203.0.113.7", default)
    network = dataclasses.replace(ACCESS, trusted_proxies=("10.1.0.0/16",))
    assert from_trusted_proxy("10.1.2.3", network) and not from_trusted_proxy("10.2.0.1", network)
    assert not from_trusted_proxy(None, network) and not from_trusted_proxy("not an address", network)
