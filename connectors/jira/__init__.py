"""Jira Cloud, Server/Data Center and Jira Service Management: incidents (MTTR) and support tickets
(deflection, CSAT), each stream defined by JQL and a field mapping in `[jira]` (README "Connect Jira")."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from config.model import Config
from connectors.contract import Batch, Credential, Source
from connectors.jira.client import connect, credentials
from connectors.jira.sync import jira_batches

SOURCE = "jira"
STREAMS = ("incidents", "tickets")


def _credential(config: Config) -> Credential:
    auth, hidden = credentials(config.jira)
    return Credential(auth, tuple(hidden))


def extract(config: Config, auth: dict[str, Any], cursors: Mapping[str, str | None], *, full: bool = False,
            stats: dict[str, int], sleep: Callable[[float], None] | None = None) -> Iterator[Batch]:
    """The configured Jira streams' batches. `sleep` replaces the retry waits (tests)."""
    session = connect(config.jira, auth, sleep=sleep)
    try:
        yield from jira_batches(config, session, {stream: cursors.get(stream) for stream in STREAMS}, full=full,
                                stats=stats)
    finally:
        session.client.close()


SOURCE_SPEC = Source(
    name=SOURCE,
    config_hint="add [jira] with server, token_env and [jira.incidents] / [jira.tickets] (README: Connect Jira)",
    is_configured=lambda config: config.jira is not None,
    extract=extract,
    secret=_credential,
)
