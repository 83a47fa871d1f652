import time, polars as pl
import connectors.csv.reader as r
raw = pl.read_csv("benchmarks/data/csv-large/pull_requests.csv", infer_schema=False)
raw = raw.with_columns(r.blank_to_null(pl.col("id"))).rechunk()
order = raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series()
def t(name, f, n=2):
    best = 9e9
    for _ in range(n):
        c0 = time.process_time(); x = f(); best = min(best, time.process_time() - c0)
    print(f"{name}: {best:.3f}", flush=True); return x
t("whole strip", lambda: r._blanks_stripped(raw, but="id"))
slices = [raw[order.slice(s, 131072)] for s in range(0, raw.height, 131072)]
t("slices strip (gathered)", lambda: [r._blanks_stripped(g, but="id") for g in slices])
t("slices strip seq", lambda: [g.select([r.blank_to_null(pl.col(c)).alias(c) for c in g.columns if c != "id"]) for g in slices])
t("slices gc first", lambda: [r._blanks_stripped(g.select(pl.all().cast(pl.String)), but="id") for g in slices])
contig = [raw.slice(s, 131072) for s in range(0, raw.height, 131072)]
t("contiguous slices strip", lambda: [r._blanks_stripped(g, but="id") for g in contig])
t("whole gathered strip", lambda: r._blanks_stripped(raw[order], but="id"))
