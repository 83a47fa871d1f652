"""Where a malformed CSV file goes wrong, as "line N, column 'name': what" (the CSV and FOCUS importers).

The fast readers (polars, pyarrow) say what is wrong but not where, and fill a short row with empty
cells without a word; this module reads the file again with the csv module, on the error path only (or
when a quick check suspects a short row), and names the line where the bad record starts and its column.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# A cell may be large (a PR body, a 50 MB line): the polars and pyarrow readers take it, and the locator
# must too, or every later error would read "field larger than field limit".
csv.field_size_limit(2**31 - 1)

_RECORD_LINES_KEPT = 1000  # lines of the current record kept to find where an unclosed quote opened


def encoding_problem(head: bytes) -> str | None:
    """A file that is not UTF-8 text at all (UTF-16 with or without BOM), judged from its first bytes."""
    first_line = head.split(b"\n", 1)[0]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first_line:
        return "line 1: the file is UTF-16 (or another encoding with NUL bytes), not UTF-8: save it as UTF-8"
    return None


@dataclass
class Scan:
    """The first problem found ("line N, column 'c': ..."), and the data records that are blank lines."""

    problem: str | None = None
    blank_records: list[int] = field(default_factory=list)


class _Lines:
    """The text's lines, remembering those of the record being read (to find where a quote opened)."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.record: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if len(self.record) < _RECORD_LINES_KEPT:
            self.record.append(line)
        return line


def scan(text: Iterable[str], header: list[str] | None = None, *, stop_at_first: bool = True) -> Scan:
    """Read every record of `text` (decoded with errors="surrogateescape", so a byte that is not UTF-8
    shows up in its cell) and report the first malformed one: a quote never closed (named where it
    opens), a stray quote, a byte that is not UTF-8, fewer or more fields than the header. Blank lines
    are not records; their indexes are returned so a reader that kept them as empty rows can drop them."""
    lines = _Lines(text)
    reader = csv.reader(lines, strict=True)
    result = Scan()
    start, index = 1, -1
    names = list(header) if header is not None else None
    try:
        for row in reader:
            record, lines.record = lines.record, []
            if names is None:
                names = row
                bad = _undecodable(row)
                if bad is not None:
                    result.problem = f"line {start}: the header is not valid UTF-8 text (save the file as UTF-8)"
                    return result
                start = reader.line_num + 1
                continue
            index += 1
            problem = _row_problem(row, names, start)
            if not row:
                result.blank_records.append(index)
            elif problem and result.problem is None:
                result.problem = problem
                if stop_at_first:
                    return result
            start = reader.line_num + 1
    except csv.Error as exc:
        column = _column_name(names, _open_field(lines.record))
        if "unexpected end of data" in str(exc):
            what = "a quoted cell opens here and is never closed (a missing closing \")"
        else:
            what = f'malformed quoting ({exc}); a " inside a quoted cell is written ""'
        result.problem = f"line {start}, {column}: {what}"
    return result


def _row_problem(row: list[str], names: list[str], start: int) -> str | None:
    bad = _undecodable(row)
    if bad is not None:
        return (f"line {start}, {_column_name(names, bad)}: not valid UTF-8 text (a byte of another "
                "encoding, e.g. Latin-1; save the file as UTF-8)")
    if row and len(row) < len(names):
        return (f"line {start}, {_column_name(names, len(row))}: missing — the row has {len(row)} fields "
                f"where the header has {len(names)}")
    if len(row) > len(names):
        return (f"line {start}, column {len(names) + 1} (after the last header column): the row has "
                f"{len(row)} fields where the header has {len(names)}")
    return None


def _undecodable(row: list[str]) -> int | None:
    for i, cell in enumerate(row):
        if any("\udc80" <= ch <= "\udcff" for ch in cell):
            return i
    return None


def _open_field(record: list[str]) -> int:
    """The field (0-based) in which the record's last unclosed quote opened."""
    in_quotes, fields, opened = False, 0, 0
    for line in record:
        for ch in line:
            if ch == '"':
                in_quotes = not in_quotes
                if in_quotes:
                    opened = fields
            elif ch == "," and not in_quotes:
                fields += 1
    return opened


def _column_name(names: list[str] | None, i: int) -> str:
    if names and 0 <= i < len(names):
        return f"column '{shorten(names[i].strip().lstrip(chr(0xFEFF)))}'"
    return f"column {i + 1}"


def shorten(text: str, limit: int = 80) -> str:
    """A value as it may appear in a message: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit] + "…"
