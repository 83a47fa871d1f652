"""`scorecard metrics --format json` is written column-wise by polars: the same records as encoding each
row with the standard library, one record a line."""
import datetime as dt
import json
import math

import polars as pl

from app.cli.report import records_json
from metrics.registry import OUTPUT_COLUMNS


def _row_by_row(records: pl.DataFrame) -> list[dict]:
    rows = []
    for row in records.select(OUTPUT_COLUMNS).iter_rows(named=True):
        row["period"] = row["period"].isoformat()
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return rows


def test_json_records_equal_the_row_by_row_encoding():
    n = 4
    records = pl.DataFrame({
        "metric": ["lead_time_hours", "rollback_share", "csat", "rollback_share"],
        "grain": ["week"] * n,
        "period": [dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16), dt.date(2026, 3, 23)],
        "team": [None, "web", 'a"},{\n[/b]', "\u2028line"],  # quotes, a newline and a line separator survive
        "segment": ["all", "ai", "tool:copilot", "non_ai"],
        "value": [0.1 + 0.2, 1e-5, float("nan"), 123456789.12345679],
        "numerator": [3.0, None, 1e300, -0.0],
        "denominator": [1.0, 2.0, 3.0, 4.0],
        "n": [3, 0, None, 7],
        "ci_low": [None, 0.25, float("nan"), 5e-324],
        "ci_high": [1.0, 2.0, 3.0, 4.0],
        "baseline": [None] * n, "delta": [0.5, None, -1.5, 2.0],
        "status": ["better", "worse", "info", "insufficient_data"],
        "median": [1.5, None, None, 2.0], "p90": [2.5, None, None, 3.0],
        "provisional": [True, False, None, False],
    }, schema_overrides={"baseline": pl.Float64, "median": pl.Float64, "p90": pl.Float64})
    text = records_json(records.with_columns(extra=pl.lit(1)))  # columns outside the output are left out
    assert json.loads(text) == _row_by_row(records)
    assert text.startswith("[\n{") and len(text.split("\n")) == n + 2  # one record a line
    assert list(json.loads(text)[0]) == list(OUTPUT_COLUMNS)


def test_no_records_is_an_empty_array():
    empty = pl.DataFrame(schema={c: pl.String for c in OUTPUT_COLUMNS}).with_columns(pl.col("period").cast(pl.Date))
    assert json.loads(records_json(empty)) == []
