"""reports/ is shared by the dashboard, the CLI and the benchmark: importing it never loads Streamlit,
and the CLI reads it, not the dashboard's modules."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_reports_module_loads_no_streamlit():
    modules = sorted(f"reports.{p.stem}" for p in (ROOT / "reports").glob("*.py") if p.stem != "__init__")
    assert "reports.data" in modules and "reports.scope" in modules
    code = f"import sys; import {', '.join(modules)}; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_cli_and_the_benchmark_import_no_dashboard_module():
    files = [*(ROOT / "app" / "cli").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    for path in files:
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        dashboard = sorted(m for m in imported if (m == "app" or m.startswith("app.")) and not m.startswith("app.cli"))
        assert not dashboard, f"{path.relative_to(ROOT)} imports {dashboard}"
