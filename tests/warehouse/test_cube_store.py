"""The cube's chunk tables read back (warehouse/cube_store.py): every part as it was stored, rows in
(metric, month) order, types kept, each chunk's IPC read in place from the query's Arrow buffer."""
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from warehouse.cube_store import read_cube_parts, replace_cube

UTC = pl.Datetime("us", "UTC")


def _ratio_rows(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"metric": [r[0] for r in rows], "day": [dt.date.fromisoformat(r[1]) for r in rows],
         "team": [r[2] for r in rows], "segment": ["ai"] * len(rows), "n": [1] * len(rows),
         "x": [r[3] for r in rows], "pending": [0] * len(rows)},
        schema={"metric": pl.String, "day": pl.Date, "team": pl.String, "segment": pl.String, "n": pl.Int64,
                "x": pl.Float64, "pending": pl.Int64},
    )


def test_stored_parts_read_back_by_metric_then_month_with_their_types(warehouse):
    # Stored interleaved: b in February, a in January, a in February, b in January (team null once).
    ratio = _ratio_rows([("b", "2026-02-03", "core", 4.0), ("a", "2026-01-10", "web", 1.0),
                         ("a", "2026-02-01", None, 2.0), ("b", "2026-01-31", "core", 3.0)])
    span = pl.DataFrame({"first": [dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)],
                         "last": [dt.datetime(2026, 2, 3, 9, tzinfo=dt.timezone.utc)]}, schema={"first": UTC, "last": UTC})
    replace_cube(warehouse, {"ratio": ratio, "span": span}, pl.DataFrame(), from_day=None, deployments_from=None,
                 seen_seq=0)

    parts = read_cube_parts(warehouse)

    assert sorted(parts) == ["ratio", "span"]
    # Chunks (a, 2026-01), (a, 2026-02), (b, 2026-01), (b, 2026-02): x comes back 1, 2, 3, 4.
    expected = _ratio_rows([("a", "2026-01-10", "web", 1.0), ("a", "2026-02-01", None, 2.0),
                            ("b", "2026-01-31", "core", 3.0), ("b", "2026-02-03", "core", 4.0)])
    assert_frame_equal(parts["ratio"], expected)
    assert_frame_equal(parts["span"], span)


def test_no_stored_cube_reads_as_no_parts(warehouse):
    assert read_cube_parts(warehouse) == {}



def _mark_stored_chunks(warehouse) -> None:
    """Tag every stored chunk (its row count + 1000): a chunk written again carries its true count."""
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE cube_chunks SET rows = rows + 1000")


def _chunk_counts(warehouse) -> dict[tuple[str, str], int]:
    with warehouse.engine.connect() as conn:
        return {(part, chunk): rows for part, chunk, rows in conn.exec_driver_sql("SELECT part, chunk, rows FROM cube_chunks")}


def test_an_update_writes_only_the_chunks_whose_rows_changed(warehouse):
    # Stored whole: a and b in January and February, c in February. The update from 2026-02-01 on gives
    # a's February row again unchanged, changes b's (3.0 → 5.0) and no longer has c's February row.
    ratio = _ratio_rows([("a", "2026-01-10", "web", 1.0), ("a", "2026-02-01", "web", 2.0),
                         ("b", "2026-01-31", "core", 4.0), ("b", "2026-02-03", "core", 3.0),
                         ("c", "2026-02-05", "core", 6.0)])
    replace_cube(warehouse, {"ratio": ratio}, pl.DataFrame(), from_day=None, deployments_from=None, seen_seq=0)
    _mark_stored_chunks(warehouse)

    update = _ratio_rows([("a", "2026-02-01", "web", 2.0), ("b", "2026-02-03", "core", 5.0)])
    replace_cube(warehouse, {"ratio": update}, pl.DataFrame(), from_day=dt.date(2026, 2, 1),
                 deployments_from=None, seen_seq=0)

    # Unchanged chunks keep their stored rows (still tagged); b's February chunk is written again (1 row,
    # untagged); c's is gone. ("ratio", "0000-00" is the part's empty chunk that keeps its columns.)
    assert _chunk_counts(warehouse) == {("ratio", "0000-00"): 1000, ("ratio:a", "2026-01"): 1001, ("ratio:a", "2026-02"): 1001,
                                        ("ratio:b", "2026-01"): 1001, ("ratio:b", "2026-02"): 1}
    expected = _ratio_rows([("a", "2026-01-10", "web", 1.0), ("a", "2026-02-01", "web", 2.0),
                            ("b", "2026-01-31", "core", 4.0), ("b", "2026-02-03", "core", 5.0)])
    assert_frame_equal(read_cube_parts(warehouse)["ratio"], expected)



def test_an_update_from_mid_month_keeps_the_months_earlier_days_before_the_new_rows(warehouse):
    # Stored: a on the 3rd and 20th of February, b on the 5th and 18th, c on the 16th only. The update from
    # 2026-02-15 on gives a new row of a (20th: 2.0 → 7.0), one more of a (25th), none of b, none of c.
    ratio = _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 2.0),
                         ("b", "2026-02-05", "core", 3.0), ("b", "2026-02-18", "core", 4.0),
                         ("c", "2026-02-16", "core", 5.0)])
    replace_cube(warehouse, {"ratio": ratio}, pl.DataFrame(), from_day=None, deployments_from=None, seen_seq=0)

    update = _ratio_rows([("a", "2026-02-20", "web", 7.0), ("a", "2026-02-25", "web", 8.0)])
    replace_cube(warehouse, {"ratio": update}, pl.DataFrame(), from_day=dt.date(2026, 2, 15),
                 deployments_from=None, seen_seq=0)

    # a: its 3rd, then the new rows; b: its 5th alone (the 18th is gone); c: nothing left, its chunk gone.
    assert sorted(_chunk_counts(warehouse)) == [("ratio", "0000-00"), ("ratio:a", "2026-02"), ("ratio:b", "2026-02")]
    expected = _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 7.0),
                            ("a", "2026-02-25", "web", 8.0), ("b", "2026-02-05", "core", 3.0)])
    assert_frame_equal(read_cube_parts(warehouse)["ratio"], expected)


def test_an_update_from_mid_month_keeps_a_chunk_whose_days_from_the_cut_are_unchanged(warehouse):
    # Stored: a on the 3rd (1.0) and 20th (2.0) of February, b on the 5th (3.0) and 18th (4.0), and d written
    # out of day order: the 22nd (9.0) before the 4th (8.0). The update from 2026-02-15 on gives a's 20th
    # again unchanged, b's 18th changed (4.0 → 6.0) and d's 22nd unchanged.
    ratio = _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 2.0),
                         ("b", "2026-02-05", "core", 3.0), ("b", "2026-02-18", "core", 4.0),
                         ("d", "2026-02-22", "core", 9.0), ("d", "2026-02-04", "core", 8.0)])
    replace_cube(warehouse, {"ratio": ratio}, pl.DataFrame(), from_day=None, deployments_from=None, seen_seq=0)
    _mark_stored_chunks(warehouse)

    update = _ratio_rows([("a", "2026-02-20", "web", 2.0), ("b", "2026-02-18", "core", 6.0),
                          ("d", "2026-02-22", "core", 9.0)])
    replace_cube(warehouse, {"ratio": update}, pl.DataFrame(), from_day=dt.date(2026, 2, 15),
                 deployments_from=None, seen_seq=0)

    # a keeps its stored chunk (still tagged: 2 + 1000); b is written again with its 5th before the new 18th;
    # d, not in day order, is written again as its earlier day (the 4th) then the update's 22nd.
    assert _chunk_counts(warehouse) == {("ratio", "0000-00"): 1000, ("ratio:a", "2026-02"): 1002,
                                        ("ratio:b", "2026-02"): 2, ("ratio:d", "2026-02"): 2}
    expected = _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 2.0),
                            ("b", "2026-02-05", "core", 3.0), ("b", "2026-02-18", "core", 6.0),
                            ("d", "2026-02-04", "core", 8.0), ("d", "2026-02-22", "core", 9.0)])
    assert_frame_equal(read_cube_parts(warehouse)["ratio"], expected)


def test_a_stored_chunk_holding_its_earlier_days_and_the_new_rows_is_kept_as_it_is():
    from warehouse.cube_store import _kept_before

    old = _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 2.0), ("a", "2026-02-21", "web", 5.0)])
    same = _ratio_rows([("a", "2026-02-20", "web", 2.0), ("a", "2026-02-21", "web", 5.0)])
    assert _kept_before(old, same, dt.date(2026, 2, 15)) is old  # neither copied nor compared whole
    changed = _ratio_rows([("a", "2026-02-20", "web", 2.0)])
    assert_frame_equal(_kept_before(old, changed, dt.date(2026, 2, 15)),
                       _ratio_rows([("a", "2026-02-03", "web", 1.0), ("a", "2026-02-20", "web", 2.0)]))
    assert_frame_equal(_kept_before(old, old.clear(), dt.date(2026, 2, 1)), old.clear())  # no earlier day: emptied


@pytest.mark.postgres
def test_postgresql_reads_through_libpq_or_else_connectorx_and_sqlalchemy_the_same(postgres_schema_url, monkeypatch):
    import warehouse.cube_store as cube_store
    from warehouse import libpq, open_warehouse
    from warehouse.cube_store import read_cube_months

    wh = open_warehouse(postgres_schema_url)
    try:
        ratio = _ratio_rows([("a", "2026-01-10", "web", 1.0), ("b", "2026-02-03", None, 2.0),
                             ("b", "2026-03-03", "core", 3.0)])
        replace_cube(wh, {"ratio": ratio}, pl.DataFrame(), from_day=None, deployments_from=None, seen_seq=0)

        def no_connectorx(*args):
            raise AssertionError("read through connectorx")

        opened = []
        connect = libpq.connect
        with monkeypatch.context() as patch:
            patch.setattr(cube_store, "read_arrow", no_connectorx)
            patch.setattr(libpq, "connect", lambda *args: opened.append(args) or connect(*args))
            ours = read_cube_parts(wh)  # libpq, the chunks read in place in its result
            ours_months = read_cube_months(wh, {"2026-01"}, ["spend"])  # January and the latest month, March
        assert len(opened) == 2
        monkeypatch.setattr(libpq, "load", lambda: None)  # no libpq found: connectorx, SQLAlchemy's psycopg
        theirs, theirs_months = read_cube_parts(wh), read_cube_months(wh, {"2026-01"}, ["spend"])
        assert sorted(ours) == sorted(theirs) == ["ratio"]
        assert_frame_equal(ours["ratio"], theirs["ratio"])
        assert_frame_equal(ours["ratio"], ratio)
        assert_frame_equal(ours_months["ratio"], theirs_months["ratio"])
        assert_frame_equal(ours_months["ratio"], ratio.filter(pl.col("day").dt.month() != 2))
    finally:
        wh.engine.dispose()


def test_early_parts_are_handed_over_before_the_rest_is_read_and_the_whole_reads_the_same(warehouse):
    ratio = _ratio_rows([("a", "2026-01-10", "web", 1.0), ("b", "2026-02-03", "core", 4.0)])
    values = pl.DataFrame({"metric": ["lead_time_hours"] * 2, "day": [dt.date(2026, 1, 5), dt.date(2026, 2, 7)],
                           "team": ["web", "core"], "segment": ["ai", None], "value": [3.5, 12.0]})
    span = pl.DataFrame({"first": [None], "last": [None]}, schema={"first": UTC, "last": UTC})
    replace_cube(warehouse, {"ratio": ratio, "values": values, "span": span}, pl.DataFrame(), from_day=None,
                 deployments_from=None, seen_seq=0)
    handed = []

    parts = read_cube_parts(warehouse, early=["values"], on_early=lambda early: handed.append(dict(early)))

    # Handed over once, with the values part alone; the result holds every part, as one read gives them.
    assert len(handed) == 1 and sorted(handed[0]) == ["values"]
    assert_frame_equal(handed[0]["values"], values)
    whole = read_cube_parts(warehouse)
    assert sorted(parts) == sorted(whole) == ["ratio", "span", "values"]
    for name in whole:
        assert_frame_equal(parts[name], whole[name])
