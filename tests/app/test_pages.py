"""Every dashboard page run with AppTest over a small demo warehouse: what a user sees equals what the
metrics package computes for the same filters, the drill-down follows the URL's selection, and no
page raises."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.periods import latest_complete_range
from metrics.registry import METRICS, OUTPUT_COLUMNS
from metrics.scorecard import compute, prepare
from reports.data import load_cube, load_evidence
from reports.export import export_names
from reports.format import fmt_value, period_label
from tests.app.conftest import clear_streamlit_caches, run_app
from warehouse import open_warehouse, read_table

TILES = [("ai_merge_rate", "all"), ("rollback_share", "ai"), ("mttr_hours", "all"), ("deflection_rate", "all"),
         ("ai_cost_per_unit", "all")]


def run(page: str | None = None, *, opened: tuple[str, ...] | bool = (), **params: str) -> AppTest:
    return run_app(page, opened=opened, **params)


def plain(markdown: str) -> str:
    """Markdown the app escaped, as the user reads it."""
    return markdown.replace("\\", "").replace("\u2060", "")  # escapes and the word joiners that stop autolinks


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def computed(demo_env):
    """The metrics package's own view of the demo warehouse: its cube, prepared evidence, and the
    default range (the last 26 complete weeks with data)."""
    wh = open_warehouse(demo_env.url)
    cube = load_cube(wh, demo_env.config)
    prepared = prepare(load_evidence(wh), demo_env.config)
    start, end = latest_complete_range(cube.last_day(), today(), "week")
    yield {"wh": wh, "cube": cube, "prepared": prepared, "start": start, "end": end, "config": demo_env.config}
    wh.engine.dispose()


def records(computed, team=None, grain="week", start=None, end=None) -> pl.DataFrame:
    return compute(computed["cube"], computed["config"], grain=grain, start=start or computed["start"],
                   end=end or computed["end"], team=team)


def review_records(computed, team=None, grain="week", start=None, end=None):
    """What the tiles show: the range records of the review window (the last 13 complete weeks, or 3
    months, of the range), as reports/review.py builds them for the page."""
    from reports.review import review

    return review(computed["cube"], computed["config"], grain=grain, start=start or computed["start"],
                  end=end or computed["end"], team=team, now=dt.datetime.now(dt.timezone.utc))


def latest(recs: pl.DataFrame, metric: str, segment: str, team: str | None) -> dict:
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    rows = recs.filter((pl.col("metric") == metric) & (pl.col("segment") == segment) & who).sort("period")
    return rows.row(-1, named=True)


def test_the_default_range_is_the_last_26_complete_weeks_with_data(computed):
    # The demo ends on Sunday 2026-03-29, so the week of Mar 23 is the last complete week with data.
    assert computed["end"] == dt.date(2026, 3, 29)
    assert computed["start"] == dt.date(2025, 9, 29)  # 25 weeks before Mar 23


def test_scorecard_tiles_show_the_metrics_numbers_for_the_whole_org(computed):
    at = run()
    review = review_records(computed)
    recs = review.records
    # The review window: the last 13 weeks of the default range that ended by as_of (the demo's last merge
    # or deployment, a weekday of the week of Mar 23, so that week is still running): Dec 22 – Mar 22.
    assert review.as_of.date() < dt.date(2026, 3, 29)
    assert review.window == (dt.date(2025, 12, 22), dt.date(2026, 3, 22))
    assert [m.label for m in at.metric] == ["AI-assisted merge rate", "Rollback share, AI PRs", "Mean time to restore",
                                            "Support deflection", "AI cost per unit", "Seats", "Active users",
                                            "Acceptance rate", "PRs opened by agents"]
    # The adoption panel: ai_usage over the same review window.
    from app.views.adoption_panel import USAGE_COLUMNS, adoption
    from warehouse import read_table

    whole = adoption(read_table(computed["wh"], "ai_usage", USAGE_COLUMNS), *review.window).row(0, named=True)
    assert [m.value for m in at.metric[5:]] == [f"{whole['seats']:,}", f"{whole['active_users']:,}",
                                                f"{whole['acceptance_rate']:.1%}", f"{whole['agent_prs']:,}"]
    # The per-team rows are one click away, the count of teams in the control's label.
    teams_rows = adoption(read_table(computed["wh"], "ai_usage", USAGE_COLUMNS), *review.window).slice(1)
    per_team = next(e for e in at.expander if "teams' seats" in e.label)
    assert per_team.label == f"Show the {teams_rows.height:,} teams' seats, users and agent PRs" and teams_rows.height > 1
    assert per_team.dataframe[0].value["team"].tolist() == teams_rows["team"].to_list()
    for (metric, segment), element in zip(TILES, at.metric):
        expect = latest(recs, metric, segment, None)
        unit = METRICS[metric].unit
        assert element.value == fmt_value(expect["value"], unit), metric
        assert (expect["grain"], expect["period"]) == ("range", dt.date(2025, 12, 22))
    captions = [plain(c.value) for c in at.caption]
    assert any(f"n = {latest(recs, 'rollback_share', 'ai', None)['n']:,} AI-assisted merged PRs" in c for c in captions)
    assert any("the last 13 weeks, 22 Dec 2025 – 22 Mar 2026" in c for c in captions)
    assert any("Compares AI-assisted PRs now vs all PRs in the baseline." in c for c in captions)
    # The rollback tile's last days can still gain rollbacks, and it says so.
    assert latest(recs, "rollback_share", "ai", None)["provisional"]
    # as_of lies in the week of Mar 23: its days from as_of − 7 days to Mar 22 can still gain rollbacks
    # (at most the 7-day rollback window, reports/review.settling_days).
    days = min((dt.date(2026, 3, 22) - (review.as_of - dt.timedelta(days=7)).date()).days + 1, 7)
    assert any(f"Provisional: the last {days} days can still gain rollbacks" in c for c in captions), captions
    # Each tile is its metric and one caption (draw11: one element where the badge and each line were their own):
    # the status badge first, then the lines, as paragraphs. The rollback tile's status is its record's.
    from reports.format import STATUS
    from reports.tiles import scorecard_tiles, status_words

    shown = dict(zip(TILES, scorecard_tiles(recs, None)))
    rollback = shown[("rollback_share", "ai")]
    style = STATUS[latest(recs, "rollback_share", "ai", None)["status"]]
    tile_captions = [c.value for c in at.caption if "-badge[" in c.value]
    assert len(tile_captions) == len(TILES)
    one = next(c for c in tile_captions if "AI\\-assisted merged PRs" in c or "AI-assisted merged PRs" in c)
    lines = [plain(line) for line in one.split("\n\n")]
    assert lines[0] == f":{style.colour}-badge[{style.icon} {status_words(rollback)}]"
    assert lines[1].startswith("Baseline ") and f"n = {latest(recs, 'rollback_share', 'ai', None)['n']:,} AI-assisted" in lines[1]
    assert lines[2] == "Compares AI-assisted PRs now vs all PRs in the baseline."
    assert lines[3].startswith(":orange[:material/hourglass_top:] Provisional: the last ")
    assert len(lines) == 4
    markdown = [plain(m.value) for m in at.markdown]
    assert any("Demo data" in m and "badge" in m for m in markdown)
    # The headline never names a provisional record.
    assert not any("Rollback share" in m and "baseline" in m and "from a baseline" in m for m in markdown)
    # The demo's bad team is named on the landing page, one click from its rolled-back PRs.
    assert any(m.startswith(":violet[:material/group:] Team to look at: payments.") for m in markdown)
    links = [(link.proto.page, link.proto.query_string) for link in at.get("page_link")]
    # The link carries the filters in force, with the team set (the URL is the state).
    assert ("rollbacks", "grain=week&range=2025-09-29&range=2026-03-29&team=payments") in links


def test_each_scorecard_tile_draws_its_trend_as_static_html(computed):
    """The sparkline is static HTML beside the metric (app/views/sparkline.py), not the metric's own Vega view: every
    period of the range's weekly records, oldest first, exact in `data-values`, each period's value in the tile's unit
    on hover, in the colour of the tile's status."""
    import base64
    import html as html_text
    import json
    import re

    from app.views.sparkline import COLOURS
    from reports.format import STATUS

    at = run()
    weekly = records(computed)
    recs = review_records(computed).records
    assert not any(m.proto.chart_data for m in at.metric)  # no Vega sparkline
    lines = [e.proto.body for e in at.get("html") if "tileSparkline" in e.proto.body]
    assert len(lines) == len(TILES)
    for (metric, segment), markup in zip(TILES, lines):
        rows = weekly.filter((pl.col("metric") == metric) & (pl.col("segment") == segment) & pl.col("team").is_null())
        values = rows.sort("period")["value"].to_list()
        assert len(values) == 26, metric  # the default range's 26 weeks
        shown = json.loads(html_text.unescape(re.search(r'data-values="([^"]*)"', markup).group(1)))
        # The page's records and these are two passes over the cube: a sum of floats taken in another order can
        # differ in its last bit (CI once saw 10.202124782608696 against …697), never in a shown digit.
        assert shown == pytest.approx(values, rel=1e-12, abs=0), metric
        unit = METRICS[metric].unit
        assert re.findall(r'<span title="([^"]*)"', markup) == [html_text.escape(fmt_value(v, unit)) for v in values]
        svg = base64.b64decode(re.search(r"base64,([^\"]+)", markup).group(1)).decode()
        colour = STATUS[latest(recs, metric, segment, None)["status"]].colour
        assert f'stroke="{COLOURS[colour]}"' in svg, metric


def test_choosing_a_team_in_the_sidebar_changes_the_tiles_to_that_teams_numbers(computed):
    at = run()
    before = [m.value for m in at.metric]
    at.selectbox(key="team").set_value("payments").run()
    assert not at.exception
    recs = review_records(computed).records
    after = [m.value for m in at.metric]
    for (metric, segment), value in zip(TILES, after):
        assert value == fmt_value(latest(recs, metric, segment, "payments")["value"], METRICS[metric].unit)
    assert after != before
    assert at.query_params.get("team") in (["payments"], "payments", None)  # bound to the URL (AppTest may lag)


def test_a_shared_link_selects_the_team_grain_and_range(computed):
    at = run(team="payments", grain="month")
    start, end = latest_complete_range(computed["cube"].last_day(), today(), "month")
    # March 2026 is over (the clock is past it) and has data: the last of 12 months.
    assert (start, end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    review = review_records(computed, grain="month", start=start, end=end)
    # The last 3 months that ended by as_of (in late March): December to February.
    assert review.window == (dt.date(2025, 12, 1), dt.date(2026, 2, 28))
    recs = review.records
    for (metric, segment), element in zip(TILES, at.metric):
        assert element.value == fmt_value(latest(recs, metric, segment, "payments")["value"], METRICS[metric].unit)


def test_rollbacks_lists_teams_worst_ai_share_first_with_the_demos_bad_team_on_top(computed):
    at = run("rollbacks")
    teams = at.dataframe[0].value
    assert teams["team"].iloc[0] == "payments"
    # The same share, counted independently from the PR outcomes.
    o = computed["prepared"].outcomes
    since = dt.datetime.combine(computed["start"], dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(computed["end"] + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    ai = o.filter((pl.col("team") == "payments") & pl.col("ai_assisted") & (pl.col("merged_at") >= since)
                  & (pl.col("merged_at") < until))
    assert teams["ai_pct"].iloc[0] == pytest.approx(100 * ai["rolled_back"].sum() / ai.height)
    assert any("Select a team" in i.value for i in at.info)


def test_rollbacks_team_in_the_url_filters_repos_and_prs(computed):
    at = run("rollbacks", team="payments", opened=("rows_rolled_back",))  # every rolled-back PR, as after a click
    repos = at.dataframe[1].value
    assert set(repos["repo"]) and all(r.startswith("acme/payments-") for r in repos["repo"])
    prs = at.dataframe[2].value
    assert len(prs) > 0 and set(prs["team"]) == {"payments"} and prs["ai_assisted"].all()
    # Each AI-assisted PR shows its tool and how it was AI-assisted (the demo's signals name tools or labels).
    assert set(prs["ai_mode"]) <= {"agent (opened by the tool)", "co-authored", "label or branch"}
    assert set(prs["ai_tools"]) - {""} and set(prs["ai_tools"]) - {""} <= {
        "Claude Code", "GitHub Copilot", "Cursor", "OpenAI Codex", "Devin", "Gemini", "GitHub Copilot, Claude Code"}
    assert set(prs["repo"]) <= set(repos["repo"])


def test_rollbacks_repo_in_the_url_narrows_everything_below(computed):
    at = run("rollbacks", team="payments", repo="acme/payments-svc", opened=("rows_rolled_back",))
    assert at.selectbox(key="repo").value == "acme/payments-svc"
    prs = at.dataframe[2].value
    assert len(prs) > 0 and set(prs["repo"]) == {"acme/payments-svc"}
    o = computed["prepared"].outcomes
    since = dt.datetime.combine(computed["start"], dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(computed["end"] + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    expected = o.filter((pl.col("repo") == "acme/payments-svc") & pl.col("ai_assisted") & pl.col("rolled_back")
                        & (pl.col("merged_at") >= since) & (pl.col("merged_at") < until))
    assert len(prs) == expected.height
    titles = set(prs["title"])
    assert titles == set(expected["title"])


def test_rolled_back_prs_show_the_latest_ten_and_every_one_a_click_away(computed):
    """The rolled-back PRs: the latest 10 as a static table, then a control that says how many there are and holds
    the grid of every one (built and sent once opened: app/components.on_open), the CSV download beside it."""
    from app.views.rollbacks import PREVIEW_ROWS
    from tests.app.test_table_html import cells

    at = run("rollbacks", team="payments")
    # closed: two grids (by team, by repository), none of the rolled-back PRs
    assert len(at.dataframe) == 2 and not any("rolled_back_at" in d.value.columns for d in at.dataframe)
    control = next(e for e in at.expander if "rolled-back PRs" in e.label)
    assert not (control.proto.expanded or control.children)
    assert "dl_prs" in [d.proto.id.rsplit("-", 1)[-1] for d in at.get("download_button")]
    assert not control.get("download_button")  # the download of every row sits beside the control, not in it
    preview = cells(next(h.proto.body for h in at.get("html") if 'data-testid="rowsPreview"' in h.proto.body))
    at.session_state["rows_rolled_back"] = True  # a click on the control
    at.run()
    control = next(e for e in at.expander if "rolled-back PRs" in e.label)
    assert control.proto.expanded and len(control.dataframe) == 1
    every = control.dataframe[0].value
    n = len(every)
    # the demo's payments team has more rolled-back AI-assisted PRs than the preview shows
    assert n > PREVIEW_ROWS and control.label == f"Show all {n:,} rolled-back PRs"
    assert (f"{n:,} rolled-back PRs, latest rollback first: the latest {PREVIEW_ROWS} above; every one, with all its "
            "columns, in the list below and in the CSV download.") in [c.value for c in at.caption]
    # the static rows are the grid's first ten, cell by cell as the grid shows them
    assert preview.head == ["PR", "Title", "Repository", "#", "Merged (UTC)", "Rolled back by a…", "Rolled back (UTC)",
                            "AI tool", "How", "Why AI-assisted"]
    assert len(preview.rows) == PREVIEW_ROWS
    when = "%Y-%m-%d %H:%M"
    for row, links, pr in zip(preview.rows, preview.links, every.head(PREVIEW_ROWS).itertuples(index=False)):
        assert row == ["view", pr.title, pr.repo, f"{pr.number:d}", pr.merged_at.strftime(when), pr.rolled_back_how,
                       pr.rolled_back_at.strftime(when), pr.ai_tools, pr.ai_mode, pr.ai_signals]
        assert links[0] == pr.view
    assert every["rolled_back_at"].is_monotonic_decreasing and every["ai_assisted"].all()


def test_incidents_page_shows_mttr_and_the_incident_list(computed):
    at = run("incidents")
    recs = review_records(computed).records  # the tiles read the review window, as on the Scorecard
    mean = latest(recs, "mttr_hours", "all", None)
    assert at.metric[0].value == fmt_value(mean["value"], "hours")
    assert at.metric[1].value == f"{fmt_value(mean['median'], 'hours')} / {fmt_value(mean['p90'], 'hours')}"
    incidents = at.dataframe[-1].value
    resolved = computed["prepared"].evidence.incidents.filter(
        pl.col("resolved_at").dt.date().is_between(dt.date(2025, 9, 29), dt.date(2026, 3, 29))
    )
    assert len(incidents) == resolved.height


def test_support_page_shows_deflection_with_its_csat_guardrail(computed):
    at = run("support")
    recs = review_records(computed).records
    assert at.metric[0].value == fmt_value(latest(recs, "deflection_rate", "all", None)["value"], "share")
    assert at.metric[1].value == fmt_value(latest(recs, "csat", "all", None)["value"], "score")
    assert any("Guardrail" in box.value or "CSAT" in box.value for box in [*at.info, *at.warning])


def test_ai_spend_page_shows_cost_per_unit_and_spend(computed):
    at = run("spend")
    recs = review_records(computed).records
    assert at.metric[0].value == fmt_value(latest(recs, "ai_cost_per_unit", "all", None)["value"], "usd")
    spend = computed["prepared"].evidence.ai_spend.filter(pl.col("date").is_between(computed["start"], computed["end"]))
    assert at.metric[1].value == f"${spend['cost_usd'].sum():,.0f}"
    assert any(h.value == "Budgets and alerts" for h in at.subheader)
    # The breakdown by tool shows Copilot's seats (billed per seat, no tokens): each team's count on the
    # last day of the range with one, summed; API tools have no seats ("—").
    usage = read_table(computed["wh"], "ai_usage", ["date", "team", "tool", "seats"]).filter(
        pl.col("date").is_between(computed["start"], computed["end"]) & pl.col("seats").is_not_null())
    seats = usage.sort("date").group_by("team").agg(pl.col("seats").last())["seats"].sum()
    by_tool = next(d.value for d in at.dataframe if "seats" in d.value.columns).set_index("tool")
    assert by_tool.loc["github-copilot", "seats"] == str(seats) and by_tool.loc["github-copilot", "tokens"] == "—"
    assert by_tool.loc["anthropic", "seats"] == "—"


def test_export_previews_the_scorecard_records_and_any_table(computed):
    at = run("export")
    assert len(at.selectbox(key="export_name").options) == len(export_names())  # every metric and table
    preview = at.dataframe[0].value
    assert list(preview.columns) == list(OUTPUT_COLUMNS)
    expected_rows = records(computed).height
    assert any(f"{expected_rows:,} metric records" in plain(m.value) for m in at.markdown)
    assert at.get("download_button")
    at.selectbox(key="export_name").set_value("pull_requests").run()
    assert not at.exception
    pulls = at.dataframe[0].value
    assert "title" in pulls.columns
    # Each previewed PR links to its own view (the download keeps the warehouse columns only).
    assert list(pulls["view"]) == ["pr?id=" + quote(i, safe="") for i in pulls["id"]]
    assert any("scorecard export pull_requests" in c.value for c in at.code)


def test_definitions_page_lists_every_metric_from_the_registry(demo_env):
    at = run("definitions")
    titles = {h.value for h in at.subheader}
    assert {spec.title for spec in METRICS.values()} <= titles


@pytest.mark.parametrize("page", ["scorecard", "rollbacks", "incidents", "support", "spend", "export", "definitions", "delivery"])
def test_an_empty_warehouse_gets_an_empty_state_that_says_what_to_do(page, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    clear_streamlit_caches()
    try:
        at = run(None if page == "scorecard" else page)
        text = plain(" ".join(i.value for i in at.info))
        if page == "definitions":
            assert {spec.title for spec in METRICS.values()} <= {h.value for h in at.subheader}
        else:
            assert "scorecard import" in text or "scorecard demo" in text, text
        assert not at.metric
    finally:
        clear_streamlit_caches()


def test_switching_grain_moves_a_default_range_but_keeps_a_chosen_one(computed):
    at = run()
    at.segmented_control(key="grain").set_value("month").run()
    assert at.date_input(key="range").value == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))  # 12 whole months
    chosen = (dt.date(2025, 10, 1), dt.date(2026, 1, 31))
    at.date_input(key="range").set_value(chosen).run()
    at.segmented_control(key="grain").set_value("week").run()
    assert not at.exception
    assert at.date_input(key="range").value == chosen
    assert at.caption[0].value.startswith("17 weeks, 6 Oct 2025 – 1 Feb 2026")  # weeks starting Oct 6 … Jan 26


def test_the_single_pr_view_shows_why_it_counted_what_shipped_it_and_what_rolled_it_back(computed):
    o = computed["prepared"].outcomes
    pr = o.filter(pl.col("rolled_back") & pl.col("ai_assisted") & (pl.col("rolled_back_how") == "revert")).row(0, named=True)
    at = run("pr", id=pr["id"])
    assert plain(at.subheader[0].value) == pr["title"] and at.subheader[1].value == "Shipped in"
    text = [plain(m.value) for m in at.markdown]
    assert "**Why AI-assisted**" in text and "**Rolled back**" in text
    assert any(t.startswith(f"By a revert: {pr['rolled_back_by']}") for t in text), text
    assert any(t.startswith(f"{pr['shipped_deployment_id']} · production") for t in text), text
    assert [link.proto.query_string for link in at.get("page_link")] == [
        "id=" + quote(pr["rolled_back_by"], safe=""), "id=" + quote(pr["shipped_deployment_id"], safe="")]


def test_the_deployment_view_shows_what_it_shipped_and_what_rolled_it_back(computed):
    p = computed["prepared"]
    failed = p.chain.deployments.filter(pl.col("failed_how") == "rolled back").sort("id").row(0, named=True)
    shipped = p.outcomes.filter(pl.col("shipped_deployment_id") == failed["id"])
    at = run("deployment", id=failed["id"])
    assert not at.exception
    text = [plain(m.value) for m in at.markdown]
    assert "**Failed: rolled back**" in text, text
    assert any(t.startswith(failed["id"] + " · sha ") for t in text), text
    assert failed["failed_reason"] in text
    # Its PRs, each linking to the PR view; the rollback that undid it links to its own view.
    table = at.dataframe[-1].value
    assert sorted(table["id"]) == sorted(shipped["id"].to_list())
    assert sorted(table["view"]) == sorted("pr?id=" + quote(i, safe="") for i in shipped["id"])
    assert "id=" + quote(failed["failed_by"], safe="") in [link.proto.query_string for link in at.get("page_link")]
    rollback = run("deployment", id=failed["failed_by"])
    assert "**A rollback**" in [m.value for m in rollback.markdown]


def test_the_incident_view_names_its_cause_how_it_was_linked_and_its_prs(computed):
    p = computed["prepared"]
    inc = p.chain.incidents.filter(pl.col("cause_production") & pl.col("cause_prs").is_not_null()).sort("id").row(0, named=True)
    at = run("incident", id=inc["id"])
    assert not at.exception
    assert plain(at.subheader[0].value) == inc["title"]
    how = {"source": "the source linked it", "inferred": "inferred by the scorecard"}[inc["cause_how"]]
    text = [plain(m.value) for m in at.markdown]
    assert any(t.startswith(f"Deployment {inc['caused_by_deployment_id']} (") and t.endswith(how + ".") for t in text), text
    assert sorted(at.dataframe[-1].value["id"]) == sorted(inc["cause_prs"].split(", "))
    assert ["id=" + quote(inc["caused_by_deployment_id"], safe="")] == [link.proto.query_string for link in at.get("page_link")]
    assert plain(run("incident", id="nope:1").info[0].value).startswith("No incident with the id nope:1")


def test_delivery_and_incident_tables_link_ids_to_their_views(computed):
    at = run("delivery", opened=True)  # the two tables' controls opened (app/components.on_open)
    incidents, failed = at.dataframe[-2].value, at.dataframe[-1].value
    assert all(v == "incident?id=" + quote(i, safe="") for i, v in zip(incidents["id"], incidents["view"]))
    linked = incidents[incidents["caused_by_deployment_id"] != "—"]
    assert len(linked) and all(v == "deployment?id=" + quote(d, safe="")
                               for d, v in zip(linked["caused_by_deployment_id"], linked["cause_view"]))
    assert all(v == "deployment?id=" + quote(i, safe="") for i, v in zip(failed["id"], failed["view"]))
    rows = run("incidents").dataframe[-1].value
    assert len(rows) and all(v == "incident?id=" + quote(i, safe="") for i, v in zip(rows["id"], rows["view"]))


def _shown_nulls(at: AppTest) -> dict[str, list[str]]:
    """Per table (by its columns), the columns where a cell would read "None": a missing value in any
    column but links (missing links draw nothing) and check boxes."""
    found = {}
    for df in at.dataframe:
        data = df.value.data if hasattr(df.value, "data") else df.value  # a Styler holds its frame in .data
        for column in data.columns:
            values = data[column]
            present = values.dropna()
            if column in {"url", "view", "cause_view"}:  # link columns: a missing link draws an empty cell
                continue
            if present.map(lambda v: isinstance(v, bool) or (isinstance(v, str) and "?id=" in v or str(v).startswith("http"))).all() and len(present):
                continue
            if values.isna().any():
                found.setdefault(", ".join(map(str, data.columns))[:60], []).append(str(column))
    return found


@pytest.mark.parametrize("page", ["scorecard", "governance", "adoption", "delivery", "rollbacks", "incidents", "support",
                                  "spend", "export", "audit"])
def test_no_table_shows_none_for_a_missing_number(page, computed):
    # Numbers and dates that are missing read "—" (app/components.table), never a grey "None"; the tables behind a
    # control opened (app/components.on_open).
    at = run(None if page == "scorecard" else page, opened=True)
    assert not at.exception
    assert at.dataframe, "the page has tables"
    assert _shown_nulls(at) == {}
