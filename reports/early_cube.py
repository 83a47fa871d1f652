"""`scorecard metrics`: the stored cube's read begun before the configuration is loaded.

A fresh `scorecard metrics` spends its first ~0.2-0.3 s importing polars, numpy and the metric registry on
its one thread, and only then, with the configuration loaded, asked the warehouse for the stored cube
(reports.cube_months.start_current_cube): the schema check and the outline's chunks (11 MB at 1M PRs; on
PostgreSQL connecting too) came after the imports. Here they are begun at the command's start, from the
warehouse URL alone (reports.process.warehouse_url: the environment or the config file's `[warehouse]
url`, read without the configuration's validation), on a thread of its own: libpq waits for the server,
and SQLite reads its pages, without holding Python's lock, so the imports go on meanwhile. For the default
range (no --start/--end) the same thread then fetches the three months before the latest: the review
window's, which the report reads whatever the baselines turn out to be (`months_before`).

Nothing read here is used before the command's thread has checked it as `open_current_cube` checks it
(`EarlyCube.opening_for`): the configuration's URL (and, for a relative SQLite path, the folder it is
resolved in) is the one read early, the whole-history parts the reader asked for are the registry's
(`WHOLE_HISTORY_PARTS`, kept as a constant because the registry imports polars), and then, on the same
connection and snapshot, the cube's state is current for this configuration and its version recorded.
Anything else and the early read is closed and the usual way taken; a month fetched ahead that the report
does not read is left out of the cube it assembles (warehouse.cube_chunks.MonthReader).

A SQLite file is opened on the command's thread (warehouse.sqlite_guard holds a file per thread, and the
command's thread closes it); its connection is then read on the early thread.

This module imports no polars, numpy or SQLAlchemy: the thread starts before they load.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

# What reports.cube_months.whole_history_parts() gives for this code's registry (tests/reports/
# test_early_cube.py checks it); a registry that gave other parts only costs the early read (it is closed).
WHOLE_HISTORY_PARTS = ("spend", "units", "ratio:ai_merge_rate", "ratio:deployment_frequency")
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def months_before(month: str, count: int) -> set[str]:
    """The `count` chunk names (YYYY-MM) of the months before `month`."""
    year, number = int(month[:4]), int(month[5:7])
    months = set()
    for _ in range(count):
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
        months.add(f"{year:04d}-{number:02d}")
    return months


class EarlyCube:
    """The read-only connection to `url` (a relative SQLite path resolved in `base_dir`), its schema check,
    the outline's chunks and (with `speculate`) the three months before the latest, fetched on a daemon
    thread from construction on."""

    def __init__(self, url: str, *, speculate: bool, base_dir: Path | None = None):
        self.url = url
        self.base_dir = base_dir
        self._speculate = speculate
        self._connection = None
        self._reader = None
        self._at_head = False
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = False
        self._abandoned = False
        if url.startswith("sqlite"):
            from warehouse.readonly import open_read_only

            self._connection = open_read_only(url, base_dir=base_dir)  # here: held by this thread
        # A daemon: a command that fails before it reads (an unknown --metric) does not wait for the server.
        self._thread = threading.Thread(target=self._run, name="early-cube", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from warehouse.cube_chunks import SCHEMA_ONLY, MonthReader
        from warehouse.readonly import open_read_only

        try:
            if not self.url.startswith("sqlite"):
                self._connection = open_read_only(self.url)
            connection = self._connection
            if connection is not None and connection.at_head():
                self._at_head = True
                reader = MonthReader(lambda sql: connection.rows(sql, bytea_in_place=True), list(WHOLE_HISTORY_PARTS))
                reader.fetch(set())
                if self._speculate and reader.latest not in (None, SCHEMA_ONLY):
                    reader.fetch(months_before(reader.latest, 3))
                self._reader = reader
        except BaseException as exc:  # raised again in the command's thread, by `_Opening.result`
            self._error = exc
        finally:
            with self._lock:
                self._done = True
                abandoned = self._abandoned and not self.url.startswith("sqlite")
            if abandoned:
                self._close()

    def opening_for(self, config):
        """What `start_current_cube(config)` gives (an object whose `result()` is the CurrentCube or None)
        when `config`'s warehouse is the one read early; None (the early read closed) when it is not."""
        if config.warehouse.url != self.url or (self.url.startswith("sqlite") and _base_dir(config) != self.base_dir):
            self.abandon()
            return None
        return _Opening(self, config)

    def abandon(self) -> None:
        """Close the connection, now or (PostgreSQL, still reading) when the thread ends; for a command done
        with it. A SQLite file is closed on this thread, the one holding it, once the thread has read."""
        with self._lock:
            self._abandoned = True
            done = self._done
        if self.url.startswith("sqlite"):
            self._thread.join()
            done = True
        if done:
            self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # closing twice is nothing


class _Opening:
    def __init__(self, early: EarlyCube, config):
        self._early = early
        self._config = config

    def result(self):
        """As reports.cube_months.OpeningCube.result: the CurrentCube (its outline fetched), None for the
        ordinary way, or the connection's error."""
        from reports.cube_months import (
            CurrentCube, _config_version_recorded, _cube_is_current, open_current_cube, whole_history_parts,
        )

        early = self._early
        early._thread.join()
        if early._error is not None:
            early._close()
            raise early._error
        connection = early._connection
        if connection is None:
            return None
        if not early._at_head:
            connection.close()
            return None
        if list(WHOLE_HISTORY_PARTS) != whole_history_parts():  # another registry: read as usual
            connection.close()
            return open_current_cube(self._config)
        try:
            if _cube_is_current(connection, self._config) and (
                    connection.read_only or _config_version_recorded(connection, self._config)):
                return CurrentCube(connection, reader=early._reader)
        except BaseException:
            connection.close()
            raise
        connection.close()
        return None


def _base_dir(config) -> Path | None:
    """The folder a relative SQLite path of `config` is resolved in (reports.cube_months.open_current_cube)."""
    return Path(config.source_path).parent if config.source_path else None


def start_early(config_path, *, speculate: bool) -> EarlyCube | None:
    """An EarlyCube for the warehouse the command will use (`--config` given as `config_path`); None where
    its URL cannot be read without the configuration's validation (the command reads as before)."""
    from reports.process import CONFIG_ENV, CONFIG_FILE, warehouse_url

    url = warehouse_url(config_path)
    if not url or url.partition("://")[0] not in SCHEMES:
        return None
    # As config.load.load_config names the file and sets `source_path` (its folder resolves a relative path).
    file = Path(config_path) if config_path else Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) \
        else Path(CONFIG_FILE)
    base_dir = file.resolve().parent if file.exists() else None
    # Loaded here, on the command's thread, before the reader's thread starts: that thread then imports
    # nothing the command's thread may be importing at the same time.
    import warehouse.cube_chunks  # noqa: F401
    import warehouse.libpq  # noqa: F401
    import warehouse.readonly  # noqa: F401

    return EarlyCube(url, speculate=speculate, base_dir=base_dir)
