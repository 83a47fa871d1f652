"""docs/metrics.md is the registry's text: regenerate it (python -m tools.metrics_doc) when a spec changes."""
from pathlib import Path

from app.views.definitions import metrics_markdown
from metrics.registry import METRICS

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_the_committed_definitions_equal_the_registry():
    assert DOC.read_text(encoding="utf-8") == metrics_markdown(), "run: python -m tools.metrics_doc"
    text = DOC.read_text(encoding="utf-8")
    assert all(f"(`{metric_id}`)" in text for metric_id in METRICS)
