"""Reading the stored cube's chunks (`cube_chunks`): which rows a report of some months needs, and how the
Arrow IPC chunks become one polars frame per part. No SQLAlchemy: `warehouse.cube_store` runs these
queries through the engine, `scorecard metrics` through `warehouse.readonly`.

A daily part is stored as one chunk per month (and per metric, part "ratio:rework_rate"), named YYYY-MM;
a part stored whole (span, seniors) as one chunk `WHOLE`; every daily part keeps an empty chunk
`SCHEMA_ONLY` that gives its columns when no month of it is read.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

WHOLE = "all"  # the chunk name of a part stored whole (span, seniors)
SCHEMA_ONLY = "0000-00"  # a daily part's empty chunk, sorted before every month
# Daily parts kept beside the cube, by the same upkeep, that are not the cube's: one row per merged or shipped
# PR (metrics.cube.pr_facts), read by the Adoption page for its range; the resolved tickets counted per
# day, team and channel (metrics.cube.ticket_facts), read by the Support page for its range; and one per
# incident and per failed deployment (metrics.cube.delivery_facts), read by the Delivery page for its range
# (warehouse.cube_store.read_facts); the spend summed per day, source, tool and model
# (reports.adoption_data.spend_sums_by_day), read by the Adoption page, and per day, team, tool, model and
# workflow (metrics.cube.spend_rollup), read by the AI spend page for its range; and one per PR × AI identity
# on the PR's day (governance.inventory.identity_facts), read whole by the Governance page; never by a reader
# of the cube (every query below leaves them out).
FACT_PARTS = ("pr_facts", "ship_facts", "ticket_facts", "incident_facts", "failed_facts", "spend_sums", "spend_rollup",
              "identity_facts")
NOT_FACTS = "part NOT IN (" + ", ".join(f"'{p}'" for p in FACT_PARTS) + ")"


def _names(values: Iterable[str]) -> str:
    """SQL string literals of chunk and part names (made here and by the cube, never user input)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def months_sql(months: set[str], whole_parts: list[str]) -> str:
    """The chunks of `months` (YYYY-MM) and of the latest month, every chunk of `whole_parts`, the parts
    stored whole and every part's empty schema chunk: what a report of those months reads."""
    return (f"SELECT part, chunk, data FROM cube_chunks WHERE {NOT_FACTS} AND"
            f" (chunk IN ({_names({SCHEMA_ONLY, WHOLE, *months})})"
            f" OR part IN ({_names(whole_parts)})"
            f" OR chunk = (SELECT max(chunk) FROM cube_chunks WHERE chunk <> '{WHOLE}'))")


class MonthReader:
    """The stored cube read by month in two steps over one connection (`rows(sql)` → (part, chunk, bytes or
    another buffer)): `read(set())` gives what `months_sql` gives for no month (the outline a report's
    range is found from), a later `read(months)` fetches only the chunks of `months` not fetched before and
    assembles them with the earlier ones: the same frames as `months_sql(months, …)`, without reading the
    outline's chunks twice. `fetch` runs the query alone, without assembling (a thread can wait on the
    warehouse with it while another loads the modules that assemble)."""

    def __init__(self, rows, whole_parts: list[str]):
        self._rows = rows
        self._whole_parts = list(whole_parts)
        self._chunks: dict[tuple[str, str], bytes] = {}
        self._months: set[str] = set()  # the months whose chunks are in _chunks
        self._latest: str | None = None  # the latest month, known after the first read

    @property
    def latest(self) -> str | None:
        """The latest month's chunk name once the first read is fetched (SCHEMA_ONLY for a cube without
        months), else None."""
        return self._latest

    def fetch(self, months: set[str]) -> None:
        """Fetch the chunks `read(months)` assembles that are not fetched yet."""
        if self._latest is None:
            fetched = self._rows(months_sql(months, self._whole_parts))
            self._latest = max((chunk for _, chunk, _ in fetched if chunk != WHOLE), default=SCHEMA_ONLY)
        else:
            missing = set(months) - self._months - {self._latest}
            # The latest month and the whole-history parts were fetched by the first read.
            fetched = self._rows(f"SELECT part, chunk, data FROM cube_chunks WHERE chunk IN ({_names(missing)})"
                                 f" AND part NOT IN ({_names(self._whole_parts)}) AND {NOT_FACTS}") if missing else []
        self._months |= set(months)
        for part, chunk, data in fetched:
            self._chunks[(part, chunk)] = data

    def read(self, months: set[str], early: Collection[str] = (),
             on_early: Callable[[dict[str, pl.DataFrame]], None] | None = None) -> dict[str, pl.DataFrame]:
        """The frames of `months` (and the outline's); the families named in `early` are assembled first and
        handed to `on_early` before the rest are assembled (as warehouse.cube_store.read_cube_parts does)."""
        import pyarrow as pa

        self.fetch(months)
        wanted = {SCHEMA_ONLY, WHOLE, self._latest, *months}
        chunks = [(part, chunk, pa.py_buffer(data)) for (part, chunk), data in self._chunks.items()
                  if chunk in wanted or part in self._whole_parts]
        if not early or on_early is None:
            return assembled(chunks)
        first = assembled(c for c in chunks if c[0].split(":")[0] in early)
        on_early(dict(first))
        return {**first, **assembled(c for c in chunks if c[0].split(":")[0] not in early)}


def assembled(chunks: Iterable[tuple[str, str, pa.Buffer]]) -> dict[str, pl.DataFrame]:
    """(part, chunk, IPC bytes) as one frame per part family, its chunks by metric (the family's chunk
    without a metric first), then month: the rows in the order they were built."""
    import polars as pl
    import pyarrow as pa

    tables: dict[str, list[pa.Table]] = {}
    for part, _, data in sorted(chunks, key=lambda c: (c[0].split(":")[0], ":" in c[0], c[0], c[1])):
        tables.setdefault(part.split(":")[0], []).append(pa.ipc.open_file(data).read_all())
    return {family: pl.from_arrow(pa.concat_tables(frames), rechunk=False) for family, frames in tables.items()}
