"""`--out` paths that used to end in tracebacks or replace what they should not (issue 17, item 10),
and data that looks like Rich markup (item 11)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n[rules]\nmin_sample = 1\n')
    return path


def export(config: Path, out: str, *extra: str):
    return runner.invoke(app, ["export", "pull_requests", "--out", out, *extra, "--config", str(config)])


def audit(config: Path, out: str):
    return runner.invoke(app, ["audit", "--format", "csv", "--out", out, "--config", str(config)])


def bad_paths(tmp_path: Path) -> dict[str, tuple[str, str]]:
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "target.csv"
    target.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    return {
        "a folder": (str(folder), "is a folder"),
        "a missing folder": (str(tmp_path / "nope" / "out.csv"), "the folder"),
        "empty": ("", "names a folder"),
        "a device": ("/dev/full", "is not a regular file"),
        "a FIFO": (str(fifo), "is not a regular file"),
        "a symbolic link": (str(link), "is a symbolic link"),
        "an unwritable folder": ("/sys/out.csv", "cannot write in the folder /sys"),
    }


@pytest.mark.parametrize("command", [export, audit])
def test_bad_out_paths_are_clear_errors_and_change_nothing(tmp_path, config, command):
    for what, (path, words) in bad_paths(tmp_path).items():
        result = command(config, path)
        assert result.exit_code == 1, (what, result.output)
        assert words in result.output and "Traceback" not in result.output, (what, result.output)
    assert (tmp_path / "target.csv").read_text() == "keep me\n" and (tmp_path / "link.csv").is_symlink()
    assert Path("/dev/full").is_char_device()
    assert not [p for p in tmp_path.rglob("*.part")]


def test_a_regular_file_is_replaced_atomically(tmp_path, config):
    out = tmp_path / "prs.csv"
    out.write_text("old\n")
    result = export(config, str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("id,") and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


MARKUP_PRS = (
    "id,repo,team,number,title,author,created_at,merged_at\n"
    "p1,acme/[bold]api,[/bold]team,1,[link=http://x]click[/link],[red]eve,2026-03-01,2026-03-02T10:00:00Z\n"
    "p2,acme/[bold]api,[/bold]team,2,Fix,bob,2026-03-01,2026-03-03T10:00:00Z\n"
)


def test_data_that_looks_like_markup_is_shown_as_text(tmp_path, config, monkeypatch):
    from app.cli.base import err, out

    monkeypatch.setattr(out, "width", 250)  # a wide terminal: cells are not folded
    monkeypatch.setattr(err, "width", 250)
    prs = tmp_path / "prs.csv"
    prs.write_text(MARKUP_PRS)
    assert runner.invoke(app, ["import", "pull_requests", str(prs), "--config", str(config)]).exit_code == 0
    args = ["--config", str(config)]
    metrics = runner.invoke(app, ["metrics", "--all", "--grain", "week", "--start", "2026-03-02", "--end", "2026-03-02", *args])
    assert metrics.exit_code == 0, metrics.output
    assert "[/bold]team" in metrics.output
    explain = runner.invoke(app, ["explain", "ai_merge_rate", "--period", "2026-03-02", "--team", "[/bold]team", *args])
    assert explain.exit_code == 0, explain.output
    assert "[/bold]team" in explain.output
    governance = runner.invoke(app, ["governance", *args])
    assert governance.exit_code == 0 and "MarkupError" not in governance.output, governance.output
    status = runner.invoke(app, ["status", *args])
    assert status.exit_code == 0 and "MarkupError" not in status.output, status.output
