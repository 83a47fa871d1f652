"""No traceback reaches a user from any command, for any of the hostile inputs and paths tried here:
each ends in a clear one-line error (exit 1), a usage error (exit 2), or works."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


@pytest.fixture
def place(tmp_path) -> dict[str, str]:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "latin1.toml").write_bytes(b"[rules]\nmin_sample = 1 # \xe9\n")
    (tmp_path / "markup[red].csv").write_text("id,resolved_at,channel\n[/bold]t,2026-03-01,human\n")
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n')
    return {"config": str(config), "folder": str(tmp_path / "folder"), "fifo": str(tmp_path / "fifo"),
            "binary": str(tmp_path / "binary.csv"), "latin1": str(tmp_path / "latin1.toml"),
            "missing": str(tmp_path / "nope" / "x.csv"), "markup": str(tmp_path / "markup[red].csv")}


def commands(p: dict[str, str]) -> list[list[str]]:
    c = ["--config", p["config"]]
    out = []
    for path in (p["folder"], p["fifo"], p["binary"], p["missing"], p["markup"], "", "/dev/null", "/dev/full"):
        out += [["import", "tickets", path, *c], ["import", "ai_spend", path, "--format", "focus", *c],
                ["export", "tickets", "--out", path, *c], ["audit", "--format", "json", "--out", path, *c]]
    for bad_config in (p["folder"], p["fifo"], p["latin1"], p["missing"], p["binary"]):
        out += [[command, "--config", bad_config] for command in ("status", "sync", "governance", "alerts")]
    out += [["import", "nothing", p["binary"], *c], ["import", "tickets", p["binary"], "--format", "xml", *c],
            ["export", "[/red]", "--out", p["missing"], *c], ["metrics", "--team", "[/bold]x", *c],
            ["explain", "[/bold]", "--period", "2026-03-02", *c], ["explain", "csat", "--period", "2026-03-02",
                                                                   "--team", "[link=x]y", *c],
            ["sync", "--source", "[/bold]", *c], ["demo", "--scale", "[/huge]", *c],
            ["metrics", "--grain", "[/year]", *c], ["audit", "--action", "[/bold]", *c]]
    return out


def test_no_command_shows_a_traceback_for_hostile_input(place):
    problems = []
    for args in commands(place):
        result = runner.invoke(app, args)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        # "unexpected" is the last-resort line for a bug: none of these inputs may reach it.
        if (crashed or "Traceback" in result.output or "unexpected" in result.output
                or result.exit_code not in (0, 1, 2)):
            problems.append(f"{args[:4]} → exit {result.exit_code}, {type(result.exception).__name__}: "
                            f"{result.output[-300:]!r}")
    assert not problems, "\n".join(problems)
    assert Path("/dev/full").is_char_device() and Path("/dev/null").is_char_device()
