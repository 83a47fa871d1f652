"""Vendor users → people: which person (and so which team) each `ai_usage_people` row belongs to.

Pure polars. `people` is the people table: `login`, `name`, `team`, `level`, `since`, `emails` (several
addresses separated by `;`). A usage row matches a person when, compared trimmed and case-insensitively,
1. its `email` is one of the person's `emails` (or `login`, for people who list none), or
2. its `login` is the person's `login`, or
3. its `vendor_user` is one of those (vendors that name users only one way), or
4. its e-mail is a GitHub noreply address (`12345+login@users.noreply.github.com`) of the person's login.
The first rule that finds exactly one person decides. An identity that two people claim matches no one
(the `reason` says so): a guess would put one person's usage on another. Nothing is dropped: every
vendor user who matches no one is listed in `unmatched`, with how many rows and which days they cover.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from metrics.teams import UNASSIGNED

NOREPLY = r"^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$"
UNMATCHED_SCHEMA = {
    "source": pl.String, "tool": pl.String, "vendor_user": pl.String, "email": pl.String, "login": pl.String,
    "reason": pl.String, "rows": pl.UInt32, "first_day": pl.Date, "last_day": pl.Date,
}


@dataclass(frozen=True)
class PeopleMatch:
    matched: pl.DataFrame  # the usage rows with a person: usage columns + person, team, matched_by
    unmatched: pl.DataFrame  # one row per vendor user without a person: UNMATCHED_SCHEMA


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


def identities(people: pl.DataFrame) -> pl.DataFrame:
    """Columns: identity (lower case), person, team, claimed_by (how many people list that identity)."""
    emails = people.select(
        person=pl.col("login").str.strip_chars(), team=pl.col("team"),
        identity=pl.col("emails").fill_null("").str.split(";"),
    ).explode("identity")
    logins = people.select(person=pl.col("login").str.strip_chars(), team=pl.col("team"),
                           identity=pl.col("login"))
    both = pl.concat([emails, logins]).with_columns(identity=_norm(pl.col("identity")))
    both = both.filter(pl.col("identity").is_not_null() & (pl.col("identity") != "")).unique(["identity", "person"])
    return both.with_columns(claimed_by=pl.len().over("identity"))


def match_people(people: pl.DataFrame, usage: pl.DataFrame) -> PeopleMatch:
    """Each usage row's person and team (the person's team; `unassigned` when the person has none).
    `usage` needs `source`, `tool`, `vendor_user`, `email`, `login`, `date`; other columns pass through."""
    ids = identities(people)
    rows = usage.drop([c for c in ("person", "team") if c in usage.columns]).with_row_index("_row").with_columns(
        _email=_norm(pl.col("email")), _login=_norm(pl.col("login")), _vendor=_norm(pl.col("vendor_user")),
        _noreply=_norm(pl.col("email")).str.extract(NOREPLY, 1),
    )
    found = []
    for rule, key in (("email", "_email"), ("login", "_login"), ("vendor_user", "_vendor"), ("noreply", "_noreply")):
        hits = rows.select("_row", identity=pl.col(key)).filter(pl.col("identity").is_not_null()).join(
            ids, on="identity", how="inner")
        found.append(hits.with_columns(rule=pl.lit(rule), order=pl.lit(len(found))))
    hits = pl.concat(found)
    # The first rule that names anyone decides; if that identity is claimed by several people, no match.
    first = hits.filter(pl.col("order") == pl.col("order").min().over("_row"))
    decided = first.group_by("_row").agg(
        person=pl.col("person").first(), team=pl.col("team").first(), matched_by=pl.col("rule").first(),
        ambiguous=(pl.col("claimed_by").max() > 1) | (pl.col("person").n_unique() > 1),
    )
    annotated = rows.join(decided, on="_row", how="left")
    ok = annotated.filter(pl.col("person").is_not_null() & ~pl.col("ambiguous"))
    matched = ok.with_columns(team=pl.col("team").fill_null(UNASSIGNED))
    missed = annotated.filter(pl.col("person").is_null() | pl.col("ambiguous").fill_null(False)).with_columns(
        reason=pl.when(pl.col("ambiguous").fill_null(False))
        .then(pl.lit("claimed by more than one person in the people table"))
        .otherwise(pl.lit("no person lists this e-mail or login")))
    unmatched = missed.group_by("source", "tool", "vendor_user").agg(
        email=pl.col("email").drop_nulls().first(), login=pl.col("login").drop_nulls().first(),
        reason=pl.col("reason").first(), rows=pl.len(), first_day=pl.col("date").min(), last_day=pl.col("date").max(),
    ).sort("source", "tool", "vendor_user").select(list(UNMATCHED_SCHEMA)).cast(UNMATCHED_SCHEMA)
    return PeopleMatch(matched=matched.select([c for c in usage.columns if c not in ("person", "team")]
                                              + ["person", "team", "matched_by"]), unmatched=unmatched)
