"""app.cli.base._plain_values_without_pydantic: the option values it takes without Typer's pydantic adapters
come out as Typer's own would give them, errors included, and a fresh `scorecard metrics` loads no pydantic."""
import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import pytest
import typer
from typer.core import _TyperParameter
from typer.testing import CliRunner

import app.cli.base  # noqa: F401  (installs the plain values)

small = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@small.command()
def show(
    name: Annotated[str, typer.Argument()],
    grain: Annotated[str, typer.Option("--grain")] = "week",
    team: Annotated[Optional[str], typer.Option("--team")] = None,
    start: Annotated[Optional[dt.datetime], typer.Option("--start", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"])] = None,
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", dir_okay=False)] = None,
    metric: Annotated[Optional[list[str]], typer.Option("--metric")] = None,
    count: Annotated[int, typer.Option("--count", min=1)] = 1,
    flag: Annotated[bool, typer.Option("--flag")] = False,
) -> None:
    print(repr((name, grain, team, start, config, out, metric, count, flag)))


CASES = [
    ["x"], [], ["x", "--grain", "month", "--team", "team-07"], ["x", "--start", "2026-05-04"],
    ["x", "--start", "2026-05-04T10:30"], ["x", "--start", "2026/05/04"], ["x", "--start", ""],
    ["x", "--config", "a/b.toml"], ["x", "--config", "a//b/"], ["x", "--config", ""], ["x", "--config", "."],
    ["x", "--out", "/"], ["x", "--out", "/tmp"], ["x", "--metric", "a", "--metric", "b"], ["x", "--count", "0"],
    ["x", "--count", "3", "--flag"], ["x", "--grain"], ["--help"],
]


def _run(args, *, plain: bool) -> tuple[int, str]:
    ours = _TyperParameter.process_value
    if not plain:
        _TyperParameter.process_value = ours.typers_own
    try:
        result = CliRunner().invoke(small, args)
    finally:
        _TyperParameter.process_value = ours
    return result.exit_code, result.output


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) or "none" for c in CASES])
def test_values_are_typers_own(args):
    assert getattr(_TyperParameter.process_value, "_plain", False)
    assert _run(args, plain=True) == _run(args, plain=False)


def test_the_cases_reach_both_outcomes():
    outcomes = [_run(args, plain=True)[0] for args in CASES]
    assert 0 in outcomes and 2 in outcomes  # values taken, and usage errors (a date in no format, a dir)


def test_scorecard_metrics_loads_no_pydantic(tmp_path):
    probe = ("import sys\nfrom app.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print('pydantic' in sys.modules, file=sys.stderr)\n")
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "none.db"}"\n')
    for args in (["--help"], ["metrics", "--help"],
                 ["metrics", "--grain", "week", "--start", "2026-03-02", "--config", str(config)]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120,
                                cwd=Path(__file__).resolve().parents[2])
        assert result.stderr.strip().splitlines()[-1] == "False", (args, result.stderr)
