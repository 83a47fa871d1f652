"""The groups of a values table (lead time, MTTR: one row per event with its value) and their statistics.

A values metric has a record per period × team (and the whole org) × segment (and `all`): count, sum,
median, 90th percentile (linear interpolation), the order-statistic interval of the median (DESIGN.md
"Intervals"), and what its Mann–Whitney test against the team's baseline (segment `all` of the window)
needs: U of the period's values and the tie term. Grouping two million rows by strings and handing every
record its list of values cost seconds; here every row gets integer codes once (period, team, segment and
the rank of its value among all the table's values), each record a group id, and sorting int64 keys
(group id, value rank) lays every group's values out in ascending order — block by block when the rows
come by day (`_sorted_in_blocks`). The order statistics are picked by index, U is summed from per-row
counts of baseline values below and equal (the baseline window read once per table: `Baseline`), and
segment `all` and the whole org are the same rows under other group ids, never copies of the frame.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from metrics.stats import MEDIAN_Z_HALF, tie_term_change

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Sorted:
    """Groups laid out end to end, each group's values ascending: `values[starts[g]:starts[g] + sizes[g]]`."""

    ids: np.ndarray  # the group id of each group (each once; ascending where the keys were sorted whole)
    starts: np.ndarray
    sizes: np.ndarray
    keys: np.ndarray  # per entry: its group's number (high bits) and its value's rank (the low `bits`)
    bits: int
    distinct: np.ndarray  # the value of each rank

    def ranks(self, entries: np.ndarray | slice = slice(None)) -> np.ndarray:
        return self.keys[entries] & ((1 << self.bits) - 1)

    def value_at(self, entries: np.ndarray) -> np.ndarray:
        return self.distinct[self.ranks(entries)]

    def group_of(self, entries: np.ndarray) -> np.ndarray:
        """The index (into `ids`) of each entry's group."""
        return np.searchsorted(self.starts, entries, side="right") - 1

    def repeats(self) -> np.ndarray:
        """Per entry: is the one before it of the same group and value?"""
        same = np.zeros(len(self.keys), dtype=bool)
        same[1:] = self.keys[1:] == self.keys[:-1]
        return same


@dataclass(frozen=True)
class ValueRows:
    """A values table (columns day, team, segment, value) as numpy arrays, made once and read by every
    call of `value_groups` over it (the parts of a split report, a dashboard's later views): each row's
    day (days since 1970-01-01), its team and segment as dense codes with their names (null is a name of
    its own), and its value. `ordered`: the days ascend (as the cube keeps them), so the rows of a span of
    days are one slice."""

    day: np.ndarray
    team: np.ndarray
    team_names: list[str | None]
    segment: np.ndarray
    segment_names: list[str | None]
    value: np.ndarray
    ordered: bool
    # What every call over these rows reads alike, made on first use: "ranked" (Ranked) and, per window
    # and overlay, its Baseline. Two threads asking at once may both make it (equal arrays; each uses its
    # own, the dict keeps the last). Not an argument: a copy made with dataclasses.replace starts empty.
    _made: dict = field(init=False, default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, rows: pl.DataFrame) -> "ValueRows":
        day = rows.get_column("day").to_physical().to_numpy()
        team, team_names = _codes(rows.get_column("team"))
        segment, segment_names = _codes(rows.get_column("segment"))
        value = rows.get_column("value").cast(pl.Float64).to_numpy()  # a null is NaN here
        return cls(day=day, team=team, team_names=team_names, segment=segment, segment_names=segment_names,
                   value=value, ordered=len(day) < 2 or bool(np.all(day[1:] >= day[:-1])))

    def ranked(self) -> "Ranked":
        """Every row's value as its rank among all the rows' values (made once: every part of a report and
        its baseline compare values by these ranks)."""
        if "ranked" not in self._made:
            # Rows of the same day, team and value lie together (a PR's row and its copies under `cohort:` /
            # `tool:` segments, as the cube keeps them): each such run is ranked once.
            run_of, starts = _runs_of(self.day, self.team, self.value)
            run_ranks, distinct, _ = _ranks(self.value[starts])
            self._made["ranked"] = Ranked(rank=run_ranks[run_of], distinct=distinct)
        return self._made["ranked"]

    def baseline(self, window_days: tuple[dt.date, dt.date], overlay: tuple[str, ...]) -> "Baseline":
        """The window's baseline rows (segment `all`) as every part of a report reads them (made once per
        window and overlay)."""
        key = ("baseline", window_days, overlay)
        if key not in self._made:
            self._made[key] = Baseline.of(self, window_days, overlay)
        return self._made[key]

    def reported(self, period_days: list[tuple[dt.date, dt.date]]) -> tuple[slice | np.ndarray, np.ndarray]:
        """The rows reported in a period, ascending, and each one's period index. With ascending days only
        the slice of the periods' days is looked at; otherwise every row. The rows are that slice when every
        row in it is reported (so that reading them makes views, not copies), else their positions."""
        if not period_days:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if self.ordered:
            used = slice(*self._slice(min(first for first, _ in period_days), max(last for _, last in period_days)))
        else:
            used = slice(0, len(self.day))
        period = _period_index(self.day[used], period_days)
        keep = period >= 0  # the periods need not be contiguous in general
        if not keep.all():
            return np.arange(used.start, used.stop)[keep], period[keep]
        return used, period

    def window_rows(self, window_days: tuple[dt.date, dt.date]) -> np.ndarray:
        """The rows whose day lies in the window (first and last day), ascending (positions)."""
        if self.ordered:
            return np.arange(*self._slice(*window_days))
        first, last = ((d - _EPOCH).days for d in window_days)
        return np.flatnonzero((self.day >= first) & (self.day <= last))

    def _slice(self, first: dt.date, last: dt.date) -> tuple[int, int]:
        # The keys in the days' own type: against an int64 key numpy would convert every day first.
        low, high = (np.array((d - _EPOCH).days, dtype=self.day.dtype) for d in (first, last))
        return int(np.searchsorted(self.day, low, side="left")), int(np.searchsorted(self.day, high, side="right"))


@dataclass(frozen=True)
class Ranked:
    """Each row's value rank among a table's distinct values (equal values, equal ranks), and the values."""

    rank: np.ndarray
    distinct: np.ndarray


@dataclass(frozen=True)
class Baseline:
    """A window's baseline rows of a values table (its rows of segment `all` in the window), as every
    group's statistics read them: per value rank its count over the whole org and how many lie below it;
    the rows' (team, rank) keys sorted (a team's count below or at a value is searched there); per rank
    one team holding it, and whether several do; per team code (the last: the org) its n, total, median
    and tie term (`_baselines`); and how many rows hold no number."""

    in_org: np.ndarray
    below_org: np.ndarray
    team_keys: np.ndarray
    rank_bits: int
    team_start: np.ndarray  # per team code: where its keys start in `team_keys`
    holder: np.ndarray
    several: np.ndarray
    stats: dict[str, np.ndarray]
    missing: int  # rows without a number (null or NaN): an error once a report reads the baseline

    @classmethod
    def of(cls, table: ValueRows, window_days: tuple[dt.date, dt.date], overlay: tuple[str, ...]) -> "Baseline":
        ranked = table.ranked()
        rows = table.window_rows(window_days)
        rows = rows[_in_all(table.segment_names, overlay)[table.segment[rows]]]
        team, rank = table.team[rows], ranked.rank[rows]
        n_ranks = len(ranked.distinct)
        in_org = np.bincount(rank, minlength=n_ranks)  # each value's count in the org's baseline
        below_org = np.zeros(n_ranks + 1, dtype=np.int64)
        np.cumsum(in_org, out=below_org[1:])
        rank_bits = _bits(n_ranks)
        if _bits(int(team.max(initial=0))) + rank_bits > 63:  # not reachable below 2^31 rows
            raise ValueError(f"{n_ranks:,} distinct values and {len(table.team_names):,} teams: too many for one key")
        holder = np.full(n_ranks, -1, dtype=np.int64)  # per rank: a team holding it (the last written)
        holder[rank] = team
        several = np.zeros(n_ranks, dtype=bool)
        several[rank[team != holder[rank]]] = True
        null_team = table.team_names.index(None) if None in table.team_names else -1
        team_keys = np.sort((team << rank_bits) | rank)
        codes = np.arange(len(table.team_names) + 1, dtype=np.int64)
        return cls(in_org=in_org, below_org=below_org, team_keys=team_keys, rank_bits=rank_bits,
                   team_start=np.searchsorted(team_keys, codes << rank_bits, side="left"), holder=holder,
                   several=several,
                   stats=_baselines(team, rank, ranked.distinct, len(table.team_names) + 1, null_team),
                   missing=int(np.isnan(table.value[rows]).sum()))


def value_groups(rows: pl.DataFrame | ValueRows, periods: list[dt.date], period_days: list[tuple[dt.date, dt.date]],
                 window_days: tuple[dt.date, dt.date], *, org: str, by_segment: bool, whole_org: bool,
                 overlay: tuple[str, ...], with_std: bool) -> pl.DataFrame:
    """One row per group of the reported rows of `rows` (one metric's values: columns day, team, segment,
    value, or the same as `ValueRows`): `period, team, segment, n, total, median, p90, median_low,
    median_high` (the interval of the median, null when n < 2), `std` (sample, when `with_std`), `mw_u1`
    and `mw_ties` (U of the group's values against its team's baseline values and the pooled tie term),
    and the baseline's `b_total, b_median, baseline_n` (null for a team without baseline rows).

    A row is reported in the period `periods[i]` when its day lies in `period_days[i]` (first and last
    day), and is a baseline row when its day lies in `window_days` (first and last day) and it counts in
    segment `all`. The rows are read in place, as numpy arrays: no frame is filtered or copied per period
    or window.

    Groups are as the daily metrics' groups in metrics.scorecard (`_grouped`): team × segment (when
    `by_segment`; rows with a segment), team × `all` (rows whose segment is null, or neither a
    `tool:`/`mode:`/`cohort:` segment nor an `overlay` segment), and the same for the whole org, team `org`,
    when `whole_org`. A team's baseline
    is its window rows of segment `all`; the org's, all of them."""
    table = rows if isinstance(rows, ValueRows) else ValueRows.of(rows)
    used, period = table.reported(period_days)
    if not len(period):
        return pl.DataFrame(schema=_schema(with_std))
    # The window's rows are read once per table and window (`Baseline`): every part of a split report
    # reads the same. Values compare by their ranks among all the table's values (`Ranked`).
    baseline = table.baseline(window_days, overlay)
    distinct = table.ranked().distinct
    teams, team_names = table.team[used], table.team_names
    segments, segment_names = table.segment[used], table.segment_names
    in_all = _in_all(segment_names, overlay)[segments]
    value = table.value[used]
    _check_values(int(np.isnan(value).sum()), "reported")
    _check_values(baseline.missing, "baseline window")
    # Rows of the same day, team and value next to each other (a PR's row and its copies under `cohort:` /
    # `tool:` segments, as the cube keeps them) share their shares of U: worked out once per such run, then
    # handed to its rows.
    run_of, starts = _runs_of(table.day[used], teams, value)
    run_ranks = table.ranked().rank[used][starts] if isinstance(used, slice) else table.ranked().rank[used[starts]]
    ranks = run_ranks[run_of]
    # Per row: its share of U against its team's baseline and against the org's (#below + ½·#equal).
    # Against the org's baseline (every team's window rows), a row's share depends on its value alone: a
    # table of cumulative counts over the value ranks, looked up.
    org_share = (baseline.below_org[run_ranks] + 0.5 * baseline.in_org[run_ranks])[run_of]
    team_share = _team_shares(teams[starts], run_ranks, baseline)[run_of]
    rep = Rows(period=period, team=teams, segment=segments, rank=ranks, in_all=in_all)
    values = value
    grid = Grid(periods=len(periods), teams=len(team_names) + 1, segments=len(segment_names) + 1)
    null_segment = segment_names.index(None) if None in segment_names else -1
    u1 = np.zeros(grid.size)
    total = np.zeros(grid.size)
    bits = _bits(len(distinct))
    fits = _bits(grid.size - 1) + bits <= KEY_BITS
    # Every entry's key (group id << bits | value rank) goes straight into one array, sorted in place: no
    # (ids, ranks) pairs kept per family, no concatenated or sorted copy of it all (fresh pages cost a fresh
    # process; a block sorted as int32 is copied, one block at a time).
    families = _families(rep, grid, team_share, org_share, by_segment, whole_org, null_segment)
    keys = np.empty(sum(count for *_, count in families) if fits else 0, dtype=np.int64)
    # A family's entries lie in row order. When the rows come by day (as the cube keeps them) and the
    # periods follow one another in day order, the periods' indexes ascend with the rows: every group lies
    # within one (family, period) block of `keys`, and sorting each block in place sorts every group —
    # blocks of a few thousand entries sort in the CPU's cache, about twice as fast as one sort of all.
    in_day_order = all(earlier[1] < later[0] for earlier, later in zip(period_days, period_days[1:]))
    blocks = [] if fits and table.ordered and in_day_order else None
    pairs, at = [], 0
    for make_ids, part_rows, share, _ in families:
        part_ids = make_ids()
        # Sums by group in row order, straight from the rows: no copy of the values per group.
        u1 += np.bincount(part_ids, weights=share[part_rows], minlength=grid.size)
        total += np.bincount(part_ids, weights=values[part_rows], minlength=grid.size)
        if fits:
            np.left_shift(part_ids, bits, out=keys[at:at + len(part_ids)])
            keys[at:at + len(part_ids)] |= rep.rank[part_rows]
            at += len(part_ids)
            if blocks is not None:  # the family's block of each period, from the first
                ends = at - len(part_ids) + np.cumsum(np.bincount(rep.period[part_rows], minlength=grid.periods))
                blocks.append([at - len(part_ids), *ends.tolist()])
        else:
            pairs.append((part_ids, rep.rank[part_rows]))
    if blocks is not None:
        groups = _groups_in_order(_sorted_in_blocks(keys, blocks, bits, grid.teams * grid.segments), bits, distinct)
    else:
        groups = _sorted_groups(keys, bits, distinct) if fits else _sort_groups(pairs, distinct)
    u1, total = u1[groups.ids], total[groups.ids]
    team_i = grid.decode(groups.ids)[1]
    ties = baseline.stats["ties"][team_i] + _shared_ties(groups, team_i, len(team_names), baseline)
    stats = {"total": total, "median": _quantile(groups, 0.5), "p90": _quantile(groups, 0.9), **_median_interval(groups),
             "mw_u1": u1, "mw_ties": ties, **({"std": _std(groups, total)} if with_std else {})}
    return _frame(groups, grid, periods, [*team_names, org], [*segment_names, "all"], stats, baseline.stats)


def _check_values(bad: int, name: str) -> None:
    """`bad`: how many of the rows hold no number (a null is NaN here)."""
    if bad:
        raise ValueError(f"the values table's {name} rows hold {bad} null or NaN values: every row needs a number")


def _frame(groups: Sorted, grid: Grid, periods: list[dt.date], team_names: list, segment_names: list,
           stats: dict[str, np.ndarray], baseline: dict[str, np.ndarray]) -> pl.DataFrame:
    """The groups as records: their keys by name, their statistics (NaN: null) and their team's baseline
    (none: null, as a left join gives)."""
    period_i, team_i, segment_i = grid.decode(groups.ids)
    frame = pl.DataFrame({
        "period": pl.Series(periods, dtype=pl.Date).gather(period_i),
        "team": pl.Series(team_names, dtype=pl.String).gather(team_i),
        "segment": pl.Series(segment_names, dtype=pl.String).gather(segment_i),
        "n": pl.Series(groups.sizes, dtype=pl.Int64),
        **stats,
        "b_total": baseline["total"][team_i],
        "b_median": baseline["median"][team_i],
        "baseline_n": pl.Series(baseline["n"][team_i], dtype=pl.Int64),
    })
    nullable = [c for c in ("median_low", "median_high", "std", "b_total", "b_median") if c in frame.columns]
    return frame.with_columns(
        *(pl.col(c).fill_nan(None) for c in nullable),
        baseline_n=pl.when(pl.col("baseline_n") > 0).then(pl.col("baseline_n")),
    )


def _schema(with_std: bool) -> dict[str, pl.DataType]:
    floats = ["total", "median", "p90", "median_low", "median_high", "mw_u1", "mw_ties", "b_total", "b_median"]
    return {"period": pl.Date, "team": pl.String, "segment": pl.String, "n": pl.Int64,
            **{c: pl.Float64 for c in floats}, "baseline_n": pl.Int64, **({"std": pl.Float64} if with_std else {})}


@dataclass(frozen=True)
class Rows:
    """The reported rows as codes: period index, team and segment codes, value rank, and whether the row
    counts in segment `all`."""

    period: np.ndarray
    team: np.ndarray
    segment: np.ndarray
    rank: np.ndarray
    in_all: np.ndarray


@dataclass(frozen=True)
class Grid:
    """Group ids: ((period · teams) + team) · segments + segment. The last team code is the whole org, the
    last segment code `all`."""

    periods: int
    teams: int
    segments: int

    @property
    def size(self) -> int:
        return self.periods * self.teams * self.segments

    def decode(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        period_team, segment = np.divmod(ids, self.segments)
        period, team = np.divmod(period_team, self.teams)
        return period, team, segment


def _codes(column: pl.Series) -> tuple[np.ndarray, list[str | None]]:
    """Dense codes 0…k−1 of a string (or categorical) column's values (null is a value of its own), and the
    name of each code."""
    categorical = column.cast(pl.Categorical)
    distinct = categorical.unique()
    names = dict(zip(distinct.to_physical().to_list(), distinct.cast(pl.String).to_list()))
    null_id = max((i for i in names if i is not None), default=-1) + 1
    ids = categorical.to_physical().fill_null(null_id).to_numpy()
    present = sorted(null_id if i is None else i for i in names)
    dense = np.zeros(null_id + 1, dtype=np.int64)
    dense[present] = np.arange(len(present))
    return dense[ids], [names[None if i == null_id else i] for i in present]


def _in_all(segment_names: list[str | None], overlay: tuple[str, ...]) -> np.ndarray:
    """Per segment code: does a row of it count in segment `all`? Null yes; a `tool:` / `mode:` / `cohort:`
    segment (metrics.events.is_ai_segment) or an overlay segment no: those rows repeat events."""
    return np.array([s is None or (":" not in s and s not in overlay) for s in segment_names], dtype=bool)


def _period_index(day: np.ndarray, period_days: list[tuple[dt.date, dt.date]]) -> np.ndarray:
    """Per row (its day, days since 1970-01-01): the index of the period whose days hold it (−1 for none),
    one lookup in a table of the rows' days."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(day.min()), int(day.max())
    period = np.full(high - low + 1, -1, dtype=np.int64)
    for i, (start, end) in enumerate(period_days):
        period[max(0, (start - _EPOCH).days - low):max(0, (end - _EPOCH).days - low + 1)] = i
    return period[day - low]


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each value's rank among the distinct values (equal values, equal ranks), the distinct values, and
    the positions of the values in ascending order."""
    order = _value_order(values)
    ordered = values[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.cumsum(new) - 1
    return ranks, ordered[new], order


def _value_order(values: np.ndarray) -> np.ndarray:
    """The positions of `values` in ascending order (equal values in any order). np.argsort of two million
    floats costs several times a sort of as many int64: so each value's
    bits, as an int64 in the floats' order, go in the high bits of a key and its position in the low bits,
    and the keys are sorted. When the values span more than the high bits hold, the lowest bits of each
    value are dropped (values within ~1e-11 relative share a key); if that leaves two distinct values out
    of order, np.argsort decides instead. With NaN (never a value that is used): np.argsort."""
    n = len(values)
    if n < 2 or np.isnan(values).any():
        return np.argsort(values)
    bits = values.view(np.int64)
    keys = bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))  # negative floats: every bit but the sign flipped
    low = keys.min()
    position_bits = (n - 1).bit_length()
    shift = max(0, (int(keys.max()) - int(low)).bit_length() - (63 - position_bits))
    offset = (keys - low).view(np.uint64) >> np.uint64(shift)  # ≥ 0: as unsigned, even past int64's range
    packed = (offset.view(np.int64) << position_bits) | np.arange(n, dtype=np.int64)
    # polars sorts a million int64 in a third to a half of numpy's time (one thread: the pool has the others).
    packed = pl.Series(packed).sort(multithreaded=False).to_numpy()
    order = packed & ((1 << position_bits) - 1)
    if shift:
        ordered = values[order]
        if not np.all(ordered[1:] >= ordered[:-1]):
            return np.argsort(values)
    return order


KEY_BITS = 63  # the bits of a non-negative int64 sort key


def _team_shares(teams: np.ndarray, ranks: np.ndarray, baseline: Baseline) -> np.ndarray:
    """Per row: #baseline rows of its team with a lower value + ½·#equal (its share of U against its
    team): those below searched in the baseline's sorted (team, rank) keys, less where the team's keys
    start; the equal ones counted as `_team_counts` counts them (a table lookup for most values)."""
    below = np.searchsorted(baseline.team_keys, (teams << baseline.rank_bits) | ranks, side="left")
    return below - baseline.team_start[teams] + 0.5 * _team_counts(teams, ranks, baseline)


def _runs_of(day: np.ndarray, team: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of neighbouring rows with the same day, team and value: each row's run, and each run's first
    row."""
    new = np.ones(len(value), dtype=bool)
    if len(value) > 1:
        np.not_equal(day[1:], day[:-1], out=new[1:])
        new[1:] |= team[1:] != team[:-1]
        new[1:] |= value[1:] != value[:-1]
    starts = np.flatnonzero(new)
    return np.cumsum(new) - 1, starts


def _families(rep: Rows, grid: Grid, below_team: np.ndarray, below_org: np.ndarray, by_segment: bool,
              whole_org: bool, null_segment: int) -> list:
    """The entries of every group, one part at a time: (a function giving their group ids, the rows they
    come from, the rows' U shares against the group's baseline, how many) for team × segment, team ×
    `all`, org × segment and org × `all`, where a row counts (a row without a segment: `all` only). Rows
    are a slice when every row counts (lead time's rows all have a segment): read as views, not copied."""
    org, every = grid.teams - 1, grid.segments - 1
    with_segment = _where(rep.segment != null_segment) if null_segment >= 0 else slice(None)
    in_all = _where(rep.in_all)
    # Each row's group id without its segment, (period · teams + team) · segments, once per team choice;
    # a family's ids add the segment (or `all`'s code) to it for the family's rows.
    by_period = rep.period * grid.teams
    team_parts = [((by_period + rep.team) * grid.segments, below_team)]
    if whole_org:
        team_parts.append(((by_period + org) * grid.segments, below_org))
    n = len(rep.rank)
    count = {"segment": _count(with_segment, n), "all": _count(in_all, n)}
    parts = []
    for base, share in team_parts:
        if by_segment:
            parts.append((lambda rows=with_segment, base=base: base[rows] + rep.segment[rows], with_segment, share,
                          count["segment"]))
        parts.append((lambda rows=in_all, base=base: base[rows] + every, in_all, share, count["all"]))
    return parts


def _where(mask: np.ndarray) -> slice | np.ndarray:
    """The positions where `mask` holds, or every position as a slice when it holds everywhere."""
    return slice(None) if mask.all() else np.flatnonzero(mask)


def _count(rows: slice | np.ndarray, n: int) -> int:
    """How many of n rows `rows` (`_where`'s) picks."""
    return n if isinstance(rows, slice) else len(rows)


def _bits(n: int) -> int:
    return max(1, int(n).bit_length())


def _sorted_groups(keys: np.ndarray, bits: int, distinct: np.ndarray) -> Sorted:
    """The groups of int64 keys (group id << bits | value rank), sorted here in place."""
    keys.sort()
    return _groups_in_order(keys, bits, distinct)


def _sorted_in_blocks(keys: np.ndarray, families: list[list[int]], bits: int, per_period: int) -> np.ndarray:
    """`keys` (group id << bits | value rank) with each block sorted in place: `families` holds each family's
    block boundaries, block i being period i's (group ids period · `per_period` + its team and segment
    part). Within a block only that part and the rank vary: when they fit in 31 bits, the block is sorted
    as int32 offsets from the period's first key — numpy sorts twice as many 32-bit keys per vector
    instruction — and written back."""
    small = _bits(per_period - 1) + bits <= 31
    for bounds in families:
        for period, (a, b) in enumerate(zip(bounds, bounds[1:])):
            if b - a < 2:
                continue
            block = keys[a:b]
            if small:
                base = np.int64((period * per_period) << bits)
                offsets = (block - base).astype(np.int32)
                offsets.sort()
                np.add(offsets, base, out=block)
            else:
                block.sort()
    return keys


def _groups_in_order(keys: np.ndarray, bits: int, distinct: np.ndarray) -> Sorted:
    """The groups of int64 keys (group id << bits | value rank) where each group's keys lie together,
    ascending (the groups themselves in any order)."""
    numbers = keys >> bits
    new = np.ones(len(keys), dtype=bool)
    new[1:] = numbers[1:] != numbers[:-1]
    starts = np.flatnonzero(new)
    return Sorted(ids=numbers[starts], starts=starts, sizes=np.diff(np.append(starts, len(keys))), keys=keys,
                  bits=bits, distinct=distinct)


def _sort_groups(parts: list[tuple[np.ndarray, np.ndarray]], distinct: np.ndarray) -> Sorted:
    """The entries of (group ids, value ranks) parts sorted by group, then value: one sort of int64 keys
    (the groups present numbered densely first when their ids and the ranks do not fit in 63 bits)."""
    bits = _bits(len(distinct))
    names = None
    if any(_bits(int(ids.max(initial=0))) + bits > 63 for ids, _ in parts):
        names, dense = np.unique(np.concatenate([ids for ids, _ in parts]), return_inverse=True)
        cuts = np.cumsum([len(ids) for ids, _ in parts])[:-1]
        parts = [(d, r) for d, (_, r) in zip(np.split(dense, cuts), parts)]
    keys = np.sort(np.concatenate([(ids << bits) | ranks for ids, ranks in parts]))
    numbers = keys >> bits
    new = np.ones(len(keys), dtype=bool)
    new[1:] = numbers[1:] != numbers[:-1]
    starts = np.flatnonzero(new)
    ids = numbers[starts] if names is None else names[numbers[starts]]
    return Sorted(ids=ids, starts=starts, sizes=np.diff(np.append(starts, len(keys))), keys=keys, bits=bits,
                  distinct=distinct)


def _quantile(groups: Sorted, q: float) -> np.ndarray:
    """Each group's q-quantile with linear interpolation, as polars computes it: at (n − 1)·q between the
    values either side."""
    at = (groups.sizes - 1) * q
    low = np.floor(at).astype(np.int64)
    high = np.ceil(at).astype(np.int64)
    lower, upper = groups.value_at(groups.starts + low), groups.value_at(groups.starts + high)
    return np.where(low == high, lower, lower + (upper - lower) * (at - low))


def _median_interval(groups: Sorted) -> dict[str, np.ndarray]:
    """DESIGN.md's distribution-free interval of the median on the sorted values x₁…xₙ: x_j, j = max(1,
    ⌊n/2 − 0.97998·√n⌋) and x_k, k = min(n, ⌈1 + n/2 + 0.97998·√n⌉) (1-based); none (NaN) when n < 2."""
    n = groups.sizes.astype(float)
    j = np.maximum(1.0, np.floor(n / 2 - MEDIAN_Z_HALF * np.sqrt(n))).astype(np.int64)
    k = np.minimum(n, np.ceil(1 + n / 2 + MEDIAN_Z_HALF * np.sqrt(n))).astype(np.int64)
    enough = groups.sizes >= 2
    return {
        "median_low": np.where(enough, groups.value_at(groups.starts + j - 1), np.nan),
        "median_high": np.where(enough, groups.value_at(groups.starts + k - 1), np.nan),
    }


def _std(groups: Sorted, total: np.ndarray) -> np.ndarray:
    """Sample standard deviation (n − 1), two passes; NaN when n < 2."""
    deviation = groups.value_at(slice(None)) - np.repeat(total / groups.sizes, groups.sizes)
    squares = np.add.reduceat(deviation * deviation, groups.starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(groups.sizes >= 2, np.sqrt(squares / (groups.sizes - 1)), np.nan)


def _baselines(base_team: np.ndarray, base_rank: np.ndarray, distinct: np.ndarray, n_teams: int,
               null_team: int) -> dict[str, np.ndarray]:
    """Per team code (the last: the org): the baseline's n, total, median and tie term Σ(t³ − t); a team
    without rows has n 0 and NaN elsewhere, and so has the null team (a join on team never matches it)."""
    org = n_teams - 1
    ids = np.concatenate([base_team, np.full(len(base_rank), org)])
    groups = _sort_groups([(ids, np.concatenate([base_rank, base_rank]))], distinct)
    out = {"n": np.zeros(n_teams, dtype=np.int64), "total": np.full(n_teams, np.nan),
           "median": np.full(n_teams, np.nan), "ties": np.zeros(n_teams)}
    if len(groups.ids):
        out["n"][groups.ids] = groups.sizes
        out["total"][groups.ids] = np.add.reduceat(groups.value_at(slice(None)), groups.starts)
        out["median"][groups.ids] = _quantile(groups, 0.5)
        run_team, run_size = _runs(groups)
        out["ties"][:] = np.bincount(run_team, weights=run_size**3 - run_size, minlength=n_teams)
    if null_team >= 0:
        out["n"][null_team] = 0
        out["total"][null_team] = out["median"][null_team] = np.nan
    return out


def _runs(groups: Sorted) -> tuple[np.ndarray, np.ndarray]:
    """Runs of a value repeated within a group: the group id of each and its length (float)."""
    repeat = groups.repeats()
    at = np.flatnonzero(repeat | np.append(repeat[1:], False))
    first = ~repeat[at]
    length = np.diff(np.append(np.flatnonzero(first), len(at)))
    return groups.ids[groups.group_of(at[first])], length.astype(float)


def _shared_ties(groups: Sorted, team_i: np.ndarray, org: int, baseline: Baseline) -> np.ndarray:
    """Per group: what pooling its values with its team's baseline adds to the baseline's tie term. Only a
    value repeated in the group or present in the org's baseline (which holds every team's) adds anything."""
    repeat = groups.repeats()
    at = np.flatnonzero(repeat | np.append(repeat[1:], False) | (baseline.in_org > 0)[groups.ranks()])
    first = ~repeat[at]
    own = np.diff(np.append(np.flatnonzero(first), len(at))).astype(float)
    entry = at[first]
    group = groups.group_of(entry)
    rank, team = groups.ranks(entry), team_i[group]
    in_base = np.where(team == org, baseline.in_org[rank], _team_counts(team, rank, baseline)).astype(float)
    return np.bincount(group, weights=tie_term_change(own, in_base), minlength=len(groups.ids))


def _team_counts(team: np.ndarray, rank: np.ndarray, baseline: Baseline) -> np.ndarray:
    """Per (team, rank): how many baseline rows of that team hold that value. A value held in the
    baseline by one team only (the common case) is answered from the baseline's table over the ranks —
    the org's count, if the team is that one; the values several teams hold are searched for."""
    counts = np.where(baseline.holder[rank] == team, baseline.in_org[rank], 0)
    mixed = np.flatnonzero(baseline.several[rank])
    if len(mixed):
        key = (team[mixed] << baseline.rank_bits) | rank[mixed]
        counts[mixed] = (np.searchsorted(baseline.team_keys, key, side="right")
                         - np.searchsorted(baseline.team_keys, key, side="left"))
    return counts
