"""The Delivery page's two tables (incidents with their causes, failed deployments) for a few ranges and
teams, written as Parquet: run once in a worktree of main (the range's change chain, as the page made them)
and once in deliv9's (the facts kept beside the cube), each on its own copy of the same warehouse, then
`compare` them. Not a benchmark: the evidence that every row, column and order stays.

    python deliv9_delivery_tables.py write URL OUT_DIR
    python deliv9_delivery_tables.py compare OLD_DIR NEW_DIR
"""
import datetime as dt
import json
import sys
import time
from pathlib import Path

import polars as pl


def cases(wh, config):
    from metrics.periods import latest_complete_range
    from reports.data import load_cube
    from reports.filters import Filters
    cube = load_cube(wh, config)
    last = cube.last_day()
    today = dt.datetime.now(dt.timezone.utc).date()
    week = latest_complete_range(last, today, "week")
    month = latest_complete_range(last, today, "month")
    teams = cube.teams()
    out = {"week_default": Filters(grain="week", start=week[0], end=week[1]),
           "month_default": Filters(grain="month", start=month[0], end=month[1]),
           "year_weekly": Filters(grain="week", start=week[1] - dt.timedelta(days=365), end=week[1])}
    for team in teams[:3]:
        out[f"week_default_{team}"] = Filters(grain="week", start=week[0], end=week[1], team=team)
    return out


def write(url, out_dir):
    from app.views import delivery
    from config import Config, WarehouseConfig
    from warehouse import open_warehouse
    config = Config(warehouse=WarehouseConfig(url=url))
    wh = open_warehouse(url)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    new = "deployments" in delivery.failed_deployments.__code__.co_varnames[:1]
    meta = {}
    for name, filters in cases(wh, config).items():
        t0 = time.process_time()
        if new:
            from warehouse.cube_store import read_facts
            incidents = delivery.linked_incidents(read_facts(wh, "incident_facts", filters.start), filters)
            failed = delivery.failed_deployments(read_facts(wh, "failed_facts", filters.start), filters)
        else:
            from app import state
            from metrics.scorecard import prepare
            from reports.data import load_evidence_since
            chain = prepare(load_evidence_since(wh, config, filters.start, state.CHANGES,
                                                state._columns(state.VERDICT_COLUMNS), reviewed_prs=False), config).chain
            incidents = delivery.linked_incidents(chain, filters)
            failed = delivery.failed_deployments(chain, filters)
        meta[name] = {"filters": str(filters), "cpu_s": round(time.process_time() - t0, 2),
                      "incidents": incidents.height, "failed": failed.height}
        incidents.write_parquet(out / f"{name}-incidents.parquet")
        failed.write_parquet(out / f"{name}-failed.parquet")
        print(name, meta[name], flush=True)
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def compare(old_dir, new_dir):
    from polars.testing import assert_frame_equal
    ok = True
    for path in sorted(Path(old_dir).glob("*.parquet")):
        old, new = pl.read_parquet(path), pl.read_parquet(Path(new_dir) / path.name)
        by = "started_at" if "started_at" in old.columns else "finished_at"
        ties = old.height - old.select(by).n_unique()
        try:
            assert_frame_equal(old, new)  # exact: every value, column, dtype and the order
            print(f"{path.name}: {old.height} rows equal, in the same order (ties on {by}: {ties})")
        except AssertionError as exc:
            ok = False
            print(f"{path.name}: DIFFERENT ({old.height} vs {new.height} rows; ties on {by}: {ties}): {exc}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"write": write, "compare": compare}[sys.argv[1]](*sys.argv[2:])
