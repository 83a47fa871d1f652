"""benchmarks.weekly_records: what counts as the same records."""
import polars as pl

from benchmarks.weekly_records import differences


def _records(value, status="better", provisional=False):
    return pl.DataFrame({"metric": ["m"], "period": ["2024-01-01"], "team": [None], "segment": ["all"],
                         "value": [value], "status": [status], "provisional": [provisional]},
                        schema_overrides={"team": pl.String, "value": pl.Float64})


def test_floats_within_1e9_relative_and_everything_else_exact():
    assert differences(_records(1.0), _records(1.0 + 5e-10)) == []  # 5e-10 relative: the same
    assert differences(_records(None), _records(None)) == []
    assert differences(_records(1.0), _records(1.0 + 2e-9))[0].startswith("value: 1 records differ")
    assert differences(_records(1.0), _records(None))[0].startswith("value: 1 records differ")
    assert differences(_records(1.0), _records(1.0, status="worse"))[0].startswith("status: 1 records differ")
    assert differences(_records(1.0), _records(1.0, provisional=True))[0].startswith("provisional:")
    assert differences(_records(1.0), pl.concat([_records(1.0), _records(1.0)])) == ["1 records before, 2 after"]
