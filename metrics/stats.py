"""The statistics behind intervals and statuses (DESIGN.md "Intervals" and "Status"), vectorised."""
from __future__ import annotations

import numpy as np
from scipy import special
from scipy import stats as sps

from metrics.registry import Z95

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
        p = 2 * sps.norm.sf(np.abs(z))
    return np.where((pooled > 0) & (pooled < 1), p, np.nan)


def mann_whitney_p(sample: np.ndarray, baseline: np.ndarray) -> float:
    """Two-sided Mann–Whitney U p-value with scipy's defaults (continuity correction, method 'auto');
    1 where every value is tied."""
    sample = np.asarray(sample, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    if len(sample) == 0 or len(baseline) == 0:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        result = sps.mannwhitneyu(sample, baseline, alternative="two-sided")
    return float(result.pvalue)


def mann_whitney_p_against(samples: list[np.ndarray], baseline: np.ndarray) -> np.ndarray:
    """`mann_whitney_p(sample, baseline)` for many samples against one baseline, equal to scipy's.

    Where both sizes exceed 8, scipy's default is the normal approximation; we compute it here from
    the sorted baseline once: U1 = Σ over the sample of (#baseline below + ½·#baseline equal), and the
    tie term from the combined value counts. A period's incidents against a quarter's was the slowest
    step of a large scorecard through scipy, one call at a time. Smaller samples go to scipy (exact
    method)."""
    base = np.sort(np.asarray(baseline, dtype=float))
    n2 = len(base)
    values, counts = np.unique(base, return_counts=True)
    base_tie_term = float(np.sum(counts.astype(float) ** 3 - counts))
    out = np.full(len(samples), np.nan)
    for i, sample in enumerate(samples):
        x = np.asarray(sample, dtype=float)
        n1 = len(x)
        if n1 == 0 or n2 == 0:
            continue
        if n1 <= 8 or n2 <= 8:
            out[i] = mann_whitney_p(x, base)
            continue
        below = np.searchsorted(base, x, side="left")
        upto = np.searchsorted(base, x, side="right")
        u1 = float(np.sum(below) + 0.5 * np.sum(upto - below))
        uniq, ucounts = np.unique(x, return_counts=True)
        at = np.searchsorted(values, uniq)
        shared = at < len(values)
        shared[shared] &= values[at[shared]] == uniq[shared]
        cb = counts[at[shared]].astype(float)
        t_shared = cb + ucounts[shared]
        t_own = ucounts[~shared].astype(float)
        tie_term = base_tie_term - np.sum(cb**3 - cb) + np.sum(t_shared**3 - t_shared) + np.sum(t_own**3 - t_own)
        n = n1 + n2
        u = max(u1, n1 * n2 - u1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
            z = (u - n1 * n2 / 2 - 0.5) / s
            out[i] = np.clip(2 * special.ndtr(-z), 0, 1)
    return out


# DESIGN.md "Intervals": the literal of the distribution-free interval of the median.
MEDIAN_Z_HALF = 0.97998


def median_interval(samples: list) -> tuple[np.ndarray, np.ndarray]:
    """Distribution-free 95% interval of the median, per sample: on the ascending values x₁…xₙ, lower =
    x_j with j = max(1, ⌊n/2 − 0.97998·√n⌋), upper = x_k with k = min(n, ⌈1 + n/2 + 0.97998·√n⌉) (1-based);
    NaN when n < 2."""
    low = np.full(len(samples), np.nan)
    high = np.full(len(samples), np.nan)
    for i, sample in enumerate(samples):
        values = np.sort(np.asarray(sample if sample is not None else [], dtype=float))
        n = len(values)
        if n < 2:
            continue
        j = max(1, int(np.floor(n / 2 - MEDIAN_Z_HALF * np.sqrt(n))))
        k = min(n, int(np.ceil(1 + n / 2 + MEDIAN_Z_HALF * np.sqrt(n))))
        low[i], high[i] = values[j - 1], values[k - 1]
    return low, high
