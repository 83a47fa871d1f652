"""Trend charts mark provisional periods (shaded, in the legend) and draw change markers: `[[markers]]`
from the config and the AI adoption week."""
import datetime as dt

import polars as pl
import pytest

from app.views.charts import PROVISIONAL_LABEL
from app.views.trends import TRENDS, trend_chart
from config import ConfigError
from config.load import parse_config
from metrics.scorecard import empty_records

W1, W2, W3 = dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16)


def rows(provisional: list[bool]) -> pl.DataFrame:
    recs = [{"metric": "ai_merge_rate", "grain": "week", "period": p, "team": None, "segment": "all", "value": 0.3,
             "numerator": 6.0, "denominator": 20.0, "n": 20, "ci_low": 0.1, "ci_high": 0.5, "baseline": 0.05,
             "delta": 0.25, "status": "info", "baseline_n": 40, "provisional": flag}
            for p, flag in zip((W1, W2, W3), provisional)]
    return pl.concat([empty_records(), pl.DataFrame(recs)], how="diagonal_relaxed")


TREND = next(t for t in TRENDS if t.metric == "ai_merge_rate")


def layer(chart: dict, name: str) -> dict | None:
    return next((lay for lay in chart["layer"] if lay.get("name") == name), None)


def test_provisional_periods_are_shaded_with_a_legend_entry_and_hollow_points():
    chart = trend_chart(rows([False, False, True]), TREND, None, csat_tolerance=0.2)
    shade = layer(chart, "provisional")
    [area] = shade["data"]["values"]
    assert area["series"] == PROVISIONAL_LABEL
    # It spans the last week only: Mar 16 ± 3.5 days, in UTC.
    assert (area["x0"], area["x1"]) == ("2026-03-12T12:00:00Z", "2026-03-19T12:00:00Z")
    # From the lowest drawn value (0: the axis starts there) to the highest (ci_high 0.5).
    assert (area["y0"], area["y1"]) == (0.0, 0.5)
    # The legend names it, in its own colour.
    scale = layer(chart, "lines")["encoding"]["color"]["scale"]
    assert scale["range"][scale["domain"].index(PROVISIONAL_LABEL)] == "#b06000"
    # Hollow points: filled white where provisional, a bigger ring.
    points = layer(chart, "points")
    assert [p["provisional"] for p in points["data"]["values"]] == [False, False, True]
    assert points["encoding"]["fill"]["condition"] == {"test": "datum.provisional", "value": "white"}
    assert [p["series"] for p in points["data"]["values"]] == ["AI-assisted share"] * 3
    settled = trend_chart(rows([False, False, False]), TREND, None, csat_tolerance=0.2)
    assert layer(settled, "provisional") is None
    assert PROVISIONAL_LABEL not in layer(settled, "lines")["encoding"]["color"]["scale"]["domain"]


def test_markers_inside_the_chart_are_drawn_with_their_label():
    marks = ((dt.date(2026, 3, 10), "Copilot Business rollout"), (dt.date(2025, 1, 1), "long before"))
    chart = trend_chart(rows([False] * 3), TREND, None, csat_tolerance=0.2, markers=marks)
    assert layer(chart, "markers")["data"]["values"] == [{"day": "2026-03-10", "label": "Copilot Business rollout"}]
    assert layer(chart, "marker labels")["encoding"]["text"] == {"field": "label"}
    assert layer(trend_chart(rows([False] * 3), TREND, None, csat_tolerance=0.2), "markers") is None


def test_markers_in_the_config():
    config = parse_config({"markers": [{"date": "2025-09-01", "label": "Copilot Business rollout"}],
                           "dashboard": {"url": "https://scorecard.example"}})
    assert [(m.date, m.label) for m in config.markers] == [(dt.date(2025, 9, 1), "Copilot Business rollout")]
    assert config.dashboard.url == "https://scorecard.example"
    with pytest.raises(ConfigError, match="markers"):
        parse_config({"markers": [{"date": "not a date", "label": "x"}]})
