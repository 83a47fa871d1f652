"""libpq called directly (warehouse.libpq), as the read-only reader uses it on PostgreSQL: the rows psycopg
returns for every type it decodes, an error (never a guess) for a type it does not, the server's message for
a refused statement, and the reader taking psycopg's way, with the same rows, where no libpq is found."""
from __future__ import annotations

import datetime as dt
import os

import psycopg
import pytest

from warehouse import libpq
from warehouse.readonly import open_read_only

pytestmark = pytest.mark.postgres

# One row of every decoded type, with the values that test its binary format: signs, a zero byte, a
# non-ASCII text, the epoch 2000-01-01's both sides, a time zone other than UTC; then a row of NULLs.
TYPED = """SELECT * FROM (VALUES
  (true, false, '\\x00ff10'::bytea, 'é ü ✓'::text, 'ab'::varchar, 'x'::char(3), 'pg_class'::name,
   -2::smallint, -70000::integer, -9000000000::bigint, 1.5::real, -0.1::double precision,
   '1999-12-31'::date, '2000-01-02'::date, '1970-01-01 00:00:00.000001'::timestamp,
   '2026-11-22 23:59:59.5+05:30'::timestamptz),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t"""


@pytest.fixture
def connection():
    url = os.environ.get("SCORECARD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL tests need SCORECARD_TEST_POSTGRES_URL")
    lib = libpq.load()
    assert lib is not None, "psycopg-binary's libpq not found"
    connection = libpq.connect(lib, url, "-c jit=off")
    assert connection is not None
    yield connection, url
    connection.close()


def test_rows_are_psycopgs(connection):
    ours, url = connection
    with psycopg.connect(url, options="-c TimeZone=America/New_York") as theirs:  # another zone: same instants
        expected = theirs.execute(TYPED, binary=True).fetchall()
    rows = ours.rows(TYPED)
    assert rows == expected
    assert rows[0][2] == b"\x00\xff\x10" and rows[0][3] == "é ü ✓" and rows[0][-1].utcoffset() == dt.timedelta(0)
    assert [type(v) for v in rows[0]] == [type(v) for v in expected[0]]
    assert rows[1] == (None,) * 16


def test_a_type_without_a_decoder_is_an_error(connection):
    ours, _ = connection
    for sql in ("SELECT 1.5::numeric", "SELECT '{}'::json", "SELECT 'infinity'::timestamptz"):
        with pytest.raises(libpq.LibpqError, match="oid|infinite"):
            ours.rows(sql)


def test_a_refused_statement_raises_the_servers_message(connection):
    ours, _ = connection
    assert ours.rows("START TRANSACTION READ ONLY") == []
    with pytest.raises(libpq.LibpqError, match="read-only transaction"):
        ours.rows("CREATE TABLE scratch (x integer)")
    with pytest.raises(libpq.LibpqError, match="aborted"):
        ours.rows("SELECT 1")
    ours.rows("ROLLBACK")
    assert ours.rows("SELECT 1, 'a'") == [(1, "a")]


def test_the_url_options_are_kept_and_a_bad_url_is_not_parsed():
    lib = libpq.load()
    assert libpq.url_options(lib, "postgresql://u@h:5/db?options=-csearch_path%3Ds1") == (True, "-csearch_path=s1")
    assert libpq.url_options(lib, "postgresql://u@h:5/db") == (True, None)
    assert libpq.url_options(lib, "postgresql://u@h:5/db?nonsense=1")[0] is False


def test_the_reader_uses_libpq_or_else_psycopg_with_the_same_rows(postgres_schema_url, monkeypatch):
    from warehouse import open_warehouse

    open_warehouse(postgres_schema_url).engine.dispose()  # the schema at head
    sql = "SELECT version_num, current_setting('jit'), current_setting('search_path') FROM alembic_version"
    with open_read_only(postgres_schema_url) as reader:
        assert isinstance(reader._connection, libpq.Connection)
        ours = reader.rows(sql)
        assert reader.at_head()
    monkeypatch.setattr(libpq, "load", lambda: None)  # no libpq found: psycopg's way
    with open_read_only(postgres_schema_url) as reader:
        assert not isinstance(reader._connection, libpq.Connection)
        assert reader.rows(sql) == ours and reader.at_head()
        with pytest.raises(psycopg.Error, match="read-only transaction"):
            reader.rows("CREATE TABLE scratch (x integer)")
    assert ours[0][1] == "off" and ours[0][2].startswith("t_")


def test_bytea_in_place_outlives_the_query_and_equals_the_copy(connection):
    import gc

    ours, _ = connection
    sql = "SELECT 'x'::text, decode(repeat('00ff', 300000), 'hex'), NULL::bytea"
    copied = ours.rows(sql)
    in_place = ours.rows(sql, bytea_in_place=True)
    ours.rows("SELECT 1")
    gc.collect()
    (text, data, missing), = in_place
    assert text == "x" and missing is None and data.size == 600000
    assert data.to_pybytes() == copied[0][1] and memoryview(data)[:4].tobytes() == b"\x00\xff\x00\xff"
