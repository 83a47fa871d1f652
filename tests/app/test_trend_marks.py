"""Trend charts mark provisional periods (hatched, in the legend) and draw change markers: `[[markers]]`
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


def test_provisional_periods_are_hatched_with_a_legend_entry_and_hollow_points():
    fig = trend_chart(rows([False, False, True]), TREND, None, csat_tolerance=0.2)
    hatch = [t for t in fig.data if t.name == PROVISIONAL_LABEL]
    assert len(hatch) == 1 and hatch[0].fillpattern.shape == "/"
    # It spans the last week only: Mar 16 ± 3.5 days.
    assert min(hatch[0].x) == dt.datetime(2026, 3, 12, 12) and max(hatch[0].x) == dt.datetime(2026, 3, 19, 12)
    line = next(t for t in fig.data if t.name == "AI-assisted share")
    assert list(line.marker.color) == ["#2f6fdf", "#2f6fdf", "white"]
    settled = trend_chart(rows([False, False, False]), TREND, None, csat_tolerance=0.2)
    assert not [t for t in settled.data if t.name == PROVISIONAL_LABEL]


def test_markers_inside_the_chart_are_drawn_with_their_label():
    marks = ((dt.date(2026, 3, 10), "Copilot Business rollout"), (dt.date(2025, 1, 1), "long before"))
    fig = trend_chart(rows([False] * 3), TREND, None, csat_tolerance=0.2, markers=marks)
    assert [a.text for a in fig.layout.annotations] == ["Copilot Business rollout"]
    assert [s.x0 for s in fig.layout.shapes] == [dt.date(2026, 3, 10)]


def test_markers_in_the_config():
    config = parse_config({"markers": [{"date": "2025-09-01", "label": "Copilot Business rollout"}],
                           "dashboard": {"url": "https://scorecard.example"}})
    assert [(m.date, m.label) for m in config.markers] == [(dt.date(2025, 9, 1), "Copilot Business rollout")]
    assert config.dashboard.url == "https://scorecard.example"
    with pytest.raises(ConfigError, match="markers"):
        parse_config({"markers": [{"date": "not a date", "label": "x"}]})
