"""What the Definitions page lists: the metric registry's specs and the configured rules."""
from __future__ import annotations

from config.model import Config
from connectors.common.ai_detection import build_registry
from metrics.periods import DEFAULT_BASELINE_WEEKS
from metrics.registry import (
    KIND_WORDS, METRICS, MannWhitneyTest, MetricSpec, ToleranceTest, TwoProportionTest, status_words,
)


def _titles(specs) -> str:
    return ", ".join(s.short_title for s in specs) or "none"


def _status_rules() -> tuple[tuple[str, str], ...]:
    """DESIGN.md "Status" in words, naming the metrics each test of the registry applies to."""
    specs = [s for s in METRICS.values() if s.better != "info"]
    info = [s for s in METRICS.values() if s.better == "info"]
    segments = [f"{s.short_title} {', '.join(s.info_segments)}" for s in METRICS.values() if s.info_segments]
    guarded = [f"{s.short_title} is worse whenever {METRICS[s.guardrail.metric].short_title} falls beyond its "
               "tolerance" for s in METRICS.values() if s.guardrail is not None]
    return (
        ("not enough data (grey)", "the period's n is below min_sample, or the baseline's is — never red or green by chance"),
        ("for information (blue)", f"{_titles(info)} (never red or green)"
                                   + (f", the segments without a pre-AI comparison ({'; '.join(segments)})" if segments else "")
                                   + ", or no baseline to compare with"),
        ("better / worse (green / red)",
         "a significant difference from the baseline: two-proportion z-test for "
         f"{_titles(s for s in specs if isinstance(s.status, TwoProportionTest))}, Mann-Whitney U for "
         f"{_titles(s for s in specs if isinstance(s.status, MannWhitneyTest))} (both at 5%), tolerances for "
         f"{_titles(s for s in specs if isinstance(s.status, ToleranceTest))}"
         + (f"; guardrail: {'; '.join(guarded)}" if guarded else "")),
        ("at baseline (neutral)", "no significant difference from the baseline"),
    )


STATUS_RULES = _status_rules()


def metric_rows() -> list[tuple[MetricSpec, list[tuple[str, str]]]]:
    """Per metric: (spec, [(label, text)]) for its definition table: its texts, and what its spec makes
    the code do (aggregation, status test, look-ahead)."""
    out = []
    for spec in METRICS.values():
        rows = [
            ("Numerator", spec.numerator),
            ("Denominator (n)", spec.denominator),
            ("Value", KIND_WORDS[spec.kind]),
            ("Counted at", spec.counting_time),
            ("Better when", spec.better_text),
            ("Status", status_words(spec)),
            ("Interval", spec.interval),
            ("Segments", ", ".join(spec.segments) + (f" ({spec.segment_rule})" if spec.segment_rule else "")),
        ]
        if spec.lookahead is not None:
            factor = f"{spec.lookahead.factor:g} × " if spec.lookahead.factor != 1 else ""
            settles = (f"while its period ended less than {factor}{', '.join(spec.lookahead.rules)} ago"
                       if spec.lookahead.rules else "while its period runs")
            rows.append(("Provisional", settles
                                        + (f" (while it counts a PR not shipped yet: {spec.pending_lookahead.factor:g} × "
                                           f"{', '.join(spec.pending_lookahead.rules)})" if spec.pending_lookahead else "")))
        rows.append(("Metric id", spec.id))
        out.append((spec, rows))
    return out


def rules_rows(config: Config) -> list[tuple[str, str]]:
    rules = config.rules
    registry = build_registry(config.ai_detection)
    baseline = config.baseline
    if baseline.window is not None:
        window = f"{baseline.window.start} to {baseline.window.end} ([baseline])"
    else:
        window = (f"the {DEFAULT_BASELINE_WEEKS} complete weeks before the AI adoption week (fixed by the data, "
                  "never by the date range; the sidebar shows the window in force and why)")
    adoption = (f"the week of {rules.ai_adoption_start} ([rules] ai_adoption_start)" if rules.ai_adoption_start
                else "the first week with at least min_sample merged PRs of which 5% or more are AI-assisted")
    rows = [
        ("Baseline window", window),
        ("AI adoption week", adoption),
        *[(f"Baseline of {m.id}", f"its own unless [baseline.{m.id}]: the first {DEFAULT_BASELINE_WEEKS} complete "
            "weeks that have spend rows") for m in METRICS.values() if m.kind == "cost_per_unit"],
        *[(f"Baseline of {metric}", f"{w.start} to {w.end}") for metric, w in sorted(baseline.per_metric.items())],
        ("Minimum sample (min_sample)", str(rules.min_sample)),
        ("Rollback window", f"{rules.rollback_window_days:g} days"),
        ("Review window (tiles)", "the last 13 complete weeks (3 months) of the selected range that ended by the "
                                  "latest merge or deployment"),
        ("Provisional", "a record whose period ended less than its look-ahead ago (rollback share: the rollback "
                        "window; twice that while a PR it counts is not shipped yet) can still change"),
        ("Production environments", ", ".join(rules.production_environments)),
        ("CSAT tolerance", f"{rules.csat_tolerance:g} points"),
        ("Cost tolerance", f"{rules.cost_tolerance:.0%}"),
        ("AI tools (registry)", ", ".join(registry.tools) or "none"),
        ("AI tools replaced by the config", "yes ([ai_detection] replace_defaults)" if config.ai_detection.replace_defaults else "no: [ai_detection] extends them"),
        ("AI labels", ", ".join(sorted(registry.labels)) or "none"),
        ("AI policy trailers", ", ".join(f"{t}:" for t in registry.policy_trailers) or "none"),
        ("AI identities", "the author or a Co-authored-by trailer is a tool's e-mail, GitHub noreply login or bot "
                          "login, matched whole (never a word in a person's name or domain)"),
        ("Incident link window", f"{rules.incident_link_hours:g} hours before the incident's start"
                                 + (" (0: source links only)" if rules.incident_link_hours == 0 else "")),
        ("Rework window", f"{rules.rework_window_days:g} days"),
        ("Fix labels", ", ".join(rules.fix_labels)),
        ("Fix title pattern", rules.fix_title_pattern),
        ("Senior levels", ", ".join(rules.senior_levels)),
        ("Senior people listed", ", ".join(config.people.senior) or "none (from the people table only)"),
        ("Review tolerance", f"{rules.review_tolerance:.0%}"),
        ("Incident services", "; ".join(f"{name}: {', '.join(s.repos)}" for name, s in sorted(config.services.items()))
                              or "none (incidents link to their team's deployments)"),
        ("Teams configured", ", ".join(sorted(config.teams)) or "none (teams come from the rows themselves)"),
    ]
    return rows


def metrics_markdown(config: Config | None = None) -> str:
    """docs/metrics.md: every metric's definition and the default rules, from the registry (generated by
    `python -m tools.metrics_doc`; a test keeps the committed file equal to this)."""
    config = config or Config()
    out = ["# Metric definitions", "",
           "Generated from the metric registry (`metrics/registry.py`) by `python -m tools.metrics_doc`; the "
           "dashboard's Definitions page shows the same text with your configuration's values.", "",
           "Every record: metric × period (week, month, or the whole range) × team (and the whole organisation) "
           "× segment, with value, numerator, denominator, n, 95% interval, baseline, delta, status and "
           "provisional.", ""]
    for spec, rows in metric_rows():
        out += [f"## {spec.title} (`{spec.id}`)", "", spec.description, "", "| | |", "| --- | --- |"]
        out += [f"| {label} | {text.replace('|', '/')} |" for label, text in rows]
        out.append("")
    out += ["## Status", "", "| Status | When |", "| --- | --- |"]
    out += [f"| {label} | {text} |" for label, text in STATUS_RULES]
    out += ["", "## Rules (defaults)", "", "| Rule | Value |", "| --- | --- |"]
    out += [f"| {label} | {text.replace('|', '/')} |" for label, text in rules_rows(config)]
    return "\n".join(out) + "\n"
