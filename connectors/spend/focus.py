"""FinOps FOCUS 1.x billing exports → `ai_spend` rows (`scorecard import ai_spend FILE --format focus`).

- cost from `EffectiveCost` (what the usage really cost after discounts and amortised commitments;
  `[spend.focus] cost_column` picks `BilledCost` for invoice-matching numbers), in USD: other currencies
  are converted by `[spend] usd_rates`, and a currency without a rate stops the import;
- date from `ChargePeriodStart` (UTC); a charge spanning several days is spread evenly over them;
- tool from `ServiceName` (else `ProviderName`); team, workflow and model from `Tags` keys;
- only AI rows: `ServiceCategory` in the configured categories, or a service/provider name matching the
  configured globs; and only the configured charge categories (tax is left out by default).

The file is read in batches and each batch is yielded as soon as it is checked, so memory stays flat for
millions of rows; the caller writes all batches in one transaction, and a bad row anywhere raises
`FocusImportError` (naming up to five bad rows by line) after the whole file has been checked, which
rolls everything back. Ids are a hash of each row's content plus its occurrence among identical rows,
so re-importing a file (or an overlapping export) writes nothing twice.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from config.errors import ConfigError
from config.model import Config
from config.spend import FocusConfig, check_spend
from connectors.common.csvfile import shorten
from connectors.common.normalise import blank_to_null, parse_float, parse_timestamp_series
from connectors.contract import Batch, Source, never_synced
from connectors.spend import focus_files
from connectors.spend.focus_files import FocusFileError

SOURCE = "focus"
COST_COLUMNS = ("EffectiveCost", "BilledCost", "ListCost", "ContractedCost")
OPTIONAL = ("ChargePeriodEnd", "ServiceName", "ProviderName", "ServiceCategory", "ChargeCategory", "Tags",
            "ConsumedQuantity", "ConsumedUnit")
MAX_SPREAD_DAYS = 366
SHOWN_PROBLEMS = 5
UTC_MICROS = pl.Datetime("us", "UTC")


class FocusImportError(ValueError):
    """A file that cannot be imported; the message names the file and the lines of its bad rows."""


@dataclass
class FocusSummary:
    """What an import read: rows, rows kept, rows skipped by reason, conversions."""

    path: str
    rows: int = 0
    imported: int = 0  # FOCUS rows kept (a spread charge is one row here, several in the warehouse)
    spend_rows: int = 0
    skipped: Counter = field(default_factory=Counter)
    converted: Counter = field(default_factory=Counter)  # currency → rows converted to USD

    def as_detail(self) -> dict:
        return {"file": self.path, "format": "focus", "rows": self.rows, "imported": self.imported,
                "spend_rows": self.spend_rows, "skipped": dict(self.skipped), "converted": dict(self.converted)}


@dataclass(frozen=True)
class _Problem:
    row: int
    column: str
    message: str
    value: str | None


def read_focus(path: str | Path, config: Config, summary: FocusSummary) -> Iterator[Batch]:
    """Yield batches of `ai_spend` rows from a FOCUS file, each saying how far through the file it is;
    raise `FocusImportError` at the end if any row is bad (after which nothing may be kept: the runner's
    transaction rolls back)."""
    path = Path(path)
    focus = config.spend.focus
    try:
        check_spend(config)
    except ConfigError as exc:
        raise FocusImportError(str(exc)) from None
    rates = {code.strip().upper(): rate for code, rate in config.spend.usd_rates.items()} | {"USD": 1.0}
    if not path.exists():
        raise FocusImportError(f"{path}: file not found")
    if not path.is_file():
        raise FocusImportError(f"{path}: not a regular file (a folder, pipe or device): give a FOCUS export")
    try:
        columns = _columns(path, focus)
        seen = pl.Series("d", [], dtype=pl.UInt64)
        problems: list[_Problem] = []
        problem_count = 0
        for raw in focus_files.batches(path, list(columns.values()), focus.batch_rows):
            frame = raw.frame.rename({v: k for k, v in columns.items()})
            summary.rows += frame.height
            spend, found, count = _normalise(frame, raw.first_row, focus, rates, summary)
            problem_count += count
            problems.extend(found[: SHOWN_PROBLEMS - len(problems)])
            frames = {}
            if not problem_count and spend.height:
                spend, seen = _with_ids(spend, seen)
                spend = _dated(spend, spread=focus.spread_multi_day)
                summary.spend_rows += spend.height
                frames["ai_spend"] = spend.select(_OUTPUT)
            yield Batch(frames=frames, progress_done=raw.done, progress_total=raw.total,
                        progress_message=f"{path.name}: {summary.rows:,} rows read")
    except FocusFileError as exc:
        raise FocusImportError(str(exc)) from None
    if problem_count:
        raise FocusImportError(_describe(path, problems, problem_count))


def focus_file_batches(config: Config, _secret, _cursors, *, full: bool = False, stats: dict[str, int],
                       path: str | Path) -> Iterator[Batch]:
    """`read_focus`'s batches, each carrying what the import has read so far (`FocusSummary.as_detail`,
    the run's detail), then one more with the whole file's."""
    summary = FocusSummary(str(path))
    for batch in read_focus(path, config, summary):
        yield dataclasses.replace(batch, detail=summary.as_detail())
    yield Batch(detail=summary.as_detail())


# `scorecard import ai_spend FILE --format focus`, run by `pipeline.runner` atomically.
SOURCE_SPEC = Source(SOURCE, "scorecard import ai_spend FILE --format focus", never_synced, focus_file_batches,
                     atomic=True)


def _columns(path: Path, focus: FocusConfig) -> dict[str, str]:
    """Our name → the file's name for every column read (FOCUS names, matched case-insensitively)."""
    if focus.cost_column not in COST_COLUMNS:
        raise FocusImportError(f"configuration: spend.focus.cost_column must be one of {', '.join(COST_COLUMNS)}, "
                               f"not '{focus.cost_column}'")
    in_file = {name.strip().lower(): name for name in focus_files.header(path)}
    wanted = ("ChargePeriodStart", focus.cost_column, "BillingCurrency")
    for name in wanted:
        if name.lower() not in in_file:
            raise FocusImportError(f"{path}: line 1: missing FOCUS column '{name}' (needed: {', '.join(wanted)} and "
                                   "ServiceName or ProviderName); is this a FOCUS 1.x export?")
    columns = {name: in_file[name.lower()] for name in (*wanted, *OPTIONAL) if name.lower() in in_file}
    if "ServiceName" not in columns and "ProviderName" not in columns:
        raise FocusImportError(f"{path}: line 1: missing FOCUS column 'ServiceName' (or 'ProviderName'): "
                               "the tool is named from it")
    return {("Cost" if k == focus.cost_column else k): v for k, v in columns.items()}


def _text(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.String)
    if frame.schema[name] == pl.String:
        return blank_to_null(pl.col(name))
    if name == "Tags":
        return _tags_json(frame.schema[name])
    return pl.col(name).cast(pl.String)


def _tags_json(dtype: pl.DataType) -> pl.Expr:
    """Parquet exports may store Tags as a map (list of key/value structs): turn it into a JSON object."""
    tags = pl.col("Tags")
    map_type = getattr(pl, "Map", None)  # polars 2 reads an Arrow map as Map; polars 1 as a list of structs
    if map_type is not None and isinstance(dtype, map_type):
        tags, dtype = tags.cast(pl.List(pl.Struct({"key": pl.String, "value": pl.String}))), pl.List(pl.Struct({}))
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        pairs = tags.list.eval(
            pl.struct(pl.element().struct.field("key").cast(pl.String).alias("k")).struct.json_encode().str.slice(5).str.strip_suffix("}")
            + pl.lit(":")
            + pl.struct(pl.element().struct.field("value").cast(pl.String).alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
        )
        return pl.lit("{") + pairs.list.join(",") + pl.lit("}")
    if isinstance(dtype, pl.Struct):
        return pl.col("Tags").struct.json_encode()
    raise FocusImportError(f"the Tags column has type {dtype}: expected JSON text or a map of strings")


def _time(frame: pl.DataFrame, name: str) -> pl.Series:
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=UTC_MICROS)
    dtype = frame.schema[name]
    column = frame.get_column(name)
    if isinstance(dtype, pl.Datetime):
        column = column.dt.cast_time_unit("us")
        return column.dt.convert_time_zone("UTC") if dtype.time_zone else column.dt.replace_time_zone("UTC")
    if dtype == pl.Date:
        return column.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return parse_timestamp_series(frame.select(_text(frame, name)).to_series())


def _number(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.Float64)
    if frame.schema[name].is_numeric():  # Parquet: NaN and infinity are numbers there, not costs
        value = pl.col(name).cast(pl.Float64)
        return pl.when(value.is_finite()).then(value).otherwise(None)
    return parse_float(_text(frame, name))


def _matching(values: pl.Series, globs: tuple[str, ...]) -> list[str]:
    patterns = [g.strip().lower() for g in globs if g.strip()]
    return [v for v in values.drop_nulls().unique().to_list() if any(fnmatch.fnmatchcase(v.lower(), p) for p in patterns)]


def _tag(keys: tuple[str, ...]) -> pl.Expr:
    paths = [pl.col("tags").str.json_path_match("$['" + k.replace("\\", "\\\\").replace("'", "\\'") + "']") for k in keys]
    return blank_to_null(pl.coalesce(paths)) if paths else pl.lit(None, dtype=pl.String)


# ConsumedUnit → (which count, multiplier): "Tokens", "1K Tokens", "1M tokens", "Requests", ...
_UNIT = r"(?i)^\s*(?:(\d+)\s*([km]?)\s+)?(?:(thousand|million)\s+)?(token|request)s?\s*$"


def _normalise(frame: pl.DataFrame, first_row: int, focus: FocusConfig, rates: dict[str, float],
               summary: FocusSummary) -> tuple[pl.DataFrame, list[_Problem], int]:
    """The batch's AI rows in our shape (without ids), its first problems, and how many rows are bad.
    Rows are chosen on their service and charge category first: only those are parsed and checked."""
    def text(name: str) -> pl.Expr:
        return _text(frame, name).alias(name)

    kinds = frame.select(text("ServiceName"), text("ProviderName"), text("ServiceCategory"), text("ChargeCategory"))
    ai_names = _matching(pl.concat([kinds["ServiceName"], kinds["ProviderName"]]), focus.ai_services)
    categories = [c.strip().lower() for c in focus.ai_service_categories]
    is_ai = (pl.col("ServiceCategory").str.to_lowercase().is_in(categories).fill_null(False)
             | pl.col("ServiceName").is_in(ai_names).fill_null(False)
             | pl.col("ProviderName").is_in(ai_names).fill_null(False))
    charges = [c.strip().lower() for c in focus.charge_categories]
    charge_ok = pl.col("ChargeCategory").is_null() | pl.col("ChargeCategory").str.to_lowercase().is_in(charges)
    verdict = kinds.select(is_ai=is_ai, charge_ok=charge_ok, charge=pl.col("ChargeCategory"))
    summary.skipped["not an AI service"] += verdict.filter(~pl.col("is_ai")).height
    for charge, n in verdict.filter(pl.col("is_ai") & ~pl.col("charge_ok")).group_by("charge").len().iter_rows():
        summary.skipped[f"charge category {charge}"] += n
    keep = verdict.select(pl.col("is_ai") & pl.col("charge_ok")).to_series()
    frame = frame.with_row_index("row", offset=first_row).filter(keep)
    kinds = kinds.filter(keep)
    summary.imported += frame.height
    data = [c for c in frame.columns if c != "row"]
    rows = frame.select(
        "row",
        content=pl.concat_str([_text(frame, c).fill_null("\x00") for c in sorted(data)], separator="\x1f"),
        start_text=_text(frame, "ChargePeriodStart"), end_text=_text(frame, "ChargePeriodEnd"),
        cost=_number(frame, "Cost"), cost_text=_text(frame, "Cost"),
        quantity=_number(frame, "ConsumedQuantity"),
        currency=_text(frame, "BillingCurrency").str.to_uppercase(),
        tags=_text(frame, "Tags"), unit=_text(frame, "ConsumedUnit"),
    ).with_columns(
        kinds.get_column("ServiceName").alias("service"), kinds.get_column("ProviderName").alias("provider"),
    )
    rows = pl.concat([
        rows,
        _per_value(frame, "ChargePeriodStart", lambda v: v.select(start=_time(v, "ChargePeriodStart"))),
        _per_value(frame, "ChargePeriodEnd", lambda v: v.select(end=_time(v, "ChargePeriodEnd"))),
        _per_value(rows, "tags", lambda v: v.select(
            team=_tag(focus.team_tags), workflow=_tag(focus.workflow_tags), model=_tag(focus.model_tags),
            tags_ok=pl.col("tags").str.json_path_match("$").is_not_null() & pl.col("tags").str.starts_with("{"))),
        _per_value(rows, "unit", lambda v: v.select(_unit())),
    ], how="horizontal")

    rate = pl.col("currency").replace_strict(rates, default=None, return_dtype=pl.Float64)
    checks = [
        ("ChargePeriodStart", pl.col("start_text").is_null(), "empty, but the charge needs a start", "start_text"),
        ("ChargePeriodStart", pl.col("start_text").is_not_null() & pl.col("start").is_null(), "not an ISO 8601 timestamp", "start_text"),
        ("ChargePeriodEnd", pl.col("end_text").is_not_null() & pl.col("end").is_null(), "not an ISO 8601 timestamp", "end_text"),
        ("ChargePeriodEnd", pl.col("end") < pl.col("start"), "ends before ChargePeriodStart", "end_text"),
        (focus.cost_column, pl.col("cost_text").is_null() & pl.col("cost").is_null(), "empty, but a cost is required", "cost_text"),
        (focus.cost_column, pl.col("cost_text").is_not_null() & pl.col("cost").is_null(), "not a finite decimal number (e.g. 12.50; no NaN, infinity or decimal comma)", "cost_text"),
        ("BillingCurrency", pl.col("currency").is_null(), "empty, but the currency is required", "currency"),
        ("BillingCurrency", pl.col("currency").is_not_null() & rate.is_null(),
         "no USD rate for this currency: add it to [spend] usd_rates (USD per unit), e.g. usd_rates = { EUR = 1.08 }", "currency"),
        ("Tags", pl.col("tags").is_not_null() & ~pl.col("tags_ok"), "not a JSON object", "tags"),
    ] + [
        (name, pl.col(value).str.contains("\x00", literal=True), "contains a NUL byte (not text)", value)
        for name, value in (("ChargePeriodStart", "start_text"), ("ChargePeriodEnd", "end_text"),
                            (focus.cost_column, "cost_text"), ("BillingCurrency", "currency"),
                            ("ServiceName", "service"), ("ProviderName", "provider"), ("Tags", "tags"),
                            ("ConsumedUnit", "unit"))
    ]
    masks = rows.select(pl.any_horizontal(mask.fill_null(False) for _, mask, _, _ in checks).alias("bad"),
                        *[mask.fill_null(False).alias(f"c{i}") for i, (_, mask, _, _) in enumerate(checks)],
                        *[pl.col(value).alias(f"v{i}") for i, (_, _, _, value) in enumerate(checks)], "row")
    bad = masks.filter(pl.col("bad"))
    problems = []
    for record in bad.head(SHOWN_PROBLEMS).iter_rows(named=True):
        i = next(i for i in range(len(checks)) if record[f"c{i}"])
        problems.append(_Problem(record["row"], checks[i][0], checks[i][2], record[f"v{i}"]))
    if bad.height:
        return rows.clear(), problems, bad.height

    for currency, n in rows.filter(pl.col("currency") != "USD").group_by("currency").len().iter_rows():
        summary.converted[currency] += n
    count = (pl.col("quantity") * pl.col("unit_scale")).round(0).cast(pl.Int64, strict=False)
    return rows.select(
        "content", "start", "end", "team", "workflow", "model",
        source=pl.lit(SOURCE),
        tool=pl.coalesce("service", "provider"),
        cost_usd=pl.col("cost") * rate,
        tokens=pl.when(pl.col("unit_kind") == "token").then(count),
        requests=pl.when(pl.col("unit_kind") == "request").then(count),
    ), [], 0


def _per_value(frame: pl.DataFrame, column: str, compute) -> pl.DataFrame:
    """`compute(distinct values)` joined back row by row: billing exports repeat a few hundred tag sets,
    units and timestamps over millions of rows, and parsing each once is most of the import's speed."""
    values = frame.select(column) if column in frame.columns else pl.DataFrame(
        {column: pl.Series([None] * frame.height, dtype=pl.String)})
    distinct = values.unique()
    mapped = pl.concat([distinct, compute(distinct)], how="horizontal")
    return values.join(mapped, on=column, how="left", nulls_equal=True, maintain_order="left").drop(column)


def _unit() -> list[pl.Expr]:
    """ConsumedUnit → what it counts (`token`, `request` or null) and the multiplier of its quantity."""
    part = pl.col("unit").str.extract_groups(_UNIT).struct.field
    scale = (pl.coalesce(part("1").cast(pl.Int64, strict=False), pl.lit(1))
             * pl.when(part("2").str.to_lowercase() == "k").then(1_000)
             .when(part("2").str.to_lowercase() == "m").then(1_000_000).otherwise(1)
             * pl.when(part("3").str.to_lowercase() == "thousand").then(1_000)
             .when(part("3").str.to_lowercase() == "million").then(1_000_000).otherwise(1))
    return [part("4").str.to_lowercase().alias("unit_kind"), scale.alias("unit_scale")]


def _with_ids(spend: pl.DataFrame, seen: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """`focus:<hash of the row's content>:<occurrence>`, counting occurrences across the whole file."""
    hexes = [hashlib.blake2b(v.encode(), digest_size=8).hexdigest() for v in spend.get_column("content").to_list()]
    digests = pl.Series("d", [int(h, 16) for h in hexes], dtype=pl.UInt64)
    earlier = seen.filter(seen.is_in(digests.unique().implode())).value_counts(name="earlier")
    frame = spend.with_columns(d=digests, hex=pl.Series(hexes, dtype=pl.String))
    frame = frame.join(earlier, on="d", how="left", maintain_order="left").with_columns(
        id=pl.format("focus:{}:{}", "hex", pl.col("earlier").fill_null(0) + pl.int_range(pl.len()).over("d") + 1)
    ).drop("d", "hex", "earlier", "content")
    return frame, seen.append(digests)


def _dated(spend: pl.DataFrame, *, spread: bool) -> pl.DataFrame:
    """Each charge on its start's UTC date; with `spread`, a charge spanning several UTC days becomes one
    row per day with an equal share of the cost (tokens and requests stay on the first day, so their
    totals are unchanged)."""
    if not spread:
        return spend.with_columns(date=pl.col("start").dt.date())
    # Whole days the period lasts, rounded up: a 24-hour charge stays on its start's date even when it
    # does not start at midnight UTC.
    micros = (pl.col("end") - pl.col("start")).dt.total_microseconds()
    days = (micros + 86_400_000_000 - 1) // 86_400_000_000
    several_days = pl.col("end").is_not_null() & (days > 1) & (days <= MAX_SPREAD_DAYS)
    frame = spend.with_columns(days=pl.when(several_days).then(days).otherwise(1))
    first = pl.col("start").dt.date()
    frame = frame.with_columns(date=pl.date_ranges(first, first + pl.duration(days=pl.col("days") - 1)))
    frame = frame.explode("date").with_columns(part=pl.int_range(pl.len()).over("id"))
    several = pl.col("days") > 1
    return frame.with_columns(
        id=pl.when(several).then(pl.format("{}:d{}", "id", "part")).otherwise("id"),
        cost_usd=pl.col("cost_usd") / pl.col("days"),
        tokens=pl.when(pl.col("part") == 0).then("tokens"),
        requests=pl.when(pl.col("part") == 0).then("requests"),
    )


def _describe(path: Path, problems: list[_Problem], count: int) -> str:
    labels = focus_files.row_labels(path, [p.row for p in problems])
    lines = []
    for p in problems:
        shown = f" ({shorten(p.value)!r})" if p.value is not None else ""
        lines.append(f"{labels[p.row]}, column '{p.column}'{shown}: {p.message}")
    more = count - len(problems)
    tail = f"; and {more} more bad row{'s' if more != 1 else ''}" if more > 0 else ""
    return f"{path}: {'; '.join(lines)}{tail}. Nothing was imported from this file."


_OUTPUT = ["id", "source", "date", "team", "tool", "model", "workflow", "cost_usd", "tokens", "requests"]
