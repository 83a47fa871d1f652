"""PostgreSQL's client library, libpq, called directly (ctypes) by the read-only reader (warehouse.readonly).

Importing psycopg costs a fresh process ~0.07 CPU-s (it loads asyncio, ssl, its error classes and type
adapters): a tenth of a `scorecard metrics` that sends five SELECTs. libpq is the library psycopg drives, and
psycopg-binary ships it beside its own module, so the connection is the one psycopg would open: the URL, the
environment (PGPASSWORD, PGSSLMODE, ~/.pgpass, service files), authentication and TLS are libpq's own.

Rows come in PostgreSQL's binary format (`bytea` as its bytes, as psycopg's `binary=True`), decoded for the
types the reader selects (`DECODERS`); another type is an error, never a guess. `load()` returns None where no
libpq is found: the reader then uses psycopg.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import importlib.util
import struct
import types
from pathlib import Path

CONNECTION_OK = 0
PGRES_COMMAND_OK, PGRES_TUPLES_OK = 1, 2
BINARY = 1  # PQexecParams' resultFormat
BYTEA = 17  # the type oid

_EPOCH = dt.datetime(2000, 1, 1)  # PostgreSQL's binary dates and times count from 2000-01-01
_TIME_LIMITS = (-(2 ** 63), 2 ** 63 - 1)  # -infinity, infinity: no Python value (psycopg refuses them too)


def _instant(raw: bytes) -> dt.datetime:
    micros = int.from_bytes(raw, "big", signed=True)
    if micros in _TIME_LIMITS:
        raise LibpqError("an infinite timestamp has no Python value")
    return _EPOCH + dt.timedelta(microseconds=micros)


def _date(raw: bytes) -> dt.date:
    days = int.from_bytes(raw, "big", signed=True)
    if days in (-(2 ** 31), 2 ** 31 - 1):
        raise LibpqError("an infinite date has no Python value")
    return _EPOCH.date() + dt.timedelta(days=days)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8")  # the connection's client_encoding is UTF8 (`connect`)


def _integer(raw: bytes) -> int:
    return int.from_bytes(raw, "big", signed=True)


# The binary format's decoders by type oid: the values psycopg returns (a timestamptz as the same instant, in
# UTC rather than the session's time zone).
DECODERS = {
    16: lambda raw: raw != b"\x00",  # boolean
    BYTEA: bytes,
    19: _text, 25: _text, 1042: _text, 1043: _text,  # name, text, char(n), varchar
    20: _integer, 21: _integer, 23: _integer,  # bigint, smallint, integer
    700: lambda raw: struct.unpack(">f", raw)[0], 701: lambda raw: struct.unpack(">d", raw)[0],  # real, double
    1082: _date,  # date
    1114: _instant,  # timestamp
    1184: lambda raw: _instant(raw).replace(tzinfo=dt.timezone.utc),  # timestamptz: microseconds in UTC
}


class _Result:
    """A result whose memory pyarrow Buffers view (`Connection.rows(bytea_in_place=True)`): freed with the last."""

    def __init__(self, lib, handle: int):
        self._lib = lib
        self._handle = handle

    def __del__(self) -> None:
        self._lib.PQclear(self._handle)


class LibpqError(RuntimeError):
    """A statement the server refused, or a lost connection: libpq's message."""


class _ConninfoOption(ctypes.Structure):
    _fields_ = [("keyword", ctypes.c_char_p), ("envvar", ctypes.c_char_p), ("compiled", ctypes.c_char_p),
                ("val", ctypes.c_char_p), ("label", ctypes.c_char_p), ("dispchar", ctypes.c_char_p),
                ("dispsize", ctypes.c_int)]


def library_path() -> Path | None:
    """The libpq psycopg-binary ships (its wheel's `psycopg_binary.libs` or, on macOS, `.dylibs`), found without
    importing psycopg; None when psycopg-binary or its libpq is not there."""
    spec = importlib.util.find_spec("psycopg_binary")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    for folder, pattern in ((package.with_name(package.name + ".libs"), "libpq*"), (package / ".dylibs", "libpq*")):
        found = sorted(folder.glob(pattern)) if folder.is_dir() else []
        if found:
            return found[0]
    return None


_library = None


def load():
    """libpq's functions, declared; None when it cannot be found or loaded.

    Only the calls that wait (connecting, a statement, closing) let other threads run meanwhile; the rest
    keep Python's lock: a released lock is often taken by another thread, and getting it back costs up to
    its switch interval (5 ms) per call — a few thousand per read while the reader's thread waits in a
    thread of its own (reports.cube_months.start_current_cube)."""
    global _library
    if _library is None:
        path = library_path()
        if path is None:
            return None
        try:
            waiting, quick = ctypes.CDLL(str(path)), ctypes.PyDLL(str(path))
        except OSError:
            return None
        p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        functions = {}
        for lib, name, restype, argtypes in (
                (waiting, "PQconnectdbParams", p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
                (waiting, "PQexecParams", p, [p, s, i, p, p, p, p, i]), (waiting, "PQfinish", None, [p]),
                (quick, "PQstatus", i, [p]), (quick, "PQerrorMessage", s, [p]),
                (quick, "PQconninfoParse", ctypes.POINTER(_ConninfoOption), [s, ctypes.POINTER(p)]),
                (quick, "PQconninfoFree", None, [ctypes.POINTER(_ConninfoOption)]), (quick, "PQfreemem", None, [p]),
                (quick, "PQresultStatus", i, [p]), (quick, "PQresultErrorMessage", s, [p]),
                (quick, "PQclear", None, [p]), (quick, "PQntuples", i, [p]), (quick, "PQnfields", i, [p]),
                (quick, "PQftype", ctypes.c_uint, [p, i]), (quick, "PQgetisnull", i, [p, i, i]),
                (quick, "PQgetvalue", p, [p, i, i]), (quick, "PQgetlength", i, [p, i, i])):
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
            functions[name] = function
        _library = types.SimpleNamespace(**functions)
    return _library


def url_options(lib, url: str) -> tuple[bool, str | None]:
    """Whether libpq parses `url`, and the `options` it gives (None: none)."""
    error = ctypes.c_void_p()
    parsed = lib.PQconninfoParse(url.encode(), ctypes.byref(error))
    if not parsed:
        if error:
            lib.PQfreemem(error)
        return False, None
    try:
        index = 0
        while parsed[index].keyword is not None:
            if parsed[index].keyword == b"options":
                value = parsed[index].val
                return True, value.decode() if value is not None else None
            index += 1
        return True, None
    finally:
        lib.PQconninfoFree(parsed)


class Connection:
    """One libpq connection in autocommit (each statement its own transaction unless one is started)."""

    errors = (LibpqError,)  # what `rows` raises when the server refuses a statement

    def __init__(self, lib, handle: int):
        self._lib = lib
        self._handle = handle

    def rows(self, sql: str, *, bytea_in_place: bool = False) -> list[tuple]:
        """The statement's rows (none for a command); `LibpqError` with the server's message if it fails.

        With `bytea_in_place`, a `bytea` value is a pyarrow Buffer over the result's own memory, not a copy
        (the cube's chunks: 35-110 MB, whose copy into fresh memory cost up to 0.09 CPU-s); the result is
        freed when the last of them is dropped."""
        lib = self._lib
        result = lib.PQexecParams(self._handle, sql.encode(), 0, None, None, None, None, BINARY)
        if not result:
            raise LibpqError(_message(lib.PQerrorMessage(self._handle)))
        owner = None
        try:
            status = lib.PQresultStatus(result)
            if status == PGRES_COMMAND_OK:
                return []
            if status != PGRES_TUPLES_OK:
                raise LibpqError(_message(lib.PQresultErrorMessage(result)))
            columns = range(lib.PQnfields(result))
            decoders = []
            for column in columns:
                oid = lib.PQftype(result, column)
                if oid not in DECODERS:
                    raise LibpqError(f"no decoder for the PostgreSQL type oid {oid} (column {column + 1})")
                decoders.append(DECODERS[oid])
            isnull, value, length, string_at = lib.PQgetisnull, lib.PQgetvalue, lib.PQgetlength, ctypes.string_at
            in_place = [bytea_in_place and lib.PQftype(result, c) == BYTEA for c in columns]
            if any(in_place):
                import pyarrow as pa

                owner = _Result(lib, result)
            return [tuple(None if isnull(result, row, c)
                          else pa.foreign_buffer(value(result, row, c), length(result, row, c), base=owner)
                          if in_place[c] else decoders[c](string_at(value(result, row, c), length(result, row, c)))
                          for c in columns)
                    for row in range(lib.PQntuples(result))]
        finally:
            if owner is None:
                lib.PQclear(result)

    def close(self) -> None:
        if self._handle:
            self._lib.PQfinish(self._handle)
            self._handle = None


def connect(lib, url: str, options: str | None = None) -> Connection | None:
    """A connection to `url` with UTF-8 text and, if given, libpq `options` (replacing the URL's own); None
    if it fails (the caller then connects through psycopg or connectorx, which say why in their words)."""
    # After the URL in the arrays: libpq lets later entries override the parameters the URL expands to.
    given = [(b"options", options.encode())] if options is not None else []
    pairs = [(b"dbname", url.encode()), *given, (b"client_encoding", b"UTF8")]
    keywords = (ctypes.c_char_p * (len(pairs) + 1))(*(k for k, _ in pairs), None)
    values = (ctypes.c_char_p * (len(pairs) + 1))(*(v for _, v in pairs), None)
    handle = lib.PQconnectdbParams(keywords, values, 1)
    if not handle:
        return None
    if lib.PQstatus(handle) != CONNECTION_OK:
        lib.PQfinish(handle)
        return None
    return Connection(lib, handle)


def _message(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace").strip() or "unknown error"
