"""The stored cube read by month for one report (reports.data.load_cube_outline / load_cube_days, as
`scorecard metrics` reads it): the records, the review and the baselines are those of the whole cube, for
every grain, the review table and the full range, the whole org and one team, default and configured
baseline windows — while far fewer rows are read."""
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from app.cli.report import range_cube
from config.load import load_config
from connectors.demo.generator import generate
from metrics.baseline import baselines
from metrics.scorecard import compute
from pipeline import ingest
from reports.data import load_cube, load_cube_outline
from reports.review import review
from warehouse import open_warehouse

END = dt.date(2026, 3, 29)  # a Sunday: the demo's last day
EXAMPLE = Path(__file__).resolve().parents[2] / "scorecard.toml.example"
DAILY = ("ratio", "mean", "values", "spend", "units")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("cuberange")
    url = f"sqlite:///{root / 'demo.db'}"
    example = root / "example.toml"
    example.write_text(EXAMPLE.read_text().replace("sqlite:///data/scorecard.db", url))
    # A configured baseline far before the default range: its months are read too.
    fixed = root / "fixed.toml"
    fixed.write_text(f'[warehouse]\nurl = "{url}"\n\n[baseline]\nstart = 2025-01-06\nend = 2025-02-23\n')
    configs = {"example": load_config(example, env={}), "fixed": load_config(fixed, env={})}
    wh = open_warehouse(url)
    ingest(wh, "demo", generate("small", seed=7, end=END, ai_detection=configs["example"].ai_detection), action="demo")
    yield wh, configs
    wh.engine.dispose()


def rows(cube) -> int:
    return sum(getattr(cube, part).height for part in DAILY)


CASES = [  # grain, --start, --end, the review table (else --all / json / csv), --team
    ("week", None, None, True, None),
    ("month", None, None, True, None),
    ("range", None, None, True, None),
    ("week", None, None, False, None),
    ("month", None, None, False, None),
    ("range", None, None, False, "payments"),
    ("week", dt.datetime(2025, 10, 8), dt.datetime(2025, 12, 3), False, None),  # mid-week ends: whole weeks
    ("month", dt.datetime(2025, 4, 15), dt.datetime(2025, 6, 2), False, "payments"),
]


@pytest.mark.parametrize("config_name", ["example", "fixed"])
@pytest.mark.parametrize("grain,start,end,review_table,team", CASES)
def test_a_reports_months_give_the_records_of_the_whole_cube(demo, config_name, grain, start, end, review_table, team):
    wh, configs = demo
    config = configs[config_name]
    whole = load_cube(wh, config)
    cube, first, last = range_cube(config, grain, start, end, None, review_table=review_table)
    assert rows(cube) < rows(whole)  # the report's months only
    assert cube.last_day() == whole.last_day() and cube.data_span() == whole.data_span()
    assert baselines(cube, config) == baselines(whole, config)
    if review_table and grain != "range":
        ours, theirs = (review(c, config, grain=grain, start=first, end=last, team=team) for c in (cube, whole))
        assert ours.window == theirs.window and ours.records.height > 0
        assert_frame_equal(ours.records, theirs.records)
    else:
        ours, theirs = (compute(c, config, grain=grain, start=first, end=last, team=team) for c in (cube, whole))
        assert ours.height > 0
        assert_frame_equal(ours, theirs)


def test_the_outline_holds_the_whole_history_a_report_reads_and_the_last_month(demo):
    wh, configs = demo
    config = configs["example"]
    whole = load_cube(wh, config)
    outline = load_cube_outline(wh, config)
    # The adoption metric's counts and the per-day metric's (a record for every team that ever deployed),
    # spend and units: whole; every other daily part: its empty schema and the last month only.
    for metric in ("ai_merge_rate", "deployment_frequency"):
        assert_frame_equal(outline.ratio.filter(pl.col("metric") == metric), whole.ratio.filter(pl.col("metric") == metric))
    assert_frame_equal(outline.spend, whole.spend)
    assert_frame_equal(outline.units, whole.units)
    rework = outline.ratio.filter(pl.col("metric") == "rework_rate")
    assert rework.height > 0 and rework["day"].min() == dt.date(2026, 3, 1)
    assert outline.values["day"].min() == dt.date(2026, 3, 1)
    assert outline.values.columns == whole.values.columns
