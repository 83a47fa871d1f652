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
