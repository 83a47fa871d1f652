"""`[vendors.*]` and the Copilot per-user switches read from scorecard.toml; numbers out of range are an
error naming the key."""
import datetime as dt

import pytest

from config.load import load_config
from config.load import ConfigError
from config.vendors import check_vendors


def test_vendor_sections_are_read(tmp_path):
    path = tmp_path / "scorecard.toml"
    path.write_text('[vendors.claude_code]\nadmin_key_env = "CC_KEY"\nstart = 2026-09-01\nto_spend = true\n'
                    '[vendors.cursor]\nwindow_days = 7\n[vendors.openai_usage]\n'
                    '[github]\norg = "acme"\n[github.copilot]\nuser_metrics = true\nbilling = ["premium_request", "ai_credit"]\n')
    config = load_config(path, env={})
    v = config.vendors
    assert (v.claude_code.admin_key_env, v.claude_code.start, v.claude_code.to_spend) == ("CC_KEY", dt.date(2026, 9, 1), True)
    assert v.cursor.window_days == 7 and v.cursor.api_key_env == "CURSOR_API_KEY"
    assert v.openai_usage.admin_key_env == "OPENAI_ADMIN_KEY"
    assert config.github.copilot.user_metrics and config.github.copilot.billing == ("premium_request", "ai_credit")
    check_vendors(config)


def test_out_of_range_is_an_error_naming_the_key(tmp_path):
    path = tmp_path / "scorecard.toml"
    path.write_text("[vendors.cursor]\nwindow_days = 60\n")
    with pytest.raises(ConfigError, match=r"'vendors.cursor.window_days' must be between 1 and 30"):
        check_vendors(load_config(path, env={}))
