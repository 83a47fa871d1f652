"""`scorecard digest`: the weekly digest for executives, printed or posted to a Slack-compatible webhook.

Exit codes (safe for cron): 0 the digest was written (and, with --post, delivered); 1 bad input or
configuration, or --post without a webhook set (one error line, nothing posted); 2 --post and the
webhook could not be reached or refused it (the digest is still printed, the failure audit-logged)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer

from app.cli.base import ConfigOpt, Failure, TeamOpt, _config, _warehouse, command, err, out
from app.cli.report import AsOfOpt, _as_of, load_report_cube, report_range
from connectors.common.secrets import MissingSecret, get_secret

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

WEBHOOK_TIMEOUT_SECONDS = 15


@command()
def digest(
    team: TeamOpt = None,
    format: Annotated[str, typer.Option("--format", help="markdown, html or text.")] = "markdown",
    post: Annotated[bool, typer.Option("--post", help="Also send it to the webhook named by [digest] webhook_env "
                                       "(default $SCORECARD_DIGEST_WEBHOOK), Slack-compatible JSON; audit-logged.")] = False,
    grain: Annotated[str, typer.Option("--grain", help="week (the last 13 weeks) or month (the last 3 months).")] = "week",
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The weekly digest: the review window's five numbers against the baseline, what changed most, pause
    verdicts, budget alerts and links into the dashboard ([dashboard] url). Exit 0 done, 1 bad input or no
    webhook, 2 the webhook failed."""
    from reports import digest as build
    from reports.alerts import load_spend, spend_alerts
    from reports.governance_data import has_policies, load_spend_rows, pause_message, policy_status
    from reports.review import review

    if format not in build.FORMATS:
        raise Failure(f"--format must be one of {', '.join(build.FORMATS)}, not '{format}'")
    if grain not in ("week", "month"):
        raise Failure(f"--grain must be week or month, not '{grain}'")
    cfg = _config(config)
    webhook = _webhook(cfg) if post else None  # before any work: a cron job without its secret fails fast
    now = _as_of(as_of)
    warehouse = _warehouse(cfg)
    cube = load_report_cube(cfg, now, warehouse)
    if team is not None and team not in cube.teams():
        raise Failure(f"no team '{team}' in the data; teams: {', '.join(cube.teams()) or '(none)'}")
    first, last = report_range(cube, grain, None, None, now)
    result = review(cube, cfg, grain=grain, start=first, end=last, team=None, now=now)
    today = (now or dt.datetime.now(dt.timezone.utc)).date()
    pauses, flows = [], []
    if has_policies(cfg):
        status = policy_status(cube, cfg, load_spend_rows(warehouse), today=today)
        for row in status.pauses.iter_rows(named=True):
            if team is None or row["team"] in (team, None):
                pauses.append(pause_message(row, cfg))
                flows.append(row["workflow"])
    alerts = spend_alerts(load_spend(warehouse), cfg).alerts
    budget = [m for m, t in zip(alerts["message"].to_list(), alerts["team"].to_list())
              if team is None or t == team] if alerts.height else []
    page = build.build(result, cfg, team=team, pauses=pauses, pause_flows=sorted(set(flows)), budget_alerts=budget)
    out.file.write(build.render(page, format))
    if webhook is not None:
        _post(warehouse, cfg, webhook, page, team)


def _webhook(cfg) -> str:
    try:
        return get_secret(cfg.digest.webhook_env)
    except MissingSecret as exc:
        raise Failure(f"--post needs the webhook URL: {exc}") from None


def _post(warehouse, cfg, url: str, page, team: Optional[str]) -> None:
    """POST the digest; the URL is a secret and never appears in an error, a log or the audit log."""
    import requests

    from reports.digest import slack_payload
    from reports.webhook import scrubbed_request_logs
    from warehouse.runs import audit

    env = cfg.digest.webhook_env
    detail = {"env": env, "team": team, "window": page.window}
    try:
        with scrubbed_request_logs(url):
            response = requests.post(url, json=slack_payload(page), timeout=WEBHOOK_TIMEOUT_SECONDS)
        problem = None if response.status_code < 300 else f"answered HTTP {response.status_code}"
    except requests.RequestException as exc:
        problem = f"could not be reached ({type(exc).__name__})"
    audit(warehouse, "digest posted" if problem is None else "digest post failed", {**detail, "problem": problem})
    if problem is not None:
        err.print(f"[red]error:[/red] the digest webhook (${env}) {problem}", highlight=False)
        raise typer.Exit(2)
    err.print(f"Digest posted to the webhook in ${env}.", highlight=False)
