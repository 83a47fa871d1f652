"""The statistics behind intervals and statuses (DESIGN.md "Intervals" and "Status"), vectorised.

Written with numpy and the standard library only: scipy (about a second to import) is the definition
the tests compare these functions with (tests/metrics/test_stats.py), not a dependency of the CLI.
"""
from __future__ import annotations

import math

import numpy as np

from metrics.spec import Z95

ALPHA = 0.05


def wilson(x: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x successes in n trials (NaN where n = 0)."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low, high = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    return low, high


def mean_interval(
    mean: np.ndarray, std: np.ndarray, n: np.ndarray, value_range: tuple[float | None, float | None], z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """mean ± z·s/√n with s the sample standard deviation; NaN when n < 2; clipped to the metric's range."""
    mean = np.asarray(mean, dtype=float)
    n = np.asarray(n, dtype=float)
    std = np.asarray(std, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(n >= 2, z * std / np.sqrt(n), np.nan)
    low, high = mean - half, mean + half
    lo, hi = value_range
    if lo is not None:
        low, high = np.maximum(low, lo), np.maximum(high, lo)
    if hi is not None:
        low, high = np.minimum(low, hi), np.minimum(high, hi)
    return low, high


def two_proportion_p(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test; NaN where the pooled share is 0 or 1
    (nothing to test)."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
        p = 2 * normal_sf(np.abs(z))
    return np.where((pooled > 0) & (pooled < 1), p, np.nan)


def mann_whitney_p(sample: np.ndarray, baseline: np.ndarray) -> float:
    """Two-sided Mann–Whitney U p-value with scipy's defaults (continuity correction, method 'auto');
    1 where every value is tied."""
    return float(mann_whitney_p_against([np.asarray(sample, dtype=float)], baseline)[0])


# Cephes' rational approximations of erf and erfc (ndtr.c), the coefficients scipy.special's erf, erfc and
# ndtr use: the same values to rounding, for whole arrays at once (math.erf per element held the GIL for
# 0.03 s per 200,000 records).
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3, 7.00332514112805075473E3,
          5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3, 2.26290000613890934246E4,
          4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0, 4.86371970985681366614E1,
           1.96520832956077098242E2, 5.26445194995477358631E2, 9.34528527171957607540E2, 1.02755188689515710272E3,
           5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2, 9.75708501743205489753E2,
           1.82390916687909736289E3, 2.24633760818710981792E3, 1.65666309194161350182E3, 5.57535340817727675546E2)
_ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0, 6.16021097993053585195E0,
           7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1, 1.70814450747565897222E1,
           9.60896809063285878198E0, 3.36907645100081516050E0)
_MAXLOG = 7.09782712893383996843E2  # log of the largest double


def _polynomial(x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    out = np.full(x.shape, coefficients[0])
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| ≤ 1."""
    z = x * x
    return x * _polynomial(z, _ERF_T) / _polynomial(z, _ERF_U)


def _erfc_positive(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x ≥ 0: 1 − erf(x) below 1, the rational forms of [1, 8) and [8, ∞) above (0 once
    e^(−x²) underflows)."""
    out = np.empty(x.shape)
    small = x < 1.0
    out[small] = 1.0 - _erf_small(x[small])
    large = x[~small]
    near = large < 8.0
    p, q = np.empty(large.shape), np.empty(large.shape)
    # Far out (∞ too) e^(−x²) underflows and the polynomials overflow: those are 0, whatever z·p/q says.
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        z = np.exp(-large * large)
        p[near], q[near] = _polynomial(large[near], _ERFC_P), _polynomial(large[near], _ERFC_Q)
        p[~near], q[~near] = _polynomial(large[~near], _ERFC_R), _polynomial(large[~near], _ERFC_S)
        out[~small] = np.where(-large * large < -_MAXLOG, 0.0, z * p / q)
    return out


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x), the standard normal CDF, as scipy.special.ndtr computes it: ½ + ½·erf(x/√2) near 0,
    ½·erfc(|x|/√2) (or 1 minus it) in the tails, where erf would lose the small probabilities."""
    x = np.asarray(x, dtype=float)
    t = x * math.sqrt(0.5)
    out = np.full(t.shape, np.nan)
    with np.errstate(invalid="ignore"):
        centre = np.abs(t) < math.sqrt(0.5)
        tails = ~centre & ~np.isnan(t)
    out[centre] = 0.5 + 0.5 * _erf_small(t[centre])
    tail = 0.5 * _erfc_positive(np.abs(t[tails]))
    out[tails] = np.where(t[tails] > 0, 1.0 - tail, tail)
    return out


def normal_sf(x: np.ndarray) -> np.ndarray:
    """1 − Φ(x) (scipy.stats.norm.sf)."""
    return normal_cdf(-np.asarray(x, dtype=float))


def _mann_whitney_exact_p(u: float, n1: int, n2: int) -> float:
    """Two-sided exact p-value of U = max(U1, U2) without ties (scipy's 'exact' method): 2·P(U' ≤ n1·n2 − U)
    under the null, clipped to 1. The number of orderings with U' = u is the number of partitions of u
    that fit in an n1 × n2 box: the coefficients of the Gaussian binomial [n1 + n2 choose n1](q) =
    ∏ᵢ (1 − q^(n2+i)) / (1 − qⁱ) over i = 1…min(n1, n2), counted exactly (int64, or Python integers
    when the counts could overflow it) up to the degree needed."""
    small, large = min(n1, n2), max(n1, n2)
    top = int(round(n1 * n2 - u))
    total = math.comb(n1 + n2, small)
    counts = np.zeros(top + 1, dtype=np.int64 if total < 2**62 else object)
    counts[0] = 1
    for i in range(1, small + 1):
        # ÷ (1 − qⁱ): a running sum over each residue class mod i.
        pad = (-len(counts)) % i
        grid = np.concatenate([counts, np.zeros(pad, dtype=counts.dtype)]).reshape(-1, i)
        counts = np.cumsum(grid, axis=0).reshape(-1)[: top + 1]
        # × (1 − q^(large+i)).
        shift = large + i
        if shift <= top:
            counts[shift:] = counts[shift:] - counts[: top + 1 - shift].copy()
    below = int(counts.sum())
    return min(1.0, 2 * below / total)


def mann_whitney_p_against(samples: list[np.ndarray], baseline: np.ndarray) -> np.ndarray:
    """`mann_whitney_p(sample, baseline)` for many samples against one baseline, equal to scipy's.

    U1 = Σ over a sample of (#baseline below + ½·#baseline equal), from the sorted baseline, and the tie
    term from the combined value counts, for all samples at once; then `mann_whitney_p_from_u`. A large
    organisation's lead times made a per-sample loop the slowest step of the scorecard."""
    base = np.sort(np.asarray(baseline, dtype=float))
    n2 = len(base)
    out = np.full(len(samples), np.nan)
    sizes = np.array([len(x) for x in samples], dtype=np.int64)
    tested = np.flatnonzero(sizes > 0)
    if n2 == 0 or len(tested) == 0:
        return out
    counts = np.unique(base, return_counts=True)[1]
    base_tie_term = float(np.sum(counts.astype(float) ** 3 - counts))
    # Each sample in ascending order, end to end: equal values of a sample sit side by side.
    group = np.repeat(np.arange(len(tested)), sizes[tested])
    x = np.concatenate([np.sort(np.asarray(samples[i], dtype=float)) for i in tested])
    below = np.searchsorted(base, x, side="left")
    upto = np.searchsorted(base, x, side="right")
    u1 = np.bincount(group, weights=below + 0.5 * (upto - below), minlength=len(tested))
    # Tie term of sample ∪ baseline: the baseline's, with each shared value's count raised by the sample's.
    # A value once in its sample and not in the baseline adds 1 − 1 − 0 = 0: only values repeated in
    # their sample or present in the baseline are counted.
    first = np.ones(len(x), dtype=bool)
    first[1:] = (group[1:] != group[:-1]) | (x[1:] != x[:-1])
    starts = np.flatnonzero(first)
    own = np.diff(np.append(starts, len(x))).astype(float)  # count in the sample
    in_base = (upto[starts] - below[starts]).astype(float)  # count in the baseline
    tie_term = base_tie_term + np.bincount(group[starts], weights=tie_term_change(own, in_base), minlength=len(tested))
    out[tested] = mann_whitney_p_from_u(u1, sizes[tested], np.full(len(tested), n2), tie_term)
    return out


def tie_term_change(own: np.ndarray, in_base: np.ndarray) -> np.ndarray:
    """What a value that occurs `own` times in a sample and `in_base` times in the baseline adds to the
    baseline's tie term Σ(t³ − t) when the two are pooled: (own + in_base)³ − (own + in_base) − (in_base³ − in_base)."""
    pooled = own + in_base
    return pooled**3 - pooled - (in_base**3 - in_base)


def mann_whitney_p_from_u(u1: np.ndarray, n1: np.ndarray, n2: np.ndarray, tie_term: np.ndarray) -> np.ndarray:
    """Two-sided Mann–Whitney U p-values with scipy's defaults, one per test, from U1 (Σ over the first
    sample of #second below + ½·#second equal), the two sizes and the tie term Σ(t³ − t) over the value
    counts t of both samples pooled. scipy's method 'auto': the exact distribution when a sample has at
    most 8 values and no value occurs twice in both together (tie term 0); otherwise the normal
    approximation with the tie correction and the continuity correction. NaN where a sample is empty."""
    u1, n1, n2, tie_term = (np.asarray(a, dtype=float) for a in (u1, n1, n2, tie_term))
    out = np.full(len(u1), np.nan)
    u = np.maximum(u1, n1 * n2 - u1)
    tested = (n1 > 0) & (n2 > 0)
    exact = tested & ((n1 <= 8) | (n2 <= 8)) & (tie_term == 0)
    for i in np.flatnonzero(exact):
        out[i] = _mann_whitney_exact_p(u[i], int(n1[i]), int(n2[i]))
    normal = tested & ~exact
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        z = (u - n1 * n2 / 2 - 0.5) / sd
        out[normal] = np.clip(2 * normal_cdf(-z[normal]), 0, 1)
    return out


# DESIGN.md "Intervals": the literal of the distribution-free interval of the median.
MEDIAN_Z_HALF = 0.97998
