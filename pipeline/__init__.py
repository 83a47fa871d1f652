"""The one runner between the connectors and the warehouse (see `pipeline.runner`)."""
from pipeline.runner import SyncReport, deliver_new, ingest, ingest_batches, run_source, run_sources, stop_requested, stop_when

__all__ = ["SyncReport", "deliver_new", "ingest", "ingest_batches", "run_source", "run_sources", "stop_requested", "stop_when"]
