"""AI attribution's speed on large PR bodies: `python -m benchmarks.classify [--runs 5]`.

The unit test (tests/connectors/test_ai_detection.py) checks what 10,000 PRs with 62 MB of body text are
classified as; how long that takes is measured here, never in a test. Each run is a fresh process that
builds the same frame, compiles the patterns on ten rows, then times `classify_prs` on all of them; the
reference in the same run is one literal `str.contains` over the same bodies (polars, the floor any
pattern search pays to read the text). Prints the medians and their ratio as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def frame(n: int = 10_000):
    import polars as pl

    filler = ("Refactor the resolver so that lock files keep their order; see the discussion above. " * 700)[:60_000]
    bodies = [filler if i % 20 == 0 else filler[: 2_000 + i % 3_000] for i in range(n)]
    bodies = [b + ("\n\nCo-authored-by: Claude <noreply@anthropic.com>" if i % 7 == 0 else "") for i, b in enumerate(bodies)]
    return pl.DataFrame({
        "labels": [["bug"] if i % 5 else [] for i in range(n)], "author": [f"dev{i % 300}" for i in range(n)],
        "head_branch": [f"feature/{i}" for i in range(n)], "body": bodies,
        "commit_messages": [[f"Change {i}\n\nSigned-off-by: Dev <d@example.com>"] for i in range(n)],
    })


def _one(kind: str) -> dict:
    import polars as pl

    from config import AiDetectionConfig
    from connectors.common.ai_detection import classify_prs

    data = frame()
    classify_prs(data.head(10), AiDetectionConfig(), source="csv")  # compile the patterns once
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "product":
        out = classify_prs(data, AiDetectionConfig(), source="csv")
        found = int(out["ai_assisted"].sum())
    else:
        found = int(data["body"].str.contains("noreply@anthropic.com", literal=True).sum())
    return {"kind": kind, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "ai": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--one", choices=["product", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one)))
        return
    results: dict[str, list[dict]] = {"product": [], "reference": []}
    for _ in range(args.runs):  # alternate, so both sides see the same minutes of a shared machine
        for kind in results:
            out = subprocess.run([sys.executable, "-m", "benchmarks.classify", "--one", kind],
                                 capture_output=True, text=True, check=True).stdout
            results[kind].append(json.loads(out))
    summary = {kind: {"median_wall_s": statistics.median(r["wall_s"] for r in rows),
                      "median_cpu_s": statistics.median(r["cpu_s"] for r in rows), "ai": rows[0]["ai"]}
               for kind, rows in results.items()}
    summary["ratio_wall"] = summary["product"]["median_wall_s"] / summary["reference"]["median_wall_s"]
    summary["load_average"] = os.getloadavg()[0]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
