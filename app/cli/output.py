"""What the CLI writes: files given with `--out`, and data shown in Rich tables and messages.

`--out` writes a new regular file or replaces one, atomically (a temporary file in the same folder,
renamed over it): never a half-written file, and never anything that is not a regular file — a
directory, a device such as /dev/full, a FIFO — nor a symbolic link (refused rather than followed: a
link could send the write anywhere, and the CLI often runs with more rights than whoever made it).

`plain` escapes a data value for Rich: a team named `[/bold]team` is text, not markup.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from rich.markup import escape


class OutputPathError(ValueError):
    """An `--out` path that cannot be written; the message says why, and nothing was changed."""


def check_out_path(path: Path | str | None, *, option: str = "--out") -> Path:
    """`path` if a file can be written there; else `OutputPathError` (checked before any work is done)."""
    if path is None or not str(path).strip():
        raise OutputPathError(f"{option} must name a file, e.g. {option} scorecard.csv")
    path = Path(path)
    if str(path).endswith(os.sep) or path.name in ("", ".", ".."):
        raise OutputPathError(f"{option} {path}: names a folder; give a file name inside it")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot be checked ({exc.strerror})") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputPathError(f"{option} {path}: is a symbolic link; give the path of the file itself "
                                  "(links are not followed)")
        if stat.S_ISDIR(info.st_mode):
            raise OutputPathError(f"{option} {path}: is a folder; give a file name inside it")
        if not stat.S_ISREG(info.st_mode):
            raise OutputPathError(f"{option} {path}: is not a regular file (a device, pipe or socket); "
                                  "refusing to replace it")
    folder = path.parent
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise OutputPathError(f"{option} {path}: the folder {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {path}: cannot write in the folder {folder} (permission denied)")
    return path


def write_out(path: Path, data: bytes, *, option: str = "--out") -> None:
    """Write `data` to `path` atomically, after `check_out_path`; on any failure nothing is left behind."""
    path = check_out_path(path, option=option)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot write in the folder {path.parent} ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        check_out_path(path, option=option)  # nothing turned into a link or device meanwhile
        os.replace(temporary, path)
    except OutputPathError:
        _remove(temporary)
        raise
    except OSError as exc:
        _remove(temporary)
        raise OutputPathError(f"{option} {path}: could not be written ({exc.strerror or type(exc).__name__}); "
                              "nothing was changed") from None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def plain(value: Any) -> str:
    """A data value as Rich shows it literally (markup such as `[bold]` escaped); None → ''."""
    return "" if value is None else escape(str(value))
