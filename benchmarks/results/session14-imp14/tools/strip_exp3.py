import time, polars as pl
import connectors.csv.reader as r
from config import Config
raw = pl.read_csv("benchmarks/data/csv-large/pull_requests.csv", infer_schema=False)
raw = raw.with_columns(r.blank_to_null(pl.col("id"))).rechunk()
order = raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series()
entity = r.entity_named("pull_requests"); cfg = Config()
def run(src, strip):
    acc = {}
    def t(name, f):
        c = time.process_time(); x = f(); acc[name] = acc.get(name, 0) + time.process_time() - c; return x
    for s in range(0, src.height, 131072):
        rows = order.slice(s, 131072)
        g = t("gather", lambda: src[rows])
        piece = t("strip", lambda: r._blanks_stripped(g, but="id")) if strip else g
        parsed, problems = t("parse", lambda: r._parse_fields(piece, entity, nul_bytes=False, rows=rows))
        t("problems", lambda: r._row_problems(parsed, piece, entity, rows=rows))
        t("to_table", lambda: r._to_table(entity, parsed, piece, cfg))
    return {k: round(v, 3) for k, v in acc.items()}, round(sum(acc.values()), 3)
for _ in range(2):
    print("A current", run(raw, True), flush=True)
    c = time.process_time(); whole = r._blanks_stripped(raw, but="id"); w = time.process_time() - c
    print("B whole strip", round(w, 3), run(whole, False), flush=True)
    del whole
