"""The deployment examples in docs/deploy.md name commands and options that exist (a renamed option
would otherwise leave every cron job and CronJob copied from them failing)."""
import re
from pathlib import Path

import click
import typer

from app.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def invocations() -> list[list[str]]:
    text = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", DOC.read_text(), re.S))  # the examples, not the prose
    found = []
    for line in re.findall(r"scorecard (?:sync|schedule|status)[^>|\n]*", text):  # shell lines
        found.append(line.split()[1:])
    for array in re.findall(r"\[scorecard, ([^\]]+)\]", text):  # YAML command arrays
        found.append([a.strip().strip('"') for a in array.split(",")])
    return found


def test_every_example_parses():
    group = typer.main.get_command(app)
    calls = invocations()
    # cron (2), systemd (2), Kubernetes (3: the scheduler, its probe, the CronJob)
    assert len(calls) >= 7, calls
    for args in calls:
        name, rest = args[0], args[1:]
        command = group.get_command(click.Context(group), name)
        assert command is not None, f"no command '{name}'"
        command.make_context(name, list(rest))  # raises on an unknown option or a missing value
