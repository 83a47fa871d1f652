"""Pages and panels read rows only through app/state.py, which applies the signed-in user's row scope
(reports/scope.py), so a page cannot forget it."""
import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# Streamlit scripts and helpers that draw; app/state.py (the door), access/session (who is signed in)
# and the CLI are not among them.
DRAWING = sorted([*APP.glob("app_pages/*.py"), *(APP / n for n in (
    "components.py", "sidebar.py", "spend_panel.py", "change_chain_panel.py", "streamlit_app.py"))])
# Ways around the door: the unscoped loaders and the warehouse's reader, or scoping by hand (the Adoption
# page once built its own per-person scope, AdoptionScope, from the signed-in user).
AROUND = {"load_evidence", "load_cube", "read_table", "load_spend", "load_spend_rows", "load_adoption",
          "load_identities", "load_kept_identities", "export_frame", "scope_rows", "scope_tables", "reports.scope", "adoption_rows",
          "AdoptionScope"}
# The user's scopes, which only the door reads (the Governance page's own row_teams aside: its inventory
# is every role's, its few team rows are narrowed there, app/state.py says why).
SCOPES = {"people_teams", "aggregate_teams"}


def _names(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    attributes = {f"{n.value.id}.{n.attr}" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    attributes |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in SCOPES}
    return modules, attributes


def test_pages_read_rows_through_the_scoped_loader_only():
    assert len(DRAWING) > 10
    for path in DRAWING:
        modules, attributes = _names(path)
        assert not modules & AROUND, f"{path.name} imports {sorted(modules & AROUND)}"
        private = sorted(a for a in attributes if a.startswith("state._"))
        assert not private, f"{path.name} reads unscoped caches {private}"
        assert "access.visible" not in attributes, f"{path.name} scopes rows by hand"
        assert not attributes & SCOPES, f"{path.name} reads the user's scope {sorted(attributes & SCOPES)}"


def test_the_loader_and_sign_in_import_each_other_no_more():
    modules, _ = _names(APP / "state.py")
    assert "app.access" not in modules and not any(m == "app" for m in modules)
