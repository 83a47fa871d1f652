"""OpenAI spend by user and API key: each day's project cost shared out to the project's usage by tokens.

The costs API (`ai_spend`, source `openai`) prices a day per project and line item; the usage API
(`ai_usage_people`, source `openai_usage`) counts that day's tokens per project, user, API key and
model, but no money. The rule (issue 18), per UTC day and project:
1. a cost line whose model (the line item before its comma) is a model the project's usage rows name that
   day (compared trimmed, case-insensitive) is shared among those rows in proportion to their tokens;
2. every other cost line of the day and project (tools such as web search, fine-tuning, storage, a model
   no usage row names, or a model whose rows used no tokens) is shared among all the project's usage rows
   of that day in proportion to their tokens;
3. a day and project with cost but no usage rows with tokens is not shared out: it is listed as
   unallocated (never dropped);
4. a usage row with no cost line for its day and project has no allocated cost (null: the costs source
   may not have been synced), not $0.
The project of a cost row is the third part of its id (`openai:<day>:<project>:<line item>`, the costs
connector's stable id), `-` meaning none. Pure polars: no database, no clock.
"""
from __future__ import annotations

import polars as pl

COST_SOURCE = "openai"
USAGE_SOURCE = "openai_usage"
UNALLOCATED_SCHEMA = {"date": pl.Date, "project": pl.String, "cost_usd": pl.Float64}


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


def cost_lines(spend: pl.DataFrame) -> pl.DataFrame:
    """`spend`: ai_spend (id, source, date, model, cost_usd). Columns: date, project, model_key, cost_usd —
    the OpenAI costs source's rows only."""
    rows = spend.filter(pl.col("source") == COST_SOURCE)
    project = rows["id"].str.split_exact(":", 3).struct.field("field_2")
    return rows.select(
        "date", project=pl.when(project == "-").then(None).otherwise(project), model_key=_norm(pl.col("model")),
        cost_usd=pl.col("cost_usd").cast(pl.Float64))


def allocate(spend: pl.DataFrame, usage: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`id`, `cost_usd` of each OpenAI usage row with an allocated cost; the unallocated cost: date,
    project, cost_usd). `usage`: ai_usage_people (id, source, date, project, model, tokens)."""
    lines = cost_lines(spend)
    rows = usage.filter(pl.col("source") == USAGE_SOURCE).select(
        "id", "date", "project", model_key=_norm(pl.col("model")), tokens=pl.col("tokens").fill_null(0).cast(pl.Float64))
    keys = ["date", "project"]
    by_model = rows.group_by(*keys, "model_key").agg(model_tokens=pl.col("tokens").sum())
    by_project = rows.group_by(keys).agg(project_tokens=pl.col("tokens").sum())
    # Rule 1: a line whose model has usage rows with tokens; rule 2: the rest of the day's project cost.
    lines = lines.join(by_model, on=[*keys, "model_key"], how="left", nulls_equal=True).join(
        by_project, on=keys, how="left", nulls_equal=True)
    matched = pl.col("model_key").is_not_null() & (pl.col("model_tokens").fill_null(0) > 0)
    per_model = lines.filter(matched).group_by(*keys, "model_key").agg(model_cost=pl.col("cost_usd").sum())
    rest = lines.filter(~matched).group_by(keys).agg(rest_cost=pl.col("cost_usd").sum(),
                                                     project_tokens=pl.col("project_tokens").first())
    shared = (rows.join(by_model, on=[*keys, "model_key"], how="left", nulls_equal=True)
              .join(by_project, on=keys, how="left", nulls_equal=True)
              .join(per_model, on=[*keys, "model_key"], how="left", nulls_equal=True)
              .join(rest.drop("project_tokens"), on=keys, how="left", nulls_equal=True))
    has_cost = pl.col("model_cost").is_not_null() | pl.col("rest_cost").is_not_null()
    from_model = pl.when(pl.col("model_tokens") > 0).then(
        pl.col("model_cost").fill_null(0.0) * pl.col("tokens") / pl.col("model_tokens")).otherwise(0.0)
    from_rest = pl.when(pl.col("project_tokens") > 0).then(
        pl.col("rest_cost").fill_null(0.0) * pl.col("tokens") / pl.col("project_tokens")).otherwise(0.0)
    allocated = shared.filter(has_cost).select("id", cost_usd=from_model + from_rest).sort("id")
    unallocated = (rest.filter(pl.col("project_tokens").fill_null(0) == 0).select(*keys, "rest_cost")
                   .rename({"rest_cost": "cost_usd"}).cast(UNALLOCATED_SCHEMA).sort(keys))
    return allocated, unallocated


def with_allocated_cost(usage: pl.DataFrame, spend: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`usage` with the OpenAI rows' `cost_usd` filled by `allocate` (other rows as they are), and the
    unallocated cost."""
    allocated, unallocated = allocate(spend, usage)
    out = usage.join(allocated.rename({"cost_usd": "_allocated"}), on="id", how="left").with_columns(
        cost_usd=pl.coalesce("cost_usd", "_allocated")).drop("_allocated")
    return out.select(usage.columns), unallocated
