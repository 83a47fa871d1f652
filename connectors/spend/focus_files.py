"""Reading a FOCUS export in batches, without holding the file: CSV (optionally gzip) or Parquet.

Every column the importer reads arrives as text from CSV and in its own type from Parquet; a row is
named by its physical line in a CSV file (found only when there is something to report, since quoted
cells may span lines) and by its row number in a Parquet file.
"""
from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from connectors.common.csvfile import encoding_problem, scan

# Small blocks keep memory flat: the streaming reader reads several blocks ahead (8 MB blocks peaked at
# ~180 MB of Arrow memory on a 1M-row export, 1 MB blocks at ~40 MB), and blocks are joined into batches.
CSV_BLOCK_BYTES = 1 << 20


class FocusFileError(ValueError):
    """A file that cannot be read at all; the message names the file (and the line where known)."""


@dataclass(frozen=True)
class RawBatch:
    frame: pl.DataFrame  # the wanted columns, named as in the file
    first_row: int  # 0-based index of the batch's first data row in the file
    done: int  # progress units so far (bytes for CSV, rows for Parquet)
    total: int | None


def is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _text_stream(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")
    # A byte that is not UTF-8 becomes a lone surrogate, so the locator can name its line and column.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def header(path: Path) -> list[str]:
    """The file's column names."""
    if is_parquet(path):
        import pyarrow.parquet as pq  # pyarrow's file readers load only for a FOCUS import

        try:
            return pq.ParquetFile(path).schema_arrow.names
        except (pa.ArrowException, OSError) as exc:
            raise FocusFileError(f"{path}: not a readable Parquet file: {_first_line(exc)}") from None
    with (gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")) as handle:
        if problem := encoding_problem(handle.read(4096)):
            raise FocusFileError(f"{path}: {problem}")
    try:
        with _text_stream(path) as text:
            first = next(csv.reader(text), None)
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise FocusFileError(f"{path}: line 1: not a readable UTF-8 CSV file: {_first_line(exc)}") from None
    if not first or not any(c.strip() for c in first):
        raise FocusFileError(f"{path}: the file is empty (no header line)")
    if any("\udc80" <= ch <= "\udcff" for name in first for ch in name):
        raise FocusFileError(f"{path}: line 1: the header is not valid UTF-8 text (save the file as UTF-8)")
    return first


def batches(path: Path, columns: list[str], batch_rows: int) -> Iterator[RawBatch]:
    """The wanted columns of every row, a batch at a time."""
    if is_parquet(path):
        yield from _parquet_batches(path, columns, batch_rows)
    else:
        yield from _csv_batches(path, columns, batch_rows)


def _parquet_batches(path: Path, columns: list[str], batch_rows: int) -> Iterator[RawBatch]:
    import pyarrow.parquet as pq  # as in header(): only for a FOCUS import

    file = pq.ParquetFile(path)
    total = file.metadata.num_rows
    first = 0
    try:
        for batch in file.iter_batches(batch_size=batch_rows, columns=columns):
            frame = pl.from_arrow(batch)
            yield RawBatch(frame, first, first + frame.height, total)
            first += frame.height
    except (pa.ArrowException, OSError) as exc:
        raise FocusFileError(f"{path}: row {first + 1} onwards cannot be read: {_first_line(exc)}") from None


def _csv_batches(path: Path, columns: list[str], batch_rows: int) -> Iterator[RawBatch]:
    import pyarrow.csv as pacsv  # as in header(): only for a FOCUS import

    names = header(path)
    raw = pa.OSFile(str(path), "r")
    total = raw.size()
    stream = pa.CompressedInputStream(raw, "gzip") if _is_gzip(path) else raw
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names}, include_columns=columns,
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
        first, pending = 0, []
        for block in reader:
            pending.append(block)
            if sum(b.num_rows for b in pending) >= batch_rows:
                frame = pl.from_arrow(pa.Table.from_batches(pending))
                yield RawBatch(frame, first, raw.tell(), total)
                first, pending = first + frame.height, []
        if pending:
            yield RawBatch(pl.from_arrow(pa.Table.from_batches(pending)), first, raw.tell(), total)
    except pa.ArrowInvalid as exc:
        raise FocusFileError(f"{path}: {locate_malformed(path, len(names)) or _first_line(exc)}") from None
    finally:
        raw.close()


def locate_malformed(path: Path, width: int) -> str | None:
    """The first malformed record, as "line N, column 'c': what" (on the error path only)."""
    with _text_stream(path) as text:
        return scan(text).problem


def row_labels(path: Path, rows: list[int]) -> dict[int, str]:
    """'line N' (CSV) or 'row N' (Parquet) for each 0-based data row."""
    if is_parquet(path):
        return {r: f"row {r + 1}" for r in rows}
    wanted, labels = set(rows), {}
    with _text_stream(path) as text:
        reader = csv.reader(text)
        next(reader, None)
        start = reader.line_num + 1
        index = 0
        for record in reader:
            if not record:  # a blank line is no row (pyarrow skips it too)
                start = reader.line_num + 1
                continue
            if index in wanted:
                labels[index] = f"line {start}"
                if len(labels) == len(wanted):
                    break
            index += 1
            start = reader.line_num + 1
    return {r: labels.get(r, f"row {r + 1}") for r in rows}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
