"""The Delivery page and the team drill-down's rework and senior review load, through AppTest over the
small demo warehouse: the tiles show the metrics package's numbers, the incidents show their causes."""
from __future__ import annotations

import polars as pl
import pytest

from app.views.delivery import AI_SPLIT_TILES, DORA_TILES, TEAM_TILES, failed_deployments, linked_incidents
from metrics.registry import METRICS
from reports.filters import Filters
from reports.format import fmt_value
from tests.app.conftest import run_app
from tests.app.test_pages import computed, latest, plain, records, review_records  # noqa: F401  (the module's shared fixture)


def test_delivery_tiles_show_the_metrics_numbers(computed):  # noqa: F811
    at = run_app("delivery")
    # The tiles read the review window's range records, as on the Scorecard (the last 13 weeks).
    recs = review_records(computed).records
    tiles = [*DORA_TILES, *[spec for pair in AI_SPLIT_TILES for spec in pair]]
    shown = {m.label: m.value for m in at.metric}
    for spec in tiles:
        expect = latest(recs, spec.metric, spec.segment, None)
        assert expect["grain"] == "range"
        assert shown[spec.title] == fmt_value(expect["value"], METRICS[spec.metric].unit), spec
    # The demo's deployments: about 2.6 a day over the org, never red or green.
    assert shown["Deployment frequency"].endswith(" / day")
    headers = [h.value for h in at.subheader]
    assert "Incidents and the changes that caused them" in headers and "Failed deployments" in headers


def test_delivery_incidents_table_shows_each_cause_and_how_it_was_linked(computed):  # noqa: F811
    at = run_app("delivery", opened=("rows_incidents",))  # its rows opened, as after a click (app/components.on_open)
    table = next(df for df in (d.value for d in at.dataframe) if "caused_by_deployment_id" in df.columns)
    start, end = computed["start"], computed["end"]
    expected = linked_incidents(computed["prepared"].chain.incidents, Filters(grain="week", start=start, end=end, team=None))
    assert len(table) == expected.height > 0
    # A missing link is shown as "—" (never None on screen).
    unlinked = table["caused_by_deployment_id"].isna() | (table["caused_by_deployment_id"] == "—")
    linked = table[~unlinked]
    assert set(linked["cause_how"]) == {"inferred"}  # the demo's source names no cause
    assert linked["cause_rule"].str.startswith("inferred: latest production deployment of team").all()
    assert (table[unlinked]["cause_rule"].str.startswith("not linked")).all()
    assert any(c.value.startswith(f"{expected.height:,} incidents started") for c in at.caption)
    # The rows sit behind a control that says how many there are (draw11), the download beside it, not inside.
    behind = next(e for e in at.expander if "incidents" in e.label)
    assert behind.label == f"Show the {expected.height:,} incidents, each with its cause"
    assert len(behind.dataframe) == 1 and len(behind.dataframe[0].value) == expected.height
    assert "dl_incidents" in [d.proto.id.rsplit("-", 1)[-1] for d in at.get("download_button")]
    assert not behind.get("download_button")


def test_delivery_failed_deployments_sit_behind_a_control_that_counts_them(computed):  # noqa: F811
    at = run_app("delivery")
    start, end = computed["start"], computed["end"]
    expected = failed_deployments(computed["prepared"].chain.deployments,
                                  Filters(grain="week", start=start, end=end, team=None))
    assert expected.height > 0
    behind = next(e for e in at.expander if "failed deployments" in e.label)
    assert behind.label == f"Show the {expected.height:,} failed deployments, each with why it failed"
    # closed, the control holds nothing: its rows are built and sent once it is opened (app/components.on_open)
    controls = [e for e in at.expander if e.label.startswith("Show the ")]
    assert len(controls) == 2 and not any(e.proto.expanded or e.children for e in controls) and not at.dataframe
    assert f"{expected.height:,} failed deployments, latest first." in [c.value for c in at.caption]
    # the downloads beside the controls work without opening them
    assert {"dl_incidents", "dl_failed"} <= {d.proto.id.rsplit("-", 1)[-1] for d in at.get("download_button")}
    at.session_state["rows_failed"] = True  # a click on the control
    at.run()
    behind = next(e for e in at.expander if "failed deployments" in e.label)
    assert behind.proto.expanded and len(behind.dataframe) == 1
    table = behind.dataframe[0].value
    assert table["id"].tolist() == expected["id"].to_list()
    assert not next(e for e in at.expander if "incidents" in e.label).children  # the other stays closed


def test_team_drill_down_shows_rework_and_senior_review_load_with_rows(computed):  # noqa: F811
    closed = run_app("rollbacks", team="payments")
    # the rows behind the two controls are built and sent once each is opened (app/components.on_open)
    assert [e.proto.expanded or bool(e.children) for e in closed.expander
            if "reworked PRs" in e.label or "behind the load" in e.label] == [False, False]
    assert not any("fixed_by" in d.value.columns or "reason" in d.value.columns for d in closed.dataframe)
    assert "dl_reworked" in [d.proto.id.rsplit("-", 1)[-1] for d in closed.get("download_button")]
    at = run_app("rollbacks", team="payments", opened=("rows_reworked", "rows_senior_reviews"))
    assert [e.label for e in at.expander] == [e.label for e in closed.expander]
    recs = records(computed, team="payments")
    shown = {m.label: m.value for m in at.metric}
    for spec in TEAM_TILES:
        expect = latest(recs, spec.metric, spec.segment, "payments")
        assert shown[spec.title] == fmt_value(expect["value"], METRICS[spec.metric].unit), spec
    frames = [d.value for d in at.dataframe]
    reworked = next(df for df in frames if "fixed_by" in df.columns)
    assert len(reworked) > 0 and reworked["ai_assisted"].all()  # the toggle starts on AI-assisted PRs
    # The reworked PRs are one click away (draw11), the count in the control's label and in the caption.
    behind = next(e for e in at.expander if "reworked PRs" in e.label)
    assert behind.label == f"Show the {len(reworked):,} reworked PRs, each with its first follow-up fix"
    assert behind.dataframe[0].value["fixed_by"].tolist() == reworked["fixed_by"].tolist()
    assert f"{len(reworked):,} reworked PRs, latest merge first." in [c.value for c in at.caption]
    # The load per senior: a few rows, a static table (draw11) whose cells are the grid's formats as text.
    assert not any("on_ai_prs" in df.columns for df in frames)
    seniors = next(t.value for t in at.table if "Senior" in t.value.columns)
    assert list(seniors.columns) == ["Senior", "Team", "Reviews", "On AI-assisted PRs", "AI share"]
    # payments' seniors are its dev0 and dev1 (the demo's levels); their reviews lean on AI PRs.
    # (cells are Markdown: a name is escaped, and reads as itself)
    assert set(seniors["Senior"]) == {"payments\\-dev0", "payments\\-dev1"}
    assert {plain(name) for name in seniors["Senior"]} == {"payments-dev0", "payments-dev1"}
    behind = next(df for df in frames if "reason" in df.columns and "on_ai_pr" in df.columns)
    for row in seniors.itertuples(index=False):
        theirs = behind[behind["reviewer"] == plain(row[0])]
        on_ai = int(theirs["on_ai_pr"].sum())
        assert (row[2], row[3]) == (f"{len(theirs):d}", f"{on_ai:d}")
        assert row[4] == f"{on_ai / len(theirs) * 100:.1f}%" and on_ai / len(theirs) > 0.5
    assert len(behind) == sum(int(n) for n in seniors["Reviews"])


def trend_charts(at) -> list:
    """The trend charts a page drew as static HTML."""
    return [h for h in at.get("html") if 'data-testid="trendChart"' in h.proto.body]


def test_the_trend_downloads_are_one_popover_with_a_button_per_chart(computed):  # noqa: F811
    """Delivery and the Scorecard (draw11): the charts' CSV downloads sit in one popover, a button per chart drawn,
    named by the chart's title, with the key and file each button had beside its chart."""
    from app.views.delivery import DELIVERY_TRENDS, PAGE_TRENDS
    from app.views.trends import TRENDS

    def buttons(at):
        popover = next(b for b in at.get("popover") if b.proto.popover.label.startswith("Download the rows of the"))
        inside = popover.get("download_button")
        return popover.proto.popover.label, [(d.proto.label, d.proto.id.rsplit("-", 1)[-1]) for d in inside]

    delivery = run_app("delivery")
    label, shown = buttons(delivery)
    assert label == f"Download the rows of the {len(PAGE_TRENDS)} charts (CSV)" and len(PAGE_TRENDS) == 5
    # each chart is static HTML (app/views/trend_html.py): no Vega view is left on the page
    assert len(trend_charts(delivery)) == 5 and not delivery.get("vega_lite_chart")
    assert shown == [(f"{DELIVERY_TRENDS[m][1]} (CSV)", f"dl_{m}") for m in PAGE_TRENDS]
    at = run_app()
    label, shown = buttons(at)
    # the demo counts something for each of the Scorecard's six trends, so each is drawn and downloadable
    assert len(trend_charts(at)) == len(TRENDS) == 6 and not at.get("vega_lite_chart")
    assert label == "Download the rows of the 6 charts (CSV)"
    assert shown == [(f"{t.title} (CSV)", f"dl_{t.metric}") for t in TRENDS]
    # the teams table's download stays beside its table, outside the popover
    assert "dl_glance" in [d.proto.id.rsplit("-", 1)[-1] for d in at.get("download_button")]


def test_a_small_table_shows_text_literally_and_numbers_in_the_grids_formats():
    from streamlit.testing.v1 import AppTest

    def page():
        import polars as pl

        from app import components as ui

        ui.small_table(pl.DataFrame({"who": ["a*b*", None], "n": [1234, None], "share": [0.6667, None]}),
                       {"who": ("Who", "text"), "n": ("Count", "int"), "share": ("Share", "percent")})

    at = AppTest.from_function(page).run()
    assert not at.exception
    table = at.table[0].value
    assert list(table.columns) == ["Who", "Count", "Share"]
    # "a*b*" would be italic Markdown: escaped, it reads as typed; missing cells read "—"
    assert table.values.tolist() == [["a\\*b\\*", "1234", "66.7%"], ["—", "—", "—"]]
