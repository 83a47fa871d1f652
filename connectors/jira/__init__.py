"""Jira Cloud, Server/Data Center and Jira Service Management: incidents (MTTR) and support tickets
(deflection, CSAT), each stream defined by JQL and a field mapping in `[jira]` (README "Connect Jira")."""
from __future__ import annotations

from collections.abc import Callable

from config.model import Config
from connectors.common.progress import Progress
from connectors.sources import SourceSpec

SOURCE = "jira"
STREAMS = ("incidents", "tickets")


def run(warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
        sleep: Callable[[float], None] | None = None):
    """Sync the configured Jira streams into the warehouse; returns a `SyncReport` (never raises for a
    Jira failure). `sleep` replaces the retry waits (tests)."""
    from connectors.common.secrets import MissingSecret
    from connectors.jira.client import connect, credentials
    from connectors.jira.sync import jira_batches
    from warehouse.runs import get_cursor
    from warehouse.sync import failing_batches, run_sync

    try:
        auth, secrets = credentials(config.jira)
    except MissingSecret as exc:
        return run_sync(warehouse, SOURCE, failing_batches(exc), progress=progress)
    cursors = {stream: get_cursor(warehouse, SOURCE, stream) for stream in STREAMS}
    stats: dict[str, int] = {}

    def batches():
        session = connect(config.jira, auth, sleep=sleep)
        try:
            yield from jira_batches(config, session, cursors, full=full, stats=stats)
        finally:
            session.client.close()

    return run_sync(warehouse, SOURCE, batches(), secrets=secrets, progress=progress, stats=stats)



SOURCE_SPEC = SourceSpec(
    name=SOURCE,
    config_hint="add [jira] with server, token_env and [jira.incidents] / [jira.tickets] (README: Connect Jira)",
    is_configured=lambda config: config.jira is not None,
    run=run,
)
