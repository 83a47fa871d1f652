"""The sources `scorecard sync` (and the dashboard's "Sync now") can run.

Each entry says whether the config enables it and how to run it. A runner returns a `SyncReport` and
must not raise for a source failure (see `warehouse.sync.run_sync`), so one failing source never blocks
the others.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config.model import Config
from connectors.common.progress import Progress


@dataclass(frozen=True)
class SourceSpec:
    name: str
    config_hint: str  # what to add to scorecard.toml to enable it
    is_configured: Callable[[Config], bool]
    # run(warehouse, config, *, full, progress) -> warehouse.sync.SyncReport
    run: Callable[..., object]


def _registry() -> dict[str, SourceSpec]:
    specs: list[SourceSpec] = []
    # Connectors add themselves here: specs.append(connectors.<name>.SOURCE_SPEC)
    import connectors.spend.sources

    specs.extend(connectors.spend.sources.source_specs())
    import connectors.github

    specs.append(connectors.github.SOURCE_SPEC)
    import connectors.jira
    import connectors.pagerduty

    specs += [connectors.jira.SOURCE_SPEC, connectors.pagerduty.SOURCE_SPEC]
    import connectors.vendors.sources

    specs.extend(connectors.vendors.sources.source_specs())
    return {s.name: s for s in specs}


def sources() -> dict[str, SourceSpec]:
    return _registry()


def run_sources(warehouse, config: Config, *, only: str | None = None, full: bool = False,
                progress: Progress | None = None, holder: str | None = None, wait: float = 0.0,
                on_wait: Callable | None = None, specs: dict[str, SourceSpec] | None = None,
                still_wanted: Callable[[str], bool] | None = None) -> list:
    """Run every configured source (or just `only`); returns their reports in order.

    Each source runs under its lease (warehouse/lease.py: one writer per source across processes). A
    source whose lease another process holds past `wait` seconds is not run: its report says `skipped`
    and who holds it. `holder` names this process to the others. `still_wanted(name)`, asked once the
    lease is held, can drop a source another process has just synced. Once a stop is requested
    (warehouse.sync.stop_when) no further source starts."""
    from warehouse.lease import LeaseHeld, describe_self, source_lease
    from warehouse.runs import close_abandoned_runs
    from warehouse.sync import SyncReport, stop_requested, stop_when

    available = specs if specs is not None else sources()
    if only is not None and only not in available:
        raise KeyError(f"unknown source '{only}'; known: {', '.join(available) or '(none)'}")
    chosen = [available[only]] if only else [s for s in available.values() if s.is_configured(config)]
    holder = holder or describe_self("scorecard sync")
    reports = []
    for spec in chosen:
        if stop_requested():
            break
        try:
            with source_lease(warehouse, spec.name, holder=holder, ttl=config.schedule.lease, wait=wait,
                              on_wait=on_wait) as lease, \
                    stop_when(lambda lease=lease: "the lease was taken over" if lease.lost.is_set() else None):
                if still_wanted is None or still_wanted(spec.name):
                    close_abandoned_runs(warehouse, spec.name)  # we are the only writer: a `running` run is dead
                    reports.append(spec.run(warehouse, config, full=full, progress=progress))
        except LeaseHeld as exc:
            reports.append(SyncReport(source=spec.name, status="skipped", error=str(exc)))
    return reports
