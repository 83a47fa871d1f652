"""GitHub connector: pull requests with AI attribution and revert references, deployments (and
rollback markers), deployment→PR links, and Copilot adoption — incremental, idempotent, resumable.

`run` is what `scorecard sync --source github` (and the dashboard's "Sync now") calls. The token is
read from the environment variable `[github] token_env` names and is kept out of every log line,
message and table (see `redacted_logs` and `run_sync(secrets=...)`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator

from config.model import Config
from connectors.common.progress import Progress
from connectors.common.secrets import MissingSecret, get_secret
from connectors.github import settings
from connectors.github.client import GithubClient
from connectors.github.sync import GithubSetupError, GithubSync, check_config
from connectors.sources import SourceSpec
from warehouse.engine import Warehouse
from warehouse.sync import SyncReport, failing_batches, redact, run_sync

# Loggers that may see request or response text during a sync (PyGithub logs bodies at DEBUG).
_LOGGERS = ("github", "github.Requester", "github.GithubRetry", "urllib3", "urllib3.connectionpool",
            "urllib3.util.retry", "requests", __name__, f"{__name__}.client", f"{__name__}.sync",
            f"{__name__}.copilot", "warehouse.sync")


def run(warehouse: Warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
        sleeper: Callable[[float], None] | None = None, now: dt.datetime | None = None) -> SyncReport:
    """Sync GitHub into the warehouse; never raises for a GitHub problem (the report says what happened).

    `sleeper` replaces `time.sleep` for every wait (tests pass a recorder); `now` fixes the clock.
    """
    cfg = config.github
    token = None
    try:
        check_config(cfg)
        token = get_secret(cfg.token_env)
        client = GithubClient(cfg, token, sleeper=sleeper)
    except (GithubSetupError, MissingSecret) as exc:
        return run_sync(warehouse, settings.SOURCE, failing_batches(exc), secrets=[token], progress=progress)
    stats: dict[str, int] = {}
    with redacted_logs([token]):
        try:
            sync = GithubSync(warehouse, config, client, full=full, now=now or dt.datetime.now(dt.timezone.utc),
                              stats=stats)
            return run_sync(warehouse, settings.SOURCE, sync.batches(), secrets=[token], progress=progress,
                            stats=stats)
        finally:
            client.close()



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
def redacted_logs(secrets: Iterable[str]) -> Iterator[None]:
    """While syncing, every record logged by the HTTP stack or this connector has secrets masked."""
    flt = _Redact([s for s in secrets if s])
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


SOURCE_SPEC = SourceSpec(
    name=settings.SOURCE,
    config_hint="add a [github] section with org and/or repos (README: Connect GitHub)",
    is_configured=lambda config: config.github is not None,
    run=run,
)
