"""Copilot per user and day (users-28-day / users-1-day NDJSON reports behind download links) and the
premium-request billing report, through PyGithub against the fake GitHub."""
import datetime as dt
import json
import logging

import polars as pl

from reports.export import ExportFilters, encode, export_frame
from config import Config, WarehouseConfig
from config.model import GithubCopilotConfig
from tests.connectors.github.conftest import TOKEN
from tests.connectors.github.fake_github import FakeCopilot, Fault
from tests.connectors.hygiene import everything_written
from warehouse import read_table

D = dt.date
COPILOT = GithubCopilotConfig(enabled=True, seats=False, usage_metrics=False, user_metrics=True,
                              billing=("premium_request",))


def user(login: str | None, day: dt.date, **fields) -> dict:
    """A per-user record with every field GitHub's field reference lists (the shapes inside `totals_by_*`
    and `ai_adoption_phase` are unverified: kept as sent)."""
    record = {"day": day.isoformat(), "user_id": 1000 + len(login or ""), "user_login": login, "organization_id": "1",
              "enterprise_id": None, "user_initiated_interaction_count": 0, "code_generation_activity_count": 0,
              "code_acceptance_activity_count": 0, "loc_suggested_to_add_sum": 0, "loc_suggested_to_delete_sum": 0,
              "loc_added_sum": 0, "loc_deleted_sum": 0, "used_agent": False, "used_chat": False, "used_cli": False,
              "ai_credits_used": 0.0, "ai_adoption_phase": {"phase": 0, "name": "no_cohort", "version": "v1"},
              "totals_by_ide": [], "totals_by_feature": [], "totals_by_language_feature": [],
              "totals_by_language_model": [], "totals_by_model_feature": []}
    record.update(fields)
    return record


ANA_IDE = [{"ide": "vscode", "user_initiated_interaction_count": 30, "code_generation_activity_count": 12,
            "code_acceptance_activity_count": 8, "loc_added_sum": 120, "loc_deleted_sum": 10,
            "last_known_ide_version": {"ide_version": "1.106.0"}, "last_known_plugin_version": {"plugin_version": "1.380.0"}}]
ANA_FEATURES = [{"feature": "code_completion", "code_generation_activity_count": 10, "code_acceptance_activity_count": 7,
                 "loc_suggested_to_add_sum": 40, "loc_added_sum": 30},
                {"feature": "chat_panel_agent_mode", "user_initiated_interaction_count": 30, "code_generation_activity_count": 2,
                 "code_acceptance_activity_count": 1, "loc_suggested_to_add_sum": 110, "loc_added_sum": 90}]


def premium(model: str, gross: int, net_amount: float) -> dict:
    return {"product": "copilot", "sku": "copilot_premium_request", "model": model, "unitType": "requests",
            "pricePerUnit": 0.04, "grossQuantity": gross, "grossAmount": gross * 0.04,
            "discountQuantity": gross - net_amount / 0.04, "discountAmount": gross * 0.04 - net_amount,
            "netQuantity": net_amount / 0.04, "netAmount": net_amount}


def serve(fake) -> FakeCopilot:
    copilot = FakeCopilot(users_latest_end=D(2026, 3, 29), users={
        D(2026, 2, 28): [user("ana", D(2026, 2, 28), code_generation_activity_count=2, code_acceptance_activity_count=1)],
        D(2026, 3, 10): [
            user("Ana", D(2026, 3, 10), user_initiated_interaction_count=30, code_generation_activity_count=12,
                 code_acceptance_activity_count=8, loc_added_sum=120, loc_deleted_sum=10, used_chat=True,
                 used_agent=True, loc_suggested_to_add_sum=150, loc_suggested_to_delete_sum=12, ai_credits_used=3.5,
                 ai_adoption_phase={"phase": 1, "name": "code_first", "version": "v1"}, totals_by_ide=ANA_IDE,
                 totals_by_feature=ANA_FEATURES,
                 totals_by_cli={"session_count": 2, "request_count": 2, "prompt_count": 2,
                                "token_usage": {"avg_tokens_per_request": 4400.0, "output_tokens_sum": 5000,
                                                "prompt_tokens_sum": 3800}}),
            user("bo", D(2026, 3, 10)),  # a seat that opened the IDE and did nothing with Copilot
            "{not json",
            user(None, D(2026, 3, 10), loc_added_sum=5),
        ],
    }, billing={("premium_request", D(2026, 3, 30)): [premium("Claude Sonnet 4.5", 150, 2.0), premium("GPT-5", 20, 0.0),
                                                        {**premium("o3", 1, 0.04), "netAmount": "n/a"}]})
    fake.copilot["acme"] = copilot
    return copilot


def test_copilot_users_and_billing(warehouse, fake, sync, waits, caplog):
    caplog.set_level(logging.DEBUG)
    serve(fake)
    fake.faults += [Fault(r"users-28-day", status=503),
                    Fault(r"premium_request/usage\?.*day=15", status=429, headers={"Retry-After": "4"},
                          body={"message": "API rate limit exceeded"})]
    report = sync(org="acme", copilot=COPILOT, since=D(2026, 2, 28))
    # The 503 is retried after the backoff, the 429 after its Retry-After; nothing is lost.
    assert fake.calls(r"users-28-day") == 2 and fake.calls(r"premium_request/usage\?.*day=15") == 2
    assert waits == [1.0, 4.0] and not [w for w in report.warnings if "Copilot" in w]
    assert [(r.record_id, r.reason) for r in report.rejected] == [
        ("github:copilot-users:acme report 2026-03-29 file 1 line 3", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("github:copilot-users:acme report 2026-03-29 file 1 line 4", "no user_login"),
        ("github:copilot-billing:acme:premium_request:2026-03-30 item 3", "netAmount is not a number: 'n/a'"),
    ]
    people = read_table(warehouse, "ai_usage_people").sort("id")
    ana = people.filter(pl.col("id") == "github:copilot-user:acme:2026-03-10:ana").row(0, named=True)
    # tokens = prompt 3800 + output 5000 = 8800; engaged: interacted and used chat.
    assert {k: ana[k] for k in ("tool", "vendor_user", "login", "active", "engaged", "requests", "suggestions",
                                "acceptances", "lines_added", "lines_removed", "sessions", "tokens", "cost_usd")} == {
        "tool": "github-copilot", "vendor_user": "Ana", "login": "Ana", "active": True, "engaged": True,
        "requests": 30, "suggestions": 12, "acceptances": 8, "lines_added": 120, "lines_removed": 10, "sessions": 2,
        "tokens": 8800, "cost_usd": None}
    # GitHub's own flags into their columns; every other documented field as sent in detail.
    assert (ana["used_chat"], ana["used_agent"], ana["used_cli"], ana["prs"]) == (True, True, False, None)
    assert json.loads(ana["detail"]) == {
        "user_id": 1003, "organization_id": "1", "loc_suggested_to_add_sum": 150, "loc_suggested_to_delete_sum": 12,
        "ai_credits_used": 3.5, "ai_adoption_phase": {"phase": 1, "name": "code_first", "version": "v1"},
        "totals_by_ide": ANA_IDE, "totals_by_feature": ANA_FEATURES, "totals_by_language_feature": [],
        "totals_by_language_model": [], "totals_by_model_feature": [],
        "totals_by_cli": {"session_count": 2, "request_count": 2, "prompt_count": 2,
                          "token_usage": {"avg_tokens_per_request": 4400.0, "output_tokens_sum": 5000,
                                          "prompt_tokens_sum": 3800}}}
    bo = people.filter(pl.col("vendor_user") == "bo").row(0, named=True)
    assert (bo["active"], bo["engaged"]) == (True, False)
    assert (bo["used_chat"], bo["used_agent"], bo["used_cli"]) == (False, False, False)
    # Feb 28 is before the 28-day report (Mar 2 - 29): read from users-1-day, as `since` asks.
    assert people["date"].to_list() == [D(2026, 2, 28), D(2026, 3, 10), D(2026, 3, 10)]
    assert fake.calls(r"users-1-day\?day=2026-02-28") == 1 and fake.calls(r"users-1-day\?day=2026-03-01") == 1

    spend = read_table(warehouse, "ai_spend").sort("model")
    # 31 days priced (Feb 28 - Mar 30), usage only on Mar 30: Sonnet 150 requests, $2.00 net; GPT-5 within the plan.
    assert fake.calls("premium_request/usage") == 31 + 1  # and the 429
    assert spend.select("date", "tool", "model", "workflow", "cost_usd", "requests").rows() == [
        (D(2026, 3, 30), "github-copilot", "Claude Sonnet 4.5", "copilot_premium_request", 2.0, 150),
        (D(2026, 3, 30), "github-copilot", "GPT-5", "copilot_premium_request", 0.0, 20)]

    fake.reset_calls()
    again = sync(org="acme", copilot=COPILOT, since=D(2026, 2, 28))
    # Same day: the user reports are not fetched again; billing reads its last day (Mar 30) once more.
    assert fake.calls("copilot/metrics") == 0 and fake.calls("premium_request/usage") == 1
    assert again.tables["ai_spend"].inserted == again.tables["ai_spend"].updated == 0
    assert TOKEN not in everything_written(warehouse) and TOKEN not in caplog.text
    # Nor in what an export of the synced tables holds.
    config = Config(warehouse=WarehouseConfig(url=warehouse.display_url))
    for table in ("ai_usage_people", "ai_spend"):
        frame = export_frame(warehouse, config, table, ExportFilters(start=D(2026, 2, 28), end=D(2026, 3, 30)))
        assert frame.height > 0 and TOKEN.encode() not in encode(frame, "csv")


def test_missing_permissions_are_warnings_naming_them(warehouse, fake, sync):
    copilot = serve(fake)
    copilot.billing_status = 403
    fake.faults.append(Fault(r"users-28-day", status=403,
                             body={"message": "Resource not accessible by personal access token"}))
    report = sync(org="acme", copilot=COPILOT)
    warnings = "\n".join(report.warnings)
    assert "Copilot per-user usage reports for acme left out" in warnings
    assert "'Organization Copilot metrics' (read)" in warnings
    assert "Copilot premium_request billing for acme left out" in warnings and "'Administration' (read)" in warnings
    assert read_table(warehouse, "ai_usage_people").height == 0


def test_cli_totals_as_a_list_are_summed():
    from connectors.github.copilot_people import user_row

    record = user("cy", D(2026, 3, 1), totals_by_cli=[
        {"session_count": 2, "token_usage": {"prompt_tokens_sum": 100, "output_tokens_sum": 50}},
        {"session_count": 1, "token_usage": {"prompt_tokens_sum": 10, "output_tokens_sum": 5}}])
    row = user_row("acme", record)
    # sessions 2 + 1 = 3; tokens 100 + 50 + 10 + 5 = 165; no interaction, acceptance or chat/agent/CLI flag.
    assert (row["sessions"], row["tokens"], row["engaged"]) == (3, 165, False)
