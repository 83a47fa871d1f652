"""A large PR file on the PostgreSQL warehouse is parsed a slice at a time while the write copies the slices
before (connectors.csv.reader `_key_ordered`, connectors.contract `KeyOrdered`, warehouse.write): the same rows as the whole file's
parse, in the writer's key order; a problem in any slice fails the whole file with the message the whole-file
parse gives, and nothing is written. Here with slices of 3 rows (the product's: 16,384 first, then 131,072)."""
import pytest
import sqlalchemy as sa

import connectors.csv.reader as reader
import warehouse.write as write
from config import Config
from connectors.contract import KeyOrdered
from connectors.csv import CsvImportError, csv_source, read_csv
from pipeline import run_source
from warehouse import read_table
from warehouse.schema import sync_runs

HEADER = "id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels\n"
# Ten PRs whose ids do not sort as the file lists them (#10 before #2 as text); a revert, a label, a PR not merged.
ROWS = [
    "gh:acme/api#3,acme/api,core,3,Add cache,ann,2026-03-01T10:00:00+0000,2026-03-02T10:00:00+0000,aa03,",
    "gh:acme/api#10,acme/api,core,10,Fix login,bob,2026-03-01T11:00:00+0000,2026-03-02T11:00:00+0000,aa10,bug",
    "gh:acme/web#1,acme/web,web,1,Revert \"Add cache\",cid,2026-03-03T09:00:00+0000,2026-03-03T10:00:00+0000,bb01,",
    "gh:acme/api#2,acme/api,core,2,Tidy,ann,2026-02-27T10:00:00+0000,,,",
    "gh:acme/api#1,acme/api,core,1,Start,bob,2026-02-26T10:00:00+0000,2026-02-26T12:00:00+0000,aa01,copilot",
    "gh:acme/web#20,acme/web,web,20,Page,cid,2026-03-04T09:00:00+0000,2026-03-04T10:00:00+0000,bb20,",
    "gh:acme/web#3,acme/web,web,3,Style,dee,2026-03-05T09:00:00+0000,2026-03-05T10:00:00+0000,bb03,",
    "gh:acme/api#7,acme/api,core,7,Docs,dee,2026-03-06T09:00:00+0000,2026-03-06T10:00:00+0000,aa07,",
    "gh:acme/web#4,acme/web,web,4,Menu,eve,2026-03-07T09:00:00+0000,2026-03-07T10:00:00+0000,bb04,",
    "gh:acme/api#5,acme/api,core,5,Logs,eve,2026-03-08T09:00:00+0000,2026-03-08T10:00:00+0000,aa05,",
]
IN_KEY_ORDER = ["gh:acme/api#1", "gh:acme/api#10", "gh:acme/api#2", "gh:acme/api#3", "gh:acme/api#5", "gh:acme/api#7",
                "gh:acme/web#1", "gh:acme/web#20", "gh:acme/web#3", "gh:acme/web#4"]


@pytest.fixture
def small_slices(monkeypatch):
    monkeypatch.setattr(reader, "KEY_ORDERED_MIN_ROWS", 2)
    monkeypatch.setattr(reader, "SLICE_ROWS", 3)
    monkeypatch.setattr(reader, "HEAD_ROWS", 3)
    monkeypatch.setattr(write, "BULK_ROWS", 2)


def _file(tmp_path, rows):
    path = tmp_path / "prs.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_the_slices_are_the_whole_files_rows_in_key_order(tmp_path, small_slices):
    path = _file(tmp_path, ROWS)
    whole = read_csv(path, "pull_requests", Config()).frames["pull_requests"]
    parsed = read_csv(path, "pull_requests", Config(), in_key_order=True)
    rows = parsed.frames["pull_requests"]
    assert isinstance(rows, KeyOrdered) and (rows.height, parsed.rows) == (10, 10)
    pieces = list(rows.slices())
    assert [p.height for p in pieces] == [3, 3, 3, 1]
    together = rows.collect()
    assert together.get_column("id").to_list() == IN_KEY_ORDER
    assert together.equals(whole.sort("id"))
    assert together.filter(is_revert=True).get_column("id").to_list() == ["gh:acme/web#1"]
    # Below the threshold, a `files` column, or another entity: the whole frame, as before.
    assert isinstance(read_csv(_file(tmp_path, ROWS[:1]), "pull_requests", Config(), in_key_order=True)
                      .frames["pull_requests"], type(whole))


def test_the_first_slice_holds_head_rows_and_the_next_ones_twice_the_one_before_up_to_slice_rows(tmp_path, small_slices,
                                                                                                  monkeypatch):
    """The first slice is parsed before the COPY starts: it holds `HEAD_ROWS` (here 1), the next 2, then 4, then at
    most `SLICE_ROWS` (here 4): 1 + 2 + 4 + 3 = the file's 10 rows."""
    monkeypatch.setattr(reader, "HEAD_ROWS", 1)
    monkeypatch.setattr(reader, "SLICE_ROWS", 4)
    rows = read_csv(_file(tmp_path, ROWS), "pull_requests", Config(), in_key_order=True).frames["pull_requests"]
    pieces = list(rows.slices())
    assert [p.height for p in pieces] == [1, 2, 4, 3]
    assert [p.get_column("id").to_list() for p in pieces][:2] == [IN_KEY_ORDER[:1], IN_KEY_ORDER[1:3]]
    assert rows.collect().get_column("id").to_list() == IN_KEY_ORDER


def _indexes_and_key(warehouse) -> tuple:
    inspector = sa.inspect(warehouse.engine)
    indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes("pull_requests"))
    return indexes, inspector.get_pk_constraint("pull_requests")["constrained_columns"]


WEB_20_SOON = "gh:acme/web#20,acme/web,web,20,Page,cid,2026-03-04T09:00:00+0000,soon,bb20,"
API_7_LATE = "gh:acme/api#7,acme/api,core,7,Docs,dee,2026-03-09T09:00:00+0000,2026-03-06T10:00:00+0000,aa07,"


@pytest.mark.parametrize("bad, message", [
    # A problem in the third slice of the key order (web#20, file line 7): named as the whole-file parse names it.
    ({5: WEB_20_SOON}, "line 7, column 'merged_at': not an ISO 8601 timestamp: 'soon'. Nothing"),
    # And one more in the second slice (api#7, line 9, created after its merge): the file's first is named,
    # with the count of the rest.
    ({5: WEB_20_SOON, 7: API_7_LATE},
     "line 7, column 'merged_at': not an ISO 8601 timestamp: 'soon' (1 more problem in this file). Nothing"),
    # A repeated id (api#3 again on line 11): the whole file is parsed first, as before.
    ({9: ROWS[0]}, "line 11, column 'id': duplicate id: the same id appears earlier in this file"),
    # A problem in the first slice (api#1, line 6, created after its merge): the whole file is parsed first.
    ({4: "gh:acme/api#1,acme/api,core,1,Start,bob,2026-02-27T10:00:00+0000,2026-02-26T12:00:00+0000,aa01,copilot"},
     "line 6, column 'created_at': created after it was merged"),
])
def test_a_problem_in_any_slice_fails_the_whole_file_with_the_same_message(warehouse, tmp_path, small_slices, bad, message):
    rows = [bad.get(i, row) for i, row in enumerate(ROWS)]
    path = _file(tmp_path, rows)
    with pytest.raises(CsvImportError) as whole:
        read_csv(path, "pull_requests", Config())
    indexes_before = _indexes_and_key(warehouse)
    with pytest.raises(CsvImportError) as sliced:
        run_source(warehouse, Config(), csv_source("pull_requests"), path=path, in_key_order=True)
    assert str(sliced.value) == str(whole.value)
    assert message in str(whole.value)
    assert read_table(warehouse, "pull_requests").height == 0
    # The indexes and the primary key the load dropped (and the partial ones it built on the first slice) are as before.
    assert _indexes_and_key(warehouse) == indexes_before
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sync_runs.c.status)).scalars().all() == ["failed"]
    # The warehouse is usable after the failed COPY: the good file goes in whole.
    good = run_source(warehouse, Config(), csv_source("pull_requests"), path=_file(tmp_path, ROWS), in_key_order=True)
    assert good.tables["pull_requests"].inserted == 10


def test_a_first_load_in_slices_stores_the_whole_files_rows_and_a_reimport_changes_nothing(warehouse, tmp_path, small_slices):
    path = _file(tmp_path, ROWS)
    first = run_source(warehouse, Config(), csv_source("pull_requests"), path=path, in_key_order=True)
    assert (first.tables["pull_requests"].inserted, first.detail["rows"]) == (10, 10)
    stored = read_table(warehouse, "pull_requests").sort("id")
    assert stored.get_column("id").to_list() == IN_KEY_ORDER
    whole = read_csv(path, "pull_requests", Config()).frames["pull_requests"].sort("id")
    for column in ("repo", "number", "title", "author", "merged_at", "merge_commit_sha", "labels", "is_revert", "ai_assisted"):
        assert stored.get_column(column).to_list() == whole.get_column(column).to_list(), column
    # Into a filled table the slices are taken whole and staged: every row found unchanged.
    again = run_source(warehouse, Config(), csv_source("pull_requests"), path=path, in_key_order=True)
    assert (again.tables["pull_requests"].inserted, again.tables["pull_requests"].unchanged) == (0, 10)


# An unmerged PR labelled copilot: the only row of the never-merged AI signals' partial index, in the last slice.
WEB_5_UNMERGED_AI = "gh:acme/web#5,acme/web,web,5,Try agent,eve,2026-03-09T09:00:00+0000,,,copilot"


def _through(conn, index: str, predicate: str, order: str) -> list[str]:
    """The ids of the rows matching `predicate`, read through `index` (PostgreSQL; the plan is checked)."""
    conn.execute(sa.text("SET enable_seqscan = off"))
    conn.execute(sa.text("SET enable_bitmapscan = off"))
    query = f"SELECT id FROM pull_requests WHERE {predicate} ORDER BY {order}, id"
    plan = " ".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {query}")))
    assert index in plan, plan
    return conn.execute(sa.text(query)).scalars().all()


@pytest.mark.postgres
def test_the_partial_indexes_that_hold_few_first_rows_are_built_on_them_and_hold_every_row(postgres_schema_url, tmp_path,
                                                                                            small_slices, monkeypatch):
    """The first slice (api#1 labelled copilot, api#10, api#2 not merged) holds no revert and no unmerged AI PR: those
    two partial indexes are built on it and kept through the rest; the tool PRs' (1 of 3 rows) is built after the load.
    Every index is there afterwards as before, and each partial one finds exactly its rows."""
    from warehouse import open_warehouse

    warehouse = open_warehouse(postgres_schema_url)
    with warehouse.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                      "AND tablename = 'pull_requests' ORDER BY 1")).all()
    kept = []
    real = write._Deferred.keep_the_small_partial_ones

    def spy(self, loaded):
        real(self, loaded)
        kept.append((loaded, sorted(self.built)))

    monkeypatch.setattr(write._Deferred, "keep_the_small_partial_ones", spy)
    report = run_source(warehouse, Config(), csv_source("pull_requests"), path=_file(tmp_path, ROWS + [WEB_5_UNMERGED_AI]),
                        in_key_order=True)
    assert report.tables["pull_requests"].inserted == 11
    assert kept == [(3, ["ix_pull_requests_reverts_merged_at", "ix_pull_requests_unmerged_signals"])]
    with warehouse.engine.connect() as conn:
        after = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                     "AND tablename = 'pull_requests' ORDER BY 1")).all()
        assert after == before
        # web#1 (a revert, third slice) and web#5 (last slice) were added to the kept indexes by the COPY.
        assert _through(conn, "ix_pull_requests_reverts_merged_at",
                        "reverts_pr_id IS NOT NULL OR revert_ref IS NOT NULL", "merged_at") == ["gh:acme/web#1"]
        assert _through(conn, "ix_pull_requests_unmerged_signals",
                        "merged_at IS NULL AND ai_signals IS NOT NULL AND ai_signals <> '[]'", "created_at") == ["gh:acme/web#5"]
        assert _through(conn, "ix_pull_requests_tools_merged_at", "ai_tools IS NOT NULL AND ai_tools <> '[]'",
                        "merged_at") == ["gh:acme/api#1", "gh:acme/web#5"]
    warehouse.engine.dispose()
