"""The Governance page over the demo organisation: with no config everything the data names is
unowned; with the shipped example it shows the inventory, the six ghost contributors and the two
workflows past a stop condition, each with the scorecard records behind it."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import clear_streamlit_caches

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")


def governance_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/governance.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames(at: AppTest) -> list[pl.DataFrame]:
    return [pl.from_pandas(df.value.data if hasattr(df.value, "data") else df.value) for df in at.dataframe]


def test_without_config_everything_found_is_unowned(demo_env):
    at = governance_page()
    # The demo names 10 AI identities in its PRs and 12 in its spend: 3 tools (github-copilot, anthropic,
    # openai), 5 models (copilot, claude-opus-4, claude-sonnet-4, gpt-5, gpt-5-mini) and 4 workflows
    # (seats, coding-agent, code-review, support-bot): 22.
    assert [(m.label, m.value) for m in at.metric][:3] == [
        ("Declared AI", "0"), ("Unowned AI in the data", "22"), ("Pause recommended", "0")]
    assert any("Nothing is declared yet" in i.value for i in at.info)
    ghosts = next(f for f in frames(at) if "examples" in f.columns)
    assert ghosts.height == 22 and "devin-ai-integration" in ghosts["name"].to_list()
    # No sign-in configured: the sidebar says so, and the local user is admin (sees who looked at what).
    assert any("No sign\\-in configured" in c.value or "No sign-in configured" in c.value for c in at.sidebar.caption)
    assert [s.value for s in at.subheader][-1] == "Who looked at or exported what"


@pytest.fixture(scope="module")
def example_env(demo_warehouse):
    config = demo_warehouse.root / "example.toml"
    config.write_text((ROOT / "scorecard.toml.example").read_text().replace("sqlite:///data/scorecard.db", demo_warehouse.url))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCORECARD_CONFIG", str(config))
        mp.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
        clear_streamlit_caches()
        yield demo_warehouse
        clear_streamlit_caches()


def test_example_inventory_ghosts_and_pauses_with_their_evidence(example_env):
    at = governance_page()
    assert [m.value for m in at.metric][:3] == ["5", "6", "2"]
    pauses = [m.value for m in at.markdown if "Pause recommended:" in m.value]
    # The example's data budget ($1,500 a month) is below the $3,084 data spent in March to date: the
    # coding-agents workflow's budget condition pauses it for data as well (still 2 workflows paused).
    assert pauses == [":red[:material/pause_circle:] **Pause recommended: Coding agents opening PRs** (team payments)",
                      ":red[:material/pause_circle:] **Pause recommended: Coding agents opening PRs** (team data)",
                      ":red[:material/pause_circle:] **Pause recommended: Support bot \\(AI answers to tickets\\)** "
                      "(team mobile)"]
    shown = frames(at)
    evidence = [f for f in shown if "fired" in f.columns]
    # The latest complete month is March 2026 (the demo ends on Sunday Mar 29 and today is later):
    # each metric pause rests on two months that both fired; data's budget pause on March to date alone.
    assert [f["fired"].to_list() for f in evidence] == [[True, True], [True], [True, True]]
    assert [f["status"].to_list() for f in evidence][0] == ["worse", "worse"]
    verdicts = next(f for f in shown if "rule" in f.columns)
    assert verdicts.filter(pl.col("verdict") == "PAUSE RECOMMENDED")["where"].to_list() == ["payments", "data", "mobile"]
    ghosts = next(f for f in shown if "examples" in f.columns)
    assert sorted(ghosts["name"].to_list()) == ["Cursor", "Devin", "Gemini", "OpenAI Codex", "chatgpt-codex-connector",
                                               "devin-ai-integration"]
    inventory = next(f for f in shown if "technical_owner" in f.columns)
    assert inventory.filter(pl.col("name") == "Support bot (AI answers to tickets)")["risk"].to_list() == [
        "3: high risk"]
    links = [link.label for link in at.get("page_link")]
    assert any("payments" in (label or "") for label in links)


def test_the_scorecard_points_at_the_pauses(example_env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("Pause recommended" in m.value and "coding\\-agents, support\\-bot" in m.value for m in at.markdown)


def test_the_spend_page_shows_the_examples_over_budget_alert(example_env):
    from tests.app.conftest import run_app

    at = run_app("spend")
    assert not at.exception
    # data spent $3,083.66 of March (to Mar 29) against the example's $1,500 budget.
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert any(w.startswith("data has spent $3,083.66 of its $1,500.00 budget for March 2026") for w in warnings), warnings
    budgets = next(d.value for d in at.dataframe if "pace" in d.value.columns)
    assert budgets.set_index("team").loc["data", "status"] == "🔴 over budget"
