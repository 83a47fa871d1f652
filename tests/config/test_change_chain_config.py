"""[rules] change-chain keys, [services.<name>] and [people]: parsed, and bad values named."""
import datetime as dt

import pytest

from config import ConfigError
from config.load import parse_config


def test_change_chain_keys_parse():
    config = parse_config({
        "rules": {"incident_link_hours": 12, "rework_window_days": 14, "fix_labels": ["bug"],
                  "fix_title_pattern": "(?i)^fix", "senior_levels": ["staff"], "review_tolerance": 0.3,
                  "ai_adoption_start": "2026-04-06"},
        "services": {"checkout": {"repos": ["acme/web-*"]}},
        "people": {"senior": ["alice"]},
    })
    rules = config.rules
    assert (rules.incident_link_hours, rules.rework_window_days, rules.fix_labels, rules.review_tolerance) == (12.0, 14.0, ("bug",), 0.3)
    assert rules.ai_adoption_start == dt.date(2026, 4, 6)
    assert config.services["checkout"].repos == ("acme/web-*",)
    assert config.people.senior == ("alice",)


def test_defaults_are_design_md():
    rules = parse_config({}).rules
    assert (rules.incident_link_hours, rules.rework_window_days, rules.review_tolerance) == (24, 21, 0.2)
    assert rules.fix_labels == ("bug", "fix", "hotfix", "regression")
    assert rules.senior_levels == ("senior", "staff", "principal")
    assert rules.fix_title_pattern == r"(?i)^(\[[^\]]*\]\s*)?(fix(es|ed)?|hotfix|bugfix)\b"


@pytest.mark.parametrize(("raw", "message"), [
    ({"rules": {"incident_link_hour": 3}}, "unknown key 'rules.incident_link_hour'"),
    ({"rules": {"rework_window_days": "21"}}, "'rules.rework_window_days' must be a number"),
    ({"rules": {"fix_labels": "bug"}}, "'rules.fix_labels' must be a list"),
    ({"rules": {"incident_link_hours": -1}}, "'rules.incident_link_hours' must not be negative"),
    ({"rules": {"fix_title_pattern": "(fix"}}, "'rules.fix_title_pattern' is not a regular expression"),
    ({"rules": {"ai_adoption_start": "soon"}}, "'rules.ai_adoption_start' must be a date"),
    ({"services": {"checkout": {"repo": ["acme/web"]}}}, "unknown key 'services.checkout.repo'"),
    ({"services": {"checkout": {}}}, "'services.checkout.repos' is empty"),
    ({"people": {"seniors": ["alice"]}}, "unknown key 'people.seniors'"),
    ({"people": {"senior": [1]}}, "'people.senior[0]' must be a string"),
])
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_config(raw)
