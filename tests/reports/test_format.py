"""How numbers, statuses and user text look on screen (reports/format.py): values and deltas in their
units, and text and links from data made safe to show, each worked out by hand."""
import datetime as dt

import polars as pl

from reports.format import cell_text, escape_markdown, fmt_delta, fmt_value, link_column, nulls_as_text, signals_text


def test_formats_and_safe_text():
    assert [fmt_value(0.0795, "share"), fmt_value(2.49, "hours"), fmt_value(11.057, "usd"), fmt_value(None, "usd")] == [
        "8.0%", "2.5 h", "$11.06", "—"]
    assert [fmt_delta(0.0475, "share"), fmt_delta(-1.92, "hours"), fmt_delta(10.38, "usd")] == ["+4.8 pp", "−1.9 h", "+$10.38"]
    assert escape_markdown("**[x](javascript:alert(1))** <img>") == "\\*\\*\\[x\\]\\(javascript\\:alert\\(1\\)\\)\\*\\* \\<img\\>"
    frame = pl.DataFrame({"url": [" HTTPS://x.example/a", "data:text/html,x", None], "ai_signals": ['["a"]', "[bad", None]})
    assert frame.select(link_column())["url"].to_list() == ["HTTPS://x.example/a", None, None]
    assert frame.select(signals_text())["ai_signals"].to_list() == ["a", "[bad", ""]


def test_urls_in_data_never_become_links():
    """Streamlit's Markdown links bare URLs, www. names and e-mail addresses even when escaped; a word
    joiner inside each leaves the text readable and nothing a link finder matches."""
    text = escape_markdown("team https://evil.example/x, WWW.evil.example and ops@evil.example")
    assert "://" not in text and "WWW\\." not in text and "@e" not in text
    assert text.replace("\u2060", "").replace("\\", "") == "team https://evil.example/x, WWW.evil.example and ops@evil.example"
    assert escape_markdown("acme/api team:web") == "acme/api team\\:web"  # nothing else changes


def test_missing_numbers_and_dates_become_a_dash_in_the_columns_format():
    frame = pl.DataFrame({"n": [3, None], "share": [12.34, float("nan")], "full": [1.5, 2.0],
                          "at": [dt.datetime(2026, 1, 2, 3, 4), None], "text": ["x", None]})
    shown, turned = nulls_as_text(frame, {"n": "%d", "share": "%.1f%%", "at": "YYYY-MM-DD HH:mm"})
    assert turned == ["n", "share", "at"]  # a full column keeps its type (and its sorting); text is the table's job
    assert shown["n"].to_list() == ["3", "—"] and shown["share"].to_list() == ["12.3%", "—"]
    assert shown["at"].to_list() == ["2026-01-02 03:04", "—"] and shown["full"].dtype == pl.Float64
    assert (cell_text(1234.5, None), cell_text(1234, None), cell_text(19, "dollar")) == ("1,234.50", "1,234", "$19.00")
