"""Compare two dumps of /tmp/gov10/page.py: tables (every cell), metrics, texts, charts, every element's proto."""
import math
import pickle
import sys

a, b = (pickle.load(open(p, "rb")) for p in sys.argv[1:3])
ok = True
for key in ("tables", "metrics", "texts", "charts", "elements"):
    x, y = a[key], b[key]
    if len(x) != len(y):
        print(f"{key}: {len(x)} vs {len(y)} DIFFER")
        ok = False
        continue
    bad = [n for n, (i, j) in enumerate(zip(x, y)) if i != j]
    extra = f" ({sum(len(t) for t in x)} rows)" if key == "tables" else ""
    print(f"{key}: {len(x) - len(bad)} of {len(x)} equal{extra}")
    for n in bad:
        i, j = x[n], y[n]
        if key != "tables" or len(i) != len(j):
            ok = False
        if key == "tables":
            cells, worst = 0, 0.0
            for r1, r2 in zip(i, j):
                for c in r1:
                    v1, v2 = r1[c], r2.get(c)
                    if v1 != v2 and not (isinstance(v1, float) and isinstance(v2, float) and math.isnan(v1) and math.isnan(v2)):
                        cells += 1
                        if isinstance(v1, float) and isinstance(v2, float):
                            worst = max(worst, abs(v1 - v2) / max(abs(v1), abs(v2), 1e-300))
                            ok = False
                        else:
                            worst = math.inf
                            ok = False
                            if cells < 5:
                                print("    ", c, repr(v1)[:120], repr(v2)[:120])
            print(f"  table {n}: {len(i)} vs {len(j)} rows, {cells} cells differ, worst relative {worst:.3g}")
        elif key == "elements":
            print(f"  element {n}: {i[0]} vs {j[0]}")
        else:
            print(f"  {key} {n}: {str(i)[:200]!r}\n     vs {str(j)[:200]!r}")
print("EQUAL" if ok else "DIFFERENT")
