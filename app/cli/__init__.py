"""`scorecard`: the command line (import, metrics, explain, export, demo, sync, status, alerts, governance,
audit, schedule, digest, adoption). The commands live in this package's modules; importing them registers them on `app`."""
from app.cli import adoption, data, digest, governance, report, schedule  # noqa: F401  (registers the commands)
from app.cli.base import app, main

__all__ = ["app", "main"]
