"""Normalisation shared by every connector and the CSV import: AI attribution, reverts, time."""
