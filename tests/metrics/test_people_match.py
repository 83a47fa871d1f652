"""Vendor users matched to people by e-mail, login, vendor user name and GitHub noreply address; the
unmatched and the ambiguous listed, never dropped."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from metrics.people_match import match_people

D = dt.date
PEOPLE = pl.DataFrame({
    "login": ["ana", "bo", "cy", "dee"],
    "name": ["Ana A", "Bo B", "Cy C", "Dee D"],
    "team": ["payments", "web", None, "web"],
    "level": ["senior", "mid", "mid", "staff"],
    "since": [None, None, None, None],
    # shared@acme.dev is listed by Bo and by Dee: an identity two people claim.
    "emails": ["ana@acme.dev; Ana.A@old.acme.dev", "bo@acme.dev;shared@acme.dev", "", "shared@acme.dev;dee@acme.dev"],
}).with_columns(pl.col("since").cast(pl.Date))


def usage(*rows) -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip(("source", "tool", "vendor_user", "email", "login", "date", "lines_added"), r)) for r in rows],
        schema={"source": pl.String, "tool": pl.String, "vendor_user": pl.String, "email": pl.String,
                "login": pl.String, "date": pl.Date, "lines_added": pl.Int64})


def test_each_rule_and_every_unmatched_user_listed():
    rows = usage(
        ("claude_code", "claude-code", "ANA.A@old.acme.dev", "ANA.A@old.acme.dev", None, D(2026, 11, 1), 10),  # e-mail, any case
        ("github", "github-copilot", "Bo", None, "Bo", D(2026, 11, 1), 20),  # login
        ("openai_usage", "openai", "cy", None, None, D(2026, 11, 2), 30),  # vendor user = login
        ("cursor", "cursor", "123+dee@users.noreply.github.com", "123+dee@users.noreply.github.com", None, D(2026, 11, 2), 40),
        ("cursor", "cursor", "shared@acme.dev", "shared@acme.dev", None, D(2026, 11, 3), 50),  # ambiguous
        ("cursor", "cursor", "eve@contractor.io", "eve@contractor.io", None, D(2026, 11, 3), 60),
        ("cursor", "cursor", "eve@contractor.io", "eve@contractor.io", None, D(2026, 11, 5), 70),
    )
    result = match_people(PEOPLE, rows)
    assert_frame_equal(result.matched.select("vendor_user", "person", "team", "matched_by", "lines_added"), pl.DataFrame({
        "vendor_user": ["ANA.A@old.acme.dev", "Bo", "cy", "123+dee@users.noreply.github.com"],
        "person": ["ana", "bo", "cy", "dee"],
        # Cy has no team in the people table: unassigned, as everywhere else.
        "team": ["payments", "web", "unassigned", "web"],
        "matched_by": ["email", "login", "vendor_user", "noreply"],
        "lines_added": [10, 20, 30, 40],
    }), check_row_order=False)
    assert result.unmatched.select("vendor_user", "reason", "rows", "first_day", "last_day").rows() == [
        ("eve@contractor.io", "no person lists this e-mail or login", 2, D(2026, 11, 3), D(2026, 11, 5)),
        ("shared@acme.dev", "claimed by more than one person in the people table", 1, D(2026, 11, 3), D(2026, 11, 3)),
    ]
    # 4 matched rows + 1 + 2 unmatched rows = the 7 usage rows: nothing silently dropped.
    assert result.matched.height + result.unmatched["rows"].sum() == rows.height


def test_an_e_mail_match_wins_over_a_conflicting_login():
    # The vendor says login "bo" but the e-mail is Ana's: the e-mail (rule 1) decides.
    rows = usage(("github", "github-copilot", "bo", "ana@acme.dev", "bo", D(2026, 11, 1), 5))
    result = match_people(PEOPLE, rows)
    assert result.matched.select("person", "matched_by").rows() == [("ana", "email")]
    assert result.unmatched.height == 0


def test_no_people_means_everyone_is_listed():
    rows = usage(("cursor", "cursor", "ana@acme.dev", "ana@acme.dev", None, D(2026, 11, 1), 1))
    result = match_people(PEOPLE.clear(), rows)
    assert result.matched.height == 0 and result.unmatched["vendor_user"].to_list() == ["ana@acme.dev"]
