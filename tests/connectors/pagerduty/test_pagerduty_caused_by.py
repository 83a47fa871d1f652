"""An incident's causing deployment from a configured place in PagerDuty's incident JSON."""
from functools import partial

from pipeline import run_source
from tests.connectors.pagerduty.conftest import NOW, PAYMENTS, pd_config
from warehouse import read_table

run = partial(run_source, source="pagerduty")  # run(warehouse, config, **test hooks)


def test_the_configured_path_names_the_cause(fake_pd, cert, sqlite_warehouse):
    fake_pd.add("Q7", created="2026-03-06 10:00", service=PAYMENTS,
                metadata={"deploys": [{"id": "981"}]})
    config = pd_config(fake_pd, cert, caused_by_path="metadata.deploys.0.id",
                       deployment_id_prefix="github:acme/pay/deployments/")
    run(sqlite_warehouse, config, now=NOW)
    rows = read_table(sqlite_warehouse, "incidents", ["id", "caused_by_deployment_id"])
    found = {r["id"]: r["caused_by_deployment_id"] for r in rows.iter_rows(named=True)}
    assert found["pagerduty:Q7"] == "github:acme/pay/deployments/981"
    assert found["pagerduty:Q1"] is None  # nothing at that path: inferred later by the scorecard
