"""GitHub connector: pull requests with AI attribution and revert references, deployments (and
rollback markers), deployment→PR links, and Copilot adoption — incremental, idempotent, resumable.

`SOURCE_SPEC` is what `scorecard sync --source github` (and the dashboard's "Sync now") runs through
`pipeline.runner`. The token is read from the environment variable `[github] token_env` names and is
kept out of every log line, message and table (the runner masks it in `loggers` and in the report).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from config.model import Config
from connectors.common.secrets import get_secret
from connectors.contract import Batch, Credential, Source
from connectors.github import settings
from connectors.github.client import GithubClient
from connectors.github.sync import GithubSync, check_config

# Loggers that may see request or response text during a sync (PyGithub logs bodies at DEBUG).
_LOGGERS = ("github", "github.Requester", "github.GithubRetry", "urllib3", "urllib3.connectionpool",
            "urllib3.util.retry", "requests", __name__, f"{__name__}.client", f"{__name__}.sync",
            f"{__name__}.copilot")


def _token(config: Config) -> Credential:
    token = get_secret(config.github.token_env)
    return Credential(token, (token,))


def github_batches(config: Config, token: str, cursors: Mapping[str, str | None], *, full: bool = False,
                   stats: dict[str, int], sleeper: Callable[[float], None] | None = None,
                   now: dt.datetime | None = None) -> Iterator[Batch]:
    """The GitHub sync's batches. `sleeper` replaces `time.sleep` for every wait (tests pass a
    recorder); `now` fixes the clock."""
    client = GithubClient(config.github, token, sleeper=sleeper)
    try:
        sync = GithubSync(config, client, cursors, full=full, now=now or dt.datetime.now(dt.timezone.utc),
                          stats=stats)
        yield from sync.batches()
    finally:
        client.close()


SOURCE_SPEC = Source(
    name=settings.SOURCE,
    config_hint="add a [github] section with org and/or repos (README: Connect GitHub)",
    is_configured=lambda config: config.github is not None,
    extract=github_batches,
    check=lambda config: check_config(config.github),
    secret=_token,
    loggers=_LOGGERS,
)
