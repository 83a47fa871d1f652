"""A generated battery of malformed files, every CSV entity and FOCUS, through `scorecard import`:
each one exits 1 with one error naming the line and the column, no traceback, and nothing is written."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from connectors.csv.entities import ENTITIES
from warehouse import open_warehouse
from warehouse.schema import DATA_TABLES

runner = CliRunner()

# One valid file per entity: a header and three good rows (the battery spoils the second or third).
GOOD = {
    "pull_requests": (
        ["id", "repo", "team", "number", "title", "author", "created_at", "merged_at", "closed_at",
         "merge_commit_sha", "labels", "ai_assisted", "url"],
        [["p1", "acme/api", "web", "1", "Add cache", "alice", "2026-03-01", "2026-03-02T10:00:00Z", "",
          "aaa1111", "bug", "false", "https://example.test/1"],
         ["p2", "acme/api", "web", "2", "Fix login", "bob", "2026-03-01", "2026-03-03T10:00:00Z", "",
          "bbb2222", "", "true", "https://example.test/2"],
         ["p3", "acme/api", "web", "3", "Tidy", "carol", "2026-03-02", "2026-03-04T10:00:00Z", "",
          "ccc3333", "", "", "https://example.test/3"]],
    ),
    "deployments": (
        ["id", "repo", "team", "environment", "sha", "finished_at", "status", "is_rollback", "url"],
        [["d1", "acme/api", "web", "production", "aaa1111", "2026-03-02T12:00:00Z", "success", "", "u1"],
         ["d2", "acme/api", "web", "production", "bbb2222", "2026-03-03T12:00:00Z", "success", "false", "u2"],
         ["d3", "acme/api", "web", "staging", "ccc3333", "2026-03-04T12:00:00Z", "success", "", "u3"]],
    ),
    "deployment_prs": (
        ["deployment_id", "pr_id"],
        [["d1", "p1"], ["d2", "p2"], ["d3", "p3"]],
    ),
    "incidents": (
        ["id", "team", "title", "service", "severity", "started_at", "resolved_at", "ai_assisted", "labels",
         "caused_by_deployment_id", "url"],
        [["i1", "web", "Outage", "api", "sev1", "2026-03-03T10:00:00Z", "2026-03-03T14:00:00Z", "true", "", "d1", "u"],
         ["i2", "web", "Slow", "api", "sev2", "2026-03-04T10:00:00Z", "2026-03-04T11:00:00Z", "false", "", "", "u"],
         ["i3", "web", "Down", "api", "sev2", "2026-03-05T10:00:00Z", "", "", "", "", "u"]],
    ),
    "tickets": (
        ["id", "team", "created_at", "resolved_at", "channel", "csat"],
        [["t1", "web", "2026-03-02", "2026-03-03T10:00:00Z", "ai_bot", "4"],
         ["t2", "web", "2026-03-02", "2026-03-03T11:00:00Z", "human", "5"],
         ["t3", "web", "2026-03-02", "2026-03-04T10:00:00Z", "self_serve", ""]],
    ),
    "ai_spend": (
        ["date", "team", "tool", "model", "workflow", "cost_usd", "tokens", "requests"],
        [["2026-03-01", "web", "claude", "sonnet", "review", "11.00", "1000", "3"],
         ["2026-03-02", "web", "copilot", "gpt", "chat", "2.50", "20", "1"],
         ["2026-03-03", "core", "cursor", "gpt", "", "4", "", ""]],
    ),
    "ai_usage": (
        ["date", "tool", "team", "active_users", "engaged_users", "seats", "suggestions", "acceptances",
         "prs_created_by_agent"],
        [["2026-03-01", "copilot", "web", "10", "8", "12", "100", "40", "1"],
         ["2026-03-02", "copilot", "web", "11", "9", "12", "110", "42", "0"],
         ["2026-03-03", "copilot", "core", "3", "2", "4", "", "", ""]],
    ),
    "ai_usage_people": (
        ["date", "tool", "vendor_user", "email", "team", "active", "suggestions", "acceptances", "lines_added",
         "cost_usd"],
        [["2026-03-01", "Cursor", "alice@example.test", "alice@example.test", "web", "true", "40", "12", "300", "1.50"],
         ["2026-03-02", "Cursor", "alice@example.test", "alice@example.test", "web", "false", "0", "0", "0", "0"],
         ["2026-03-02", "Claude Code", "bob@example.test", "", "", "true", "", "", "120", "4.25"]],
    ),
    "reviews": (
        ["id", "pr_id", "reviewer", "state", "submitted_at"],
        [["r1", "p1", "alice", "APPROVED", "2026-03-02T09:00:00Z"],
         ["r2", "p1", "bob", "COMMENTED", "2026-03-02T09:30:00Z"],
         ["r3", "p2", "carol", "CHANGES_REQUESTED", "2026-03-03T08:00:00Z"]],
    ),
    "people": (
        ["login", "name", "team", "level", "since", "emails"],
        [["alice", "Alice A", "web", "senior", "2026-01-01", "alice@example.test"],
         ["bob", "Bob B", "web", "", "", ""],
         ["carol", "Carol C", "core", "staff", "2025-06-01T00:00:00Z", "carol@example.test;c@example.test"]],
    ),
    "focus": (
        ["BillingAccountId", "ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost", "BillingCurrency",
         "ServiceName", "ServiceCategory", "ChargeCategory", "Tags"],
        [["acct", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "1.25", "USD", "Claude", "AI and Machine Learning",
          "Usage", '{"team": "web"}'],
         ["acct", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "2.50", "USD", "Claude", "AI and Machine Learning",
          "Usage", '{"team": "web"}'],
         ["acct", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z", "3.75", "USD", "Claude", "AI and Machine Learning",
          "Usage", '{"team": "core"}']],
    ),
}

BAD_TIMES = ["03/04/2025", "04-03-2025", "2025/03/04", "4 March 2025", "20250304", "2025-03-04T10:00:00 UTC"]
BAD_MONEY = ["NaN", "nan", "inf", "Infinity", "-inf", "1e400", "1,5", "1.234,50", "12.5.0"]
BAD_COUNTS = ["1,000", "NaN", "1.5", "inf"]
KINDS = {  # the entities' own column kinds, FOCUS's spelled out
    name: {f.name: f.kind for f in entity.fields} for name, entity in ENTITIES.items()
} | {"focus": {"ChargePeriodStart": "timestamp", "ChargePeriodEnd": "timestamp", "EffectiveCost": "money",
               "ServiceName": "text", "Tags": "text", "BillingCurrency": "text"}}


@dataclass(frozen=True)
class Case:
    entity: str
    label: str
    data: bytes
    line: int
    column: str  # as the message names it: 'name' or a number


def _encode(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _spoiled(entity: str, row: int, column: str, value: str) -> bytes:
    header, rows = GOOD[entity]
    rows = [list(r) for r in rows]
    rows[row][header.index(column)] = value
    return _encode(header, rows)


def _cases() -> list[Case]:
    cases: list[Case] = []
    for entity, (header, rows) in GOOD.items():
        kinds = KINDS[entity]
        for column in header:
            kind = kinds.get(column)
            if kind is None:
                continue  # FOCUS columns the importer does not read
            bad = {"timestamp": BAD_TIMES, "date": BAD_TIMES, "money": BAD_MONEY, "count": BAD_COUNTS,
                   "int": BAD_COUNTS, "csat": ["NaN", "inf", "7"], "bool": ["maybe"],
                   "channel": ["chatbot"]}.get(kind, [])
            for value in bad:
                cases.append(Case(entity, f"{column}={value}", _spoiled(entity, 1, column, value), 3, column))
            if kind in ("text", "channel", "labels"):
                cases.append(Case(entity, f"{column} NUL", _spoiled(entity, 1, column, "a\x00b"), 3, column))
                latin1 = _spoiled(entity, 2, column, "caf\x01").replace(b"caf\x01", b"caf\xe9")
                cases.append(Case(entity, f"{column} Latin-1", latin1, 4, column))
        good = _encode(header, rows)
        lines = good.decode().splitlines(keepends=True)
        cases.append(Case(entity, "short row", "".join(lines[:2] + [lines[2].rsplit(",", 1)[0] + "\n"] + lines[3:]).encode(),
                          3, header[-1]))
        cases.append(Case(entity, "long row", "".join(lines[:3] + [lines[3].rstrip("\n") + ",extra\n"]).encode(),
                          4, str(len(header) + 1)))
        quoted = header.index(next(c for c in header if KINDS[entity].get(c) == "text"))
        broken = lines[2].rstrip("\n").split(",")
        broken[quoted] = '"' + broken[quoted]
        cases.append(Case(entity, "unclosed quote", "".join(lines[:2] + [",".join(broken) + "\n"] + lines[3:]).encode(),
                          3, header[quoted]))
        # A cell over the csv module's default limit (128 kB) early on, a bad value after it.
        big = [list(r) for r in rows]
        big[0][quoted] = "x" * 200_000
        late = next(c for c in header if KINDS[entity].get(c) in ("timestamp", "date", "money", "count")) \
            if entity != "deployment_prs" else None
        if late:
            big[2][header.index(late)] = "NaN" if KINDS[entity][late] in ("money", "count") else "03/04/2025"
            cases.append(Case(entity, "big cell then a bad value", _encode(header, big), 4, late))
        else:
            big[2][1] = "a\x00b"
            cases.append(Case(entity, "big cell then a NUL", _encode(header, big), 4, header[1]))
    return cases


CASES = _cases()


def test_the_battery_is_large_and_covers_every_entity():
    assert len(CASES) >= 200
    assert {c.entity for c in CASES} == set(ENTITIES) | {"focus"}


@pytest.fixture
def importer(tmp_path):
    folder = tmp_path
    url = f"sqlite:///{folder / 'warehouse.db'}"
    config = folder / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n')

    def run(case: Case, name: str):
        path = folder / name
        path.write_bytes(case.data)
        entity, fmt = ("ai_spend", "focus") if case.entity == "focus" else (case.entity, "csv")
        return runner.invoke(app, ["import", entity, str(path), "--format", fmt, "--config", str(config)])

    run.url = url
    return run


def test_every_malformed_file_is_refused_naming_line_and_column(importer):
    failures = []
    for i, case in enumerate(CASES):
        result = importer(case, f"bad{i}.csv")
        text = result.output
        column = f"column '{case.column}'" if not case.column.isdigit() else f"column {case.column}"
        if (result.exit_code != 1 or result.exception and not isinstance(result.exception, SystemExit)
                or "Traceback" in text or f"line {case.line}" not in text or column not in text):
            failures.append(f"{case.entity} {case.label}: exit {result.exit_code}: {text[:300]!r}")
    assert not failures, "\n".join(failures[:20])
    warehouse = open_warehouse(importer.url)
    with warehouse.engine.connect() as conn:
        written = {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                   for name, t in DATA_TABLES.items()}
    warehouse.engine.dispose()
    assert sum(written.values()) == 0, written


def test_the_good_files_import(importer):
    """The battery's files are spoiled good files: the good ones themselves import (else every refusal
    above could be for a reason of its own)."""
    for entity, (header, rows) in GOOD.items():
        result = importer(Case(entity, "good", _encode(header, rows), 0, ""), f"good_{entity}.csv")
        assert result.exit_code == 0, result.output
