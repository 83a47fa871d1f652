"""Demo per-person usage of three AI tools (issue 18), for the Adoption page.

The story, over the last 26 weeks of the demo: GitHub Copilot is rolled out to everyone and used
lightly (many suggestions, modest acceptance, no per-person cost: seats); Cursor is the web and mobile
teams' editor (heavy daily use, usage-based cost per person); Claude Code is taken up by a few people per
team, most eagerly in payments — the team whose AI-assisted changes the demo rolls back most — and its
heavy users cost the most per day. One contractor uses Cursor under an e-mail no person lists: the page
shows them as unmatched instead of dropping them.

Rows carry `person` and `team` (the demo knows its people, whose logins are the PR authors'
`<team>-dev<k>`); e-mails are `<login>@acme.example`.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from connectors.vendors.common import PEOPLE_SCHEMA

SOURCE = "demo"
WEEKS = 26
ENGINEERS_PER_TEAM = 8  # as the demo's PR authors
CONTRACTOR = "temp.contractor@agency.example"


def people_usage(teams: list[str], *, end: dt.date, seed: int) -> pl.DataFrame:
    """`ai_usage_people` rows of the demo, one per person, tool and active working day."""
    rng = np.random.default_rng(seed + 18)
    days = [end - dt.timedelta(days=i) for i in range(WEEKS * 7)][::-1]
    workdays = np.array([d for d in days if d.weekday() < 5], dtype=object)
    ramp = np.linspace(0.3, 1.0, len(workdays))  # adoption grows over the half year
    rows: list[dict] = []
    for t, team in enumerate(teams):
        for k in range(ENGINEERS_PER_TEAM):
            login = f"{team}-dev{k}"
            keen = rng.uniform(0.2, 1.0)  # how much this person leans on AI
            claude_user = k < (4 if t == 0 else 2)  # payments has the most Claude Code users
            cursor_user = team in ("web", "mobile") or (k == 7)
            for i, day in enumerate(workdays):
                p = ramp[i] * keen
                if rng.random() < 0.35 + 0.5 * p:
                    shown = int(rng.integers(20, 120))
                    rows.append(_row("github-copilot", day, login, team, suggestions=shown,
                                     acceptances=int(shown * rng.uniform(0.2, 0.35)),
                                     lines_added=int(rng.integers(5, 80)), requests=int(rng.integers(1, 25))))
                if cursor_user and rng.random() < 0.3 + 0.6 * p:
                    shown = int(rng.integers(80, 400))
                    rows.append(_row("cursor", day, login, team, suggestions=shown,
                                     acceptances=int(shown * rng.uniform(0.5, 0.8)),
                                     lines_added=int(rng.integers(50, 900)), requests=int(rng.integers(10, 120)),
                                     cost_usd=round(float(rng.gamma(2.0, 0.9) * (0.5 + p)), 2)))
                if claude_user and rng.random() < 0.15 + 0.75 * p:
                    edits = int(rng.integers(5, 60))
                    rows.append(_row("claude-code", day, login, team, suggestions=edits,
                                     acceptances=int(edits * rng.uniform(0.75, 0.95)),
                                     lines_added=int(rng.integers(100, 2500)), sessions=int(rng.integers(1, 8)),
                                     commits=int(rng.poisson(2 + 3 * p)), prs=int(rng.poisson(0.4 + p)),
                                     cost_usd=round(float(rng.gamma(2.0, 3.0) * (0.5 + 2 * p)), 2)))
    for i, day in enumerate(workdays[-40:]):
        if i % 2 == 0:
            row = _row("cursor", day, None, None, suggestions=150, acceptances=90, lines_added=300, requests=40,
                       cost_usd=1.5)
            row.update(vendor_user=CONTRACTOR, email=CONTRACTOR, id=f"demo:cursor:{day.isoformat()}:{CONTRACTOR}")
            rows.append(row)
    schema = {**PEOPLE_SCHEMA, "person": pl.String, "team": pl.String}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def _row(tool: str, day: dt.date, login: str | None, team: str | None, **numbers) -> dict:
    email = f"{login}@acme.example" if login else None
    # Chat and agent use as the vendors flag them (Copilot, Cursor; Claude Code has no such flag): chat on a
    # day with a dozen requests or more, the agent on a day with many lines.
    flags = {} if tool == "claude-code" else {"used_chat": numbers.get("requests", 0) >= 12,
                                              "used_agent": numbers.get("lines_added", 0) >= (60 if tool == "github-copilot" else 600)}
    return {"id": f"demo:{tool}:{day.isoformat()}:{login}", "source": SOURCE, "date": day, "tool": tool,
            "vendor_user": login if tool == "github-copilot" else email, "email": email,
            "login": login if tool == "github-copilot" else None, "person": login, "team": team,
            "active": True, "engaged": numbers.get("acceptances", 0) > 0, **flags, **numbers}
