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
                progress: Progress | None = None) -> list:
    """Run every configured source (or just `only`); returns their reports in order."""
    available = sources()
    if only is not None and only not in available:
        raise KeyError(f"unknown source '{only}'; known: {', '.join(available) or '(none)'}")
    chosen = [available[only]] if only else [s for s in available.values() if s.is_configured(config)]
    return [spec.run(warehouse, config, full=full, progress=progress) for spec in chosen]
