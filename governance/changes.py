"""Change history: which configuration and which metric definitions were in force when.

Every CLI command and every dashboard process records, on first use, a `config change` row in the
audit log whenever the effective configuration's hash or the metric-definition version differs from
the last one recorded — with the whole effective config (secrets excluded: the file holds none, and a
password in a URL is masked), so a number on an old screenshot can be explained: find the last
`config change` before the screenshot's time.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl

from config.model import Config
from metrics.registry import METRICS, OUTPUT_COLUMNS, STATUSES

if TYPE_CHECKING:
    from warehouse import Warehouse

# SQLAlchemy and the warehouse's tables are imported where a row is read or written: `scorecard metrics`
# checks the last record through its SQLAlchemy-free reader (LAST_CONFIG_VERSION_SQL, is_recorded).

log = logging.getLogger(__name__)

CONFIG_CHANGE = "config change"


def _mask_url(text: str) -> str:
    """A URL's password (and a user-only credential such as a token) replaced by ***."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or "@" not in parts.netloc:
        return text
    credentials, host = parts.netloc.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    masked = f"{user}:***" if ":" in credentials else "***"
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return _mask_url(value)
    return value


def effective_config(config: Config) -> dict[str, Any]:
    """The configuration in force as plain JSON data, defaults included, secrets excluded."""
    raw = dataclasses.asdict(config)
    raw.pop("source_path", None)
    return _plain(raw)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def config_hash(config: Config) -> str:
    return _digest(effective_config(config))


def metrics_version() -> str:
    """A hash of the metric registry's specs (definitions, units, segments, better-direction) and the
    output columns and statuses: it changes whenever a metric's definition does."""
    return _digest({"metrics": [_plain(s.definition()) for s in METRICS.values()],
                    "columns": list(OUTPUT_COLUMNS), "statuses": list(STATUSES)})


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out |= _flatten(v, f"{prefix}.{k}" if prefix else k)
        return out
    return {prefix: data}


def changed_keys(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The dotted keys whose values differ (added, removed or changed)."""
    if before is None:
        return []
    a, b = _flatten(before), _flatten(after)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# The detail of the latest `config change` row, as `last_config_version` reads it.
LAST_CONFIG_VERSION_SQL = f"SELECT detail FROM audit_log WHERE action = '{CONFIG_CHANGE}' ORDER BY id DESC LIMIT 1"


def last_config_version(warehouse: Warehouse) -> dict[str, Any] | None:
    """The detail of the latest `config change` row (None: never recorded)."""
    import sqlalchemy as sa

    from warehouse.schema import audit_log

    with warehouse.engine.connect() as conn:
        detail = conn.execute(
            sa.select(audit_log.c.detail).where(audit_log.c.action == CONFIG_CHANGE)
            .order_by(audit_log.c.id.desc()).limit(1)
        ).scalar_one_or_none()
    return json.loads(detail) if detail else None


def record_config_version(warehouse: Warehouse, config: Config, actor: str | None = None) -> bool:
    """Record the effective config and metric-definition version when either differs from the last
    recorded one; True when a row was written. Never fails the caller: the history is bookkeeping."""
    try:
        current = effective_config(config)
        chash, mversion = _digest(current), metrics_version()
        last = last_config_version(warehouse)
        if _same_version(last, chash, mversion):
            return False
        from warehouse.runs import audit

        audit(warehouse, CONFIG_CHANGE, {
            "config_hash": chash, "metrics_version": mversion, "source": config.source_path or "(defaults)",
            "first": last is None, "changed": changed_keys(last.get("config") if last else None, current),
            "metrics_changed": bool(last) and last.get("metrics_version") != mversion, "config": current,
        }, actor=actor)
        return True
    except Exception as exc:  # noqa: BLE001 - a read-only warehouse must not stop a command
        log.warning("could not record the configuration version: %s", type(exc).__name__)
        return False


def is_recorded(last: dict[str, Any] | None, config: Config) -> bool:
    """Whether `last` (the latest `config change` detail) is this config's and these metric definitions'
    version: `record_config_version` would write nothing."""
    return _same_version(last, config_hash(config), metrics_version())


def _same_version(last: dict[str, Any] | None, chash: str, mversion: str) -> bool:
    return bool(last) and last.get("config_hash") == chash and last.get("metrics_version") == mversion


AUDIT_SCHEMA = {"id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "actor": pl.String, "action": pl.String,
                "detail": pl.String}


def config_versions(audit_rows: pl.DataFrame) -> pl.DataFrame:
    """The change history from audit rows: ts, actor, config_hash, metrics_version, source, changed
    (keys, one line), latest first."""
    rows = []
    for r in audit_rows.filter(pl.col("action") == CONFIG_CHANGE).sort("id", descending=True).iter_rows(named=True):
        detail = json.loads(r["detail"] or "{}")
        changed = "first record" if detail.get("first") else ", ".join(detail.get("changed") or [])
        if detail.get("metrics_changed"):
            changed = "metric definitions" + (f"; {changed}" if changed else "")
        rows.append({"ts": r["ts"], "actor": r["actor"], "config_hash": detail.get("config_hash"),
                     "metrics_version": detail.get("metrics_version"), "source": detail.get("source"),
                     "changed": changed})
    return pl.DataFrame(rows, schema={"ts": pl.Datetime("us", "UTC"), "actor": pl.String, "config_hash": pl.String,
                                      "metrics_version": pl.String, "source": pl.String, "changed": pl.String})


def config_in_force(audit_rows: pl.DataFrame, at: dt.datetime) -> dict[str, Any] | None:
    """The detail of the config version in force at `at` (the last recorded at or before it)."""
    before = audit_rows.filter((pl.col("action") == CONFIG_CHANGE) & (pl.col("ts") <= at)).sort("id")
    return json.loads(before["detail"][-1]) if before.height else None
