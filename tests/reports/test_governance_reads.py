"""The Governance page reads sums, not every spend row (reports/governance_data): the spend identities
summed in SQL, the inventory's spend from the sums per tool × model × workflow, the unapproved models from
the rows of the flagged tool × model pairs only, all from one pass summing per tool × model × workflow × team, the PR identities from the PRs with an AI signal. Each
equals what the same function gives from every row (the demo organisation and the shipped example's
inventory, where Claude Code approves Sonnet and not Opus), on SQLite and PostgreSQL.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from config.load import load_config
from connectors.demo.generator import generate
from governance.inventory import found_in_data, inventory, partials, pr_identities, spend_partials, unapproved_models
from metrics.teams import assign_team_column
from pipeline import ingest
from reports.governance_data import (
    load_identities, load_spend_groups, load_spend_partials, load_spend_rows, load_unapproved_models, spend_by_kind,
)
from tests.app.conftest import DEMO_END
from warehouse import read_table

ROOT = Path(__file__).resolve().parents[2]


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=True)


def test_governance_sums_equal_those_of_every_row(warehouse, warehouse_url, tmp_path):
    path = tmp_path / "scorecard.toml"
    # The example, with Claude Code approving Sonnet only: its Opus spend is then unapproved.
    example = (ROOT / "scorecard.toml.example").read_text().replace("sqlite:///data/scorecard.db", warehouse_url)
    assert 'approved_models = ["claude-sonnet*", "claude-opus*"]' in example
    path.write_text(example.replace('approved_models = ["claude-sonnet*", "claude-opus*"]', 'approved_models = ["claude-sonnet*"]'))
    config = load_config(path, env={})
    ingest(warehouse, "demo", generate("small", end=DEMO_END), action="demo")
    rows = load_spend_rows(warehouse)
    assert rows.height > 1000

    # The spend partials: summed in SQL, examples from the groups' last days.
    keys = ["kind", "name", "team"]
    summed, every = load_spend_partials(warehouse), spend_partials(rows)
    assert summed.height == every.height > 10
    assert_frame_equal(_sorted(summed, keys), _sorted(every, keys), check_exact=False, rel_tol=1e-9)

    # The PR identities: from the PRs with an AI signal, as from every PR.
    all_prs = assign_team_column(read_table(warehouse, "pull_requests", ["id", "repo", "team", "created_at", "merged_at",
                                                                         "ai_signals", "ai_tools"]),
                                 "pull_requests", config.teams)
    identities = load_identities(warehouse, config)
    assert_frame_equal(_sorted(identities.prs, ["id", "kind", "name"]), _sorted(pr_identities(all_prs), ["id", "kind", "name"]))
    assert identities.prs.height > 100
    given = load_identities(warehouse, config, rows)  # the CLI's way: every spend row
    assert_frame_equal(_sorted(identities.partials, keys), _sorted(given.partials, keys), check_exact=False, rel_tol=1e-9)
    assert partials(identities.prs).height > 0

    by_kind = spend_by_kind(load_spend_groups(warehouse))
    assert by_kind.get_column("rows").sum() == rows.height
    for teams in (None, frozenset({"payments"})):
        found = found_in_data(identities.partials, config.governance, teams)
        assert_frame_equal(found, found_in_data(given.partials, config.governance, teams), check_exact=False, rel_tol=1e-9)
        # The inventory's spend per item, from the sums as from the rows.
        items = inventory(config.governance, identities.prs, found, by_kind)
        assert items.get_column("spend_usd").drop_nulls().len() > 0
        assert_frame_equal(items, inventory(config.governance, identities.prs, found, rows), check_exact=False, rel_tol=1e-9)
        # Unapproved models: only the flagged pairs' rows read.
        flagged = load_unapproved_models(warehouse, config, by_kind, teams)
        assert flagged.select("tool", "model").rows() == [("anthropic", "claude-opus-4")]
        assert_frame_equal(flagged, unapproved_models(rows, config.governance, teams), check_exact=False, rel_tol=1e-9)


def test_spend_groups_by_hand_from_the_index(warehouse):
    """Spend per tool × model × workflow × team, worked out by hand: a null team is `unassigned` (summed with
    a stored `unassigned`), a null model or workflow is a group of its own, ordered by the four (nulls
    first); on SQLite from the entries of `ix_ai_spend_kinds` alone (no row read, no sort)."""
    import datetime as dt

    from tests.factories import make_spend
    from warehouse.schema import TABLES
    from warehouse.types import polars_schema

    spend = [
        make_spend("s1", date="2026-03-02", cost=1.5, team="web", tool="openai", model="gpt-5"),
        make_spend("s2", date="2026-03-05", cost=2.25, team="web", tool="openai", model="gpt-5"),
        make_spend("s3", date="2026-03-03", cost=4.0, team=None, tool="openai", model="gpt-5"),
        make_spend("s4", date="2026-03-09", cost=0.5, team="unassigned", tool="openai", model="gpt-5"),
        make_spend("s5", date="2026-03-04", cost=8.0, team="web", tool="openai", model=None),
        make_spend("s6", date="2026-03-01", cost=16.0, team="core", tool="anthropic", workflow="triage"),
        make_spend("s7", date="2026-03-07", cost=32.0, team="core", tool=None),
    ]
    frame = pl.DataFrame(spend, schema=polars_schema(TABLES["ai_spend"], list(spend[0])), orient="row")
    ingest(warehouse, "csv", {"ai_spend": frame})
    day = dt.date.fromisoformat
    assert load_spend_groups(warehouse).rows() == [
        (None, None, None, "core", 1, 32.0, day("2026-03-07"), day("2026-03-07")),
        ("anthropic", None, "triage", "core", 1, 16.0, day("2026-03-01"), day("2026-03-01")),
        ("openai", None, None, "web", 1, 8.0, day("2026-03-04"), day("2026-03-04")),
        # s3 (no team) and s4 (stored unassigned): 4 + 0.5
        ("openai", "gpt-5", None, "unassigned", 2, 4.5, day("2026-03-03"), day("2026-03-09")),
        ("openai", "gpt-5", None, "web", 2, 3.75, day("2026-03-02"), day("2026-03-05")),
    ]
    if warehouse.dialect == "sqlite":
        with warehouse.engine.connect() as conn:
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT tool, model, workflow, team, count(*), sum(cost_usd), min(date), max(date) "
                "FROM ai_spend GROUP BY tool, model, workflow, team").fetchall())
        assert "COVERING INDEX ix_ai_spend_kinds" in plan and "TEMP B-TREE" not in plan
