import time, polars as pl
import connectors.csv.reader as r
from config import Config
from warehouse.schema import TABLES
from warehouse.types import polars_schema, to_storage
path = "benchmarks/data/csv-large/pull_requests.csv"
raw = r._read_strings(r.Path(path))
raw, _ = r._check_header(raw, r.entity_named("pull_requests"), r.Path(path))
raw = raw.with_columns(r.blank_to_null(pl.col("id"))).rechunk()
order = raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series()
entity = r.entity_named("pull_requests"); cfg = Config()
acc = {}
def t(name, f):
    c = time.process_time(); x = f(); acc[name] = acc.get(name, 0) + time.process_time() - c; return x
table = TABLES["pull_requests"]
for start in range(0, raw.height, 131072):
    rows = order.slice(start, 131072)
    g = t("gather", lambda: raw[rows])
    piece = t("strip", lambda: r._blanks_stripped(g, but="id"))
    parsed, problems = t("parse_fields", lambda: r._parse_fields(piece, entity, nul_bytes=False, rows=rows))
    t("row_problems", lambda: r._row_problems(parsed, piece, entity, rows=rows))
    tab = t("to_table", lambda: r._to_table(entity, parsed, piece, cfg))
    cast = t("cast", lambda: tab.cast(polars_schema(table, tab.columns)))
    t("to_storage", lambda: [to_storage(cast.slice(s, 16384), table, "postgresql") for s in range(0, cast.height, 16384)])
print({k: round(v, 3) for k, v in acc.items()}, round(sum(acc.values()), 3))
