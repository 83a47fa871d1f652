import time, polars as pl, pyarrow as pa, pyarrow.compute as pc
raw = pl.read_csv("benchmarks/data/csv-large/pull_requests.csv", infer_schema=False, columns=["id"]).rechunk()
ids = raw.get_column("id")
def t(name, f, n=3):
    best = 9e9
    for _ in range(n):
        c0 = time.process_time(); w0 = time.perf_counter(); r = f(); c = time.process_time() - c0; w = time.perf_counter() - w0
        best = min(best, c)
    print(f"{name}: cpu {best:.3f} wall {w:.3f}", flush=True)
    return r
a = t("arg_sort single", lambda: raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series())
b = t("arg_sort multi", lambda: raw.select(pl.arg_sort_by("id", multithreaded=True)).to_series())
cat = t("binary cast + argsort", lambda: ids.cast(pl.Binary).arg_sort(multithreaded=False))
t("pyarrow sort_indices", lambda: pc.sort_indices(ids.to_arrow()))
t("pyarrow large_string sort_indices", lambda: pc.sort_indices(ids.to_arrow().cast(pa.large_string())))
p = ids.str.slice(15)
t("cut prefix argsort", lambda: p.arg_sort(multithreaded=False))
# split into repo and number
t("gather ids", lambda: ids.gather(a))
print((a == cat).all())
