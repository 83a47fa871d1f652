"""metrics.value_groups: the groups of a values table, their order statistics and their Mann–Whitney U
against the team's baseline — by hand on a small table, and against scipy / polars on random ones."""
import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from metrics.stats import mann_whitney_p_from_u
import metrics.value_groups as value_groups_module
from metrics.value_groups import ValueRows, value_groups

ORG = "\x00org"
P1, P2 = dt.date(2024, 1, 1), dt.date(2024, 1, 8)


def _frame(rows, with_period=True):
    schema = {"period": pl.Date, "team": pl.String, "segment": pl.String, "value": pl.Float64}
    if not with_period:
        schema.pop("period")
    return pl.DataFrame(rows, schema=schema, orient="row")


WINDOW_DAY = P1 - dt.timedelta(days=30)  # the window rows' day: before every period


def _groups(reported, window, periods, **options):
    """value_groups of `reported` (with the first day of its period) and `window` (the baseline window's
    rows), as one metric's rows: each reported row on its period's first day, the window's on a day of
    their own before every period."""
    return value_groups(_rows(reported, window), periods, [(p, p + dt.timedelta(days=6)) for p in periods],
                        (WINDOW_DAY, WINDOW_DAY), **options)


def _rows(reported, window):
    return pl.concat([  # the window's day first: rows by day when the reported rows are by period
        window.select(day=pl.lit(WINDOW_DAY), team="team", segment="segment", value="value"),
        reported.select(day="period", team="team", segment="segment", value="value"),
    ])


def _by_key(frame):
    return {(r["period"], r["team"], r["segment"]): r for r in frame.iter_rows(named=True)}


REPORTED = _frame([
    (P1, "a", "ai", 1.0), (P1, "a", "ai", 3.0), (P1, "a", "non_ai", 2.0), (P1, "a", "cohort:x", 3.0),
    (P1, "b", "ai", 5.0), (P2, "a", "non_ai", 4.0), (P2, "a", "non_ai", 4.0),
])
# Team a's baseline is {2, 6} (the cohort row repeats an event: not in `all`); team b has none; the org's is {2, 6}.
WINDOW = _frame([("a", "ai", 2.0), ("a", "non_ai", 6.0), ("a", "cohort:x", 100.0)], with_period=False)


def test_groups_by_hand():
    got = _by_key(_groups(REPORTED, WINDOW, [P1, P2], org=ORG, by_segment=True, whole_org=True,
                               overlay=(), with_std=True))
    assert len(got) == 14  # P1: a × (ai, non_ai, cohort:x, all), b × (ai, all), org × 4; P2: a and org × (non_ai, all)
    a_ai = got[(P1, "a", "ai")]
    # [1, 3]: median 2; p90 at (2 − 1)·0.9 = 0.9 → 1 + 0.9·(3 − 1) = 2.8; n = 2: j = max(1, ⌊1 − 0.97998·√2⌋) = 1,
    # k = min(2, ⌈2 + 1.3859⌉) = 2 → [1, 3]; U1 vs {2, 6}: 1 has 0 below, 3 has 1 → 1; nothing tied.
    assert (a_ai["n"], a_ai["total"], a_ai["median"], a_ai["p90"]) == (2, 4.0, 2.0, pytest.approx(2.8))
    assert (a_ai["median_low"], a_ai["median_high"], a_ai["mw_u1"], a_ai["mw_ties"]) == (1.0, 3.0, 1.0, 0.0)
    assert a_ai["std"] == pytest.approx(np.sqrt(2.0))  # deviations ±1: (1 + 1) / (2 − 1) = 2
    assert (a_ai["baseline_n"], a_ai["b_total"], a_ai["b_median"]) == (2, 8.0, 4.0)
    a_non_ai = got[(P1, "a", "non_ai")]
    # [2]: no interval with n < 2; U1 = ½ (2 equals the baseline's 2); the pooled 2 occurs twice: 2³ − 2 = 6.
    assert (a_non_ai["median_low"], a_non_ai["std"], a_non_ai["mw_u1"], a_non_ai["mw_ties"]) == (None, None, 0.5, 6.0)
    a_all = got[(P1, "a", "all")]
    # [1, 2, 3] (not the cohort row): p90 at 1.8 → 2 + 0.8 = 2.8; n = 3: j = max(1, ⌊1.5 − 1.697⌋) = 1,
    # k = min(3, ⌈4.197⌉) = 3; U1 = 0 + ½ + 1.
    assert (a_all["n"], a_all["total"], a_all["median"], a_all["p90"]) == (3, 6.0, 2.0, pytest.approx(2.8))
    assert (a_all["median_low"], a_all["median_high"], a_all["mw_u1"], a_all["mw_ties"]) == (1.0, 3.0, 1.5, 6.0)
    assert got[(P1, "a", "cohort:x")]["mw_u1"] == 1.0
    b_ai = got[(P1, "b", "ai")]
    assert (b_ai["baseline_n"], b_ai["b_total"], b_ai["b_median"]) == (None, None, None)  # no baseline rows
    org_all = got[(P1, ORG, "all")]
    # [1, 2, 3, 5]: median 2.5; p90 at 2.7 → 3 + 0.7·2 = 4.4; U1 vs {2, 6}: 0 + ½ + 1 + 1.
    assert (org_all["n"], org_all["median"], org_all["p90"], org_all["mw_u1"]) == (4, 2.5, pytest.approx(4.4), 2.5)
    assert (org_all["baseline_n"], org_all["b_median"], org_all["mw_ties"]) == (2, 4.0, 6.0)
    p2 = got[(P2, "a", "non_ai")]
    # [4, 4]: both have 1 baseline value below → U1 = 2; 4 twice in the sample only: 2³ − 2 = 6.
    assert (p2["n"], p2["median"], p2["mw_u1"], p2["mw_ties"]) == (2, 4.0, 2.0, 6.0)
    assert got[(P2, ORG, "all")]["mw_u1"] == 2.0


def test_one_team_without_segments_null_segment_and_overlay():
    reported = _frame([(P1, "a", "ai", 1.0), (P1, "a", None, 7.0), (P1, "a", "ai_change", 9.0)])
    window = _frame([("a", None, 3.0), ("a", "ai_change", 0.5)], with_period=False)
    # One team, by segment: no org groups; the null-segment row counts in `all` only; the overlay row
    # (ai_change) has its own group but is left out of `all` and of the baseline (which is {3}).
    got = _by_key(_groups(reported, window, [P1], org=ORG, by_segment=True, whole_org=False,
                               overlay=("ai_change",), with_std=False))
    assert set(got) == {(P1, "a", "ai"), (P1, "a", "ai_change"), (P1, "a", "all")}
    assert (got[(P1, "a", "all")]["n"], got[(P1, "a", "all")]["total"]) == (2, 8.0)
    assert got[(P1, "a", "all")]["mw_u1"] == 1.0  # 1 < 3 (0), 7 > 3 (1)
    assert got[(P1, "a", "ai_change")]["mw_u1"] == 1.0 and got[(P1, "a", "ai")]["baseline_n"] == 1
    # Without segments: `all` only.
    only_all = _groups(reported, window, [P1], org=ORG, by_segment=False, whole_org=True, overlay=("ai_change",),
                            with_std=False)
    assert sorted(zip(only_all["team"], only_all["segment"], only_all["n"])) == [(ORG, "all", 2), ("a", "all", 2)]


def test_no_reported_rows_and_bad_values():
    empty = _groups(REPORTED.clear(), WINDOW, [P1], org=ORG, by_segment=True, whole_org=True, overlay=(),
                         with_std=False)
    assert empty.height == 0 and "mw_u1" in empty.columns
    with pytest.raises(ValueError, match="reported rows hold 1 null or NaN"):
        _groups(REPORTED.with_columns(value=pl.when(pl.col("value") == 5).then(None).otherwise("value")), WINDOW,
                     [P1, P2], org=ORG, by_segment=True, whole_org=True, overlay=(), with_std=False)


@pytest.mark.parametrize("by_day", [False, True])
@pytest.mark.parametrize("key_bits", [0, 63])
@pytest.mark.parametrize("seed", range(6))
def test_random_groups_equal_polars_and_scipy(seed, key_bits, by_day, monkeypatch):
    """Every group's n, sum, median, p90 and interval equal polars' (and the formula's) on the group's own
    values; its Mann–Whitney p from U and the tie term equals scipy's test of the values against the team's
    baseline values — with ties (values rounded), empty baselines and small groups (the exact method).
    Both ways of laying the groups out: int64 keys (group id, value rank), and (group id, rank) pairs when
    the keys' bits would not fit (forced here by allowing none). Rows in no order of day are sorted as one
    array; rows by day (as the cube keeps them, `by_day`, with 63 bits) are sorted block by block: one
    block per period of each family of groups."""
    monkeypatch.setattr(value_groups_module, "KEY_BITS", key_bits)
    rng = np.random.default_rng(seed)
    periods = [P1 + dt.timedelta(days=7 * i) for i in range(4)]
    teams, segments = ["a", "b", "c"], ["ai", "non_ai", "tool:x", "cohort:y"]

    def rows(n, with_period):
        data = {"team": rng.choice(teams, n), "segment": rng.choice(segments, n),
                "value": np.round(rng.lognormal(1, 0.7, n), int(rng.choice([0, 1, 6])))}
        if with_period:
            data = {"period": [periods[i] for i in rng.integers(0, 4, n)], **data}
        return pl.DataFrame(data)

    reported, window = rows(400, True), rows(int(rng.choice([0, 60, 300])), False)
    if by_day:
        reported = reported.sort("period")
    assert ValueRows.of(_rows(reported, window)).ordered == (by_day or reported["period"].is_sorted())
    if seed == 1:
        window = window.filter(pl.col("team") != "c")  # team c: no baseline
    got = _groups(reported, window, periods, org=ORG, by_segment=True, whole_org=True, overlay=(), with_std=True)
    in_all = ~pl.col("segment").str.contains(":")
    expected = pl.concat([
        reported.group_by("period", "team", "segment").agg(pl.col("value").sort()),
        reported.filter(in_all).group_by("period", "team").agg(pl.col("value").sort()).with_columns(segment=pl.lit("all")),
        reported.group_by("period", "segment").agg(pl.col("value").sort()).with_columns(team=pl.lit(ORG)),
        reported.filter(in_all).group_by("period").agg(pl.col("value").sort()).with_columns(team=pl.lit(ORG), segment=pl.lit("all")),
    ], how="diagonal")
    assert got.height == expected.height
    baselines = {t: window.filter(in_all & (pl.col("team") == t))["value"].to_numpy() for t in teams}
    baselines[ORG] = window.filter(in_all)["value"].to_numpy()
    got = _by_key(got)
    for key in expected.select("period", "team", "segment", "value").iter_rows():
        values = np.asarray(key[3])
        row, n = got[key[:3]], len(values)
        assert (row["n"], row["total"]) == (n, pytest.approx(values.sum(), rel=1e-12))
        assert row["median"] == pytest.approx(np.median(values), rel=1e-12)
        assert row["p90"] == pytest.approx(np.quantile(values, 0.9), rel=1e-12)
        assert row["std"] == (pytest.approx(values.std(ddof=1), rel=1e-9) if n > 1 else None)
        if n >= 2:
            j = max(1, int(np.floor(n / 2 - 0.97998 * np.sqrt(n))))
            k = min(n, int(np.ceil(1 + n / 2 + 0.97998 * np.sqrt(n))))
            assert (row["median_low"], row["median_high"]) == (values[j - 1], values[k - 1])
        base = baselines[key[1]]
        assert row["baseline_n"] == (len(base) or None)
        if len(base):
            assert row["b_median"] == pytest.approx(np.median(base), rel=1e-12)
            p = mann_whitney_p_from_u(np.array([row["mw_u1"]]), np.array([n]), np.array([len(base)]),
                                      np.array([row["mw_ties"]]))[0]
            assert p == pytest.approx(sps.mannwhitneyu(values, base, alternative="two-sided").pvalue, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("case", ["hours", "signed", "specials", "adjacent", "wide"])
def test_ranks_equal_numpy_unique(case):
    """The value ranks from sorted int64 keys (metrics.value_groups._ranks) equal np.unique's: hours from
    whole microseconds, negative values, ±0 / ±inf, neighbouring floats that share a coarse key (the
    argsort fallback) and values spanning many magnitudes."""
    rng = np.random.default_rng(7)
    values = {
        "hours": rng.integers(0, 3_600_000_000 * 2_000, 300_000) / 3_600_000_000,
        "signed": np.round(rng.normal(0, 50, 20_000), 3),
        "specials": np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, 5.0, 0.0, 1.0]),
        "adjacent": np.concatenate([np.nextafter(np.full(3, 7.0), 8.0), np.full(2, 7.0), rng.random(2**22) * 1e6]),
        "wide": np.exp(rng.uniform(-300, 300, 10_000)) * rng.choice([-1.0, 1.0], 10_000),
    }[case]
    ranks, distinct, order = value_groups_module._ranks(values)
    expected_distinct, expected_ranks = np.unique(values, return_inverse=True)
    assert np.array_equal(distinct, expected_distinct) and np.array_equal(ranks, expected_ranks.ravel())
    assert np.all(np.diff(values[order]) >= 0) and np.array_equal(np.sort(order), np.arange(len(values)))


@pytest.mark.parametrize("key_bits", [0, 63])
def test_rows_in_any_day_order_give_the_same_groups(key_bits, monkeypatch):
    """The cube keeps a values table's rows by day, so `ValueRows` reads the periods and the window as
    slices of it; rows in any other order are looked up one by one. Both give the same groups (sums within
    float rounding: they are added in another order)."""
    monkeypatch.setattr(value_groups_module, "KEY_BITS", key_bits)
    rng = np.random.default_rng(3)
    start = dt.date(2024, 1, 1)
    events = pl.DataFrame({
        "day": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 140, 2_000)],
        "team": pl.Series(rng.choice(["a", "b", None], 2_000).tolist(), dtype=pl.String),
        "segment": pl.Series(rng.choice(["ai", "non_ai", None], 2_000).tolist(), dtype=pl.String),
        "value": np.round(rng.lognormal(1, 0.7, 2_000), 1),
    })
    copies = events.sample(1_000, seed=1).with_columns(  # an event again under its cohort or tool
        segment=pl.Series(rng.choice(["tool:x", "cohort:y"], 1_000).tolist(), dtype=pl.String))
    rows = pl.concat([events, copies]).sample(fraction=1.0, shuffle=True, seed=2)
    n = rows.height
    periods = [start + dt.timedelta(days=7 * i) for i in range(8, 20)]
    options = dict(org=ORG, by_segment=True, whole_org=True, overlay=(), with_std=True)
    days = [(p, p + dt.timedelta(days=6)) for p in periods]
    window = (start + dt.timedelta(days=10), start + dt.timedelta(days=55))
    ordered = value_groups_module.ValueRows.of(rows.sort("day"))
    shuffled = value_groups_module.ValueRows.of(rows)
    # As the cube keeps them: by value within day and team, so rows of the same day, team and value (a
    # PR's row and its copies) lie together and are ranked once, as one run.
    runs = value_groups_module.ValueRows.of(rows.sort("day", "team", "value", "segment", nulls_last=True))
    assert ordered.ordered and not shuffled.ordered and runs.ordered
    assert len(value_groups_module._runs_of(runs.day, runs.team, runs.value)[1]) < 0.8 * n
    a = value_groups(ordered, periods, days, window, **options).sort("period", "team", "segment", nulls_last=True)
    sums = ["total", "std", "b_total"]
    assert a.height > 100
    for other in (shuffled, runs):
        b = value_groups(other, periods, days, window, **options).sort("period", "team", "segment", nulls_last=True)
        assert a.drop(sums).equals(b.drop(sums))
        for column in sums:
            assert np.allclose(a[column].fill_null(np.nan).to_numpy(), b[column].fill_null(np.nan).to_numpy(),
                               rtol=1e-12, equal_nan=True)
    # A window after the periods, and one overlapping them: the slices join, the rows are the same.
    for window in [(start + dt.timedelta(days=130), start + dt.timedelta(days=139)), (days[3][0], days[5][1])]:
        a = value_groups(ordered, periods, days, window, **options).sort("period", "team", "segment", nulls_last=True)
        b = value_groups(shuffled, periods, days, window, **options).sort("period", "team", "segment", nulls_last=True)
        assert a.drop(sums).equals(b.drop(sums))


@pytest.mark.parametrize("bits", [21, 28])
def test_blocks_sorted_as_int32_offsets_or_whole(bits):
    """Each (family, period) block of group keys sorted in place: as int32 offsets from the period's first
    key when the team-and-segment part and the rank fit in 31 bits (bits 21: 10 + 21), as int64 otherwise
    (bits 28) — with keys far above int32's range either way (period 900 of 700 group ids per period)."""
    rng = np.random.default_rng(5)
    per_period, periods = 700, [3, 450, 900]
    families, parts, at = [], [], 0
    for _ in range(2):  # two families, each with a block per period (some empty)
        bounds = [at]
        for period in range(max(periods) + 1):
            n = int(rng.integers(0, 300)) if period in periods else 0
            codes, ranks = rng.integers(0, per_period, n), rng.integers(0, 1 << bits, n)
            parts.append(((period * per_period + codes) << bits) | ranks)
            at += n
            bounds.append(at)
        families.append(bounds)
    keys = np.concatenate(parts)
    assert keys.max() > np.iinfo(np.int32).max
    got = value_groups_module._sorted_in_blocks(keys.copy(), families, bits, per_period)
    expected = np.concatenate([np.sort(keys[a:b]) for bounds in families for a, b in zip(bounds, bounds[1:])])
    assert np.array_equal(got, expected)


def test_periods_out_of_day_order_and_copies_of_the_rows():
    """Rows by day but periods listed newest first (or overlapping) cannot be sorted block by block: they
    are sorted whole and give the same groups as periods in day order. A copy of the rows made with
    dataclasses.replace does not share the original's ranks and baselines."""
    rng = np.random.default_rng(11)
    periods = [P1 + dt.timedelta(days=7 * i) for i in range(4)]
    reported = pl.DataFrame({"period": sorted(periods[i] for i in rng.integers(0, 4, 300)),
                             "team": rng.choice(["a", "b"], 300), "segment": rng.choice(["ai", "non_ai", "tool:x"], 300),
                             "value": np.round(rng.lognormal(1, 0.7, 300), 1)})
    window = pl.DataFrame({"team": rng.choice(["a", "b"], 80), "segment": rng.choice(["ai", "non_ai"], 80),
                           "value": np.round(rng.lognormal(1, 0.7, 80), 1)})
    rows = ValueRows.of(_rows(reported, window))
    assert rows.ordered
    options = dict(org=ORG, by_segment=True, whole_org=True, overlay=(), with_std=True)
    keys = ["period", "team", "segment"]

    def groups(table, listed):
        return value_groups(table, listed, [(p, p + dt.timedelta(days=6)) for p in listed], (WINDOW_DAY, WINDOW_DAY),
                            **options).sort(keys)

    in_order = groups(rows, periods)
    assert in_order.height == in_order.unique(keys).height > 40
    assert groups(rows, periods[::-1]).equals(in_order)
    doubled = dataclasses.replace(rows, value=rows.value * 2)
    assert groups(doubled, periods).select("median").to_series().to_list() == [
        2 * m for m in in_order["median"].to_list()]
