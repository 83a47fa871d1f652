"""Whether two `scorecard metrics --format json` outputs hold the same records (before/after a change).

    python -m benchmarks.compare_records BEFORE.json AFTER.json

Same records in the same order with the same keys; text, integers, booleans and nulls equal; floats
equal to 1e-9 relative. Prints the first differences and exits 1 when there are any.
"""
from __future__ import annotations

import json
import math
import sys

REL = 1e-9


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
            return False
        a, b = float(a), float(b)
        return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=0.0)
    return type(a) is type(b) and a == b


def differences(before: list[dict], after: list[dict], limit: int = 10) -> list[str]:
    found = []
    if len(before) != len(after):
        found.append(f"{len(before)} records before, {len(after)} after")
    for i, (x, y) in enumerate(zip(before, after)):
        if list(x) != list(y):
            found.append(f"record {i}: keys {list(x)} != {list(y)}")
        else:
            found += [f"record {i} ({x.get('metric')} {x.get('period')} {x.get('team')} {x.get('segment')}): "
                      f"{k} {x[k]!r} != {y[k]!r}" for k in x if not same(x[k], y[k])]
        if len(found) >= limit:
            break
    return found[:limit]


def main(argv: list[str] | None = None) -> int:
    before_path, after_path = (argv if argv is not None else sys.argv[1:])
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    found = differences(before, after)
    for line in found:
        print(line)
    if not found:
        print(f"{len(after):,} records equal (floats to {REL:g} relative)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
