"""The single-PR view: why a PR counted as AI-assisted, which deployment shipped it and with which other
PRs, and what rolled it back or reverted it — from the same outcomes the metrics use."""
import datetime as dt

from app.views.pr import pr_link, pr_view
from config import Config
from metrics.scorecard import prepare
from tests.factories import evidence, make_deployment, make_pr


def scenario():
    deps = [
        make_deployment("D1", sha="a", finished_at="2026-03-02 12:00"),
        make_deployment("D2", sha="b", finished_at="2026-03-03 12:00"),  # ships #1 and #2
        make_deployment("D3", sha="a", finished_at="2026-03-03 15:00"),  # rolls D2 back (sha a again)
    ]
    prs = [
        make_pr(1, merged_at="2026-03-03 09:00", ai=True, signals=["label:ai-assisted"], title="Add cache"),
        make_pr(2, merged_at="2026-03-03 10:00", title="Fix typo"),
        make_pr(3, merged_at="2026-03-04 09:00", title='Revert "Fix typo"', reverts_pr_id="github:acme/api#2"),
        make_pr(4, merged_at="2026-03-04 10:00", title="Unshipped"),
    ]
    return prepare(evidence(prs=prs, deployments=deps), Config())


def test_a_rolled_back_pr_shows_its_signals_its_deployment_and_its_companions():
    p = scenario()
    view = pr_view(p.outcomes, p.evidence.deployments, "github:acme/api#1")
    assert view.pr["title"] == "Add cache" and view.signals == ["label:ai-assisted"]
    # D2 shipped #1 (the first production deployment after 09:00 that is not a rollback), with #2;
    # D3 redeploys sha a with D2 between: it rolls D2 back 3 hours later.
    assert view.deployment["id"] == "D2" and view.deployment["how"]
    assert view.shipped_with["id"].to_list() == ["github:acme/api#2"]
    assert (view.pr["rolled_back_how"], view.pr["rolled_back_by"]) == ("deployment rollback", "D3")
    assert view.pr["rolled_back_at"] == dt.datetime(2026, 3, 3, 15, tzinfo=dt.timezone.utc)


def test_a_reverted_pr_names_its_revert_and_the_revert_names_it():
    p = scenario()
    typo = pr_view(p.outcomes, p.evidence.deployments, "github:acme/api#2")
    assert typo.reverted_by["id"].to_list() == ["github:acme/api#3"]
    revert = pr_view(p.outcomes, p.evidence.deployments, "github:acme/api#3")
    assert revert.reverts == {"id": "github:acme/api#2", "title": "Fix typo"}
    unshipped = pr_view(p.outcomes, p.evidence.deployments, "github:acme/api#4")
    assert unshipped.deployment is None and unshipped.shipped_with.height == 0
    assert pr_view(p.outcomes, p.evidence.deployments, "github:acme/api#99") is None


def test_the_link_encodes_the_id():
    # '#' would start a fragment and ':' '/' are reserved: the id travels encoded.
    assert pr_link("github:acme/api#12") == "pr?id=github%3Aacme%2Fapi%2312"


def test_the_deployment_view_says_what_it_shipped_and_that_the_redeploy_rolled_it_back():
    from app.views.chain_views import deployment_view, link_to
    import polars as pl

    p = scenario()
    prod = ("production",)
    d2 = deployment_view(p.evidence.deployments, p.outcomes, p.chain, prod, "D2")
    # D2 shipped #1 and #2 (merged 09:00 and 10:00, before it finished at 12:00); D3 redeployed sha a
    # 3 hours later, within the 7-day window: D2 failed by a rollback.
    assert d2.shipped["id"].to_list() == ["github:acme/api#1", "github:acme/api#2"]
    assert (d2.failed["failed"], d2.failed["failed_how"], d2.failed["failed_by"]) == (True, "rolled back", "D3")
    assert d2.rollback_of == [] and d2.production
    d3 = deployment_view(p.evidence.deployments, p.outcomes, p.chain, prod, "D3")
    assert d3.rollback_of == ["D2"] and d3.rollback_rule == "sha" and d3.failed is None and d3.shipped.height == 0
    assert deployment_view(p.evidence.deployments, p.outcomes, p.chain, prod, "D9") is None
    links = pl.DataFrame({"id": ["D1", None]}).select(link_to("deployment", "id", "view"))["view"].to_list()
    assert links == ["deployment?id=D1", None]
