"""The drill-down pages' numbers (rollbacks, incidents, support, spend), the freshness line and the
charts, each worked out by hand on a few rows (formatting and safe text: tests/reports/test_format.py)."""
import datetime as dt

import polars as pl
import pytest

from app.views import incidents as inc
from app.views import rollbacks as rb
from app.views import spend as sp
from app.views import support as su
from app.views.charts import grouped_interval_bars, stacked_bars, trend_figure
from app.views.freshness import freshness
from app.views.watch import teams_to_watch
from config import Config
from metrics.breakdown import pooled_shares_from_cube, rollback_share_by
from metrics.cube import Cube, build_cube
from metrics.periods import Window
from metrics.scorecard import prepare
from reports.filters import Filters
from tests.factories import evidence, make_deployment, make_incident, make_pr, make_spend, make_ticket, ts

UTC = dt.timezone.utc
TWO_WEEKS = Filters(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 15))
BASELINE = Window(dt.datetime(2026, 2, 1, tzinfo=UTC), dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC), "Feb")


def outcomes():
    prepared = prepare(evidence(prs=outcomes_prs(), deployments=outcomes_deployments()), Config())
    return prepared.outcomes.with_columns(
        url=pl.when(pl.col("id").str.ends_with("#4")).then(pl.lit("javascript:alert(1)")).otherwise(pl.col("url"))
    )


def outcomes_prs():
    """acme/pay: D3 redeploys sha a of D1 with D2 between, so it rolls back D2 (not D1, the version it
    restores). #1 (AI) shipped in D1: kept; #2 (AI) shipped in D2: rolled back; #3 (not AI) shipped in
    D4: kept. acme/web: #4 (AI) reverted by #5 two days later. February: acme/pay #9 (not AI), kept —
    the baseline."""
    return [
        make_pr(1, repo="acme/pay", merged_at="2026-03-02 09:00", ai=True, team="payments"),
        make_pr(2, repo="acme/pay", merged_at="2026-03-03 09:00", ai=True, team="payments", title="Add <b>cache</b>",
                signals=["label:ai-assisted", "marker:Made-with: Cursor"], tools=["Cursor"], mode="co_authored"),
        make_pr(3, repo="acme/pay", merged_at="2026-03-10 09:00", team="payments"),
        make_pr(4, repo="acme/web", merged_at="2026-03-04 09:00", ai=True, team="web", title="Fix login"),
        make_pr(5, repo="acme/web", merged_at="2026-03-06 09:00", team="web", title='Revert "Fix login"',
                revert_ref={"repo": None, "number": None, "sha": None, "title": "Fix login"}),
        make_pr(9, repo="acme/pay", merged_at="2026-02-10 09:00", team="payments"),
    ]


def outcomes_deployments():
    return [
        make_deployment("D1", sha="a", finished_at="2026-03-02 10:00", repo="acme/pay"),
        make_deployment("D2", sha="b", finished_at="2026-03-03 10:00", repo="acme/pay"),
        make_deployment("D3", sha="a", finished_at="2026-03-04 10:00", repo="acme/pay"),
        make_deployment("D4", sha="c", finished_at="2026-03-10 10:00", repo="acme/pay"),
    ]


def test_share_table_by_team_worst_ai_share_first_with_baseline():
    table = rb.share_table(outcomes(), "team", TWO_WEEKS, BASELINE)
    # web: AI 1/1 rolled back (#4), other 0/1 (the revert), all 1/2, no baseline PRs.
    # payments: AI 1/2 (#2), other 0/1, all 1/3, baseline 0/1 (#9 in February).
    assert table.select("team", "ai_share", "non_ai_share", "all_share", "baseline").rows() == [
        ("web", 1.0, 0.0, 0.5, None), ("payments", 0.5, 0.0, 1 / 3, 0.0),
    ]
    shown = rb.share_columns(table, "team")
    assert shown["ai_pct"].to_list() == [100.0, 50.0]
    assert shown["ai_interval"][0].endswith("–100.0%")  # Wilson's upper bound for 1 of 1


def test_rolled_back_prs_say_how_when_and_why_they_counted_as_ai():
    prs = rb.rolled_back_prs(outcomes(), TWO_WEEKS)
    # #4 by the revert #5 (Mar 6 09:00); #2 by the rollback D3 (Mar 4 10:00). Latest rollback first.
    assert prs.select("number", "rolled_back_how", "rolled_back_by", "rolled_back_at").rows() == [
        (4, "revert", "github:acme/web#5", ts("2026-03-06 09:00")),
        (2, "deployment rollback", "D3", ts("2026-03-04 10:00")),
    ]
    second = prs.filter(pl.col("number") == 2).row(0, named=True)
    assert second["title"] == "Add <b>cache</b>"  # kept as text; the table shows it literally
    assert second["ai_signals"] == "label:ai-assisted; marker:Made-with: Cursor"
    assert (second["ai_tools"], second["ai_mode"]) == ("Cursor", "co-authored")  # tool and mode beside the PR
    assert prs.filter(pl.col("number") == 4).select("ai_tools", "ai_mode").row(0) == ("", "label or branch")
    assert second["shipped_deployment_id"] == "D2"
    assert second["url"] == "https://github.com/acme/pay/pull/2"
    assert prs.filter(pl.col("number") == 4)["url"][0] is None  # a javascript: link is never a link
    narrowed = rb.rolled_back_prs(rb.scoped(outcomes(), team="payments", repo="acme/pay"), TWO_WEEKS)
    assert narrowed["number"].to_list() == [2]
    later = Filters(grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15))
    assert rb.rolled_back_prs(outcomes(), later).height == 0


def test_summary_trend_and_ratio_sentence():
    summary = rb.segment_summary(outcomes(), TWO_WEEKS)
    # ai: #1, #2, #4 → 2/3 rolled back; non_ai: #3, #5 → 0/2.
    assert summary.select("segment", "merged_prs", "rolled_back").rows() == [("all", 5, 2), ("ai", 3, 2), ("non_ai", 2, 0)]
    assert rb.ratio_sentence(summary) is None  # nothing to divide by
    trend = rb.trend(outcomes(), TWO_WEEKS, BASELINE).filter(pl.col("segment") == "all")
    assert trend.select("period", "value", "n", "baseline").rows() == [
        (dt.date(2026, 3, 2), 0.5, 4, 0.0), (dt.date(2026, 3, 9), 0.0, 1, 0.0),
    ]
    both = pl.DataFrame({"segment": ["ai", "non_ai"], "share": [0.08, 0.04]})
    assert rb.ratio_sentence(both) == "AI-assisted PRs were rolled back 2.0× as often as other PRs (8.0% vs 4.0%)."


def test_incidents_counted_when_resolved():
    ev = evidence(incidents=[
        make_incident("i1", started_at="2026-03-01 22:00", resolved_at="2026-03-02 02:00", team="payments", ai=True),
        make_incident("i2", started_at="2026-03-03 10:00", resolved_at="2026-03-03 11:30", team="web"),
        make_incident("i3", started_at="2026-03-12 10:00", resolved_at=None, team="web"),  # open
        make_incident("i4", started_at="2026-02-20 10:00", resolved_at="2026-02-21 10:00", team="web"),  # before
    ])
    rows = inc.incident_list(ev.incidents, TWO_WEEKS)
    assert rows.select("title", "hours", "ai_assisted").rows() == [("Incident i2", 1.5, False), ("Incident i1", 4.0, True)]
    assert inc.open_incidents(ev.incidents, TWO_WEEKS) == 1
    teams = inc.by_team(ev.incidents, TWO_WEEKS)
    assert teams.select("team", "incidents", "mean_hours").rows() == [("payments", 1, 4.0), ("web", 1, 1.5)]


def test_support_by_channel_and_team_and_the_guardrail_in_words():
    ev = evidence(tickets=[
        make_ticket("t1", resolved_at="2026-03-02 10:00", channel="AI_BOT", csat=3, team="mobile"),
        make_ticket("t2", resolved_at="2026-03-03 10:00", channel="self_serve", csat=5, team="mobile"),
        make_ticket("t3", resolved_at="2026-03-04 10:00", channel="human", csat=4, team="mobile"),
        make_ticket("t4", resolved_at="2026-03-05 10:00", channel="human", team="web"),
        make_ticket("t5", resolved_at="2026-03-20 10:00", channel="ai_bot", team="web"),  # after the range
    ])
    teams = su.by_team(ev.tickets, TWO_WEEKS)
    # mobile: 2 of 3 deflected (channels compared case-insensitively), CSAT (3+5+4)/3 = 4, AI bot 3, others 4.5.
    mobile = teams.filter(pl.col("team") == "mobile").row(0, named=True)
    assert (mobile["resolved"], mobile["deflected"], mobile["csat"], mobile["csat_ai_bot"], mobile["csat_others"]) == (3, 2, 4.0, 3.0, 4.5)
    assert su.by_channel(ev.tickets, TWO_WEEKS).select("channel", "resolved").rows() == [
        ("human", 2), ("ai_bot", 1), ("self_serve", 1),
    ]
    assert su.guardrail_sentence(3.9, 4.3, 0.2, "worse").startswith("Guardrail breached: CSAT 3.90 is below the floor of 4.10")
    assert su.guardrail_sentence(4.2, 4.3, 0.2, "at_baseline").startswith("Guardrail held")
    assert "not enough scored tickets" in su.guardrail_sentence(3.0, 4.3, 0.2, "insufficient_data")


def test_spend_breakdowns_and_cost_per_unit():
    spend = [
        {**make_spend("s1", date="2026-03-02", cost=30.0, team="payments", tool="openai", model="gpt-5"), "tokens": 10_000, "requests": 10},
        {**make_spend("s2", date="2026-03-09", cost=10.0, team="payments", tool="anthropic"), "tokens": 5_000, "requests": 5},
        make_spend("s3", date="2026-03-10", cost=60.0, team="web", tool="openai"),
        make_spend("s4", date="2026-03-16", cost=99.0, team="web", tool="openai"),  # after the range
    ]
    ev = evidence(spend=spend, prs=[make_pr(1, merged_at="2026-03-03 10:00", team="payments"),
                                    make_pr(2, merged_at="2026-03-04 10:00", team="payments")])
    by_tool = sp.spend_by(ev.ai_spend, "tool", TWO_WEEKS)
    # openai: 30 + 60 = 90 of 100; its tokens are known for s1 only (10k) → $9 per 1k tokens.
    assert by_tool.select("tool", "cost_usd", "share", "tokens", "usd_per_1k_tokens").rows() == [
        ("openai", 90.0, 0.9, 10_000, 9.0), ("anthropic", 10.0, 0.1, 5_000, 2.0),
    ]
    assert sp.spend_by(ev.ai_spend, "model", TWO_WEEKS)["model"].to_list() == ["(none)", "gpt-5"]
    assert sp.totals(ev.ai_spend, TWO_WEEKS) == {"cost_usd": 100.0, "tokens": 15_000, "requests": 15, "rows": 3}
    prepared = prepare(ev, Config())
    per_team = sp.cost_per_unit_by_team(build_cube(prepared.evidence, prepared.outcomes), TWO_WEEKS)
    # payments: $40 over 2 merged PRs = $20; web: $60 and no units → no price.
    assert per_team.rows() == [("payments", 40.0, 2, 20.0), ("web", 60.0, None, None)]
    with pytest.raises(ValueError, match="dimension"):
        sp.spend_by(ev.ai_spend, "colour", TWO_WEEKS)


def test_freshness_line():
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    runs = [
        {"source": "github", "last_success": ts("2026-03-10 10:00"),
         "last_run": {"status": "failed", "finished_at": ts("2026-03-10 11:55")}},
        {"source": "demo", "last_success": ts("2026-03-07 12:00"), "last_run": {"status": "success", "finished_at": ts("2026-03-07 12:00")}},
    ]
    line, demo = freshness(runs, now)
    assert demo
    assert line == "demo data: loaded 3 days ago · github: loaded 2 h ago (last run failed)"
    assert freshness([], now) == ("No data loaded yet.", False)


def test_trend_chart_draws_intervals_baseline_and_band():
    rows = pl.DataFrame({
        "period": [dt.date(2026, 3, 2), dt.date(2026, 3, 9)] * 2, "segment": ["all", "all", "ai", "ai"],
        "value": [0.1, 0.2, 0.3, 0.4], "ci_low": [0.05, 0.1, 0.2, 0.3], "ci_high": [0.2, 0.3, 0.4, 0.5],
        "baseline": [0.15, 0.15, 0.15, 0.15],
    })
    chart = trend_figure(rows, "share", segments=("all", "ai"), intervals=("ai",), band=(0.1, 0.2))
    layers = {lay["name"]: lay for lay in chart["layer"]}
    assert list(layers) == ["band", "intervals", "lines", "points", "baseline"]
    scale = layers["lines"]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["baseline 95% interval", "All PRs", "AI-assisted", "baseline"]
    assert layers["band"]["data"]["values"] == [{"x0": "2026-03-02", "x1": "2026-03-09", "y0": 0.1, "y1": 0.2,
                                                 "series": "baseline 95% interval"}]
    # Only the AI-assisted segment's interval is shaded.
    assert [(v["series"], v["low"], v["high"]) for v in layers["intervals"]["data"]["values"]] == [
        ("AI-assisted", 0.2, 0.4), ("AI-assisted", 0.3, 0.5)]
    assert [(v["period"], v["series"], v["value"]) for v in layers["lines"]["data"]["values"]] == [
        ("2026-03-02", "All PRs", 0.1), ("2026-03-09", "All PRs", 0.2),
        ("2026-03-02", "AI-assisted", 0.3), ("2026-03-09", "AI-assisted", 0.4)]
    assert [v["value"] for v in layers["baseline"]["data"]["values"]] == [0.15, 0.15]
    assert layers["lines"]["encoding"]["y"]["axis"]["format"] == ".0%"
    assert layers["lines"]["encoding"]["x"]["scale"] == {"type": "utc"}


def test_trend_chart_carries_nan_as_a_gap_not_invalid_json():
    import json
    rows = pl.DataFrame({"period": [dt.date(2026, 3, 2), dt.date(2026, 3, 9)], "segment": ["all", "all"],
                         "value": [float("nan"), 0.2], "ci_low": [None, 0.1], "ci_high": [None, 0.3], "baseline": [0.1, 0.1]})
    chart = trend_figure(rows, "share")
    json.dumps(chart, allow_nan=False)  # a NaN would make the page's JSON unreadable to the browser
    lines = next(lay for lay in chart["layer"] if lay["name"] == "lines")
    assert [v["value"] for v in lines["data"]["values"]] == [None, 0.2]


def test_pooled_shares_from_the_cube_equal_those_from_the_outcomes():
    prepared = prepare(evidence(prs=outcomes_prs(), deployments=outcomes_deployments()), Config())
    cube = build_cube(prepared.evidence, prepared.outcomes)
    from_cube = pooled_shares_from_cube(cube.ratio, "rollback_share", first_day=dt.date(2026, 3, 2), last_day=dt.date(2026, 3, 15))
    from_outcomes = rollback_share_by(prepared.outcomes, ["team"], since=dt.datetime(2026, 3, 2, tzinfo=UTC),
                                      until=dt.datetime(2026, 3, 16, tzinfo=UTC)).filter(pl.col("segment") != "all")
    assert from_cube.select("team", "segment", "n", pl.col("x").cast(pl.Int64)).rows() == from_outcomes.select(
        "team", "segment", "merged_prs", "rolled_back").sort("team", "segment").rows()


def test_team_to_watch_needs_non_overlapping_intervals_and_enough_prs():
    def day_rows(team, segment, n, x):
        return {"metric": "rollback_share", "day": dt.date(2026, 3, 3), "team": team, "segment": segment, "n": n, "x": float(x)}

    ratio = pl.DataFrame([
        day_rows("payments", "ai", 40, 10), day_rows("payments", "non_ai", 60, 1),  # 25% vs 1.7%: flagged
        day_rows("web", "ai", 40, 4), day_rows("web", "non_ai", 60, 3),              # 10% vs 5%: intervals overlap
        day_rows("data", "ai", 10, 8), day_rows("data", "non_ai", 60, 0),            # only 10 AI PRs: too few
    ])
    empty = pl.DataFrame()
    cube = Cube(ratio=ratio, mean=empty, values=empty, spend=empty, units=empty, span=empty)
    watch = teams_to_watch(cube, TWO_WEEKS)
    assert [(w.team, w.ai_prs, w.other_prs) for w in watch] == [("payments", 40, 60)]
    assert watch[0].sentence == ("Team to look at: payments. 25.0% of its 40 AI-assisted PRs were rolled back in these "
                                 "periods, against 1.7% of its 60 other PRs.")
    assert teams_to_watch(cube, Filters(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8), team="web")) == []


def test_chart_labels_from_data_are_text_not_markup():
    # Vega draws labels and tooltips as text: data reaches the spec as it is, never read as markup.
    frame = pl.DataFrame({"team": ['<a href="javascript:x">pay</a>'], "ai_share": [0.2], "ai_ci_low": [0.1],
                          "ai_ci_high": [0.3]})
    chart = grouped_interval_bars(frame, "team", ("ai",), "share")
    assert chart["data"]["values"] == [{"label": '<a href="javascript:x">pay</a>', "series": "AI-assisted", "value": 0.2,
                                        "low": 0.1, "high": 0.3}]
    bars = stacked_bars(pl.DataFrame({"period": [dt.date(2026, 3, 2)], "cost_usd": [1.0], "tool": ["<b>x</b>"]}),
                        "period", "cost_usd", "tool", "usd")
    assert bars["data"]["values"] == [{"x": "2026-03-02", "y": 1.0, "key": "<b>x</b>", "rank": 0}]
    assert bars["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["<b>x</b>"]


def test_stacked_bars_put_the_largest_total_at_the_bottom():
    frame = pl.DataFrame({"period": [dt.date(2026, 3, 2)] * 2 + [dt.date(2026, 3, 9)] * 2,
                          "cost_usd": [1.0, 5.0, 2.0, 1.0], "tool": ["a", "b", "a", "b"]})
    bars = stacked_bars(frame, "period", "cost_usd", "tool", "usd")
    # b: 6.0 in total, a: 3.0; the stack's order is the rank, b first (at the bottom).
    assert bars["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["b", "a"]
    assert {(v["key"], v["rank"]) for v in bars["data"]["values"]} == {("b", 0), ("a", 1)}
    assert bars["layer"][0]["encoding"]["order"] == {"field": "rank", "type": "quantitative", "sort": "ascending"}


def test_seat_priced_spend_shows_the_seats_of_the_last_day_of_the_range():
    d = dt.date
    spend = pl.DataFrame({
        "date": [d(2026, 3, 3), d(2026, 3, 3), d(2026, 3, 4), d(2026, 3, 20)],
        "team": ["web", "data", "web", "web"], "tool": ["github-copilot", "github-copilot", "openai", "github-copilot"],
        "model": ["copilot", "copilot", "gpt-5", "copilot"], "workflow": ["seats", "seats", "coding-agent", "seats"],
        "cost_usd": [19.0, 38.0, 5.0, 19.0], "tokens": [None, None, 1000, None], "requests": [None, None, 3, None],
    }, schema_overrides={"tokens": pl.Int64, "requests": pl.Int64})
    usage = pl.DataFrame({
        "date": [d(2026, 3, 2), d(2026, 3, 15), d(2026, 3, 15), d(2026, 3, 16)],
        "team": ["web", "web", "data", "web"], "tool": ["github-copilot"] * 4, "seats": [3, 4, 7, 9],
    })
    by_tool = sp.with_seats(sp.spend_by(spend, "tool", TWO_WEEKS), spend, usage, "tool", TWO_WEEKS)
    # In Mar 2–15 web's last count is 4 (Mar 15; the 9 of Mar 16 is after the range), data's 7: 11 Copilot
    # seats; openai is billed per token, so no seat count. The column sits after the share.
    assert by_tool.columns[:4] == ["tool", "cost_usd", "share", "seats"]
    assert dict(zip(by_tool["tool"], by_tool["seats"])) == {"github-copilot": 11, "openai": None}
    web = Filters(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 15), team="web")
    by_team = sp.with_seats(sp.spend_by(spend, "team", web), spend, usage, "team", web)
    assert dict(zip(by_team["team"], by_team["seats"])) == {"web": 4}
