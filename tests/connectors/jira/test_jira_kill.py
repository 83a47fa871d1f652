"""A `scorecard sync` killed (SIGKILL) in the middle of a Jira stream loses and duplicates nothing:
the next run starts from the cursor of the last committed page."""
from __future__ import annotations

from functools import partial
import os
import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from config.load import load_config
from pipeline import run_source
from tests.connectors.jira.conftest import INCIDENT_JQL, TICKET_JQL, TOKEN
from warehouse import open_warehouse, read_table
from warehouse.runs import get_cursor
from warehouse.schema import sync_runs

run = partial(run_source, source="jira")  # run(warehouse, config, **test hooks)

REPO = Path(__file__).resolve().parents[3]


def test_a_killed_sync_resumes_from_the_last_committed_page(make_fake, tmp_path):
    fake = make_fake("server")
    reached, release = threading.Event(), threading.Event()

    def hold_third_search(n: int) -> None:
        if n == 3:
            reached.set()
            release.wait(60)

    fake.before_search = hold_third_search
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    config_file = tmp_path / "scorecard.toml"
    config_file.write_text(f'''
[warehouse]
url = "{url}"

[jira]
server = "{fake.url}"
token_env = "TEST_JIRA_TOKEN"
page_size = 2

[jira.incidents]
jql = "{INCIDENT_JQL}"
started_field = "Incident start"

[jira.tickets]
jql = "{TICKET_JQL}"
channel_map = {{ "Virtual agent" = "ai_bot", "Knowledge base" = "self_serve" }}
''')
    env = {**os.environ, "TEST_JIRA_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "sync", "--config", str(config_file)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert reached.wait(60), "the sync never asked for its third page"
        process.kill()
        process.wait(30)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()

    warehouse = open_warehouse(url)
    # Pages 1 (OPS-1, OPS-2) and 2 (OPS-3, after OPS-2 read again from its minute) were committed.
    assert sorted(read_table(warehouse, "incidents")["id"]) == ["jira:OPS-1", "jira:OPS-2", "jira:OPS-3"]
    assert get_cursor(warehouse, "jira", "incidents") == "2026-03-04T16:02:00.000+00:00"
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sync_runs.c.status)).scalars().all() == ["running"]  # it never finished

    fake.before_search = None
    fake.requests.clear()
    report = run(warehouse, load_config(config_file))
    # Resumed at the cursor less 10 minutes, in the user's zone: 16:02 UTC − 10 min = 10:52 EST.
    assert fake.searches()[0].arg("jql") == (
        f'({INCIDENT_JQL}) AND updated >= "2026-03-04 10:52" ORDER BY updated ASC, key ASC')
    incidents = report.tables["incidents"]
    assert (incidents.inserted, incidents.updated, incidents.unchanged) == (1, 0, 1)  # OPS-4 new; OPS-3 again
    assert sorted(read_table(warehouse, "incidents")["id"]) == [f"jira:OPS-{n}" for n in (1, 2, 3, 4)]
    assert read_table(warehouse, "tickets").height == 6
    warehouse.engine.dispose()
