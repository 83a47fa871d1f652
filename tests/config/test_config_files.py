"""Config files that used to end in a traceback, block, or be accepted with impossible numbers (issue 17, item 7)."""
from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from app.cli import app
from config import ConfigError
from config.load import load_config

runner = CliRunner()


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(tmp_path)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo)


def test_a_file_that_is_not_utf_8_names_its_line(tmp_path):
    path = tmp_path / "scorecard.toml"
    path.write_bytes(b"[rules]\nmin_sample = 3\n# caf\xe9\n")
    with pytest.raises(ConfigError, match="line 3: not UTF-8 text"):
        load_config(path)


def test_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "scorecard.toml"
    path.write_bytes(b"\xef\xbb\xbf[rules]\nmin_sample = 3\n")
    assert load_config(path).rules.min_sample == 3


@pytest.mark.parametrize(("toml", "key", "words"), [
    ("[rules]\nmin_sample = -1", "rules.min_sample", "must not be negative"),
    ("[rules]\nrollback_window_days = -7", "rules.rollback_window_days", "must not be negative"),
    ("[rules]\ncsat_tolerance = nan", "rules.csat_tolerance", "must be a finite number"),
    ("[rules]\ncost_tolerance = inf", "rules.cost_tolerance", "must be a finite number"),
    ("[spend.alerts]\nk = -2.0", "spend.alerts.k", "must not be negative"),
    ("[spend]\nusd_rates = { EUR = -1.1 }", "spend.usd_rates.EUR", "must not be negative"),
    ("[budgets.web]\nmonthly_usd = -100", "budgets.web.monthly_usd", "must not be negative"),
    ("[github]\norg = 'acme'\nmax_retries = -1", "github.max_retries", "must not be negative"),
])
def test_impossible_numbers_are_refused_naming_the_key(tmp_path, toml, key, words):
    path = tmp_path / "scorecard.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError, match=f"'{key}' {words}"):
        load_config(path)


def test_a_warehouse_in_a_folder_that_cannot_exist_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{blocker}/sub/wh.db"\n')
    result = runner.invoke(app, ["status", "--config", str(config)])
    assert result.exit_code == 1 and "cannot create the folder of the SQLite warehouse" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("make", ["dir", "fifo", "latin1"])
def test_the_cli_says_what_is_wrong_with_the_config(tmp_path, make):
    path = tmp_path / "c"
    if make == "dir":
        path.mkdir()
    elif make == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(b"\xff\xfe[\x00")
    result = runner.invoke(app, ["status", "--config", str(path)])
    assert result.exit_code == 1 and str(path) in result.output and "Traceback" not in result.output
