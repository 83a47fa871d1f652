"""[governance] and [access]: the shipped example loads, and mistakes are errors naming the key."""
from pathlib import Path

import pytest

from config import ConfigError
from config.load import load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "scorecard.toml.example"


def test_the_shipped_example_loads():
    config = load_config(EXAMPLE, env={})
    gov = config.governance
    assert set(gov.tools) == {"github-copilot", "claude-code", "openai-api"}
    assert {f: len(w.stop) for f, w in gov.workflows.items()} == {"coding-agents": 3, "support-bot": 1}
    assert gov.workflows["support-bot"].risk_tier == 3 and gov.workflows["coding-agents"].tools == ("github-copilot", "claude-code")
    assert config.access.sign_in == "none" and config.access.anonymous_role == "admin"


def test_defaults_declare_nothing_and_need_no_sign_in():
    config = parse_config({})
    assert config.governance.tools == {} and config.governance.workflows == {}
    assert (config.access.sign_in, config.access.anonymous_role) == ("none", "admin")


@pytest.mark.parametrize("text, message", [
    ("[governance.tools.x]\nname = 'X'\n", "missing key 'governance.tools.x.risk_tier'"),
    ("[governance.tools.x]\nrisk_tier = 4\n", "'governance.tools.x.risk_tier' must be 1, 2 or 3, not 4"),
    ("[governance.tools.x]\nrisk_tier = 1\nowner = 'me'\n", "unknown key 'governance.tools.x.owner'"),
    ("[governance.workflows.w]\nrisk_tier = 2\ntools = ['nope']\n", "'governance.workflows.w.tools' names 'nope'"),
    ("[[governance.workflows.w.stop]]\nmetric = 'x'\n[governance.workflows.w]\nrisk_tier = 2\n",
     "'governance.workflows.w.stop[0].metric' must be a metric id"),
    ("[governance.workflows.w]\nrisk_tier = 2\n[[governance.workflows.w.stop]]\nmetric = 'csat'\nwhen = 'sometimes'\n",
     "'governance.workflows.w.stop[0].when' must be one of worse"),
    ("[governance.workflows.w]\nrisk_tier = 2\n[[governance.workflows.w.stop]]\nmetric = 'csat'\nsegment = 'bots'\n",
     "'governance.workflows.w.stop[0].segment' must be one of all, ai, non_ai"),
    ("[governance.workflows.w]\nrisk_tier = 2\n[[governance.workflows.w.stop]]\nmetric = 'ai_merge_rate'\n",
     "cannot be 'worse': ai_merge_rate is for information"),
    ("[governance.workflows.w]\nrisk_tier = 2\n[[governance.workflows.w.stop]]\nmetric = 'budget'\nwhen = 'above'\n",
     "must be over_budget or over_pace"),
    ("[governance.workflows.w]\nrisk_tier = 2\n[[governance.workflows.w.stop]]\nmetric = 'csat'\nperiods = 0\n",
     "'governance.workflows.w.stop[0].periods' must be at least 1"),
    ("[access]\nsign_in = 'password'\n", "'access.sign_in' must be one of none, oidc, header"),
    ("[access.users.'a@b.c']\nrole = 'owner'\n", "'access.users.a@b.c.role' must be one of viewer, team_lead"),
    ("[access.groups.leads]\nrole = 'team_lead'\n", "'access.groups.leads.teams' must list the team lead's teams"),
    ("[access]\ndefault_role = 'boss'\n", "'access.default_role' must be one of"),
    ("[access]\nanonymous_role = 'team_lead'\n", "'access.anonymous_role' cannot be team_lead"),
])
def test_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "scorecard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert message in str(caught.value) and str(path) in str(caught.value)
