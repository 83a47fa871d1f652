"""The sources `scorecard sync` (and the dashboard's "Sync now", and `scorecard schedule`) can run:
each connector's `Source` (connectors/contract.py), run by `pipeline.runner`."""
from __future__ import annotations

from connectors import github, jira, pagerduty
from connectors.contract import Source
from connectors.spend import sources as spend
from connectors.vendors import sources as vendors


def _registry() -> dict[str, Source]:
    specs = [*spend.SOURCES, github.SOURCE_SPEC, jira.SOURCE_SPEC, pagerduty.SOURCE_SPEC, *vendors.SOURCES]
    return {s.name: s for s in specs}


def sources() -> dict[str, Source]:
    return _registry()
