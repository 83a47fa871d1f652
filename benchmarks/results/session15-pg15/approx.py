"""page_elements content compared with numbers equal to 1e-12 relative (sums' order), all else exact."""
import json, sys, collections, math
sys.path.insert(0, "/work/wt/pg15")
from benchmarks.page_elements import content, VOLATILE
def atoms(p):
    return content([{k: v for k, v in e.items() if k not in VOLATILE} for e in json.load(open(p))["elements"]])
def num(x):
    try: return float(x)
    except (TypeError, ValueError): return None
def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if a == b: return True
    x, y = num(a), num(b)
    return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)
a, b = atoms(sys.argv[1]), atoms(sys.argv[2])
oa = sorted((collections.Counter(a) - collections.Counter(b)).elements())
ob = sorted((collections.Counter(b) - collections.Counter(a)).elements())
unmatched = list(ob)
bad = 0
for x in oa:
    hit = next((y for y in unmatched if same(json.loads(x), json.loads(y))), None)
    if hit is None: bad += 1; print("only before:", x[:300])
    else: unmatched.remove(hit)
for y in unmatched: bad += 1; print("only after:", y[:300])
print(f"{len(a)} parts; exact-differing {len(oa)}; differing beyond 1e-12: {bad}")
