"""The import benchmark's stock-loader side builds the same secondary indexes the warehouse keeps."""
from __future__ import annotations

import sqlite3

import pytest

from benchmarks.imports import REFERENCE_COLUMNS, reference_indexes
from warehouse import open_warehouse


@pytest.mark.parametrize("entity", sorted(REFERENCE_COLUMNS))
def test_the_reference_table_gets_the_warehouses_indexes_on_the_same_columns(tmp_path, entity):
    warehouse = open_warehouse(f"sqlite:///{tmp_path}/warehouse.db")
    ours = sqlite3.connect(warehouse.sqlite_path)
    have = {name for name, _, _ in REFERENCE_COLUMNS[entity]}  # the file's columns (not the decided AI flag)
    wanted = {
        name: [row[2] for row in ours.execute(f"PRAGMA index_info('{name}')") if row[2] in have]
        for (name, sql) in ours.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                         "AND sql IS NOT NULL", (entity,))
        # A partial index (the PRs naming a revert or an AI tool, those never merged naming an AI signal) holds a few
        # rows the import decides: the reference leaves it out (benchmarks.imports.reference_indexes), a whole-table
        # index would not be its equal.
        if " WHERE " not in sql.upper()
    }
    ours.close()
    warehouse.engine.dispose()

    reference = sqlite3.connect(tmp_path / "reference.db")
    cols = ", ".join(f"{n} {t}" for n, t, _ in REFERENCE_COLUMNS[entity])
    reference.execute(f"CREATE TABLE {entity} ({cols}, PRIMARY KEY (id))")
    for statement in reference_indexes(entity):
        reference.execute(statement.format(table=entity))
    built = {
        name: [row[2] for row in reference.execute(f"PRAGMA index_info('{name}')")]
        for (name,) in reference.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                         "AND sql IS NOT NULL", (entity,))
    }
    reference.close()

    assert built == wanted
    # tickets: resolved_at; pull_requests: migration 0008's four
    assert len(built) == {"tickets": 1, "pull_requests": 4}[entity]
