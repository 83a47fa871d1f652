import time, polars as pl, pyarrow as pa, pyarrow.compute as pc, numpy as np
raw = pl.read_csv("benchmarks/data/csv-large/pull_requests.csv", infer_schema=False, columns=["id"]).rechunk()
ids = raw.get_column("id")
def t(name, f):
    c, w = time.process_time(), time.perf_counter(); r = f(); print(f"{name:40s} cpu {time.process_time()-c:.3f} wall {time.perf_counter()-w:.3f}"); return r
a = t("polars arg_sort 1 thread", lambda: raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series())
b = t("polars arg_sort mt", lambda: raw.select(pl.arg_sort_by("id", multithreaded=True)).to_series())
arr = ids.to_arrow()
c = t("pyarrow sort_indices", lambda: pc.sort_indices(arr))
print((a == b).all(), (a.to_numpy() == c.to_numpy()).all())
# common prefix strip then sort
def stripped():
    n = ids.str.len_bytes().min()
    first = ids[0]
    # longest common prefix of min and max suffices for sorted order
    lo, hi = ids.min(), ids.max()
    k = 0
    while k < min(len(lo), len(hi)) and lo[k] == hi[k]: k += 1
    s = ids.str.slice(k)
    return pl.DataFrame({"s": s}).select(pl.arg_sort_by("s", multithreaded=False)).to_series()
d = t("prefix stripped arg_sort", stripped)
print((a == d).all())
