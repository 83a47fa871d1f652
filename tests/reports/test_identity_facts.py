"""The PRs' AI identities kept beside the cube (`identity_facts`, governance.inventory.identity_facts) for the
Governance page: one row per PR × identity on the PR's day (its merge, else its creation), built by a full
build, kept by the upkeep after writes — a PR never merged (which the upkeep's slice, read by merge time, does
not hold), one merged months after it was opened (its rows move days), one whose signals change —, and read
by the page with the PRs that have no day (reports/governance_data.load_kept_identities): the same rows as
every PR's identities. Worked out by hand, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
from polars.testing import assert_frame_equal

from config import Config, TeamConfig, WarehouseConfig
from governance.inventory import found_in_data
from pipeline import ingest
from reports.data import load_cube, refresh_cube
from reports.governance_data import load_identities, load_kept_identities
from warehouse.cube_store import read_facts
from warehouse.schema import TABLES
from warehouse.slice import read_unmerged_signals
from warehouse.types import polars_schema

UTC = dt.timezone.utc
DEVIN = (["author:devin-ai-integration[bot]"], ["Devin"])  # a bot author and its tool: two identities
CLAUDE = (["trailer:Co-Authored-By: Claude <noreply@anthropic.com>"], ["Claude Code"])  # one: the tool
HELPER = (["trailer:Assisted-by: Acme Helper <bot@acme.example>"], [])  # one: a policy trailer naming no tool


def _at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, 1, hour, tzinfo=UTC) + dt.timedelta(days=day)


def _pr(number: int, created: dt.datetime | None, merged: dt.datetime | None, signals=([], []), repo="acme/pay",
        team=None) -> dict:
    return {"id": f"t:{repo}#{number}", "source": "csv", "repo": repo, "number": number, "title": f"Change {number}",
            "author": "ann", "team": team, "created_at": created, "merged_at": merged, "merge_commit_sha": f"m{number}",
            "ai_assisted": bool(signals[0]), "is_revert": False, "reverts_pr_id": None, "revert_ref": None,
            "labels": "[]", "ai_signals": json.dumps(signals[0]), "ai_tools": json.dumps(signals[1])}


def _prs(*rows: dict) -> dict[str, pl.DataFrame]:
    return {"pull_requests": pl.DataFrame(list(rows), schema=polars_schema(TABLES["pull_requests"], list(rows[0])),
                                          orient="row")}


def _config(url: str) -> Config:
    return Config(warehouse=WarehouseConfig(url=url), teams={"payments": TeamConfig(repos=("acme/pay",))})


def _kept(wh) -> list[tuple]:
    """The kept rows: (days after Mar 1, 2026, id, team, kind, name), in order."""
    kept = read_facts(wh, "identity_facts", dt.date(1, 1, 1))
    return sorted(kept.select((pl.col("day") - dt.date(2026, 3, 1)).dt.total_days(), "id", "team", "kind", "name")
                  .iter_rows())


def _same_rows(wh, config) -> pl.DataFrame:
    """The page's identities (kept) equal every PR's (a scan), row for row; returns the kept ones."""
    kept, scanned = load_kept_identities(wh, config), load_identities(wh, config)
    keys = ["id", "kind", "name"]
    assert_frame_equal(kept.prs.sort(keys), scanned.prs.sort(keys))
    for teams in (None, frozenset({"payments"})):
        assert_frame_equal(found_in_data(kept.partials, config.governance, teams),
                           found_in_data(scanned.partials, config.governance, teams))
    return kept.prs


def test_identities_kept_by_the_upkeep_by_hand(warehouse, warehouse_url):
    config = _config(warehouse_url)
    ingest(warehouse, "csv", _prs(
        _pr(1, _at(0), _at(1), DEVIN),  # merged Mar 2: the bot and Devin, team payments (its repo)
        _pr(2, _at(2), _at(3), CLAUDE, repo="acme/web"),  # merged Mar 4, unassigned
        _pr(3, _at(3), None, HELPER),  # never merged: on its creation day, Mar 4
        _pr(4, _at(4), _at(5)),  # no signal: no identity
        _pr(5, None, None, CLAUDE, team="web"),  # neither time: no day to keep it on; the page reads it
    ))
    load_cube(warehouse, config)
    payments, none = "payments", "unassigned"
    assert _kept(warehouse) == [
        (1, "t:acme/pay#1", payments, "bot", "devin-ai-integration"),  # Mar 2
        (1, "t:acme/pay#1", payments, "coding_tool", "Devin"),
        (3, "t:acme/pay#3", payments, "coding_tool", "Acme Helper"),  # Mar 4
        (3, "t:acme/web#2", none, "coding_tool", "Claude Code"),
    ]
    rows = _same_rows(warehouse, config)
    assert sorted(rows.filter(pl.col("day").is_null()).select("id", "team", "name").iter_rows()) == [
        ("t:acme/pay#5", "web", "Claude Code")]

    # Writes: a PR opened Mar 26 and never merged (Claude); PR 3, opened Mar 4, merged Apr 5 with Devin's signals
    # now (its rows move from Mar 4 to Apr 5); PR 1's signals become Claude's (bot and Devin gone).
    ingest(warehouse, "csv", _prs(_pr(7, _at(25), None, CLAUDE), _pr(3, _at(3), _at(35), DEVIN),
                                  _pr(1, _at(0), _at(1), CLAUDE)))
    assert refresh_cube(warehouse, config) == "updated"  # by days, not a rebuild
    assert _kept(warehouse) == [
        (1, "t:acme/pay#1", payments, "coding_tool", "Claude Code"),
        (3, "t:acme/web#2", none, "coding_tool", "Claude Code"),
        (25, "t:acme/pay#7", payments, "coding_tool", "Claude Code"),  # Mar 26
        (35, "t:acme/pay#3", payments, "bot", "devin-ai-integration"),  # Apr 5
        (35, "t:acme/pay#3", payments, "coding_tool", "Devin"),
    ]
    rows = _same_rows(warehouse, config)
    # Claude Code: PRs 1, 2, 7 and the undated 5, four rows; first seen Mar 2, last seen Mar 26 (payments' PR 7).
    claude = load_kept_identities(warehouse, config).partials.filter(
        (pl.col("kind") == "coding_tool") & (pl.col("name") == "Claude Code"))
    assert claude.get_column("rows").sum() == 4
    assert claude.get_column("first_seen").min() == dt.date(2026, 3, 2)
    assert claude.get_column("last_seen").max() == dt.date(2026, 3, 26)
    assert rows.filter(pl.col("kind") == "bot").get_column("id").to_list() == ["t:acme/pay#3"]


def test_the_pr_with_no_merge_is_read_by_its_partial_index(warehouse, warehouse_url):
    """The upkeep's read of the PRs never merged that name a signal, from a cut on, and the page's of those
    without a creation time: the rows by hand, through the partial index (migration 0015; SQLite reads it when
    named — it is, and its predicate is the read's own —, PostgreSQL plans it once told not to scan the table). A merged PR, an unmerged one without signals and
    one with an empty list are not in it."""
    ingest(warehouse, "csv", _prs(
        _pr(1, _at(0), None, CLAUDE), _pr(2, _at(5), None, HELPER), _pr(3, _at(5), _at(6), CLAUDE),
        _pr(4, _at(5), None), _pr(5, None, None, DEVIN), _pr(6, None, None)))
    columns = ["id", "created_at"]
    since = read_unmerged_signals(warehouse, columns, _at(3))
    assert since.get_column("id").to_list() == ["t:acme/pay#2"]
    assert read_unmerged_signals(warehouse, columns, None).get_column("id").to_list() == ["t:acme/pay#5"]
    assert sorted(read_unmerged_signals(warehouse, columns, _at(0)).get_column("id").to_list()) == [
        "t:acme/pay#1", "t:acme/pay#2"]
    from warehouse.schema import UNMERGED_SIGNALS

    hint = " INDEXED BY ix_pull_requests_unmerged_signals" if warehouse.dialect == "sqlite" else ""
    with warehouse.engine.connect() as conn:
        for created in ("created_at >= '2026-03-04'", "created_at IS NULL"):
            sql = f"SELECT id FROM pull_requests{hint} WHERE {UNMERGED_SIGNALS} AND {created}"
            if warehouse.dialect == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_pull_requests_unmerged_signals" in plan, plan
