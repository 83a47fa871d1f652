"""The AI spend page's budgets-and-alerts panel shows the same alerts as the webhook and the CLI
(reports/alerts.py), with the budget's pace."""
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.reports.test_alerts import seed
from warehouse import open_warehouse


def _panel_script():
    import datetime as dt

    from app import access
    from app.spend_panel import render
    from reports.filters import Filters

    access.gate()  # the app runs it before any page (no sign-in configured: the local admin)
    render(Filters("month", dt.date(2026, 1, 1), dt.date(2026, 11, 30), None))


def test_dashboard_panel_shows_the_same_alerts_and_the_budget_pace(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    seed(open_warehouse(url))
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n[budgets.payments]\nmonthly_usd = 3000\nowner = "dana@example.com"\n')
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_function(_panel_script, default_timeout=30).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("data spent \\$700\\.00 on anthropic on 2026\\-11\\-02")
    assert [w.value.split("  \n")[0] for w in at.warning] == [
        "payments is pacing to \\$12,000\\.00 in November 2026, 400% of its \\$3,000\\.00 budget "
        "\\(\\$1,200\\.00 spent in 3 of 30 days\\) · owner dana@example\\.com"]
    table = at.dataframe[0].value
    payments = table[table["team"] == "payments"].iloc[0]
    assert (payments["spent"], payments["projected"], payments["pace"]) == (1200.0, 12000.0, 400.0)
    assert "pacing over" in payments["status"]
    st.cache_data.clear()
    st.cache_resource.clear()
