"""Write docs/metrics.md from the metric registry: `python -m tools.metrics_doc`."""
from pathlib import Path

from app.views.definitions import metrics_markdown

TARGET = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"

if __name__ == "__main__":
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(metrics_markdown(), encoding="utf-8")
