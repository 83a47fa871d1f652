"""Reading `scorecard.toml`: strict, with errors that name the key."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from config.errors import ConfigError
from config.governance import check_governance
from config.model import BaselineConfig, BaselineWindow, Config
from config.schedule import parse_schedule
from metrics.registry import METRICS, PERIOD_GRAINS

CONFIG_ENV = "SCORECARD_CONFIG"
WAREHOUSE_URL_ENV = "SCORECARD_WAREHOUSE_URL"
DEFAULT_CONFIG_FILE = "scorecard.toml"


def config_path(explicit: str | os.PathLike | None = None) -> tuple[Path | None, bool]:
    """Which file to read: the explicit path, else $SCORECARD_CONFIG, else ./scorecard.toml.

    Returns (path, required): an explicitly named file must exist; the default one may be absent.
    """
    if explicit:
        return Path(explicit), True
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]), True
    return Path(DEFAULT_CONFIG_FILE), False


def load_config(path: str | os.PathLike | None = None, *, env: typing.Mapping[str, str] | None = None) -> Config:
    """Load and validate the configuration; `SCORECARD_WAREHOUSE_URL` overrides `[warehouse] url`."""
    env = os.environ if env is None else env
    file, required = config_path(path)
    raw: dict[str, Any] = {}
    if file is not None and file.exists():
        try:
            raw = tomllib.loads(_read_text(file))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    elif required:
        raise ConfigError(f"{file}: config file not found")
    where = str(file) if file is not None and file.exists() else "configuration"
    config = parse_config(raw, where=where)
    source_path = str(file.resolve()) if file is not None and file.exists() else None
    config = dataclasses.replace(config, source_path=source_path)
    check_governance(config, METRICS, PERIOD_GRAINS)
    if env.get(WAREHOUSE_URL_ENV):
        config = dataclasses.replace(
            config, warehouse=dataclasses.replace(config.warehouse, url=env[WAREHOUSE_URL_ENV])
        )
    return config


def _read_text(file: Path) -> str:
    """The config file's text: a regular file (a FIFO would block, a directory cannot be read), UTF-8
    with or without a byte-order mark (Windows editors write one)."""
    if not file.is_file():
        raise ConfigError(f"{file}: not a regular file (a directory, pipe or device): give the path of a .toml file")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}: line {line}: not UTF-8 text (save the file as UTF-8)") from None


def parse_config(raw: dict[str, Any], *, where: str = "configuration") -> Config:
    """Build a `Config` from parsed TOML, rejecting unknown keys and wrong types."""
    raw = dict(raw)
    baseline = _parse_baseline(raw.pop("baseline", {}), where)
    schedule = parse_schedule(raw.pop("schedule", {}), where)
    config = _build(Config, raw, where, prefix="", skip={"baseline", "schedule", "source_path"})
    _check_change_chain(config, where)
    return dataclasses.replace(config, baseline=baseline, schedule=schedule)


def _check_change_chain(config: Config, where: str) -> None:
    """Values the types alone do not rule out: a title pattern that is no regex, a service without repos."""
    rules = config.rules  # negative windows and tolerances are refused for every number (_not_negative)
    try:
        re.compile(rules.fix_title_pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: 'rules.fix_title_pattern' is not a regular expression: {exc}") from None
    for name, service in config.services.items():
        if not service.repos:
            raise ConfigError(f"{where}: 'services.{name}.repos' is empty: list the repos whose deployments it runs")


def _parse_baseline(raw: Any, where: str) -> BaselineConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [baseline] must be a table")
    raw = dict(raw)
    per_metric = {}
    for key in [k for k, v in raw.items() if isinstance(v, dict)]:
        if key not in METRICS:
            raise ConfigError(
                f"{where}: [baseline.{key}]: unknown metric id; known: {', '.join(METRICS)}"
            )
        per_metric[key] = _parse_window(raw.pop(key), where, f"baseline.{key}")
    window = _parse_window(raw, where, "baseline") if raw else None
    return BaselineConfig(window=window, per_metric=per_metric)


def _parse_window(raw: dict[str, Any], where: str, name: str) -> BaselineWindow:
    window = _build(BaselineWindow, raw, where, prefix=f"{name}.")
    if window.end < window.start:
        raise ConfigError(f"{where}: {name}: end {window.end} is before start {window.start}")
    return window


def _build(cls: type, raw: Any, where: str, prefix: str, skip: set[str] = frozenset()) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{prefix.rstrip('.')}] must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        known = ", ".join(fields) or "(none)"
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}' (known keys here: {known})")
    values = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = _coerce(raw[name], hints[name], where, f"{prefix}{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing key '{prefix}{name}'")
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return None if value is None else _coerce(value, inner[0], where, key)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, prefix=f"{key}.")
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{key}' must be a table")
        return {k: _coerce(v, args[1], where, f"{key}.{k}") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: '{key}' must be a list, got {_describe(value)}")
        return tuple(_coerce(v, args[0], where, f"{key}[{i}]") for i, v in enumerate(value))
    if hint is dt.date:
        if isinstance(value, dt.datetime):
            raise ConfigError(f"{where}: '{key}' must be a date (YYYY-MM-DD), not a date-time")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: '{key}' must be a date (YYYY-MM-DD), got {_describe(value)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{where}: '{key}' must be a finite number, got {value}")
            return _not_negative(float(value), where, key)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return _not_negative(value, where, key)
    elif hint is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a field type this loader does not know is a programming error
        raise TypeError(f"unsupported config type {hint!r} for {key}")
    raise ConfigError(f"{where}: '{key}' must be {_TYPE_WORDS[hint]}, got {_describe(value)}")


# Every number in the config is a count, a duration, a rate, an amount or a tolerance — none can be
# negative — except a stop condition's threshold, which is in its metric's unit and may be a delta.
_SIGNED_KEYS = frozenset({"threshold"})


def _not_negative(value: float, where: str, key: str) -> float:
    if value < 0 and key.rsplit(".", 1)[-1] not in _SIGNED_KEYS:
        raise ConfigError(f"{where}: '{key}' must not be negative, got {value:g}")
    return value


_TYPE_WORDS = {bool: "true or false", float: "a number", int: "a whole number", str: "a string"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"'{value}' (a string)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"{value!r} ({type(value).__name__})"
