"""Compare two page dumps of adopt10-prof.py: every element's proto, tables, metrics, texts, charts."""
import math
import pickle
import sys

a, b = (pickle.load(open(p, "rb")) for p in sys.argv[1:3])
ok = True
for key in ("tables", "metrics", "texts", "charts"):
    x, y = a[key], b[key]
    if len(x) != len(y):
        print(f"{key}: {len(x)} vs {len(y)}")
        ok = False
        continue
    same = sum(1 for i, j in zip(x, y) if i == j)
    print(f"{key}: {same} of {len(x)} equal" + (f" ({sum(len(t) for t in x)} rows)" if key == "tables" else ""))
    for n, (i, j) in enumerate(zip(x, y)):
        if i == j:
            continue
        ok = False
        if key == "tables":
            worst = 0.0
            cells = 0
            for r1, r2 in zip(i, j):
                for c in r1:
                    v1, v2 = r1[c], r2.get(c)
                    if v1 != v2:
                        cells += 1
                        if isinstance(v1, float) and isinstance(v2, float) and not (math.isnan(v1) or math.isnan(v2)):
                            worst = max(worst, abs(v1 - v2) / max(abs(v1), abs(v2), 1e-300))
                        else:
                            worst = math.inf
                            print("   ", c, repr(v1), repr(v2))
            print(f"  table {n}: {len(i)} vs {len(j)} rows, {cells} cells differ, worst relative {worst:.3g}")
        else:
            print(f"  {key} {n}: {str(i)[:300]!r}\n   vs {str(j)[:300]!r}")
ea, eb = a["elements"], b["elements"]
diff = [(n, t1, t2) for n, ((t1, p1), (t2, p2)) in enumerate(zip(ea, eb)) if (t1, p1) != (t2, p2)]
print(f"elements: {len(ea)} vs {len(eb)}, {len(diff)} differ: {[(n, t) for n, t, _ in diff][:20]}")
print("EQUAL" if ok and not diff and len(ea) == len(eb) else "DIFFERENT")
