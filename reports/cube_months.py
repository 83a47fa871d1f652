"""The stored cube read by month, for a command that reports one range (`scorecard metrics`): what the range
and the baselines are found from first (the outline), then only the months the range and the baseline
windows lie in (at 1M PRs, a tenth of the cube's 200 MB).

`open_current_cube` reads them through `warehouse.readonly` (no SQLAlchemy, one connection, one snapshot)
when reading needs no write: the schema at the code's head, the stored cube built for this config with no
write pending, and (a writable warehouse) this config's version already in the change history. Otherwise
it returns None and the caller takes the ordinary way (reports.data.load_cube_outline / load_cube_days),
which migrates, folds pending writes in or rebuilds, and records the config version. `start_current_cube`
does the same on PostgreSQL in a thread, while the caller loads the modules it needs next.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from config.model import Config
from metrics.cube import CUBE_FORMAT, Cube


def cube_fingerprint(config: Config) -> str:
    """What, besides the data, decides the cube's numbers."""
    shaping = {
        "format": CUBE_FORMAT,
        "teams": {name: [sorted(t.repos), sorted(t.services)] for name, t in sorted(config.teams.items())},
        "production_environments": sorted(e.lower() for e in config.rules.production_environments),
        "rollback_window_days": config.rules.rollback_window_days,
        "change_chain": [
            config.rules.incident_link_hours, config.rules.rework_window_days, sorted(config.rules.fix_labels),
            config.rules.fix_title_pattern, sorted(config.rules.senior_levels), sorted(config.people.senior),
            {name: sorted(s.repos) for name, s in sorted(config.services.items())},
        ],
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def whole_history_parts() -> list[str]:
    """The stored parts (besides span and seniors, stored whole) a report reads over all their days: spend
    and units (the cost metric's own baseline starts at the first week with spend), the adoption metric's
    counts (the adoption week places the default baseline), and every per-day metric's counts (it has a
    record, 0 if need be, for each team that ever had an event)."""
    from metrics.baseline import ADOPTION_METRIC
    from metrics.registry import METRICS

    counted = [ADOPTION_METRIC, *(spec.id for spec in METRICS.values() if spec.kind == "per_day")]
    return ["spend", "units", *(f"{METRICS[m].cube_table}:{m}" for m in counted)]


def months_of(spans: list[tuple[dt.date, dt.date]]) -> set[str]:
    """The cube's chunk names (YYYY-MM) of the months the (first, last) day spans touch."""
    months = set()
    for first, last in spans:
        month = first.replace(day=1)
        while month <= last:
            months.add(f"{month.year:04d}-{month.month:02d}")
            month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


class CurrentCube:
    """The stored cube of a warehouse that needs no write to be read, open for reading by month (see the
    module's docstring); close it (or use `with`) when read."""

    def __init__(self, connection, reader=None):
        """`reader`: the connection's MonthReader when its outline was fetched already (reports.early_cube)."""
        from warehouse.cube_chunks import MonthReader

        self._connection = connection
        self._months = reader or MonthReader(lambda sql: connection.rows(sql, bytea_in_place=True),
                                             whole_history_parts())

    def fetch_outline(self) -> None:
        """Fetch the outline's chunks without assembling them (see `start_current_cube`)."""
        self._months.fetch(set())

    def outline(self) -> Cube:
        """As reports.data.load_cube_outline: the whole-history parts and the latest month of every part."""
        return Cube(**self._months.read(set()))

    def days(self, spans: list[tuple[dt.date, dt.date]]) -> Cube:
        """As reports.data.load_cube_days: the outline's parts and the months `spans` touch.

        The values table is assembled first and its rows made ready for the compute on the worker threads
        (metrics.scorecard.values_ahead: lead time's rows into arrays and ranked by value, the compute's
        slowest first step) while this thread assembles the rest, as reports.derived.stored_cube does."""
        from metrics.scorecard import values_ahead

        hand_to = []

        def values_read(early: dict) -> None:
            if "values" in early:
                hand_to.append(values_ahead(early["values"]))

        cube = Cube(**self._months.read(months_of(spans), early=["values"], on_early=values_read))
        for hand in hand_to:
            hand(cube)
        return cube

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> CurrentCube:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_current_cube(config: Config) -> CurrentCube | None:
    """The warehouse's stored cube when reading it needs no write (see the module's docstring), else None."""
    from warehouse.readonly import open_read_only

    connection = open_read_only(config.warehouse.url,
                                base_dir=Path(config.source_path).parent if config.source_path else None)
    if connection is None:
        return None
    try:
        if connection.at_head() and _cube_is_current(connection, config) and (
                connection.read_only or _config_version_recorded(connection, config)):
            return CurrentCube(connection)
    except BaseException:
        connection.close()
        raise
    connection.close()
    return None


class OpeningCube:
    """`open_current_cube` under way (`start_current_cube`); `result()` waits for it."""

    def __init__(self, config: Config):
        import threading

        self._config = config
        self._current: CurrentCube | None = None
        self._error: BaseException | None = None
        self._thread = None
        if config.warehouse.url.startswith("sqlite"):
            # Here: a SQLite file is held by the thread that opens it (warehouse.sqlite_guard), and reading
            # it is this process's own work, not a wait.
            self._open()
            return
        # A daemon: an interrupted command does not wait for a server that does not answer.
        self._thread = threading.Thread(target=self._open, name="open-current-cube", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            current = open_current_cube(self._config)
            if current is not None:
                try:
                    current.fetch_outline()
                except BaseException:
                    current.close()
                    raise
            self._current = current
        except BaseException as exc:  # raised again in the caller's thread, by `result`
            self._error = exc

    def result(self) -> CurrentCube | None:
        """What `open_current_cube` returns (its outline's chunks fetched), or the error it raised."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._current


def start_current_cube(config: Config) -> OpeningCube:
    """`open_current_cube(config)` and the fetch of the outline's chunks, started in a thread on PostgreSQL:
    the caller's thread goes on meanwhile (libpq waits for the server without holding Python's lock), e.g.
    loading the modules it needs next; `result()` gives the CurrentCube, or None. On SQLite, done at once."""
    return OpeningCube(config)


def state_is_current(fingerprint: str, pending_from, pending_full, config: Config) -> bool:
    """A stored cube's state (cube_state) says it can be read as it is: built for this config, no write
    pending."""
    return fingerprint == cube_fingerprint(config) and not pending_full and pending_from is None


def _cube_is_current(connection, config: Config) -> bool:
    """reports.data.cube_is_current through the reader."""
    rows = connection.rows("SELECT fingerprint, pending_from, pending_full FROM cube_state WHERE id = 1")
    return bool(rows) and state_is_current(*rows[0], config)


def _config_version_recorded(connection, config: Config) -> bool:
    """Whether the change history's last record is this config's version (app/cli/base._warehouse writes
    one otherwise: the ordinary way then)."""
    from governance.changes import LAST_CONFIG_VERSION_SQL, is_recorded

    rows = connection.rows(LAST_CONFIG_VERSION_SQL)
    return is_recorded(json.loads(rows[0][0]) if rows and rows[0][0] else None, config)
