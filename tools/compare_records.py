"""Every scorecard record of the demo, written to one file, and two such files compared: the check that a
refactor of the metrics (issue 14: the executable registry) leaves every number as it was.

    python -m tools.compare_records write BEFORE.parquet       # on the code before the change
    python -m tools.compare_records write AFTER.parquet        # on the code after it
    python -m tools.compare_records compare BEFORE.parquet AFTER.parquet

`write` seeds the small demo (seed 7, ending on a fixed Sunday) into a temporary SQLite warehouse, reads the
evidence back as `scorecard metrics` does, and computes the records `scorecard metrics --all --as-of` gives
for every grain (week, month, range), the whole org and each team, over the CLI's default range and over a
wide range, with the default configuration and with scorecard.toml.example's (teams, rules). Every column of
`compute` is kept (test_p, baseline_n and the baseline window too, not only the output columns).
`compare` says which (case, metric) keys differ and exits 1 when any does: every column but the floats
must be identical, and a float within 1e-12 of the other (relative, or absolute near zero). Why not
bit-identical: the same code run twice already differs in the last bit of a few sums (polars' parallel
group-by adds the org's senior weeks in no fixed order); `compare` also says how many floats differ at all.
"""
from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import polars as pl

from app.cli.report import report_range
from config.load import load_config
from connectors.demo.generator import generate
from metrics.explain import record_events
from metrics.registry import METRICS
from metrics.scorecard import compute, prepare
from pipeline import ingest
from reports.data import load_evidence
from warehouse import open_warehouse

DEMO_END = dt.date(2026, 11, 29)  # a Sunday
AS_OF = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
WIDE = (dt.date(2024, 1, 1), dt.date(2026, 12, 31))
EXAMPLE = Path(__file__).resolve().parents[1] / "scorecard.toml.example"
KEY = ["case", "metric", "grain", "period", "team", "segment"]
TOLERANCE = 1e-12


def _load_evidence(warehouse):
    return load_evidence(warehouse)


def records(root: Path) -> pl.DataFrame:
    url = f"sqlite:///{root / 'warehouse.db'}"
    plain = root / "plain.toml"
    plain.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    example = root / "example.toml"
    example.write_text(EXAMPLE.read_text(encoding="utf-8").replace('url = "sqlite:///data/scorecard.db"', f'url = "{url}"'),
                       encoding="utf-8")
    configs = {"default": load_config(plain, env={}), "example": load_config(example, env={})}
    wh = open_warehouse(url)
    try:
        ingest(wh, "demo", generate("small", seed=7, end=DEMO_END, ai_detection=configs["default"].ai_detection),
               action="demo")
        evidence = _load_evidence(wh).until(AS_OF)
    finally:
        wh.engine.dispose()
    frames = []
    for config_name, config in configs.items():
        prepared = prepare(evidence, config)
        cube = prepared.cube
        teams = [None, *cube.teams()]
        for grain in ("week", "month", "range"):
            ranges = {"default": report_range(cube, grain, None, None, AS_OF), "wide": WIDE}
            for range_name, (first, last) in ranges.items():
                for team in teams:
                    out = compute(cube, config, grain=grain, start=first, end=last, team=team, now=AS_OF)
                    case = f"{config_name}/{range_name}/{grain}/{team or '(org)'}"
                    frames.append(out.with_columns(case=pl.lit(case)).select("case", *out.columns))
        frames.append(_explained(prepared, config_name))
    return pl.concat(frames, how="diagonal_relaxed")


def _explained(prepared, config_name: str) -> pl.DataFrame:
    """`scorecard explain`'s rows (metrics.explain.record_events) of every metric × segment in one month,
    as records of their own (case `<config>/explain/<metric>/<segment>`, the rows' columns as text)."""
    parts = []
    for spec in METRICS.values():
        named = {"mode": "mode:agent", "cohort": "cohort:heavy", "tool": "tool:claude-code"}
        for segment in (*spec.segments, *(named[f] for f in spec.segment_families)):
            rows = record_events(prepared, spec.id, grain="month", period=dt.date(2026, 10, 1), segment=segment)
            text = rows.select(pl.all().cast(pl.String))
            parts.append(text.select(case=pl.lit(f"{config_name}/explain/{spec.id}/{segment}"),
                                     metric=pl.lit(spec.id), segment=pl.lit(segment),
                                     explained=pl.struct(pl.all()).struct.json_encode()))
    return pl.concat(parts)


def write(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        frame = records(Path(tmp))
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(target)
    print(f"{frame.height:,} records of {frame['case'].n_unique()} cases → {target}")


def compare(before_path: Path, after_path: Path) -> int:
    before, after = pl.read_parquet(before_path), pl.read_parquet(after_path)
    if before.columns != after.columns or before.schema != after.schema:
        print(f"columns differ:\n  before {before.schema}\n  after  {after.schema}")
        return 1
    if before.equals(after):
        print(f"identical: {before.height:,} records of {before['case'].n_unique()} cases, {len(before.columns)} columns")
        return 0
    if before.height != after.height:
        print(f"row counts differ: {before.height:,} before, {after.height:,} after")
    # Rows are compared in order (compute's order is part of its contract): present on one side only, or a
    # column not equal (floats: within the tolerance).
    joined = before.with_row_index("_row").join(after.with_row_index("_row"), on="_row", how="full", suffix="_after")

    def unequal(c: str) -> pl.Expr:
        a, b = pl.col(c), pl.col(f"{c}_after")
        if before.schema[c] == pl.Float64:
            close = (a - b).abs() <= TOLERANCE * pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))
            return pl.when(a.is_null() | b.is_null()).then(a.is_null() != b.is_null()).otherwise(~close)
        return a.ne_missing(b)

    bits = {c: joined.filter(pl.col(c).ne_missing(pl.col(f"{c}_after"))).height
            for c in before.columns if before.schema[c] == pl.Float64}
    bad = joined.filter(pl.any_horizontal(unequal(c) for c in before.columns))
    last_bit = ", ".join(f"{c} {n}" for c, n in bits.items() if n) or "none"
    if bad.height == 0:
        print(f"equal: {before.height:,} records of {before['case'].n_unique()} cases, {len(before.columns)} columns; "
              f"floats within {TOLERANCE:g} (not bit-identical: {last_bit})")
        return 0
    print(f"{bad.height:,} of {before.height:,} records differ; first ones:")
    with pl.Config(tbl_cols=-1, tbl_rows=20, fmt_str_lengths=60):
        print(bad.select(KEY).head(20))
    for column in before.columns:
        n = joined.filter(unequal(column)).height
        if n:
            print(f"  column {column}: {n} rows differ")
    return 1

if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "write":
        write(Path(args[1]))
    elif len(args) == 3 and args[0] == "compare":
        sys.exit(compare(Path(args[1]), Path(args[2])))
    else:
        sys.exit(__doc__)
