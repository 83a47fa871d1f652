"""The definitions that link rows to each other, written once (DESIGN.md "Definitions"):

- which merged PR a revert reverts,
- which production deployments are rollbacks, and what each rolls back,
- which deployment shipped a PR,
- which merged PRs were rolled back within the window, how and when.

Every function is pure: frames in, frames out. `pr_outcomes` is the one the scorecard, the drill-down
and the exports read, so the rollback share on a tile and the list of rolled-back PRs come from the
same rows.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.evidence import Evidence

REF_TYPE = pl.Struct({"repo": pl.String, "number": pl.Int64, "sha": pl.String, "title": pl.String})
_LOOKUPS = ("source", "number", "sha", "title")  # in the order DESIGN.md tries them
_REF = pl.col("revert_ref").str.json_decode(REF_TYPE)
# A merged PR is a revert when its title or body names what it reverts (a title or a number, parsed on
# import into `revert_ref`) or the source said so. A bare `This reverts commit <sha>` makes a revert only
# when `resolve_reverts` finds the sha to be an earlier PR's merge commit (DESIGN.md "Revert", revision 2).
_NAMES_REVERTED = (
    pl.col("is_revert").fill_null(False)
    | pl.col("reverts_pr_id").is_not_null()
    | _REF.struct.field("title").is_not_null()
    | _REF.struct.field("number").is_not_null()
)
_TRAILING_NUMBER = r"\s*\(#\d+\)\s*$"


def comparable_title(expr: pl.Expr) -> pl.Expr:
    # Titles compare without a trailing ` (#<n>)`: a squash merge's subject carries it, the PR title not.
    return expr.str.replace(_TRAILING_NUMBER, "").str.strip_chars()


def production_deployments(deployments: pl.DataFrame, production_environments: tuple[str, ...]) -> pl.DataFrame:
    """Deployments with status `success` in a production environment (both compared case-insensitively)."""
    envs = [e.lower() for e in production_environments]
    return deployments.filter(
        (pl.col("status").str.to_lowercase() == "success")
        & pl.col("environment").str.to_lowercase().is_in(envs)
        & pl.col("finished_at").is_not_null()
    ).with_columns(env_key=pl.col("environment").str.to_lowercase())


def detect_rollbacks(production: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply the rollback rule within each repo and environment.

    Returns `(production, rolled_back)`:
    - production: the input plus `rollback` (bool), `rollback_rule` ("flag", "sha" or null) and
      `restores_deployment_id` (T, the earlier deployment of the same sha);
    - rolled_back: one row per (rollback, deployment it rolls back) with `rollback_id`,
      `rollback_finished_at`, `deployment_id`, `deployment_finished_at`.
    """
    ordered = production.sort(["repo", "env_key", "finished_at", "id"]).with_columns(
        idx=pl.int_range(pl.len()).over(["repo", "env_key"])
    )
    ordered = ordered.with_columns(
        t_idx=pl.when(pl.col("sha").is_not_null())
        .then(pl.col("idx").shift(1).over(["repo", "env_key", "sha"]))
        .otherwise(None)
    )
    sha_rule = pl.col("t_idx").is_not_null() & (pl.col("idx") - pl.col("t_idx") >= 2)
    ordered = ordered.with_columns(
        rollback=pl.when(pl.col("is_rollback").is_not_null()).then(pl.col("is_rollback")).otherwise(sha_rule),
        rollback_rule=pl.when(pl.col("is_rollback")).then(pl.lit("flag"))
        .when(pl.col("is_rollback").is_null() & sha_rule).then(pl.lit("sha"))
        .otherwise(None),
    )
    # What R rolls back: every deployment strictly between T and R; a flagged R without such a T (none,
    # or one with no other sha between: R redeploys the live sha), the one deployment just before it —
    # the source says that deployment was undone, e.g. a bad configuration shipped with the same build
    # (DESIGN.md "Rollback deployment", revision 2).
    ordered = ordered.with_columns(
        lo=pl.when(sha_rule).then(pl.col("t_idx") + 1).otherwise(pl.col("idx") - 1),
        hi=pl.col("idx") - 1,
    )
    by_idx = ordered.select(
        "repo", "env_key", "idx", deployment_id="id", deployment_finished_at="finished_at"
    )
    restores = ordered.select("repo", "env_key", t_idx="idx", restores_deployment_id="id")
    pairs = (
        ordered.filter(pl.col("rollback") & (pl.col("lo") >= 0) & (pl.col("lo") <= pl.col("hi")))
        .select(
            "repo", "env_key", rollback_id="id", rollback_finished_at="finished_at",
            idx=pl.int_ranges("lo", pl.col("hi") + 1),
        )
        .explode("idx")
        .join(by_idx, on=["repo", "env_key", "idx"], how="inner")
        .select("rollback_id", "rollback_finished_at", "deployment_id", "deployment_finished_at")
    )
    production = (
        ordered.join(restores, on=["repo", "env_key", "t_idx"], how="left")
        .with_columns(
            restores_deployment_id=pl.when(pl.col("rollback")).then(pl.col("restores_deployment_id"))
        )
        .drop("idx", "t_idx", "lo", "hi")
    )
    return production, pairs


def resolve_reverts(prs: pl.DataFrame) -> pl.DataFrame:
    """Which merged PR each merged revert reverts.

    Returns one row per resolved revert: `revert_id`, `revert_merged_at`, `reverted_pr_id`, and
    `revert_lookup` (how it was found: source, number, sha or title). A source-given `reverts_pr_id`
    wins when it names a PR merged before the revert; otherwise the first lookup that finds a PR
    merged before the revert, and among several matches the latest merged, then the highest number.
    (A link to a PR merged after its "revert" cannot be right: the lookups get their turn.)
    """
    merged = prs.filter(pl.col("merged_at").is_not_null())
    reverts = merged.filter(_NAMES_REVERTED | pl.col("revert_ref").is_not_null()).select(
        revert_id="id", revert_repo="repo", revert_merged_at="merged_at", explicit="reverts_pr_id",
        ref=pl.col("revert_ref").str.json_decode(REF_TYPE),
    ).unnest("ref", separator="_")
    out_schema = {
        "revert_id": pl.String, "revert_merged_at": merged.schema["merged_at"],
        "reverted_pr_id": pl.String, "revert_lookup": pl.String,
    }
    if reverts.height == 0:
        return pl.DataFrame(schema=out_schema)
    targets = merged.select(
        target_id="id", target_repo="repo", target_number="number", target_title=comparable_title(pl.col("title")),
        target_sha=pl.col("merge_commit_sha").str.to_lowercase(), target_merged_at="merged_at",
    )
    found = [
        _lookup(
            reverts.filter(pl.col("explicit").is_not_null()).with_columns(target_id=pl.col("explicit")),
            targets, ["target_id"], "source",
        ),
        _lookup(
            reverts.filter(pl.col("ref_number").is_not_null()).with_columns(
                target_repo=pl.coalesce("ref_repo", "revert_repo"), target_number=pl.col("ref_number")
            ),
            targets, ["target_repo", "target_number"], "number",
        ),
        _lookup(
            reverts.filter(pl.col("ref_title").is_not_null()).with_columns(
                target_repo=pl.col("revert_repo"), target_title=comparable_title(pl.col("ref_title"))
            ),
            targets, ["target_repo", "target_title"], "title",
        ),
    ]
    with_sha = reverts.filter(pl.col("ref_sha").is_not_null()).with_columns(
        ref_sha=pl.col("ref_sha").str.to_lowercase()
    )
    for length in with_sha.get_column("ref_sha").str.len_chars().unique().to_list():
        found.append(
            _lookup(
                with_sha.filter(pl.col("ref_sha").str.len_chars() == length).with_columns(
                    target_repo=pl.col("revert_repo"), sha_prefix=pl.col("ref_sha")
                ),
                targets.filter(pl.col("target_sha").str.len_chars() >= length).with_columns(
                    sha_prefix=pl.col("target_sha").str.slice(0, length)
                ),
                ["target_repo", "sha_prefix"], "sha",
            )
        )
    rank = {name: i for i, name in enumerate(_LOOKUPS)}
    candidates = pl.concat([f for f in found if f.height], how="vertical_relaxed") if any(
        f.height for f in found
    ) else None
    if candidates is None:
        return pl.DataFrame(schema=out_schema)
    return (
        candidates.with_columns(rank=pl.col("lookup").replace_strict(rank, return_dtype=pl.Int8))
        .sort(
            ["revert_id", "rank", "target_merged_at", "target_number", "target_id"],
            descending=[False, False, True, True, False],
            nulls_last=True,
        )
        .unique("revert_id", keep="first", maintain_order=True)
        .select("revert_id", "revert_merged_at", reverted_pr_id="target_id", revert_lookup="lookup")
    )


def _lookup(reverts: pl.DataFrame, targets: pl.DataFrame, on: list[str], name: str) -> pl.DataFrame:
    """The targets matching each revert on `on` and merged before it that `resolve_reverts` can pick: those
    merged at the latest such instant (it picks the latest merged, then the highest number). Found as of each
    revert's merge, not by pairing every match: a title that many PRs of a repo share pairs each revert naming
    it with all of them."""
    keyed = pl.all_horizontal(pl.col(c).is_not_null() for c in on)  # a null key matches nothing, as in a join
    latest = (
        reverts.filter(keyed).select("revert_id", "revert_merged_at", *on).sort("revert_merged_at")
        .join_asof(targets.filter(keyed).select(*on, "target_merged_at").unique().sort("target_merged_at"),
                   left_on="revert_merged_at", right_on="target_merged_at", by=on, strategy="backward",
                   allow_exact_matches=False, check_sortedness=False)
        .filter(pl.col("target_merged_at").is_not_null())
    )
    return (
        latest.join(targets, on=[*on, "target_merged_at"], how="inner")
        .select(
            "revert_id", "revert_merged_at", "target_id", "target_merged_at", "target_number",
            lookup=pl.lit(name),
        )
    )


def shipped_in(merged_prs: pl.DataFrame, production: pl.DataFrame, deployment_prs: pl.DataFrame) -> pl.DataFrame:
    """The deployment that shipped each merged PR.

    Returns `id`, `shipped_deployment_id`, `shipped_at`, `shipped_how` ("named by source" or "first
    production deployment after merge"); null where the PR is not shipped (yet). The source's
    `deployment_prs` wins (its earliest production deployment); otherwise the first production
    deployment of the PR's repo, in any production environment, not itself a rollback, finishing at
    or after the merge.
    """
    named = (
        deployment_prs.join(
            production.select(deployment_id="id", named_at="finished_at"), on="deployment_id", how="inner"
        )
        .sort(["pr_id", "named_at", "deployment_id"])
        .unique("pr_id", keep="first", maintain_order=True)
        .select(id="pr_id", named_id="deployment_id", named_at="named_at")
    )
    candidates = (
        production.filter(~pl.col("rollback"))
        .sort(["repo", "finished_at", "id"])
        .unique(["repo", "finished_at"], keep="first", maintain_order=True)
        .select("repo", first_id="id", first_at="finished_at", ship_time="finished_at")
        .sort("ship_time")
    )
    left = merged_prs.select("id", "repo", ship_time="merged_at").sort("ship_time")
    first = left.join_asof(candidates, on="ship_time", by="repo", strategy="forward", check_sortedness=False).select(
        "id", "first_id", "first_at"
    )
    return (
        merged_prs.select("id")
        .join(named, on="id", how="left")
        .join(first, on="id", how="left")
        .select(
            "id",
            shipped_deployment_id=pl.coalesce("named_id", "first_id"),
            shipped_at=pl.coalesce("named_at", "first_at"),
            shipped_how=pl.when(pl.col("named_id").is_not_null()).then(pl.lit("named by source"))
            .when(pl.col("first_id").is_not_null()).then(pl.lit("first production deployment after merge")),
        )
    )


def pr_outcomes(evidence: Evidence, production_environments: tuple[str, ...], rollback_window_days: float,
                reverts: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per merged PR with everything the rollback rules decided about it.

    Columns: the PR's own (`id, repo, number, title, author, team, url, merged_at, ai_assisted,
    ai_signals, ai_tools, ai_mode`), `is_revert`, `reverts_pr_id` (resolved), `shipped_deployment_id`, `shipped_at`,
    `shipped_how`, `rolled_back` (bool), `rolled_back_how` ("deployment rollback" or "revert"),
    `rolled_back_by` (the rollback deployment or the revert PR), `rolled_back_at`,
    `rolled_back_by_deployment` / `rolled_back_by_deployment_at` and `reverted_by_pr` / `reverted_at`
    (each way on its own, within the window, for the drill-down), `reverted_by_pr_id` (the earliest merged
    revert of it, whenever it came) and `rollback_window_ends_at` (the last instant a rollback or revert
    can still count: the later of merged_at and the shipping deployment's finished_at, plus the window;
    a PR not shipped yet can still gain a later one). `reverts`: `resolve_reverts(evidence.pull_requests)`
    when the caller has it.
    """
    window = dt.timedelta(days=rollback_window_days)
    prs = evidence.pull_requests
    merged = prs.filter(pl.col("merged_at").is_not_null())
    production, pairs = detect_rollbacks(production_deployments(evidence.deployments, production_environments))
    shipping = shipped_in(merged, production, evidence.deployment_prs)
    if reverts is None:
        reverts = resolve_reverts(prs)

    by_rollback = (
        pairs.filter(pl.col("rollback_finished_at") - pl.col("deployment_finished_at") <= window)
        .sort(["deployment_id", "rollback_finished_at", "rollback_id"])
        .unique("deployment_id", keep="first", maintain_order=True)
        .select(shipped_deployment_id="deployment_id", rb_by="rollback_id", rb_at="rollback_finished_at")
    )
    by_revert = (
        reverts.join(merged.select(reverted_pr_id="id", target_merged_at="merged_at"), on="reverted_pr_id")
        .filter(pl.col("revert_merged_at") - pl.col("target_merged_at") <= window)
        .sort(["reverted_pr_id", "revert_merged_at", "revert_id"])
        .unique("reverted_pr_id", keep="first", maintain_order=True)
        .select(id="reverted_pr_id", rv_by="revert_id", rv_at="revert_merged_at")
    )
    out = (
        merged.select(
            "id", "repo", "number", "title", "author", "team", "url", "merged_at", "ai_assisted", "ai_signals",
            "ai_tools", "ai_mode",
        )
        .join(shipping, on="id", how="left")
        .join(by_rollback, on="shipped_deployment_id", how="left")
        .join(by_revert, on="id", how="left")
        .join(reverts.select(id="revert_id", reverts_pr_id="reverted_pr_id", revert_lookup="revert_lookup"), on="id", how="left")
        .join(_revert_flags(prs, reverts), on="id", how="left")
        .join(
            reverts.sort(["reverted_pr_id", "revert_merged_at", "revert_id"])
            .unique("reverted_pr_id", keep="first", maintain_order=True)
            .select(id="reverted_pr_id", reverted_by_pr_id="revert_id"),
            on="id", how="left",
        )
    )
    rb_first = pl.col("rb_at").is_not_null() & (pl.col("rv_at").is_null() | (pl.col("rb_at") <= pl.col("rv_at")))
    return out.with_columns(
        rolled_back=pl.col("rb_at").is_not_null() | pl.col("rv_at").is_not_null(),
        rolled_back_how=pl.when(rb_first).then(pl.lit("deployment rollback"))
        .when(pl.col("rv_at").is_not_null()).then(pl.lit("revert")),
        rolled_back_by=pl.when(rb_first).then(pl.col("rb_by")).otherwise(pl.col("rv_by")),
        rolled_back_at=pl.when(rb_first).then(pl.col("rb_at")).otherwise(pl.col("rv_at")),
        rollback_window_ends_at=pl.max_horizontal("merged_at", "shipped_at") + window,
    ).rename(
        {"rb_by": "rolled_back_by_deployment", "rb_at": "rolled_back_by_deployment_at",
         "rv_by": "reverted_by_pr", "rv_at": "reverted_at"}
    )


def _revert_flags(prs: pl.DataFrame, reverts: pl.DataFrame) -> pl.DataFrame:
    resolved = reverts.get_column("revert_id").implode()
    return prs.filter(pl.col("merged_at").is_not_null()).select(
        "id", is_revert=_NAMES_REVERTED | pl.col("id").is_in(resolved)
    )


def deployment_outcomes(evidence: Evidence, production_environments: tuple[str, ...]) -> pl.DataFrame:
    """Every production deployment with its rollback verdict and, if rolled back, by which rollback.

    Columns: the deployment's own, `rollback`, `rollback_rule`, `restores_deployment_id`,
    `rolled_back_by`, `rolled_back_at` (the earliest rollback that rolled it back, any window).
    """
    production, pairs = detect_rollbacks(production_deployments(evidence.deployments, production_environments))
    first = (
        pairs.sort(["deployment_id", "rollback_finished_at", "rollback_id"])
        .unique("deployment_id", keep="first", maintain_order=True)
        .select(id="deployment_id", rolled_back_by="rollback_id", rolled_back_at="rollback_finished_at")
    )
    return production.join(first, on="id", how="left").drop("env_key")
