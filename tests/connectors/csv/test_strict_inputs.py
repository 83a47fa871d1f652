"""Inputs that used to be accepted or ended in a traceback (issue 17, items 1–6 and 8), on both warehouses."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import app
from config import Config
from connectors.csv import CsvImportError, read_csv
from warehouse import open_warehouse, read_table

runner = CliRunner()


@pytest.fixture
def cli(tmp_path, warehouse_url):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n')

    def invoke(*args: str):
        return runner.invoke(app, [*args, "--config", str(config)])

    invoke.url = warehouse_url
    return invoke


def spend_total(url: str) -> float:
    warehouse = open_warehouse(url)
    try:
        return read_table(warehouse, "ai_spend")["cost_usd"].sum()
    finally:
        warehouse.engine.dispose()


@pytest.mark.parametrize("cost", ["NaN", "inf", "Infinity", "1e400", "1,5"])
def test_a_cost_that_is_not_a_finite_decimal_is_refused_and_nothing_is_stored(cli, tmp_path, cost):
    path = tmp_path / "spend.csv"
    path.write_text(f'date,team,cost_usd\n2026-03-01,web,2\n2026-03-02,web,"{cost}"\n')
    result = cli("import", "ai_spend", str(path))
    assert result.exit_code == 1 and "line 3, column 'cost_usd': not a finite decimal number" in result.output
    assert "Traceback" not in result.output and spend_total(cli.url) == 0


def test_a_nul_byte_is_refused_on_both_warehouses(cli, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_bytes(b"id,team,resolved_at,channel\nt1,we\x00b,2026-03-01,human\n")
    result = cli("import", "tickets", str(path))
    assert result.exit_code == 1 and "line 2, column 'team': contains a NUL byte" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("entity", "text", "where"), [
    ("tickets", "id,resolved_at,channel\nt1,03/04/2025,human\n", "line 2, column 'resolved_at'"),
    ("pull_requests", "id,repo,merged_at\np1,acme/api,04-03-2025\n", "line 2, column 'merged_at'"),
    ("ai_spend", "date,cost_usd\n2025/03/04,1\n", "line 2, column 'date'"),
])
def test_dates_that_are_not_iso_8601_are_refused_not_guessed(tmp_path, entity, text, where):
    path = tmp_path / "f.csv"
    path.write_text(text)
    with pytest.raises(CsvImportError, match=where):
        read_csv(path, entity, Config())


def test_a_short_row_is_refused_naming_the_first_missing_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,repo,environment,sha,finished_at,status\nd1,acme/api,production,abc,2026-03-01\n")
    with pytest.raises(CsvImportError, match="line 2, column 'status': missing — the row has 5 fields"):
        read_csv(path, "deployments", Config())


def test_blank_lines_are_no_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,resolved_at,channel\nt1,2026-03-01,human\n\nt2,2026-03-02,ai_bot\n\n")
    parsed = read_csv(path, "tickets", Config())
    assert parsed.frames["tickets"]["id"].to_list() == ["t1", "t2"]


def test_an_unclosed_quote_is_named_where_it_opens(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,repo,title,merged_at\np1,acme/api,"Add cache,2026-03-01\np2,acme/api,Tidy,2026-03-02\n'
                    "p3,acme/api,Other,2026-03-03\n")
    with pytest.raises(CsvImportError, match="line 2, column 'title': a quoted cell opens here and is never closed"):
        read_csv(path, "pull_requests", Config())


def test_a_latin_1_byte_names_its_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"id,repo,title,merged_at\np1,acme/api,ok,2026-03-01\np2,acme/api,caf\xe9,2026-03-02\n")
    with pytest.raises(CsvImportError, match="line 3, column 'title': not valid UTF-8"):
        read_csv(path, "pull_requests", Config())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf_16_file_is_named_as_such(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("id,resolved_at,channel\nt1,2026-03-01,human\n".encode(encoding))
    with pytest.raises(CsvImportError, match="line 1: the file is UTF-16"):
        read_csv(path, "tickets", Config())


def test_a_huge_single_line_file_gets_a_short_clear_error(tmp_path):
    path = tmp_path / "one_line.csv"
    path.write_text("x" * 3_000_000)  # one 3 MB "header" with no newline
    with pytest.raises(CsvImportError) as info:
        read_csv(path, "tickets", Config())
    assert "line 1: missing required column 'id'" in str(info.value) and len(str(info.value)) < 600


def test_a_big_cell_does_not_hide_a_later_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(f"id,repo,title,merged_at\np1,acme/api,{'x' * 300_000},2026-03-01\np2,acme/api,ok,03/04/2025\n")
    with pytest.raises(CsvImportError, match="line 3, column 'merged_at': not an ISO 8601 timestamp"):
        read_csv(path, "pull_requests", Config())


def test_spend_rows_are_the_same_whatever_their_spelling(cli, tmp_path):
    """The same two spend rows written three ways are imported once: 12.50 = 12.5, an extra `tokens`
    column and another column order change nothing. Total 12.5 + 7 = 19.5 every time."""
    spellings = [
        "date,team,tool,model,workflow,cost_usd\n2026-03-01,web,claude,sonnet,review,12.50\n2026-03-02,web,claude,sonnet,,7\n",
        "date,team,tool,model,workflow,cost_usd,tokens\n2026-03-01,web,claude,sonnet,review,12.5,900\n2026-03-02,web,claude,sonnet,,7.0,\n",
        "cost_usd,workflow,model,tool,team,date\n1.25e1,review,sonnet,claude,web,2026-03-01T00:00:00Z\n7.00,,sonnet,claude,web,2026-03-02\n",
    ]
    for i, text in enumerate(spellings):
        path = tmp_path / f"spend{i}.csv"
        path.write_text(text)
        result = cli("import", "ai_spend", str(path))
        assert result.exit_code == 0, result.output
        assert spend_total(cli.url) == pytest.approx(19.5)


def test_two_identical_spend_rows_in_one_file_stay_two(tmp_path):
    path = tmp_path / "spend.csv"
    path.write_text("date,team,cost_usd\n2026-03-01,web,5\n2026-03-01,web,5.0\n")
    ids = read_csv(path, "ai_spend", Config()).frames["ai_spend"]["id"].to_list()
    assert len(set(ids)) == 2 and ids[0].rsplit(":", 1)[0] == ids[1].rsplit(":", 1)[0]


def test_a_file_name_with_brackets_is_a_name_not_a_pattern(tmp_path):
    path = tmp_path / "tickets[2026].csv"
    path.write_text("id,resolved_at,channel\nt1,2026-03-01,human\n")
    assert read_csv(path, "tickets", Config()).frames["tickets"]["id"].to_list() == ["t1"]


@pytest.mark.parametrize("block", [7, 16, 1 << 26])
def test_a_short_row_is_found_wherever_the_byte_blocks_split_the_lines(tmp_path, monkeypatch, block):
    import connectors.csv.reader as reader

    monkeypatch.setattr(reader, "_BLOCK", block)
    good = "id,repo,environment,sha,finished_at,status\n" + "".join(
        f"d{i},acme/api,production,abc,2026-03-01,success\n" for i in range(20))
    path = tmp_path / "d.csv"
    path.write_text(good)
    assert read_csv(path, "deployments", Config()).rows == 20
    path.write_text(good + "d99,acme/api,production,abc,2026-03-01")  # short, and no newline at the end
    with pytest.raises(CsvImportError, match="line 22, column 'status': missing"):
        read_csv(path, "deployments", Config())
    path.write_text(good.replace("d7,acme/api,production,abc,2026-03-01,success", "d7,acme/api,production"))
    with pytest.raises(CsvImportError, match="line 9, column 'sha': missing"):
        read_csv(path, "deployments", Config())


def test_timestamps_with_offsets_take_the_fast_path_and_shapes_outside_iso_8601_are_still_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,resolved_at,channel\nt1,2026-03-01T10:00:00.5+0530,human\nt2,2026-03-01T10:00:00Z,human\n"
                    "t3,2026-03-01 23:30:00-02:00,human\n")
    resolved = read_csv(path, "tickets", Config()).frames["tickets"]["resolved_at"].to_list()
    assert [v.isoformat() for v in resolved] == [
        "2026-03-01T04:30:00.500000+00:00", "2026-03-01T10:00:00+00:00", "2026-03-02T01:30:00+00:00"]
    # Arrow's parser takes an hour without minutes and a `+hh` offset; ISO_8601 (and so the import) does not.
    for bad in ("2026-03-01T10+00:00", "2026-03-01T10:00:00+05"):
        path.write_text(f"id,resolved_at,channel\nt1,2026-03-01T10:00:00Z,human\nt2,{bad},human\n")
        with pytest.raises(CsvImportError, match="line 3, column 'resolved_at': not an ISO 8601 timestamp"):
            read_csv(path, "tickets", Config())


def test_a_repeated_id_is_named_where_it_repeats(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,resolved_at,channel\n" + "".join(f"t{i},2026-03-01,human\n" for i in range(50)) + "t7,2026-03-02,human\n")
    with pytest.raises(CsvImportError, match="line 52, column 'id': duplicate id"):
        read_csv(path, "tickets", Config())


def test_the_fast_timestamp_path_takes_exactly_what_the_general_parser_takes():
    """Every combination of a date, a separator, a time and an offset (shapes ISO 8601 allows, the extra ones
    Arrow's parser takes, and broken ones) comes out of the import's timestamp parsing as the general parser
    has it: the same instant, or null where ISO_8601 refuses the value."""
    import itertools

    import polars as pl

    from connectors.common.normalise import parse_timestamp_series
    from connectors.csv.reader import _timestamps

    dates = ["2026-03-01", "2026-3-01", "20260301", "2026-13-01", "2026/03/01", "２０２６-03-01"]
    separators = ["", "T", " ", "t"]
    times = ["", "10", "10:0", "10:00", "1000", "10:00:00", "10:00:00.", "10:00:00.5", "10:00:00.123456",
             "10:00:00.1234567", "10:00:00,5", "1０:00"]
    offsets = ["", "Z", "z", "+05", "-05", "+0530", "+05:30", "-05:30", "+5", "+053", "+05:3", "+05:300", "UTC",
               "+05:30Z", "+０5:30"]
    differ = []
    for parts in itertools.product(dates, separators, times, offsets):
        value = pl.Series("at", ["".join(parts)])
        if not _timestamps(value).equals(parse_timestamp_series(value)):
            differ.append(value[0])
    assert differ == []
    # and in a column: one value of another shape sends the whole column through the general parser
    column = pl.Series("at", ["2026-03-01T10:00:00+05:30", None, "2026-03-01", "2026-03-01T10:00:00+05"])
    assert _timestamps(column).to_list() == parse_timestamp_series(column).to_list()
    assert _timestamps(column)[3] is None
    assert _timestamps(column.slice(1, 2)).to_list() == parse_timestamp_series(column.slice(1, 2)).to_list()


@pytest.mark.parametrize("block", [1, 2, 3, 1 << 18])
def test_the_timestamp_shape_check_looks_at_every_block(monkeypatch, block):
    import polars as pl
    import pyarrow as pa

    import connectors.csv.reader as reader

    monkeypatch.setattr(reader, "_SHAPE_BLOCK", block)
    good = ["2026-03-01T10:00:00+05:30", None, "2026-03-01", "2026-03-01 10:00Z", "2026-03-02T11:00:00.5-0200"]
    assert reader._iso_8601_shaped(pa.array(good, pa.large_string()))
    for bad in ("2026-03-01T10+05:30", "2026-03-01T10:00:00+05", "2026-03-01T10Z"):  # Arrow takes these
        for at in range(len(good) + 1):
            values = good[:at] + [bad] + good[at:]
            assert not reader._iso_8601_shaped(pa.array(values, pa.large_string())), (bad, at)
            sliced = pl.Series("at", ["x"] + values).slice(1).to_arrow()  # an offset into the buffers
            assert not reader._iso_8601_shaped(sliced), (bad, at)
