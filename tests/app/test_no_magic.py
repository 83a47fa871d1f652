"""The dashboard runs with Streamlit's "magic" off (.streamlit/config.toml `runner.magicEnabled = false`: a page's
first run then skips rewriting its script's syntax tree). Magic would write every bare expression of a page to
the screen; with it off such a line would show nothing, so no page may have one."""
import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "app" / "streamlit_app.py", *sorted((ROOT / "app" / "app_pages").glob("*.py"))]


def magic_lines(source: str) -> list[int]:
    """The lines of the expressions Streamlit's magic would write (streamlit/runtime/scriptrunner/magic.py): every
    expression statement but calls, awaits, yields and docstrings (a string first in a module or function)."""
    lines = []

    def visit(body: list, parent: type) -> None:
        for i, node in enumerate(body):
            written = not isinstance(getattr(node, "value", None), (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))
            if isinstance(node, ast.Expr) and written:
                docstring = (i == 0 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                             and parent in (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef))
                if not docstring:
                    lines.append(node.lineno)
            for attr in ("body", "orelse", "finalbody", "handlers"):
                sub = getattr(node, attr, None)
                if isinstance(sub, list):
                    visit(sub, type(node))

    visit(ast.parse(source).body, ast.Module)
    return lines


def test_magic_is_off():
    assert tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["runner"]["magicEnabled"] is False


def test_no_page_writes_a_bare_expression():
    assert len(SCRIPTS) > 10
    assert {script.name: magic_lines(script.read_text(encoding="utf-8")) for script in SCRIPTS
            if magic_lines(script.read_text(encoding="utf-8"))} == {}


def test_the_check_finds_what_magic_writes():
    source = '"""Docstring."""\nimport streamlit as st\nx = 1\nx\nst.write(x)\nif x:\n    "shown"\n    f(x)\n' \
             'def g():\n    """doc"""\n    x, 2\n'
    assert magic_lines(source) == [4, 7, 11]
