"""The scorecard's five tiles, the headline of what changed most, and the teams-at-a-glance table,
all read from `metrics.scorecard.compute` records (so a tile can never disagree with the CLI). Which
tiles, and their words, come from the metric registry (`MetricSpec.tile`). No Streamlit: the dashboard's
pages draw these, and the weekly digest (reports/digest.py) writes the same tiles and sentences."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from reports.format import STATUS, fmt_delta, fmt_value, period_label
from metrics.registry import METRICS, MetricSpec, TileText


@dataclass(frozen=True)
class TileSpec:
    metric: str
    segment: str
    title: str
    counted: str  # what n counts, in the user's words
    compares: str = ""  # what the tile compares, in the user's words


def tile_spec(metric: MetricSpec, text: TileText | None = None) -> TileSpec:
    """The metric's own tile (`MetricSpec.tile`), or another of its tiles (`text`)."""
    t = text or metric.tile
    return TileSpec(metric.id, t.segment, t.title, t.counted, t.compares)


# The Scorecard's tiles, in registry order; then the tiles shown beside the metric they guard.
TILES = tuple(tile_spec(m) for m in METRICS.values() if m.tile is not None and m.tile.scorecard)
# metric id → the tile of the metric guarding it (deflection → CSAT)
COMPANIONS = {m.id: tile_spec(METRICS[m.guardrail.metric]) for m in METRICS.values()
              if m.guardrail is not None and METRICS[m.guardrail.metric].tile is not None}
EXTRA_TILES = tuple(tile_spec(m) for m in METRICS.values() if m.tile is not None and not m.tile.scorecard)


@dataclass(frozen=True)
class Tile:
    spec: TileSpec
    period: dt.date | None = None  # the latest period in range with a record
    value: float | None = None
    baseline: float | None = None
    delta: float | None = None
    status: str | None = None
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    trend: tuple[float, ...] = ()  # the value of every period in range that has a record, oldest first
    companion: "Tile | None" = None  # CSAT beside deflection: its guardrail
    provisional: bool = False  # its last days can still change (DESIGN.md "Provisional records")

    @property
    def unit(self) -> str:
        return METRICS[self.spec.metric].unit

    @property
    def empty(self) -> bool:
        return self.period is None


def _series(records: pl.DataFrame, metric: str, segment: str, team: str | None) -> pl.DataFrame:
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    return records.filter((pl.col("metric") == metric) & (pl.col("segment") == segment) & who).sort("period")


def _tile(records: pl.DataFrame, spec: TileSpec, team: str | None, period: dt.date | None = None,
          trend: pl.DataFrame | None = None) -> Tile:
    rows = _series(records, spec.metric, spec.segment, team)
    if period is not None:
        rows = rows.filter(pl.col("period") <= period)
    if rows.height == 0:
        return Tile(spec)
    last = rows.row(-1, named=True)
    values = rows if trend is None else _series(trend, spec.metric, spec.segment, team)
    return Tile(
        spec, period=last["period"], value=last["value"], baseline=last["baseline"], delta=last["delta"],
        status=last["status"], n=last["n"], ci_low=last["ci_low"], ci_high=last["ci_high"],
        trend=tuple(values["value"].to_list()), provisional=bool(last.get("provisional")),
    )


def tile_for(records: pl.DataFrame, spec: TileSpec, team: str | None, trend: pl.DataFrame | None = None) -> Tile:
    """Any metric × segment as a tile (the drill-down pages show segments the scorecard does not)."""
    return _tile(records, spec, team, trend=trend)


def _guard(metric: str) -> MetricSpec | None:
    """The metric guarding `metric` (deflection: CSAT), if any."""
    guardrail = METRICS[metric].guardrail if metric in METRICS else None
    return METRICS[guardrail.metric] if guardrail is not None else None


def guardrail_fired(tile: Tile) -> bool:
    """The metric moved its better way yet counts as worse: its guardrail fired (DESIGN.md status rule 6;
    deflection rose while CSAT fell)."""
    spec = METRICS[tile.spec.metric]
    if spec.guardrail is None or tile.status != "worse":
        return False
    return (tile.delta or 0) > 0 if spec.better == "higher" else (tile.delta or 0) < 0


def status_words(tile: Tile) -> str:
    return f"worse: {_guard(tile.spec.metric).short_title} guardrail" if guardrail_fired(tile) else STATUS[tile.status].words


def scorecard_tiles(records: pl.DataFrame, team: str | None, trend: pl.DataFrame | None = None) -> list[Tile]:
    """The five tiles for the whole org (team None) or one team: each the latest period in `records`
    that has a record (the Scorecard passes the review window's one range record); the sparkline reads
    `trend` (the weekly or monthly records) when given; deflection carries the same period's CSAT."""
    tiles = []
    for spec in TILES:
        tile = _tile(records, spec, team, trend=trend)
        companion = COMPANIONS.get(spec.metric)
        if companion is not None and not tile.empty:
            guard = _tile(records, companion, team)
            same_period = guard if guard.period == tile.period else Tile(companion)
            tile = Tile(**{**tile.__dict__, "companion": same_period})
        tiles.append(tile)
    return tiles


@dataclass(frozen=True)
class Change:
    metric: str
    segment: str
    status: str
    sentence: str


_PRIORITY = {"worse": 0, "better": 0, "at_baseline": 1, "info": 2}


def _relative(value: float, baseline: float | None) -> float:
    if baseline is None or value is None:
        return 0.0
    if baseline == 0:
        return float("inf") if value else 0.0
    return abs(value - baseline) / abs(baseline)


def when_text(period: dt.date, grain: str, span: str | None = None) -> str:
    """"in the week of 9 Mar 2026", "in November 2026", or for a range "over {span}"."""
    if grain == "range":
        return f"over {span}" if span else f"over the range from {period}"
    return f"in the {period_label(period, grain)}" if grain == "week" else f"in {period_label(period, grain)}"


def _sentence(tile: Tile, grain: str, span: str | None = None) -> str:
    unit = tile.unit
    title = tile.spec.title
    value, baseline = fmt_value(tile.value, unit), fmt_value(tile.baseline, unit)
    when = when_text(tile.period, grain, span)
    if tile.baseline is None:
        return f"{title} was {value} {when}; there is no baseline to compare with."
    if tile.value == tile.baseline:
        return f"{title} held at its baseline of {baseline} {when}."
    verb = "rose" if tile.value > tile.baseline else "fell"
    size = ""
    if tile.baseline and tile.value / tile.baseline >= 2:
        size = f", {tile.value / tile.baseline:.1f}× the baseline"
    elif tile.baseline and tile.value / tile.baseline <= 0.5:
        size = f", {tile.value / tile.baseline:.0%} of the baseline"
    verdict = {"better": " — better than baseline", "worse": " — worse than baseline",
               "at_baseline": " — within normal variation", "info": ""}[tile.status]
    if guardrail_fired(tile):
        guard = _guard(tile.spec.metric)
        verdict = (f" — yet counted as worse: {guard.short_title} {'fell' if guard.better == 'higher' else 'rose'} more "
                   f"than the tolerance {'below' if guard.better == 'higher' else 'above'} its baseline")
    return f"{title} {verb} to {value} from a baseline of {baseline} ({fmt_delta(tile.delta, unit)}{size}) {when}{verdict}."


def headline(records: pl.DataFrame, team: str | None, grain: str, limit: int = 3, span: str | None = None) -> list[Change]:
    """What changed most against the baseline, in plain words, most telling first: significant
    changes (better/worse) before changes within normal variation before information, each group by
    relative size. Records with too little data, and provisional records (their last days can still
    change), never make a headline. `span` names a range record's window ("the last 13 weeks, …")."""
    candidates = []
    for spec in (*TILES, *EXTRA_TILES):
        tile = _tile(records, spec, team)
        if tile.empty or tile.status not in _PRIORITY or tile.provisional:
            continue
        candidates.append((_PRIORITY[tile.status], -_relative(tile.value, tile.baseline), spec.metric, tile))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    return [Change(t.spec.metric, t.spec.segment, t.status, _sentence(t, grain, span)) for *_, t in candidates[:limit]]


def verdict(records: pl.DataFrame, pauses: list[str], span: str) -> str:
    """The one line above the tiles: the team and metric to look at first (the largest settled change
    for the worse among the teams' tile records), and the workflows Governance recommends pausing."""
    worst = None
    for spec in (*TILES, *EXTRA_TILES):
        rows = records.filter((pl.col("metric") == spec.metric) & (pl.col("segment") == spec.segment)
                              & pl.col("team").is_not_null() & (pl.col("status") == "worse")
                              & ~pl.col("provisional").fill_null(False))
        for row in rows.iter_rows(named=True):
            size = _relative(row["value"], row["baseline"])
            if worst is None or size > worst[0]:
                worst = (size, row, spec)
    parts = []
    if worst is not None:
        _, row, spec = worst
        metric = METRICS[spec.metric]
        unit = metric.unit
        guard = _guard(spec.metric)
        guarding = (records.filter((pl.col("metric") == guard.id) & (pl.col("segment") == "all") & (pl.col("team") == row["team"]))
                    if guard is not None else records.clear())
        if guarding.height and guardrail_fired(Tile(spec, status=row["status"], delta=row["value"] - (row["baseline"] or 0))):
            # Deflection rose, yet counts as worse: the CSAT guardrail fired. Say that, not the rise.
            c = guarding.row(0, named=True)
            what = (f"{metric.title.lower()} counts as worse because {guard.short_title} "
                    f"{'fell' if guard.better == 'higher' else 'rose'} to {fmt_value(c['value'], guard.unit)} "
                    f"from a baseline of {fmt_value(c['baseline'], guard.unit)}")
        else:
            what = (f"{spec.title} {fmt_value(row['value'], unit)} against a baseline of "
                    f"{fmt_value(row['baseline'], unit)}")
        parts.append(f"Look at {row['team']} first: {what} {when_text(row['period'], 'range', span)}")
    else:
        parts.append(f"No team is clearly worse than its baseline {when_text(dt.date.min, 'range', span)}")
    if pauses:
        flows = ", ".join(sorted(pauses))
        parts.append(f"Governance recommends pausing {flows}")
    return ". ".join(parts) + "."


STATUS_SUFFIX = " status"


def team_glance(records: pl.DataFrame) -> pl.DataFrame:
    """One row per team with each tile's latest value, for the teams table: `team`, then per tile
    `{title}` (the value as text) and `{title} status`, then `worse` (how many tiles are red);
    teams with the most red tiles first."""
    wanted = pl.DataFrame({"metric": [s.metric for s in TILES], "segment": [s.segment for s in TILES],
                           "title": [s.title for s in TILES]})
    latest = (
        records.filter(pl.col("team").is_not_null())
        .join(wanted, on=["metric", "segment"])
        .sort("period")
        .group_by(["team", "title"], maintain_order=True)
        .last()
    )
    cells: dict[str, dict[str, str]] = {}
    for row in latest.iter_rows(named=True):
        team = cells.setdefault(row["team"], {})
        team[row["title"]] = fmt_value(row["value"], METRICS[row["metric"]].unit)
        team[row["title"] + STATUS_SUFFIX] = row["status"]
    schema = {"team": pl.String}
    for spec in TILES:
        schema |= {spec.title: pl.String, spec.title + STATUS_SUFFIX: pl.String}
    rows = [{"team": team, **{k: values.get(k, "—" if not k.endswith(STATUS_SUFFIX) else None) for k in schema if k != "team"}}
            for team, values in sorted(cells.items())]
    frame = pl.DataFrame(rows, schema=schema)
    worse = pl.sum_horizontal([(pl.col(s.title + STATUS_SUFFIX) == "worse").fill_null(False).cast(pl.Int64) for s in TILES])
    return frame.with_columns(worse=worse).sort(["worse", "team"], descending=[True, False])
