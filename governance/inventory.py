"""What AI runs here, according to the data, and who owns it according to the inventory.

The data names AI in six ways: a PR author that is an AI tool's identity (`author:` signals), a tool of
the registry the PR's attribution found (`ai_tools`), and the tool, model and workflow of every AI spend row and
the tool of every adoption (ai_usage) row. Each distinct name is an *identity*; an identity no
`[governance.tools]` / `[governance.workflows]` entry recognises is **unowned** — a ghost contributor:
AI at work that nobody declared, so nobody answers for it. Spend on a model a tool's `approved_models`
leave out is flagged as well.

Counts, first/last seen and teams are aggregates; the example ids are drawn only from the teams the
viewer may see (`visible_teams`), so a team lead never gets another team's rows from here.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

import polars as pl

from config.governance import GovernanceConfig, InventoryItem
from connectors.common.ai_tools import TOOLS

# The inventory fields that recognise each kind of identity.
KIND_FIELDS = {
    "bot": ("bot_logins",),
    "coding_tool": ("signal_tools",),
    "spend_tool": ("spend_tools",),
    "spend_model": ("spend_models", "approved_models"),
    "spend_workflow": ("spend_workflows",),
    "usage_tool": ("usage_tools",),
}
KIND_WORDS = {
    "bot": "PR author (AI bot)",
    "coding_tool": "tool named in PR signals",
    "spend_tool": "AI spend: tool",
    "spend_model": "AI spend: model",
    "spend_workflow": "AI spend: workflow",
    "usage_tool": "adoption data: tool",
}
EXAMPLES = 3
_IDENTITY_SCHEMA = {"id": pl.String, "team": pl.String, "day": pl.Date, "kind": pl.String, "name": pl.String,
                    "cost_usd": pl.Float64}
FOUND_SCHEMA = {
    "kind": pl.String, "name": pl.String, "rows": pl.Int64, "cost_usd": pl.Float64, "teams": pl.List(pl.String),
    "first_seen": pl.Date, "last_seen": pl.Date, "examples": pl.List(pl.String), "owned_by": pl.String,
}  # plus `spellings`: every spelling of the name seen (the inventory's spend lookup uses them)


def _bot_key(login: str) -> str:
    return login.strip().lower().removesuffix("[bot]")


def matches(name: str | None, patterns: Iterable[str], *, kind: str = "") -> bool:
    """`name` matches one of the case-insensitive globs (bot logins ignore the `[bot]` suffix)."""
    if name is None:
        return False
    key = _bot_key(name) if kind == "bot" else name.strip().lower()
    for pattern in patterns:
        p = _bot_key(pattern) if kind == "bot" else pattern.strip().lower()
        if p and fnmatch.fnmatchcase(key, p):
            return True
    return False


def items(governance: GovernanceConfig) -> list[tuple[str, str, InventoryItem]]:
    """Every declared item as (kind, id, item): tools first, then workflows, in config order."""
    return [("tool", k, v) for k, v in governance.tools.items()] + [("workflow", k, v) for k, v in governance.workflows.items()]


def owner_of(kind: str, name: str, governance: GovernanceConfig) -> str | None:
    """The id of the first declared tool or workflow that recognises identity (`kind`, `name`)."""
    for _, item_id, item in items(governance):
        if any(matches(name, getattr(item, f), kind=kind) for f in KIND_FIELDS[kind]):
            return item_id
    return None


def _day(frame: pl.DataFrame, *columns: str) -> pl.Expr:
    present = [pl.col(c) for c in columns if c in frame.columns]
    return pl.coalesce(present).dt.date() if present else pl.lit(None, pl.Date)


def pr_identities(prs: pl.DataFrame) -> pl.DataFrame:
    """One row per PR × AI identity the attribution found (connectors.common.ai_detection, which reads the
    registry of AI tools): `bot` (an author that is a tool's identity — its login, `[bot]` dropped, or its
    e-mail) and `coding_tool` (each registry tool in `ai_tools`, and the value of a policy trailer that
    names no registry tool, "Assisted-by: Acme Helper").
    Reads `id, team, ai_signals, ai_tools` (JSON lists) and `merged_at` / `created_at` for the day."""
    if prs.height == 0:
        return pl.DataFrame(schema=_IDENTITY_SCHEMA)
    tools_col = pl.col("ai_tools") if "ai_tools" in prs.columns else pl.lit(None, pl.String)
    base = prs.filter(pl.col("ai_signals").is_not_null() & (pl.col("ai_signals") != "[]")).select(
        "id", "team", day=_day(prs, "merged_at", "created_at"),
        signal=pl.col("ai_signals").str.json_decode(pl.List(pl.String)),
        tools=tools_col.fill_null("[]").str.json_decode(pl.List(pl.String)),
    )
    signals = base.explode("signal").drop_nulls("signal")
    kind = pl.col("signal").str.extract(r"^(\w+):", 1)
    text = pl.col("signal").str.replace(r"^\w+:", "").str.strip_chars()
    login = (
        pl.coalesce(text.str.extract(r"(?i)^(?:\d+\+)?([^@\s]+)@users\.noreply\.github\.com$", 1), text)
        .str.to_lowercase().str.replace(r"\[bot\]$", "")
    )
    policy_value = text.str.extract(r"(?i)^(?:assisted|generated)-by:(.*)$", 1).str.replace_all(r"<[^>]*>", "").str.strip_chars()
    bots = signals.filter(kind.is_in(["author", "bot_author"])).select("id", "team", "day", kind=pl.lit("bot"), name=login)
    named_tools = base.explode("tools").drop_nulls("tools").select("id", "team", "day", kind=pl.lit("coding_tool"), name="tools")
    known = "|".join(re.escape(n) for t in TOOLS for n in t.names)
    unnamed = signals.with_columns(value=policy_value).filter(
        (kind == "trailer") & pl.col("value").is_not_null() & ~pl.col("value").str.contains(rf"(?i)(?:^|[^a-z0-9])(?:{known})(?:[^a-z0-9]|$)")
    ).select("id", "team", "day", kind=pl.lit("coding_tool"), name="value")
    identities = pl.concat([bots, named_tools, unnamed]).with_columns(cost_usd=pl.lit(None, pl.Float64))
    # One row per PR and identity (found_in_data counts rows): spellings of one name collapse.
    return identities.drop_nulls(["kind", "name"]).filter(pl.col("name") != "").unique(
        ["id", "kind", pl.col("name").str.to_lowercase()], maintain_order=True).cast(_IDENTITY_SCHEMA)


# The columns of the identities kept beside the cube (`identity_facts`): `pr_identities`' rows that have a day.
IDENTITY_FACTS_SCHEMA = {"day": pl.Date, "id": pl.String, "team": pl.String, "kind": pl.String, "name": pl.String}


def identity_facts(prs: pl.DataFrame) -> pl.DataFrame:
    """`pr_identities` of `prs` (teams assigned) kept beside the cube (warehouse.cube_chunks.FACT_PARTS), one row
    per PR × identity on the PR's day (its merge, else its creation: where `partials` counts it), in a fixed order
    (day, id, kind, name): a PR's rows depend on that PR alone, so the rows of the days from a cut on are made
    from the PRs merged, or never merged and created, from the cut on (reports/derived.py). A PR with neither
    time has no day to be kept on: the Governance page reads those (reports/governance_data.py)."""
    rows = pr_identities(prs)
    return (rows.filter(pl.col("day").is_not_null()).select(list(IDENTITY_FACTS_SCHEMA))
            .sort("day", "id", "kind", "name").cast(IDENTITY_FACTS_SCHEMA))


PARTIAL_SCHEMA = {"kind": pl.String, "name": pl.String, "team": pl.String, "rows": pl.Int64, "cost_usd": pl.Float64,
                  "first_seen": pl.Date, "last_seen": pl.Date, "ex_id": pl.List(pl.String)}


def _partial_aggs(day: str) -> list[pl.Expr]:
    # Examples: ids of the group's last day (cheaper than a top-k over millions of spend rows).
    last = pl.col(day).max()
    return [pl.len().cast(pl.Int64).alias("rows"), pl.col("cost_usd").sum().alias("cost_usd"),
            pl.col(day).min().alias("first_seen"), last.alias("last_seen"),
            pl.col("id").filter(pl.col(day) == last).sort(descending=True).head(EXAMPLES).alias("ex_id")]


def partials(identities: pl.DataFrame) -> pl.DataFrame:
    """Row-level identities (one row per id and identity) summed per kind × name × team, with the ids
    of each group's last day: what `found_in_data` reads (columns PARTIAL_SCHEMA)."""
    if identities.height == 0:
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    return identities.group_by("kind", "name", "team").agg(_partial_aggs("day")).select(list(PARTIAL_SCHEMA)).cast(
        PARTIAL_SCHEMA)


def spend_partials(spend: pl.DataFrame) -> pl.DataFrame:
    """The `spend_tool`, `spend_model` and `spend_workflow` partials straight from the ai_spend rows
    (id, team, date, tool, model, workflow, cost_usd): each row names one of each; a null names none.
    Summing per column first keeps millions of spend rows from becoming three times as many."""
    if spend.height == 0:
        return pl.DataFrame(schema=PARTIAL_SCHEMA)
    parts = [
        spend.filter(pl.col(dim).is_not_null() & (pl.col(dim) != "")).group_by(dim, "team").agg(_partial_aggs("date"))
        .select(kind=pl.lit(f"spend_{dim}"), name=pl.col(dim), team="team", rows="rows", cost_usd="cost_usd",
                first_seen="first_seen", last_seen="last_seen", ex_id="ex_id")
        for dim in ("tool", "model", "workflow")
    ]
    return pl.concat(parts).cast(PARTIAL_SCHEMA)


def usage_identities(usage: pl.DataFrame) -> pl.DataFrame:
    if usage.height == 0:
        return pl.DataFrame(schema=_IDENTITY_SCHEMA)
    return usage.filter(pl.col("tool").is_not_null() & (pl.col("tool") != "")).select(
        "id", "team", day=pl.col("date"), kind=pl.lit("usage_tool"), name="tool", cost_usd=pl.lit(None, pl.Float64)
    ).cast(_IDENTITY_SCHEMA)


def found_in_data(partial: pl.DataFrame, governance: GovernanceConfig,
                  visible_teams: frozenset[str] | None = None) -> pl.DataFrame:
    """Every AI identity in the data, from `partials` (columns FOUND_SCHEMA): `rows` (PRs, spend rows or
    usage rows naming it), `cost_usd` (spend only), `teams`, `first_seen` / `last_seen` (days),
    `examples` (the latest ids, from `visible_teams` only; None = every team) and `owned_by` (the
    declared item's id, null when unowned). Names compare case-insensitively; the most frequent
    spelling is shown. Unowned first, then by kind and most rows."""
    if partial.height == 0:  # an empty warehouse: nothing found, in the same columns
        return pl.DataFrame(schema={**FOUND_SCHEMA, "spellings": pl.List(pl.String)})
    partial = partial.with_columns(key=pl.col("name").str.to_lowercase(), team=pl.col("team").fill_null("unassigned"))
    spelling = partial.group_by("kind", "key", "name").agg(pl.col("rows").sum()).sort(
        ["rows", "name"], descending=[True, False]).group_by("kind", "key", maintain_order=True).agg(
        name=pl.col("name").first(), spellings=pl.col("name"))
    found = partial.group_by("kind", "key").agg(
        rows=pl.col("rows").sum(), cost_usd=pl.col("cost_usd").sum(), teams=pl.col("team").unique().sort(),
        first_seen=pl.col("first_seen").min(), last_seen=pl.col("last_seen").max(),
    ).join(spelling, on=["kind", "key"]).with_columns(
        cost_usd=pl.when(pl.col("kind").str.starts_with("spend_")).then(pl.col("cost_usd")))
    shown = partial if visible_teams is None else partial.filter(pl.col("team").is_in(list(visible_teams)))
    examples = (
        shown.select("kind", "key", "ex_id", ex_day="last_seen").explode("ex_id")
        .sort(["kind", "key", "ex_day", "ex_id"], descending=[False, False, True, True])
        .group_by("kind", "key", maintain_order=True).agg(examples=pl.col("ex_id").head(EXAMPLES))
    )
    found = found.join(examples, on=["kind", "key"], how="left").with_columns(
        examples=pl.col("examples").fill_null(pl.lit([], pl.List(pl.String))))
    owners = [owner_of(k, n, governance) for k, n in found.select("kind", "name").iter_rows()]
    found = found.with_columns(owned_by=pl.Series(owners, dtype=pl.String))
    order = {k: i for i, k in enumerate(KIND_FIELDS)}
    return (
        found.with_columns(_o=pl.col("kind").replace_strict(order, return_dtype=pl.Int32))
        .sort([pl.col("owned_by").is_not_null(), "_o", "rows", "name"], descending=[False, False, True, False])
        .select(*FOUND_SCHEMA, "spellings").cast(FOUND_SCHEMA)
    )


def unowned(found: pl.DataFrame) -> pl.DataFrame:
    """The ghost contributors: identities in the data no inventory entry recognises."""
    return found.filter(pl.col("owned_by").is_null())


def unapproved_models(spend: pl.DataFrame, governance: GovernanceConfig,
                      visible_teams: frozenset[str] | None = None) -> pl.DataFrame:
    """Spend on a model its tool's owner did not approve: rows whose tool a declared item recognises
    (`spend_tools`) while its model matches none of that item's `approved_models` (items without
    approved models are not judged). Columns: tool, model, owned_by, rows, cost_usd, teams, first_seen,
    last_seen, examples."""
    schema = {"tool": pl.String, "model": pl.String, "owned_by": pl.String, "rows": pl.Int64, "cost_usd": pl.Float64,
              "teams": pl.List(pl.String), "first_seen": pl.Date, "last_seen": pl.Date, "examples": pl.List(pl.String)}
    if spend.height == 0:
        return pl.DataFrame(schema=schema)
    pairs = spend.select("tool", "model").unique().drop_nulls("tool")
    flagged = []
    for tool, model in pairs.iter_rows():
        for _, item_id, item in items(governance):
            if item.approved_models and matches(tool, item.spend_tools):
                if not matches(model, item.approved_models):
                    flagged.append((tool, model, item_id))
                break
    if not flagged:
        return pl.DataFrame(schema=schema)
    marks = pl.DataFrame(flagged, schema={"tool": pl.String, "model": pl.String, "owned_by": pl.String}, orient="row")
    rows = spend.join(marks, on=["tool", "model"], how="inner", nulls_equal=True)
    shown = rows if visible_teams is None else rows.filter(pl.col("team").is_in(list(visible_teams)))
    examples = shown.sort(["date", "id"], descending=True).group_by("tool", "model", maintain_order=True).agg(
        examples=pl.col("id").head(EXAMPLES))
    return (
        rows.group_by("tool", "model", "owned_by").agg(
            rows=pl.len().cast(pl.Int64), cost_usd=pl.col("cost_usd").sum(),
            teams=pl.col("team").fill_null("unassigned").unique().sort(),
            first_seen=pl.col("date").min(), last_seen=pl.col("date").max())
        .join(examples, on=["tool", "model"], how="left", nulls_equal=True)
        .with_columns(examples=pl.col("examples").fill_null(pl.lit([], pl.List(pl.String))))
        .sort("cost_usd", descending=True).select(list(schema)).cast(schema)
    )


INVENTORY_SCHEMA = {
    "kind": pl.String, "id": pl.String, "name": pl.String, "risk_tier": pl.Int64, "business_owner": pl.String,
    "technical_owner": pl.String, "security_owner": pl.String, "runs_in": pl.String, "data_allowed": pl.String,
    "approved_models": pl.String, "review_gate": pl.String, "teams": pl.String, "tools": pl.String,
    "prs": pl.Int64, "spend_usd": pl.Float64, "last_seen": pl.Date, "gaps": pl.String,
}


def inventory(governance: GovernanceConfig, pr_rows: pl.DataFrame, found: pl.DataFrame,
              spend: pl.DataFrame) -> pl.DataFrame:
    """The declared tools and workflows (columns INVENTORY_SCHEMA), each with what the data shows of it:
    `prs` (distinct PRs, of the `pr_identities` rows, naming an identity its patterns recognise),
    `spend_usd` (the ai_spend rows whose tool, model or workflow its patterns recognise, each row once),
    `last_seen`; `gaps` says what a reviewer would ask about (a missing owner or stop condition,
    nothing seen in the data)."""
    pr_rows = pr_rows.filter(pl.col("kind").is_in(["bot", "coding_tool"])).with_columns(
        key=pl.col("name").str.to_lowercase())
    spellings = found.get_column("spellings").to_list()
    names = [(k, n, last, spelled) for (k, n, last), spelled in zip(found.select("kind", "name", "last_seen").rows(), spellings)]
    rows = []
    for kind, item_id, item in items(governance):
        # Everything the item's own patterns recognise (a workflow shares identities with its tools).
        recognised = [(k, n.lower(), last, spelled) for k, n, last, spelled in names
                      if any(matches(n, getattr(item, f), kind=k) for f in KIND_FIELDS[k])]
        keys = pl.DataFrame([(k, n) for k, n, *_ in recognised], schema={"kind": pl.String, "key": pl.String},
                            orient="row")
        prs = pr_rows.join(keys, on=["kind", "key"])["id"].n_unique()
        by_dim = {dim: [v for k, _, _, spelled in recognised if k == f"spend_{dim}" for v in spelled]
                  for dim in ("tool", "model", "workflow")}
        hit = spend.filter(pl.any_horizontal(pl.col(dim).is_in(v) for dim, v in by_dim.items()))
        spend_usd = float(hit["cost_usd"].sum()) if hit.height else None
        gaps = [f"no {role} owner" for role in ("business", "technical", "security")
                if not getattr(item, f"{role}_owner").strip()]
        if kind == "workflow" and not getattr(item, "stop", ()):
            gaps.append("no stop condition")
        if not recognised:
            gaps.append("not seen in the data")
        rows.append({
            "kind": kind, "id": item_id, "name": item.name or item_id, "risk_tier": item.risk_tier,
            "business_owner": item.business_owner, "technical_owner": item.technical_owner,
            "security_owner": item.security_owner, "runs_in": item.runs_in,
            "data_allowed": ", ".join(item.data_allowed), "approved_models": ", ".join(item.approved_models),
            "review_gate": item.review_gate, "teams": ", ".join(item.teams) or "whole org",
            "tools": ", ".join(getattr(item, "tools", ())), "prs": prs, "spend_usd": spend_usd,
            "last_seen": max((last for _, _, last, _ in recognised), default=None), "gaps": "; ".join(gaps),
        })
    return pl.DataFrame(rows, schema=INVENTORY_SCHEMA)
