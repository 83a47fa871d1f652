"""Two SQLite library copies never have the same file open at once within a process."""
import threading
import time

import pytest

from warehouse import read_table
from warehouse import sqlite_guard


def test_a_reader_of_another_library_waits_until_the_connection_closes(sqlite_warehouse):
    order = []
    conn = sqlite_warehouse.engine.connect()  # sqlite3 holds the file
    reader = threading.Thread(target=lambda: (read_table(sqlite_warehouse, "tickets"), order.append("read")))
    reader.start()
    time.sleep(0.3)
    order.append("closing")
    conn.close()
    reader.join(timeout=10)
    assert order == ["closing", "read"]


def test_the_same_library_may_overlap_and_nesting_another_library_is_refused(sqlite_warehouse):
    with sqlite_warehouse.engine.connect(), sqlite_warehouse.engine.connect():
        with pytest.raises(RuntimeError, match="two SQLite copies must not share a file"):
            read_table(sqlite_warehouse, "tickets")
    assert read_table(sqlite_warehouse, "tickets").height == 0  # released: usable again


def test_postgres_paths_are_not_guarded():
    with sqlite_guard.using(None, "connectorx"), sqlite_guard.using(None, "adbc"):
        pass
