"""The AI spend page's numbers on a small hand-made warehouse, worked out by hand, and its range's spend
(app/state.spend_since: the rollup kept beside the cube) against the prepared evidence's rows on the demo."""
from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.cube import spend_rollup
from pipeline import ingest
from reports.data import refresh_cube
from config.load import load_config
from tests.app.conftest import DEMO_END, clear_streamlit_caches, run_app
from tests.factories import make_spend
from warehouse import open_warehouse

RANGE = ["2026-11-02", "2026-11-15"]  # the ISO weeks of Mon Nov 2 and Mon Nov 9


def _spend(id, date, cost, team, tool, model=None, tokens=None, requests=None):
    return {**make_spend(id, date=date, cost=cost, team=team, tool=tool, model=model), "tokens": tokens,
            "requests": requests}


ROWS = [
    _spend("before", "2026-11-01", 1000.0, "payments", "anthropic", "claude-opus-4", 9_000_000, 900),  # the week before
    _spend("s1", "2026-11-02", 10.25, "payments", "anthropic", "claude-sonnet-4", 1_000_000, 100),
    _spend("s2", "2026-11-03", 30.0, "payments", "anthropic", "claude-opus-4", 500_000, 50),
    _spend("s3", "2026-11-09", 5.5, "web", "openai", "gpt-5", 2_000_000, 400),
    _spend("s4", "2026-11-10", 4.25, None, "openai", "gpt-5", 250_000, 25),  # no team: unassigned
    _spend("s5", "2026-11-12", 19.0, "web", "github-copilot"),  # seat-priced: no tokens, no requests
    _spend("after", "2026-11-16", 2000.0, "web", "openai", "gpt-5", 8_000_000, 800),  # the week after
]
SEATS = [  # web's Copilot seats: 8, then 10 on the range's last day with a count; 99 after the range
    {"id": "u1", "source": "csv", "date": dt.date(2026, 11, 5), "team": "web", "tool": "github-copilot", "seats": 8},
    {"id": "u2", "source": "csv", "date": dt.date(2026, 11, 13), "team": "web", "tool": "github-copilot", "seats": 10},
    {"id": "u3", "source": "csv", "date": dt.date(2026, 11, 16), "team": "web", "tool": "github-copilot", "seats": 99},
]


@pytest.fixture()
def spend_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    wh = open_warehouse(url)
    try:
        ingest(wh, "csv:ai_spend", {"ai_spend": pl.DataFrame(ROWS)})
        ingest(wh, "csv:ai_usage", {"ai_usage": pl.DataFrame(SEATS)})
        refresh_cube(wh, load_config(config, env={}))
    finally:
        wh.engine.dispose()
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


def number(shown):
    """A table cell as a number ("—": none); a column with a missing value is shown as text."""
    if shown is None or shown == "—":
        return None
    if isinstance(shown, (int, float)):
        return float(shown)
    return float(re.sub(r"[^0-9.\-]", "", shown))


def _table(at, first_column: str) -> dict:
    frame = next(d.value for d in at.dataframe if d.value.columns[0] == first_column and "share" in d.value.columns)
    return {row[first_column]: row for row in frame.to_dict("records")}


def test_spend_page_numbers_worked_out_by_hand(spend_env):
    at = run_app("spend", grain="week", range=RANGE)
    metrics = {m.label: m.value for m in at.metric}
    # In range: 10.25 + 30 + 5.5 + 4.25 + 19 = $69.00 over 5 rows; tokens 1M + 0.5M + 2M + 0.25M = 3,750,000;
    # requests 100 + 50 + 400 + 25 = 575; $69 / 3,750 k tokens = $0.0184; $69 / 575 = $0.12.
    assert metrics["AI spend in range"] == "$69.00"
    assert metrics["Cost per 1k tokens"] == "$0.0184"
    assert metrics["Cost per request"] == "$0.1200"
    captions = [c.value for c in at.caption]
    assert {"5 spend rows", "3,750,000 tokens", "575 requests"} <= set(captions)
    by_tool = _table(at, "tool")
    assert set(by_tool) == {"anthropic", "openai", "github-copilot"}
    # anthropic 10.25 + 30 = 40.25 (58.33 %), 1.5M tokens, 150 requests; openai 5.5 + 4.25 = 9.75 (14.13 %),
    # 2.25M tokens, 425 requests; Copilot 19 (27.54 %), seat-priced: web's 10 seats on Nov 13.
    anthropic, openai, copilot = by_tool["anthropic"], by_tool["openai"], by_tool["github-copilot"]
    assert [number(anthropic[c]) for c in ("cost_usd", "tokens", "requests")] == [40.25, 1_500_000, 150]
    assert [number(openai[c]) for c in ("cost_usd", "tokens", "requests")] == [9.75, 2_250_000, 425]
    assert number(copilot["cost_usd"]) == 19.0 and number(copilot["seats"]) == 10
    assert number(copilot["tokens"]) is None and number(anthropic["seats"]) is None
    assert number(anthropic["share"]) == pytest.approx(40.25 / 69 * 100)
    # $9.75 / 2,250 k tokens = $0.004333 shown as $0.0043; $40.25 / 150 requests = $0.268333 shown as $0.2683
    assert (openai["usd_per_1k_tokens"], anthropic["usd_per_request"]) == ("$0.0043", "$0.2683")
    assert not at.exception


def test_spend_page_by_team_names_the_unassigned_row(spend_env):
    at = run_app("spend", grain="week", range=RANGE)
    at.segmented_control(key="spend_dimension").set_value("team").run()
    by_team = _table(at, "team")
    # payments 40.25; web 5.5 + 19 = 24.5; the row without a team 4.25, as `unassigned` (as prepared evidence)
    assert {t: number(r["cost_usd"]) for t, r in by_team.items()} == {"payments": 40.25, "web": 24.5, "unassigned": 4.25}
    assert number(by_team["web"]["seats"]) == 10 and number(by_team["payments"]["seats"]) is None


@pytest.mark.parametrize("weeks_back", [0, 17])
def test_range_spend_rows_are_the_prepared_evidence_rows(demo_env, weeks_back):
    """`spend_since` gives the rollup (metrics.cube.spend_rollup) of the prepared evidence's spend rows from the
    same day, as the upkeep keeps it beside the cube; the demo has one spend row per day, team, tool, model and
    workflow, so those are the rows' own values in their order, each counting one row."""
    from app import state

    version = state.current_version()
    since = DEMO_END - dt.timedelta(weeks=13 + weeks_back) + dt.timedelta(days=1)
    want = state._prepared_since(version, since, ("ai_spend",)).evidence.ai_spend  # an admin's rows (unscoped)
    got = state._spend_since(version, since)
    assert want.height > 0 and want["date"].min() >= since
    assert got.columns == list(state.SPEND_COLUMNS)
    assert_frame_equal(got, spend_rollup(want).rename({"day": "date"}).select(state.SPEND_COLUMNS))
    assert got.height == want.height and got["rows"].to_list() == [1] * want.height
    values = [c for c in state.SPEND_COLUMNS if c != "rows"]
    assert_frame_equal(got.select(values), want.select(values), check_exact=True)
