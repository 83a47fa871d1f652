"""Reading one CSV file of one entity into warehouse-shaped frames, or one clear error.

The whole file is parsed and checked before anything is returned: a bad file yields a `CsvImportError`
naming the line and column of its first problem, and the caller writes nothing.
"""
from __future__ import annotations

import csv
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from config.model import Config
from connectors.common.ai_detection import ai_labels as registry_ai_labels
from connectors.common.ai_detection import classify_prs
from connectors.common.csvfile import Scan, encoding_problem, scan, shorten
from connectors.common.normalise import (
    UTC,
    blank_to_null,
    parse_bool,
    parse_date,
    parse_float,
    parse_int,
    parse_date_series,
    parse_timestamp,
    parse_timestamp_series,
    split_list,
    to_json_list,
)
from connectors.common.reverts import revert_columns
from connectors.contract import KeyOrdered
from connectors.csv.entities import CHANNELS, ENTITIES, KEYS, Entity, Field
from connectors.csv.identity import content_ids

SOURCE = "csv"


class CsvImportError(ValueError):
    """A file that cannot be imported; the message names the file, line and column."""


@dataclass
class ParsedFile:
    entity: str
    path: str
    rows: int
    frames: dict[str, pl.DataFrame]
    warnings: list[str] = field(default_factory=list)


def entity_named(name: str) -> Entity:
    """The importable entity called `name`, or a `CsvImportError` listing them."""
    if name not in ENTITIES:
        raise CsvImportError(f"unknown entity '{name}'; importable: {', '.join(ENTITIES)}")
    return ENTITIES[name]


def read_csv(path: str | Path, entity_name: str, config: Config, *, in_key_order: bool = False) -> ParsedFile:
    """Parse and validate `path` as `entity_name`; returns the frames to upsert (table → frame).

    `in_key_order` (the PostgreSQL warehouse's import): a large PR file without a `files` column is returned
    as `KeyOrdered` rows instead, parsed a slice at a time while the write copies the slices before
    (`_key_ordered`); the file is read and its ids checked whole first, and a problem in any slice still
    fails the whole file, with the same message."""
    entity = entity_named(entity_name)
    path = Path(path)
    if not path.exists():
        raise CsvImportError(f"{path}: file not found")
    if not path.is_file():
        raise CsvImportError(f"{path}: not a regular file (a folder, pipe or device): give a CSV file")
    # Before the read: the file's pages mapped for the check add to the process's memory only while the
    # frames are not yet there (afterwards they raised the 2M-ticket import's peak by ~100 MB).
    nul_bytes = _has_nul_byte(path)
    raw = _read_strings(path)
    raw, warnings = _check_header(raw, entity, path)
    if in_key_order and (rows := _key_ordered(raw, entity, config, path, nul_bytes)) is not None:
        return ParsedFile(entity=entity.name, path=str(path), rows=raw.height, frames={entity.table: rows},
                          warnings=warnings)
    raw = _blanks_stripped(raw)
    parsed, problems = _parse_fields(raw, entity, nul_bytes=nul_bytes)
    problems += _row_problems(parsed, raw, entity)
    if problems:
        raise CsvImportError(_describe_first(problems, raw, path))
    frames = {entity.table: _to_table(entity, parsed, raw, config)}
    if entity.name == "pull_requests" and "files" in parsed.columns:
        frames["pull_request_files"] = _files(parsed)
    return ParsedFile(entity=entity.name, path=str(path), rows=raw.height, frames=frames, warnings=warnings)


# A PR file of at least this many rows is parsed slice by slice beside the write (`_key_ordered`): the writer's
# bulk first load starts at writer.BULK_ROWS rows, and below it the whole file is parsed in a moment.
KEY_ORDERED_MIN_ROWS = 10_000
SLICE_ROWS = 131_072  # rows parsed at a time: the COPY sends each slice in eight batches of 16,384
# The first slice's rows, fewer: it is parsed before the COPY starts (the server idle), each later one beside the
# COPY of the one before. So that the server does not wait for the next slice's parse after a small one either, the
# slices after the first double in size until they hold SLICE_ROWS (16,384, 32,768, 65,536, 131,072, ...): a
# slice's parse takes about as long as the COPY of half as many rows.
HEAD_ROWS = 16_384


def _key_ordered(raw: pl.DataFrame, entity: Entity, config: Config, path: Path, nul_bytes: bool):
    """`raw`'s rows as `KeyOrdered` (connectors.contract): sorted by id, each slice (the first of `HEAD_ROWS`, the
    others twice the one before, up to `SLICE_ROWS`) parsed, checked and made a table frame only when the write
    asks for it, so the client parses the next slice while the server stores the last (the PostgreSQL COPY; the
    file's parse was ~1.2 s before a 1M-PR load began).

    What needs the whole file is done first: the ids' order (the bulk load's, which the writer would
    otherwise sort), and whether an id repeats (neighbours in that order). A file whose ids repeat, or
    whose first slice has a problem, returns None: the caller parses it whole, as before, and reports the
    first problem. A problem found in a later slice stops the slices, and once every remaining slice has
    been checked the producer raises the `CsvImportError` the whole-file parse would (the first problem in
    file order, the count of the rest): the write, one transaction, is rolled back, so nothing is written.
    The rows are the same as the whole file's in the writer's order (`_to_table` works row by row)."""
    if entity.name != "pull_requests" or "files" in raw.columns or "id" not in raw.columns \
            or raw.height < KEY_ORDERED_MIN_ROWS:
        return None
    # One chunk per column first: polars' read leaves ~100, and taking rows in key order from those cost 1.8
    # CPU-s at 1M PRs against 0.14 from one (the copy into one: 0.03). Of the cells, only the ids are stripped of
    # their blanks here (`_blanks_stripped`): each slice's others are, as it is taken (0.39 CPU-s at 1M PRs before
    # the COPY began, now beside it).
    raw = raw.with_columns(blank_to_null(pl.col("id"))).rechunk()
    ids = raw.get_column("id")
    # Bytes order, as the writer's sort (one thread: see warehouse.write `_sorted`); a null id first.
    order = raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series()
    ordered = ids.gather(order)
    if ordered.slice(1).eq(ordered.slice(0, len(ordered) - 1)).any():
        return None  # a repeated id (nulls are not repeats, as in `_row_problems`)

    def part(start: int, length: int) -> tuple[pl.DataFrame, pl.DataFrame, list[Problem]]:
        rows = order.slice(start, length)
        piece = _blanks_stripped(raw[rows], but="id")
        # Each problem's row is the file's: the first in file order among this slice's rows that have it.
        parsed, problems = _parse_fields(piece, entity, nul_bytes=nul_bytes, rows=rows)
        problems += _row_problems(parsed, piece, entity, rows=rows)
        return piece, parsed, problems

    piece, parsed, problems = part(0, HEAD_ROWS)
    if problems:
        return None
    head = _to_table(entity, parsed, piece, config)

    def slices():
        yield head
        found: list[Problem] = []
        start, length = HEAD_ROWS, min(2 * HEAD_ROWS, SLICE_ROWS)
        while start < raw.height:
            piece, parsed, problems = part(start, length)
            start, length = start + length, min(2 * length, SLICE_ROWS)
            found += problems
            if not found:
                yield _to_table(entity, parsed, piece, config)
        if found:
            raise CsvImportError(_describe_first(found, _blanks_stripped(raw, but="id"), path))

    return KeyOrdered(height=raw.height, columns=head.columns, slices=slices)


def _read_strings(path: Path) -> pl.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise CsvImportError(f"{path}: the file is empty (no header line)")
    if problem := encoding_problem(head):
        raise CsvImportError(f"{path}: {problem}")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False, glob=False)
    except pl.exceptions.NoDataError:
        raise CsvImportError(f"{path}: the file is empty (no header line)") from None
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError) as exc:
        raise CsvImportError(f"{path}: {_scan(path).problem or _first_line(exc)}") from None
    # A short row (and a blank line) leaves at least the last column null, so a file whose last column
    # has a value (or a quoted "") on every row has neither: the byte scan is only for the others.
    if raw.width > 1 and raw.get_column(raw.columns[-1]).null_count() and _may_have_short_rows(path, raw.width):
        found = _scan(path, stop_at_first=True)
        if found.problem:
            raise CsvImportError(f"{path}: {found.problem}. Nothing was imported from this file.")
        if found.blank_records:  # polars keeps a blank line as a row of nulls; it is no record
            keep = pl.Series([True] * raw.height)
            keep = keep.scatter([i for i in found.blank_records if i < raw.height], False)
            raw = raw.filter(keep)
    return raw


def _may_have_short_rows(path: Path, width: int) -> bool:
    """True when some physical line has fewer separators than the header needs (polars fills a short
    row with nulls silently). A quoted cell spanning lines also trips it; the exact scan then decides.

    Counted over the raw bytes in blocks (comma positions against newline positions), without making a
    string per line: a tenth of the time of reading the file again as lines. The blocks are views of
    the file mapped into memory (the page cache's own pages), not copies read into new buffers."""
    need = width - 1
    carry = 0  # commas on the line that runs into the next block
    pending = False  # a line has started and not yet ended
    if path.stat().st_size == 0:
        return False
    mapped = np.memmap(path, dtype=np.uint8, mode="r")
    for start in range(0, len(mapped), _BLOCK):
        data = mapped[start:start + _BLOCK]
        ends = np.flatnonzero(data == 10)
        commas = np.flatnonzero(data == 44)
        before = np.searchsorted(commas, ends)  # commas before each newline in this block
        if len(ends):
            per_line = np.diff(before, prepend=0)
            per_line[0] += carry
            if per_line.min() < need:
                return True
            carry = len(commas) - int(before[-1])
            pending = len(data) > int(ends[-1]) + 1
        else:
            carry += len(commas)
            pending = True
    return pending and carry < need  # a last line without a newline


_BLOCK = 1 << 26  # 64 MiB of the file at a time


def _has_nul_byte(path: Path) -> bool:
    """Whether the file holds a NUL byte anywhere: when it does not, no cell can, and the per-column
    search (a pass over every string of every column) is left out. One memchr over the file mapped into
    memory (a fifth of the CPU of reading it into buffers first: 0.02 against 0.11 s for 200 MB)."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"\x00") != -1


def _first_line(exc: Exception) -> str:
    return "not a readable CSV file: " + shorten(str(exc).strip().splitlines()[0], 200)


def _scan(path: Path, *, stop_at_first: bool = True) -> Scan:
    """The csv module's reading of the file (only on the error path, or when a row may be short)."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as text:
        return scan(text, stop_at_first=stop_at_first)


def _check_header(raw: pl.DataFrame, entity: Entity, path: Path) -> tuple[pl.DataFrame, list[str]]:
    names = [c.strip().lstrip("\ufeff").lower() for c in raw.columns]
    seen = set()
    for original, name in zip(raw.columns, names):
        if name in seen or "_duplicated_" in original:
            raise CsvImportError(f"{path}: line 1: column '{shorten(name.split('_duplicated_')[0])}' appears twice in the header")
        seen.add(name)
    raw = raw.rename(dict(zip(raw.columns, names)))
    missing = [c for c in entity.required if c not in names]
    if missing:
        raise CsvImportError(
            f"{path}: line 1: missing required column '{missing[0]}' for {entity.name} "
            f"(required: {', '.join(entity.required)}; optional: "
            f"{', '.join(f.name for f in entity.fields if not f.required)})"
        )
    unknown = [c for c in names if c not in entity.columns]
    warnings = [f"{path}: ignored column(s) not used for {entity.name}: {', '.join(shorten(c) for c in unknown)}"] if unknown else []
    return raw.drop(unknown), warnings


def _blanks_stripped(raw: pl.DataFrame, *, but: str | None = None) -> pl.DataFrame:
    """`raw` with every cell's surrounding blanks removed and a blank cell null (`blank_to_null`), the column
    `but` left as it is (already stripped)."""
    return raw.with_columns(blank_to_null(pl.col(c)).alias(c) for c in raw.columns if c != but)


@dataclass(frozen=True)
class Problem:
    row: int  # 0-based data row
    column: str
    message: str
    count: int  # rows with this problem


_PARSERS = {
    "timestamp": (parse_timestamp, "not an ISO 8601 timestamp"),
    "date": (parse_date, "not a date (YYYY-MM-DD)"),
    "bool": (parse_bool, "not true or false"),
    "int": (parse_int, "not a whole number"),
    "count": (parse_int, "not a whole number"),
    "money": (parse_float, "not a finite decimal number (e.g. 12.50: a dot for decimals, no thousands "
                           "separator, no NaN or infinity)"),
    "csat": (parse_float, "not a number"),
}


def _timestamps(text: pl.Series) -> pl.Series:
    """`parse_timestamp_series` with a faster first try for the usual export, where every value is an
    ISO 8601 timestamp with its offset: Arrow's ISO 8601 parser takes the whole column in one pass
    (ten times polars' format-inferring one). It accepts a few shapes ISO_8601 does not (an hour
    without minutes, a `+hh` offset), so its result is used only when every value also has ISO_8601's
    shape (`_iso_8601_shaped`, which tells those apart from the byte lengths and three bytes of each
    value instead of running the pattern over every character); any value it cannot take, or the other
    shapes, send the column through the general parser. The cells are already stripped (`_blanks_stripped`)."""
    if text.null_count() < len(text):
        arrow = text.to_arrow()
        try:
            parsed = pc.cast(arrow, pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            if _iso_8601_shaped(arrow):
                return pl.Series(text.name, parsed, dtype=UTC)
    return parse_timestamp_series(text)


_T, _SPACE, _COLON, _PLUS, _MINUS = (ord(c) for c in "T :+-")


def _iso_8601_shaped(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every value Arrow's ISO 8601 parser took (`values`, all of them parsed) also matches
    ISO_8601. What Arrow takes is a date, or a date, `T` or a space, an hour and at least the minutes or
    an offset; the shapes ISO_8601 refuses among these are the hour without minutes (no `:` after it)
    and the `+hh` offset (a sign three bytes before the end). So a value passes when it is a date alone
    (10 bytes), or at least `YYYY-MM-DDThh:mm` long with `T` or a space at byte 10, `:` at byte 13 and
    no sign three bytes before its end. tests/connectors/csv/test_strict_inputs.py holds this to the
    general parser over every combination of the shapes' parts."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    valid = values.is_valid().to_numpy(zero_copy_only=False) if values.null_count else None
    _, offsets, data = values.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(values) + 1, offset=values.offset * 8)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    for first in range(0, len(values), _SHAPE_BLOCK):  # in blocks: a few MB of index arrays at a time
        stop = min(first + _SHAPE_BLOCK, len(values))
        starts, ends = bounds[first:stop], bounds[first + 1:stop + 1]
        lengths = ends - starts
        longer = lengths != 10
        if valid is not None:
            longer &= valid[first:stop]
        if not longer.any():
            continue
        if (lengths[longer] < 16).any():
            return False
        start, end = starts[longer], ends[longer]
        separator, colon, sign = data[start + 10], data[start + 13], data[end - 3]
        if not (((separator == _T) | (separator == _SPACE)).all() and (colon == _COLON).all()
                and not ((sign == _PLUS) | (sign == _MINUS)).any()):
            return False
    return True


_SHAPE_BLOCK = 1 << 18  # values per block of `_iso_8601_shaped`


def _integers(text: pl.Series) -> pl.Series:
    """`parse_int` over a column, with a fast first pass: a value that reads back as the same text is a
    plain whole number, exact below 2^53 where the general parser (through a float) agrees with it;
    only the other values go through `parse_int`."""
    ints = text.cast(pl.Int64, strict=False)
    plain = (ints.cast(pl.String) == text) & (ints.abs() < 2**53)
    other = (text.is_not_null() & ~plain.fill_null(False)).arg_true()
    if len(other):
        slow = pl.select(parse_int(pl.lit(text.gather(other)))).to_series()
        ints = ints.scatter(other, slow)
    return ints.alias(text.name)


_SERIES_PARSERS = {"timestamp": _timestamps, "date": parse_date_series, "int": _integers, "count": _integers}


def _parse_fields(raw: pl.DataFrame, entity: Entity, *, nul_bytes: bool = True,
                  rows: pl.Series | None = None) -> tuple[pl.DataFrame, list[Problem]]:
    exprs = []
    present = [f for f in entity.fields if f.name in raw.columns]
    for f in present:
        col = pl.col(f.name)
        if f.kind in _SERIES_PARSERS:
            exprs.append(pl.lit(_SERIES_PARSERS[f.kind](raw.get_column(f.name))).alias(f.name))
        elif f.kind in _PARSERS:
            exprs.append(_PARSERS[f.kind][0](col).alias(f.name))
        elif f.kind == "channel":
            exprs.append(col.str.to_lowercase().alias(f.name))
        elif f.kind == "labels":
            exprs.append(split_list(col).alias(f.name))
        else:
            exprs.append(col.alias(f.name))
    parsed = raw.select(exprs) if exprs else pl.DataFrame()
    checks: list[tuple[Field, pl.Expr, str]] = []
    for f in present:
        value, text = pl.col(f.name), raw.get_column(f.name)
        if nul_bytes:
            checks.append((f, pl.lit(text.str.contains("\x00", literal=True).fill_null(False)),
                           "contains a NUL byte (not text; is this a binary file?)"))
        if f.not_empty:
            checks.append((f, pl.lit(text.is_null()), "empty, but a value is required"))
        if f.kind in _PARSERS:
            checks.append((f, pl.lit(text.is_not_null()) & value.is_null(), _PARSERS[f.kind][1]))
        if f.kind == "money":
            checks.append((f, value < 0, "a cost cannot be negative"))
        if f.kind == "count":
            checks.append((f, value < 0, "a count cannot be negative"))
        if f.kind == "csat":
            checks.append((f, (value < 1) | (value > 5), "CSAT must be between 1 and 5"))
        if f.kind == "channel":
            checks.append((f, value.is_not_null() & ~value.is_in(CHANNELS), f"unknown channel (use {', '.join(CHANNELS)})"))
    return parsed, _problems(parsed, checks, rows)


def _problems(frame: pl.DataFrame, checks: list[tuple[Field, pl.Expr, str]], rows: pl.Series | None = None) -> list[Problem]:
    """The problems `checks` find in `frame`: per check its first row (in `frame`'s order; or, given `rows`,
    the file's row of each of `frame`'s rows, the least of those that have it) and how many rows have it."""
    if not checks or frame.height == 0:
        return []
    masks = frame.select([mask.fill_null(False).alias(f"c{i}") for i, (_, mask, _) in enumerate(checks)])
    first = (lambda c: pl.col(c).arg_max()) if rows is None else (lambda c: pl.lit(rows).filter(pl.col(c)).min())
    summary = masks.select(
        [pl.col(c).sum().alias(f"{c}_n") for c in masks.columns]
        + [first(c).alias(f"{c}_first") for c in masks.columns]
    ).row(0, named=True)
    out = []
    for i, (f, _, message) in enumerate(checks):
        count = summary[f"c{i}_n"]
        if count:
            out.append(Problem(row=summary[f"c{i}_first"], column=f.name, message=message, count=count))
    return out


def _row_problems(parsed: pl.DataFrame, raw: pl.DataFrame, entity: Entity, rows: pl.Series | None = None) -> list[Problem]:
    checks: list[tuple[Field, pl.Expr, str]] = []
    keys = KEYS.get(entity.name, ["id"])
    if all(k in parsed.columns for k in keys) and not _distinct(parsed, keys):
        key_cols = [pl.col(k) for k in keys]
        duplicate = pl.all_horizontal(c.is_not_null() for c in key_cols) & pl.struct(key_cols).is_duplicated() & ~pl.struct(key_cols).is_first_distinct()
        checks.append((entity.columns[keys[-1]], duplicate, "duplicate id: the same id appears earlier in this file"))
    if entity.name == "pull_requests" and "created_at" in parsed.columns:
        checks.append((entity.columns["created_at"], pl.col("created_at") > pl.col("merged_at"), "created after it was merged"))
    if entity.name == "incidents" and "resolved_at" in parsed.columns:
        checks.append((entity.columns["resolved_at"], pl.col("resolved_at") < pl.col("started_at"), "resolved before it started"))
    return _problems(parsed, checks, rows)


def _distinct(frame: pl.DataFrame, keys: list[str]) -> bool:
    """True when no two rows share a key, decided from the keys' hashes (distinct hashes mean distinct
    keys): a tenth of the cost of finding which rows repeat, which only a file with repeats pays."""
    hashed = frame.get_column(keys[0]).hash() if len(keys) == 1 else frame.select(pl.struct(keys).hash()).to_series()
    return hashed.n_unique() == frame.height


def _describe_first(problems: list[Problem], raw: pl.DataFrame, path: Path) -> str:
    order = {name: i for i, name in enumerate(raw.columns)}
    first = min(problems, key=lambda p: (p.row, order.get(p.column, 99)))
    value = raw.get_column(first.column)[first.row] if first.column in raw.columns else None
    shown = f": {shorten(value)!r}" if value is not None else ""
    more = sum(p.count for p in problems) - 1
    tail = f" ({more} more problem{'s' if more != 1 else ''} in this file)" if more else ""
    return (
        f"{path}: line {_physical_line(path, first.row)}, column '{first.column}': {first.message}{shown}{tail}. "
        "Nothing was imported from this file."
    )


def _physical_line(path: Path, row: int) -> int:
    """The file line where data row `row` starts (quoted cells may span lines)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        start, i = 1, 0
        for record in reader:
            if record or i == 0:  # blank lines are no records (the reader dropped them)
                if i == row + 1:
                    return start
                i += 1
            start = reader.line_num + 1
    return row + 2


def _text(parsed: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in parsed.columns else pl.lit(None, dtype=pl.String)


def _files(parsed: pl.DataFrame) -> pl.DataFrame:
    """`pull_request_files` rows from the `files` column: one per PR and path (paths trimmed, empty ones
    and repeats dropped)."""
    return (
        parsed.select(pr_id="id", path="files").explode("path")
        .filter(pl.col("path").is_not_null())
        .unique(["pr_id", "path"], maintain_order=True)
        .with_columns(source=pl.lit(SOURCE))
    )


def _to_table(entity: Entity, parsed: pl.DataFrame, raw: pl.DataFrame, config: Config) -> pl.DataFrame:
    source = pl.lit(SOURCE).alias("source")
    if entity.name == "pull_requests":
        prs = parsed.rename({"ai_assisted": "ai_explicit"}) if "ai_assisted" in parsed.columns else parsed
        prs = classify_prs(prs, config.ai_detection, source=SOURCE)
        prs = revert_columns(prs)
        keep = [c for c in ("id", "repo", "team", "number", "title", "author", "created_at", "merged_at",
                            "closed_at", "merge_commit_sha", "url", "reverts_pr_id") if c in prs.columns]
        labels = to_json_list(pl.col("labels")) if "labels" in prs.columns else pl.lit("[]")
        prs = prs.drop("files", strict=False)
        return prs.select(
            *keep, source, labels.alias("labels"), "ai_assisted", "ai_signals", "ai_tools", "ai_mode", "ai_confidence",
            (pl.col("is_revert") | (_text(prs, "reverts_pr_id").is_not_null() & pl.col("merged_at").is_not_null())).alias("is_revert"),
            "revert_ref",
        )
    if entity.name == "incidents":
        ai_labels = sorted(registry_ai_labels(config.ai_detection))
        label_ai = (
            pl.col("labels").list.eval(pl.element().str.to_lowercase().is_in(ai_labels)).list.any()
            if "labels" in parsed.columns else pl.lit(False)
        )
        explicit = pl.col("ai_assisted") if "ai_assisted" in parsed.columns else pl.lit(None, pl.Boolean)
        return parsed.with_columns(
            source, ai_assisted=pl.coalesce(explicit, label_ai, pl.lit(False))
        ).drop("labels", strict=False)
    if entity.name == "reviews":
        return parsed.with_columns(source, state=pl.col("state").str.strip_chars().str.to_uppercase())
    if entity.name == "deployments" and "is_rollback" not in parsed.columns:
        return parsed.with_columns(source, is_rollback=pl.lit(None, pl.Boolean))
    if entity.id_optional:
        given = parsed.get_column("id") if "id" in parsed.columns else None
        if given is not None and given.null_count() == 0:
            return parsed.with_columns(source)
        # Hashing is the slow part of such files, so only the rows without an id pay for it.
        need = given.is_null() if given is not None else pl.Series([True] * raw.height)
        rows = need.arg_true()
        ids = content_ids(parsed.gather(rows), entity.identity, f"{SOURCE}:{entity.name}")
        filled = (given if given is not None else pl.Series("id", [None] * raw.height, dtype=pl.String)).scatter(rows, ids)
        return parsed.with_columns(filled.alias("id"), source)
    return parsed.with_columns(source)


def describe_entities() -> str:
    """One line per entity with its columns, for `--help` and error messages."""
    lines = []
    for entity in ENTITIES.values():
        cols = ", ".join(f.name + ("" if f.required else "?") for f in entity.fields)
        lines.append(f"{entity.name}: {cols}")
    return "\n".join(lines)


