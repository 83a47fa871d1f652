"""The change-chain metrics' specs (DESIGN.md "The scorecard, second set"): DORA's keys split by
AI-assisted change, rework, and the load on senior reviewers. Plain data, read by the registry."""
from __future__ import annotations

from metrics import metric_events as events
from metrics.spec import (
    CHANGE_FAILURE_LOOKAHEAD, PERIOD_END, REWORK_LOOKAHEAD, DeliveryText, MannWhitneyTest, MetricSpec, TileText,
    ToleranceTest, TrendText, pr_ai_split, share_of_events,
)

CHANGE_CHAIN_SPECS = (
    MetricSpec(
        id="deployment_frequency",
        title="Deployment frequency",
        short_title="Deploys / day",
        unit="per_day",
        kind="per_day",
        segments=("all",),
        segment_rule="",
        numerator="production deployments that are not rollbacks",
        denominator="days of the period",
        counting_time="deployment finished_at",
        better="info",
        better_text="for information (more, smaller changes is the DORA reading; never red or green)",
        interval="none",
        lookahead=PERIOD_END,
        min_sample_applies=False,
        description=(
            "Production deployments (status success, a production environment) that are not rollbacks, per "
            "calendar day of the period. Every team that has ever deployed has a record for every period, "
            "0 when it did not deploy."
        ),
        events=events.deployment_frequency,
        needs_chain=True,
        event_kind="deployment",
        counted_at=(("deployments", "finished_at"),),
        still_to_come="deployments",
        delivery=DeliveryText(
            1, (TileText("all", "Deployment frequency", "production deployments"),),
            TrendText("Production deployments per day", ("all",)),
        ),
    ),
    MetricSpec(
        id="lead_time_hours",
        title="Lead time for changes",
        short_title="Lead time",
        unit="hours",
        kind="median",
        **pr_ai_split(),
        numerator="total hours from PR created to the deployment that shipped it",
        denominator="shipped PRs",
        counting_time="finished_at of the deployment that shipped the PR",
        better="lower",
        better_text="lower",
        interval="distribution-free 95% interval of the median (order statistics; none when n < 2)",
        value_range=(0.0, None),
        description=(
            "Median hours from a PR's creation to the finish of the production deployment that shipped it "
            "(the deployment the source names, else the first production deployment of the repo, not a "
            "rollback, at or after the merge); the 90th percentile beside it. PRs without a creation time "
            "are left out. Status: Mann-Whitney U test against the baseline at 5%, direction by the median."
        ),
        events=events.lead_time_hours,
        needs_chain=True,
        interval_method="order_statistics",
        status=MannWhitneyTest(),
        event_kind="pr",
        counted_at=(("deployments", "finished_at"),),
        delivery=DeliveryText(
            2,
            (TileText("all", "Lead time for changes (median)", "shipped PRs"),
             TileText("ai", "Lead time, AI-assisted PRs", "shipped PRs"),
             TileText("non_ai", "Lead time, other PRs", "shipped PRs")),
            TrendText("Median lead time (hours): AI-assisted PRs vs others", ("ai", "non_ai")),
        ),
    ),
    MetricSpec(
        id="change_failure_rate",
        title="Change failure rate",
        short_title="Change failure",
        **share_of_events(),
        segments=("all", "ai", "non_ai"),
        segment_rule=(
            "ai: the deployment shipped at least one AI-assisted PR; non_ai: it shipped PRs, none AI-assisted "
            "(a deployment that shipped no PR counts in all only)"
        ),
        numerator="failed production deployments",
        denominator="production deployments that are not rollbacks",
        counting_time="deployment finished_at",
        better="lower",
        better_text="lower",
        lookahead=CHANGE_FAILURE_LOOKAHEAD,
        description=(
            "Share of production deployments (not rollbacks) that failed: rolled back by a rollback "
            "deployment within the rollback window, a PR they shipped reverted (within the window, after "
            "the deployment), or they caused an incident (the source's link, else the latest production "
            "deployment of the incident's team or service repos within incident_link_hours before it "
            "started). Status: two-proportion z-test against the baseline at 5%."
        ),
        events=events.change_failure_rate,
        needs_chain=True,
        event_kind="deployment",
        counted_at=(("deployments", "finished_at"),),
        still_to_come="rollbacks and incidents",
        delivery=DeliveryText(
            3,
            (TileText("all", "Change failure rate", "production deployments"),
             TileText("ai", "Change failure, deploys with AI PRs", "deployments"),
             TileText("non_ai", "Change failure, other deploys", "deployments")),
            TrendText("Change failure rate: deploys shipping AI-assisted PRs vs others", ("ai", "non_ai")),
        ),
    ),
    MetricSpec(
        id="rework_rate",
        title="Rework rate",
        short_title="Rework",
        **share_of_events(),
        **pr_ai_split("the reworked PR's"),
        numerator="reworked merged PRs (with at least one follow-up fix)",
        denominator="merged PRs",
        counting_time="PR merged_at",
        better="lower",
        better_text="lower",
        lookahead=REWORK_LOOKAHEAD,
        description=(
            "Share of merged PRs that needed a follow-up fix within rework_window_days: a later PR of the "
            "same repo that reverts it, or that is a fix (a fix label or a title like 'Fix ...') and touches "
            "a file it touched. Status: two-proportion z-test against the baseline at 5%."
        ),
        events=events.rework_rate,
        needs_chain=True,
        event_kind="pr",
        counted_at=(("pull_requests", "merged_at"),),
        still_to_come="follow-up fixes",
        delivery=DeliveryText(
            5,
            (TileText("all", "Rework rate", "merged PRs"),
             TileText("ai", "Rework, AI-assisted PRs", "merged PRs"),
             TileText("non_ai", "Rework, other PRs", "merged PRs")),
            TrendText("Rework rate: AI-assisted PRs vs others", ("ai", "non_ai")),
            team_tiles=(TileText("ai", "Rework, AI-assisted PRs", "AI-assisted merged PRs"),
                        TileText("non_ai", "Rework, other PRs", "other merged PRs")),
        ),
    ),
    MetricSpec(
        id="senior_review_load",
        title="Senior review load",
        short_title="Senior reviews",
        unit="per_week",
        kind="per_senior_week",
        segments=("all", "ai"),
        segment_rule="all: reviews on any PR; ai: reviews on AI-assisted PRs",
        numerator="reviews submitted by the team's senior people",
        denominator="senior weeks: the seniors' days as seniors in the period ÷ 7",
        counting_time="review submitted_at",
        better="lower",
        better_text="lower (all: beyond the review tolerance of the baseline; ai: for information)",
        interval="none",
        lookahead=PERIOD_END,
        description=(
            "Reviews per senior per week: reviews submitted by senior people (listed in [people] senior, or "
            "a people row whose level is in senior_levels) counted in the reviewer's team. Status: worse "
            "above baseline × (1 + review_tolerance), better below baseline × (1 − review_tolerance); the ai "
            "segment is for information."
        ),
        events=events.senior_review_load,
        needs_chain=True,
        status=ToleranceTest("review_tolerance", relative=True),
        info_segments=("ai",),
        event_kind="review",
        counted_at=(("reviews", "submitted_at"),),
        still_to_come="reviews",
        delivery=DeliveryText(
            6, trend=TrendText("Reviews per senior per week: all PRs and AI-assisted PRs", ("all", "ai")), on_page=False,
            team_tiles=(TileText("all", "Senior review load", "senior reviews"),
                        TileText("ai", "Senior reviews of AI PRs", "senior reviews")),
        ),
    ),
)
