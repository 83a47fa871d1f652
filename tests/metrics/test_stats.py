"""The statistics helpers agree with scipy where scipy is the definition."""
import numpy as np
import pytest
from scipy import stats as sps

from metrics.stats import mann_whitney_p, mann_whitney_p_against, two_proportion_p, wilson


@pytest.mark.parametrize("seed", range(5))
def test_mann_whitney_against_one_baseline_equals_scipy_default(seed):
    rng = np.random.default_rng(seed)
    baseline = np.round(rng.lognormal(1, 0.8, 300), 1)  # rounding makes ties
    samples = [np.round(rng.lognormal(mu, 0.8, n), 1) for mu, n in
               [(1, 30), (0.5, 25), (1.5, 9), (1, 8), (1, 3), (2, 200), (1, 1)]]
    samples.append(np.full(40, baseline[0]))  # heavy ties with the baseline
    expected = [sps.mannwhitneyu(s, baseline, alternative="two-sided").pvalue for s in samples]
    assert mann_whitney_p_against(samples, baseline) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_all_values_tied_is_no_difference():
    # Every value tied: s = 0 and U − μ − ½ < 0, so z = −∞ and scipy's p is 2·Φ(∞) clipped to 1.
    assert mann_whitney_p_against([np.full(20, 3.0)], np.full(20, 3.0))[0] == 1.0
    assert mann_whitney_p(np.full(20, 3.0), np.full(20, 3.0)) == 1.0


def test_two_proportion_p_matches_the_textbook_formula():
    # 10/20 vs 5/100: pooled 0.125, se 0.081009, z 5.555 → 2·sf(5.555).
    p = two_proportion_p(np.array([10]), np.array([20]), np.array([5]), np.array([100]))[0]
    assert p == pytest.approx(2 * sps.norm.sf(0.45 / np.sqrt(0.125 * 0.875 * 0.06)))


def test_wilson_bounds_at_zero_and_one():
    low, high = wilson(np.array([0, 20]), np.array([20, 20]))
    # x = 0: the lower bound is 0; upper = z²/n / (1 + z²/n) = 0.192074 / 1.192074 = 0.161125.
    assert low[0] == 0 and high[0] == pytest.approx(0.161125, abs=1e-6)
    assert high[1] == 1 and low[1] == pytest.approx(1 - 0.161125, abs=1e-6)
