"""The sources `scorecard sync` (and the dashboard's "Sync now", and `scorecard schedule`) can run, and
the files `scorecard import` reads: each connector's `Source` (connectors/contract.py), run by
`pipeline.runner`."""
from __future__ import annotations

from connectors import github, jira, pagerduty
from connectors.contract import Source
from connectors.csv import source as csv_files
from connectors.spend import focus
from connectors.spend import sources as spend
from connectors.vendors import sources as vendors


def _registry() -> dict[str, Source]:
    specs = [*spend.SOURCES, github.SOURCE_SPEC, jira.SOURCE_SPEC, pagerduty.SOURCE_SPEC, *vendors.SOURCES]
    return {s.name: s for s in specs}


def sources() -> dict[str, Source]:
    return _registry()


def file_sources() -> dict[str, Source]:
    """The file imports (`csv:<entity>`, `focus`): atomic, never synced; not among `sources()`, which a
    schedule or `scorecard sync` may name."""
    return {**csv_files.SOURCES, focus.SOURCE_SPEC.name: focus.SOURCE_SPEC}
