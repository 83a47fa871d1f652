"""FOCUS 1.x billing exports: AI rows only, tags, currencies, spread charges, bad rows by line, batches
in one transaction, idempotent re-import; CSV, gzip and Parquet."""
import csv
import dataclasses
import datetime as dt
import gzip
import io
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from app.cli import app
from config import Config, WarehouseConfig
from config.spend import FocusConfig, SpendConfig
from connectors.spend import focus_files
from connectors.spend.focus import FocusImportError, FocusSummary, read_focus
from pipeline import ingest_batches
from warehouse import read_table

HEADER = ["BillingAccountId", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeDescription",
          "ServiceCategory", "ServiceName", "ProviderName", "BilledCost", "EffectiveCost", "BillingCurrency",
          "ConsumedQuantity", "ConsumedUnit", "Tags", "x_CostCenter"]
PAY = '{"team": "payments", "workflow": "code-review", "model": "claude-sonnet-4", "env": "prod"}'
# One row per case; the comment says what the import must do with it.
ROWS = [
    # Bedrock usage for payments: $10.25 effective ($12.00 billed), 2,000 × 1K tokens.
    ["acct-1", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "Usage", "Claude Sonnet\ninput tokens",
     "AI and Machine Learning", "Amazon Bedrock", "AWS", "12.00", "10.25", "USD", "2000", "1K Tokens", PAY, "cc-1"],
    # Not AI: skipped.
    ["acct-1", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "Usage", "m5.large", "Compute", "Amazon EC2", "AWS",
     "99.00", "99.00", "USD", "24", "Hours", '{"team": "payments"}', "cc-1"],
    # Tax on AI: skipped (not a configured charge category).
    ["acct-1", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "Tax", "VAT", "AI and Machine Learning",
     "Amazon Bedrock", "AWS", "1.50", "1.50", "USD", "", "", "", "cc-1"],
    # In EUR, with an offset: 23:30 at -02:00 is 01:30 UTC the next day (2026-11-03); 10 EUR × 1.08 = $10.80.
    ["acct-2", "2026-11-02T23:30:00-02:00", "2026-11-03T23:30:00-02:00", "Usage", "GPT-4o", "AI and Machine Learning",
     "Azure OpenAI Service", "Microsoft", "10.00", "10.00", "EUR", "35", "Requests", '{"team": "web"}', ""],
    # A monthly Copilot purchase outside the AI category (matched by name): $300 spread over November's 30 days.
    ["acct-3", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "Purchase", "Copilot Business", "Developer Tools",
     "GitHub Copilot", "GitHub", "300.00", "300.00", "USD", "10", "Seats", '{"team": "web", "workflow": "seats"}', ""],
    # A credit: kept, negative.
    ["acct-1", "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z", "Credit", "Promotional credit", "AI and Machine Learning",
     "Amazon Bedrock", "AWS", "-2.00", "-2.00", "USD", "", "", PAY, "cc-1"],
    # No tags: unassigned.
    ["acct-1", "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z", "Usage", "Haiku", "AI and Machine Learning",
     "Amazon Bedrock", "AWS", "0.75", "0.75", "USD", "", "", "", ""],
    # The same charge twice (identical rows): two rows, both kept.
    ["acct-1", "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z", "Usage", "Haiku", "AI and Machine Learning",
     "Amazon Bedrock", "AWS", "0.75", "0.75", "USD", "", "", "", ""],
]


def write_csv(path, rows=ROWS, header=HEADER, *, gz=False):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def cfg(url="sqlite:///unused.db", **focus) -> Config:
    return Config(warehouse=WarehouseConfig(url=url),
                  spend=SpendConfig(usd_rates={"EUR": 1.08}, focus=dataclasses.replace(FocusConfig(), **focus)))


class Recorder:
    def __init__(self):
        self.updates = []

    def update(self, done, total, message):
        self.updates.append((done, total, message))


def run_import(wh, path, config, progress=None):
    summary = FocusSummary(str(path))
    counts = ingest_batches(wh, "focus", read_focus(path, config, summary), detail=summary.as_detail, progress=progress)
    return counts["ai_spend"], summary


def totals(frame: pl.DataFrame) -> dict[str, float]:
    grouped = frame.group_by(pl.col("team").fill_null("unassigned")).agg(pl.col("cost_usd").sum())
    return {team: round(cost, 2) for team, cost in grouped.iter_rows()}


def test_ai_rows_tags_currency_and_spread_charges(warehouse, tmp_path):
    path = write_csv(tmp_path / "focus.csv")
    progress = Recorder()
    counts, summary = run_import(warehouse, path, cfg(), progress)
    spend = read_table(warehouse, "ai_spend")
    # payments 10.25 − 2.00 = 8.25; web 10.80 + 300.00 = 310.80; unassigned 0.75 × 2 = 1.50.
    assert totals(spend) == {"payments": 8.25, "web": 310.80, "unassigned": 1.50}
    assert (summary.rows, summary.imported, dict(summary.skipped), dict(summary.converted)) == (
        8, 6, {"not an AI service": 1, "charge category Tax": 1}, {"EUR": 1})
    # 5 single-day rows + 30 days of the Copilot purchase.
    assert counts.inserted == spend.height == summary.spend_rows == 35
    bedrock = spend.filter((pl.col("team") == "payments") & (pl.col("cost_usd") > 0)).row(0, named=True)
    assert (bedrock["date"], bedrock["tool"], bedrock["workflow"], bedrock["model"], bedrock["tokens"], bedrock["source"]) == (
        dt.date(2026, 11, 2), "Amazon Bedrock", "code-review", "claude-sonnet-4", 2_000_000, "focus")
    azure = spend.filter(pl.col("team") == "web", pl.col("tool") == "Azure OpenAI Service").row(0, named=True)
    assert (azure["date"], round(azure["cost_usd"], 2), azure["requests"]) == (dt.date(2026, 11, 3), 10.80, 35)
    copilot = spend.filter(pl.col("tool") == "GitHub Copilot").sort("date")
    assert copilot.height == 30 and copilot["date"][0] == dt.date(2026, 11, 1) and copilot["date"][-1] == dt.date(2026, 11, 30)
    assert copilot["cost_usd"].round(2).unique().to_list() == [10.0] and copilot["workflow"][0] == "seats"
    assert spend.filter(pl.col("team").is_null()).height == 2  # the identical rows stay two
    assert progress.updates[-1][0] == progress.updates[-1][1] == path.stat().st_size

    again, _ = run_import(warehouse, path, cfg())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 35)
    assert read_table(warehouse, "ai_spend").height == 35


def test_billed_cost_and_no_spreading_are_configurable(sqlite_warehouse, tmp_path):
    path = write_csv(tmp_path / "focus.csv")
    run_import(sqlite_warehouse, path, cfg(cost_column="BilledCost", spread_multi_day=False))
    spend = read_table(sqlite_warehouse, "ai_spend")
    # payments 12.00 − 2.00 billed; the purchase stays one row on its first day.
    assert totals(spend) == {"payments": 10.0, "web": 310.80, "unassigned": 1.50}
    assert spend.filter(pl.col("tool") == "GitHub Copilot")["date"].to_list() == [dt.date(2026, 11, 1)]


def test_tag_keys_and_ai_filters_are_configurable(sqlite_warehouse, tmp_path):
    path = write_csv(tmp_path / "focus.csv")
    run_import(sqlite_warehouse, path, cfg(team_tags=("x-team", "env"), ai_services=(), charge_categories=("Usage",)))
    # Only AI-category usage rows: the Copilot purchase (outside the category) and the credit are left out;
    # the team comes from the first tag key present ("env" here).
    assert totals(read_table(sqlite_warehouse, "ai_spend")) == {"prod": 10.25, "unassigned": 12.30}


def test_currency_without_a_rate_rejects_the_file(sqlite_warehouse, tmp_path):
    path = write_csv(tmp_path / "focus.csv")
    config = dataclasses.replace(cfg(), spend=SpendConfig())
    with pytest.raises(FocusImportError) as error:
        run_import(sqlite_warehouse, path, config)
    # Line 6: the header, then the first row spans lines 2-3 (a quoted newline).
    assert "line 6, column 'BillingCurrency' ('EUR'): no USD rate" in str(error.value)
    assert "usd_rates" in str(error.value) and "Nothing was imported" in str(error.value)
    assert read_table(sqlite_warehouse, "ai_spend").height == 0


def test_bad_rows_are_reported_by_line_and_nothing_is_written(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(focus_files, "CSV_BLOCK_BYTES", 512)  # many batches: the bad rows are in late ones
    good = [ROWS[0]] * 40
    bad_cost = ROWS[6][:9] + ["12,3x"] + ROWS[6][10:]
    bad_start = ROWS[6][:1] + ["next tuesday"] + ROWS[6][2:]
    bad_tags = ROWS[6][:13] + ["team=web"] + ROWS[6][14:]
    skipped_bad = ROWS[1][:9] + ["not a number"] + ROWS[1][10:]  # not AI: never checked
    path = write_csv(tmp_path / "focus.csv", good + [skipped_bad, bad_cost, ROWS[6], bad_start, bad_tags])
    batches_seen = []
    summary = FocusSummary(str(path))
    stream = read_focus(path, cfg(batch_rows=5), summary)

    def counted():
        for batch in stream:
            batches_seen.append(batch)
            yield batch

    with pytest.raises(FocusImportError) as error:
        ingest_batches(warehouse, "focus", counted())
    message = str(error.value)
    # 40 two-line rows after the header: row 41 (the skipped one) starts on line 82, so the bad ones on
    # lines 83, 85 and 86.
    assert "line 83, column 'EffectiveCost' ('12,3x'): not a finite decimal number" in message
    assert "line 85, column 'ChargePeriodStart' ('next tuesday'): not an ISO 8601 timestamp" in message
    assert "line 86, column 'Tags' ('team=web'): not a JSON object" in message
    assert "('not a number')" not in message and "Nothing was imported" in message
    assert len(batches_seen) >= 2  # earlier batches were written inside the transaction, then rolled back
    assert read_table(warehouse, "ai_spend").height == 0


def test_a_file_that_is_not_focus_names_the_missing_column(sqlite_warehouse, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("date,cost_usd\n2026-11-01,3\n")
    with pytest.raises(FocusImportError, match="missing FOCUS column 'ChargePeriodStart'"):
        run_import(sqlite_warehouse, path, cfg())
    ragged = write_csv(tmp_path / "ragged.csv", [ROWS[6], ROWS[6][:5]])
    with pytest.raises(FocusImportError, match="line 3, column .ServiceCategory.: missing — the row has 5 fields where the header has 15"):
        run_import(sqlite_warehouse, ragged, cfg())


def test_gzip_csv_and_parquet_give_the_same_spend(sqlite_warehouse, tmp_path):
    csv_path = write_csv(tmp_path / "focus.csv")
    gz_path = write_csv(tmp_path / "focus.csv.gz", gz=True)
    frame = pl.read_csv(csv_path, infer_schema=False).with_columns(
        pl.col("ChargePeriodStart", "ChargePeriodEnd").str.to_datetime(time_zone="UTC", time_unit="us"),
        pl.col("BilledCost", "EffectiveCost", "ConsumedQuantity").cast(pl.Float64),
    )
    parquet_path = tmp_path / "focus.parquet"
    frame.write_parquet(parquet_path)
    results = {}
    for name, path in (("csv", csv_path), ("gz", gz_path), ("parquet", parquet_path)):
        summary = FocusSummary(str(path))
        batches = list(read_focus(path, cfg(batch_rows=3), summary))
        spend = pl.concat([b.frames["ai_spend"] for b in batches if "ai_spend" in b.frames])
        results[name] = (totals(spend), spend.height, spend["date"].sort().to_list())
    assert results["csv"] == results["gz"] == results["parquet"]
    assert results["parquet"][0] == {"payments": 8.25, "web": 310.80, "unassigned": 1.50}


def test_cli_imports_focus_and_reports_what_it_skipped(tmp_path):
    path = write_csv(tmp_path / "focus.csv")
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n[spend]\nusd_rates = {{ EUR = 1.08 }}\n')
    runner = CliRunner()
    first = runner.invoke(app, ["import", "ai_spend", str(path), "--format", "focus", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "8 FOCUS rows read, 6 AI rows kept" in first.output and "35 new" in first.output
    second = runner.invoke(app, ["import", "ai_spend", str(path), "--format", "focus", "--config", str(config)])
    assert "0 new, 0 updated, 35 unchanged" in second.output
    wrong = runner.invoke(app, ["import", "tickets", str(path), "--format", "focus", "--config", str(config)])
    assert wrong.exit_code == 1 and "imports ai_spend" in wrong.output


def test_parquet_tags_stored_as_a_map(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "ChargePeriodStart": pa.array([dt.datetime(2026, 11, 2), dt.datetime(2026, 11, 3)], pa.timestamp("us", "UTC")),
        "EffectiveCost": pa.array([1.5, 2.25]), "BillingCurrency": ["USD", "USD"],
        "ServiceCategory": ["AI and Machine Learning"] * 2, "ServiceName": ["Vertex AI", "Vertex AI"],
        "Tags": pa.array([[("team", "data"), ("workflow", "eval")], []], pa.map_(pa.string(), pa.string())),
    })
    path = tmp_path / "focus.parquet"
    pq.write_table(table, path)
    (batch,) = list(read_focus(path, cfg(), FocusSummary(str(path))))
    assert batch.frames["ai_spend"].select("date", "team", "workflow", "cost_usd").rows() == [
        (dt.date(2026, 11, 2), "data", "eval", 1.5), (dt.date(2026, 11, 3), None, None, 2.25)]


def test_focus_spend_feeds_the_cost_per_unit_metric(tmp_path):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n[spend]\nusd_rates = {{ EUR = 1.08 }}\n')
    prs = tmp_path / "prs.csv"
    prs.write_text("id,repo,team,merged_at\n" + "".join(f"p{i},acme/pay,payments,2026-11-0{i}T10:00:00Z\n" for i in range(1, 5)))
    runner = CliRunner()
    for args in (["ai_spend", str(write_csv(tmp_path / "focus.csv")), "--format", "focus"], ["pull_requests", str(prs)]):
        assert runner.invoke(app, ["import", *args, "--config", str(config)]).exit_code == 0
    result = runner.invoke(app, ["metrics", "--metric", "ai_cost_per_unit", "--grain", "month", "--start", "2026-11-01",
                                 "--end", "2026-11-30", "--team", "payments", "--format", "json", "--config", str(config)])
    (record,) = json.loads(result.stdout)
    # payments: $8.25 of FOCUS spend over 4 merged PRs.
    assert (record["team"], record["numerator"], record["denominator"], record["value"]) == ("payments", 8.25, 4, 2.0625)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_parquet_cost_that_is_not_finite_is_refused_by_row(tmp_path, bad):
    """Parquet stores NaN and infinity as numbers; they are no cost (before: NaN was a traceback, inf stored)."""
    frame = pl.read_csv(write_csv(tmp_path / "focus.csv"), infer_schema=False).with_columns(
        pl.col("ChargePeriodStart", "ChargePeriodEnd").str.to_datetime(time_zone="UTC", time_unit="us"),
        pl.col("BilledCost", "EffectiveCost", "ConsumedQuantity").cast(pl.Float64),
    )
    frame = frame.with_columns(EffectiveCost=pl.lit(bad))
    path = tmp_path / "focus.parquet"
    frame.write_parquet(path)
    with pytest.raises(FocusImportError, match=r"row 1, column 'EffectiveCost' \('(NaN|inf|-inf)'\): not a finite decimal number"):
        list(read_focus(path, cfg(), FocusSummary(str(path))))
