"""One progress interface for long work: a bar in the terminal, `st.progress` in the dashboard.

Long-running code takes a `Progress` and calls `update`; it never prints.
"""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def update(self, done: int, total: int | None, message: str) -> None:
        """`done` of `total` units (total None: unknown), with a short line saying what is happening."""


class NoProgress:
    def update(self, done: int, total: int | None, message: str) -> None:
        return None
