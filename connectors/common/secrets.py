"""Secrets come from environment variables, else Streamlit secrets; never from the config file.

The config names the variable (`token_env = "GITHUB_TOKEN"`), never the value. Callers pass the values
they hold to `warehouse.sync.redact` / `run_sync(secrets=...)` so that no message carries them.
"""
from __future__ import annotations

import os
from pathlib import Path


class MissingSecret(RuntimeError):
    """A secret the config says to use is not set; the message names the variable, never a value."""


def get_secret(name: str, *, required: bool = True) -> str | None:
    value = os.environ.get(name)
    if not value:
        value = _streamlit_secret(name)
    if not value and required:
        raise MissingSecret(
            f"${name} is not set: export it in the environment (or add it to .streamlit/secrets.toml)"
        )
    return value or None


def _streamlit_secret(name: str) -> str | None:
    # Read the file directly: importing streamlit's secrets API outside a running app warns and is slow.
    for path in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if path.is_file():
            import tomllib

            try:
                value = tomllib.loads(path.read_text(encoding="utf-8")).get(name)
            except tomllib.TOMLDecodeError:
                return None
            if isinstance(value, str) and value:
                return value
    return None
