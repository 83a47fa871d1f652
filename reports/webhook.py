"""The Slack-compatible webhook of the spend alerts (`scorecard alerts`, `scorecard schedule`), and the
request logging every webhook post (the digest's too) runs under.

The webhook is told about each alert once: the pipeline keeps the ids already posted
(`pipeline.runner.deliver_new`: `sync_state`, source `alerts`), so a cron job running every hour does
not repeat itself, while `scorecard alerts` keeps listing (and exiting 1) until an alert is acknowledged
in the config or ages out. A webhook URL is a secret (its path is its token): it never appears in an
error, a log or the warehouse.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from urllib.parse import urlsplit

import polars as pl
import requests

from config.model import Config
from connectors.common.secrets import get_secret, redact
from pipeline.runner import deliver_new
from reports.alerts import SpendAlerts
from warehouse import Warehouse
from warehouse.runs import audit

WEBHOOK_STATE = ("alerts", "webhook_posted")
WEBHOOK_TIMEOUT_SECONDS = 10


def slack_payload(alerts: pl.DataFrame, as_of: dt.date) -> dict:
    """An incoming-webhook message: `text` (what notifications show) plus one section block per alert."""
    count = alerts.height
    title = f":rotating_light: {count} AI spend alert{'s' if count != 1 else ''} as of {as_of}"
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": title.replace(":rotating_light: ", "")}}]
    for row in alerts.head(40).iter_rows(named=True):
        owner = f" (owner: {row['owner']})" if row["owner"] else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{row['kind']}* — {row['message']}{owner}"}})
    lines = "\n".join(f"• {m}" for m in alerts.get_column("message").head(40).to_list())
    return {"text": f"{title}\n{lines}", "blocks": blocks}


def post_new_alerts(warehouse: Warehouse, config: Config, result: SpendAlerts) -> int:
    """POST the alerts the webhook has not been told about yet; returns how many were sent (0 when no
    webhook is configured). The URL is a secret: it never appears in an error, a log or the warehouse."""
    env = config.spend.alerts.webhook_url_env
    if not env or result.as_of is None:
        return 0
    url = get_secret(env)

    def post(ids: list[str]) -> None:
        fresh = result.alerts.filter(pl.col("id").is_in(ids))
        try:
            with scrubbed_request_logs(url):
                response = requests.post(url, json=slack_payload(fresh, result.as_of), timeout=WEBHOOK_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            # Not the exception's text: it quotes the URL's path, where the webhook's token lives.
            raise WebhookError(f"the alert webhook (${env}) could not be reached ({type(exc).__name__})") from None
        if response.status_code >= 300:
            raise WebhookError(f"the alert webhook (${env}) answered HTTP {response.status_code}: "
                               f"{redact(response.text, [url])[:200]}")
        audit(warehouse, "alert webhook", {"alerts": fresh.get_column("id").to_list(), "env": env})

    sent = deliver_new(warehouse, *WEBHOOK_STATE, result.alerts.get_column("id").to_list(), post)
    return result.alerts.filter(pl.col("id").is_in(sent)).height


@contextlib.contextmanager
def scrubbed_request_logs(url: str):
    """urllib3 logs each request line at DEBUG level, and a webhook URL's path is its token."""
    secrets = [url, urlsplit(url).path]

    class Scrub(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg, record.args = redact(record.getMessage(), secrets), ()
            return True

    logger, scrub = logging.getLogger("urllib3.connectionpool"), Scrub()
    logger.addFilter(scrub)
    try:
        yield
    finally:
        logger.removeFilter(scrub)


class WebhookError(RuntimeError):
    """The webhook refused or could not be reached; the message never holds its URL."""
