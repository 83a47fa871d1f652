"""Secrets come from environment variables, else Streamlit secrets; never from the config file.

The config names the variable (`token_env = "GITHUB_TOKEN"`), never the value. A secret is stripped of
surrounding blanks when read (a mounted secret file ends in a newline) and refused when a line break or
other control character is left inside it: an HTTP library would refuse the header and quote the value
in its error. Every secret read is remembered, and `redact` masks it in all the shapes a message may
carry it: as it is, repr-escaped, URL-encoded, and base64 of `user:secret` (HTTP basic auth). Every log
record of the process passes through `redact` too (a log record factory), so a connector, the retry
helper or an HTTP library cannot log a secret once it has been read.
"""
from __future__ import annotations

import base64
import contextlib
import logging
import os
import threading
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words
_known: set[str] = set()  # every shape of every secret read by this process
_lock = threading.Lock()


class MissingSecret(RuntimeError):
    """A secret the config says to use is not set or unusable; the message names the variable, never a value."""


def get_secret(name: str, *, required: bool = True) -> str | None:
    """The secret in `$name` (else in .streamlit/secrets.toml), stripped, checked and remembered for
    redaction; None when it is not set and not `required`."""
    value = os.environ.get(name)
    if not value or not value.strip():
        value = _streamlit_secret(name)
    value = value.strip() if value else None
    if not value:
        if required:
            raise MissingSecret(
                f"${name} is not set: export it in the environment (or add it to .streamlit/secrets.toml)"
            )
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise MissingSecret(
            f"${name} contains a line break or another control character inside it: set it to the "
            "token alone (the value is not shown)"
        )
    remember(value)
    return value


def remember(secret: str | None, *, user: str | None = None) -> None:
    """Mask `secret` (and, with `user`, the basic-auth header made of both) in every later `redact` and
    log record."""
    if not secret or len(secret) < _MIN_LENGTH:
        return
    with _lock:
        _known.update(secret_shapes(secret, user=user))
    _install_log_redaction()


def secret_shapes(secret: str, *, user: str | None = None) -> set[str]:
    """The forms in which `secret` may appear in a message: raw, repr-escaped (how Python quotes a value
    with control characters), URL-encoded, and base64 of `user:secret` and of `secret` alone."""
    shapes = {secret, repr(secret)[1:-1], secret.encode("unicode_escape").decode("ascii"),
              quote(secret, safe=""), quote_plus(secret, safe=""),
              base64.b64encode(secret.encode()).decode()}
    if user:
        shapes.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return {s for s in shapes if len(s) >= _MIN_LENGTH}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every shape of every secret read so far, and of `secrets`, replaced by ***."""
    shapes = set(_known)
    for secret in secrets:
        if secret and len(secret) >= _MIN_LENGTH:
            shapes |= secret_shapes(secret)
    if not shapes or not text:
        return text
    for shape in sorted(shapes, key=len, reverse=True):  # a longer shape may contain a shorter one
        if shape in text:
            text = text.replace(shape, MASK)
    return text


_installed = False


def _install_log_redaction() -> None:
    """Every log record made from now on carries its message redacted (exception text included)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args, **kwargs) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            if not _known:
                return record
            try:
                message = record.getMessage()
            except Exception:  # a malformed log call: leave it to logging's own error handling
                return record
            if record.exc_info and record.exc_info[1] is not None:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
                record.exc_info, record.exc_text = None, None
            clean = redact(message)
            if clean != message or record.args:
                record.msg, record.args = clean, ()
            return record

        logging.setLogRecordFactory(redacting_record)


class _Redact(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        clean = redact(message, self.secrets)
        if clean != record.msg or record.args:
            record.msg, record.args = clean, ()
        return True


@contextlib.contextmanager
def redacted_logs(secrets: Iterable[str | None], loggers: Iterable[str]) -> Iterator[None]:
    """While a source runs, every record logged by `loggers` (its HTTP stack, the connector) has the
    secrets masked."""
    flt = _Redact([s for s in secrets if s])
    attached = [logging.getLogger(name) for name in loggers]
    for logger in attached:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in attached:
            logger.removeFilter(flt)


def _streamlit_secret(name: str) -> str | None:
    # Read the file directly: importing streamlit's secrets API outside a running app warns and is slow.
    for path in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if path.is_file():
            try:
                value = tomllib.loads(path.read_text(encoding="utf-8-sig")).get(name)
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                return None
            if isinstance(value, str) and value.strip():
                return value
    return None
