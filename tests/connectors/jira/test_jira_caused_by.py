"""An incident's causing deployment where Jira knows it: a field holding its id, or an issue link."""
from functools import partial

from pipeline import run_source
from tests.connectors.jira.conftest import jira_config
from warehouse import read_table

run = partial(run_source, source="jira")  # run(warehouse, config, **test hooks)


def causes(warehouse) -> dict:
    rows = read_table(warehouse, "incidents", ["id", "caused_by_deployment_id"])
    return {r["id"]: r["caused_by_deployment_id"] for r in rows.iter_rows(named=True)}


def test_a_deployment_field_names_the_cause(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    fake.touch("OPS-1", "2026-03-02 12:40", customfield_10070=" 4711 ")
    config = jira_config(fake, tickets=None, incidents={"caused_by_field": "Deployment",
                                                        "deployment_id_prefix": "github:acme/api/deployments/"})
    run(sqlite_warehouse, config)
    found = causes(sqlite_warehouse)
    assert found["jira:OPS-1"] == "github:acme/api/deployments/4711"
    assert found["jira:OPS-2"] is None  # no value: the scorecard infers the cause


def test_an_issue_link_names_the_change_request(make_fake, sqlite_warehouse):
    fake = make_fake("server")
    link = {"id": "1", "type": {"name": "Problem/Incident", "inward": "is caused by", "outward": "causes"}}
    fake.touch("OPS-2", "2026-03-03 11:10", issuelinks=[
        {**link, "outwardIssue": {"key": "OPS-9"}},  # OPS-2 causes OPS-9: not a cause of OPS-2
        {**link, "inwardIssue": {"key": "CHG-7"}},  # OPS-2 is caused by CHG-7
    ])
    config = jira_config(fake, tickets=None, incidents={"caused_by_link": "Is Caused By", "deployment_id_prefix": "jira:"})
    run(sqlite_warehouse, config)
    found = causes(sqlite_warehouse)
    assert found["jira:OPS-2"] == "jira:CHG-7"
    assert found["jira:OPS-1"] is None
    assert any("issuelinks" in (s.arg("fields") or "") for s in fake.searches())
