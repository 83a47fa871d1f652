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


def test_normal_tails_equal_scipy_over_the_whole_range():
    from metrics.stats import normal_cdf, normal_sf

    # The formulas' seams: erf below |x|/√2 = 1/√2 and 1, erfc's two rational forms either side of 8, and
    # where e^(−x²/2) underflows.
    seams = np.array([1.0, 2 ** 0.5, 8 * 2 ** 0.5, 37.5, 38.5])
    x = np.concatenate([np.linspace(-38, 38, 20_001), [-np.inf, np.inf, 0.0, -0.7071, 0.7072, 1e-300, np.nan],
                        *(np.nextafter(s, [-np.inf, np.inf]) for s in seams), seams, -seams])
    assert normal_cdf(x) == pytest.approx(sps.norm.cdf(x), rel=1e-12, abs=1e-300, nan_ok=True)
    assert normal_sf(x) == pytest.approx(sps.norm.sf(x), rel=1e-12, abs=1e-300, nan_ok=True)
    # Deep in the tail the probability is tiny, not 0: 1 − Φ(30) ≈ 4.906714e-198.
    assert normal_sf(np.array([30.0]))[0] == pytest.approx(4.906713927148187e-198, rel=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_mann_whitney_equals_scipy_on_random_samples_exact_and_approximate(seed):
    """Every method scipy's 'auto' picks: exact (one side ≤ 8 values, no ties), and the normal
    approximation with and without ties, for samples and baselines of many sizes."""
    rng = np.random.default_rng(1000 + seed)
    n_base = int(rng.choice([1, 2, 5, 8, 9, 30, 200, 1500]))
    decimals = int(rng.choice([0, 1, 6]))  # 6 decimals: no ties, so the exact method where sizes allow
    baseline = np.round(rng.lognormal(1, 1, n_base), decimals)
    samples = [np.round(rng.lognormal(rng.normal(1, 0.5), 1, int(n)), decimals)
               for n in rng.choice([1, 2, 3, 5, 8, 9, 12, 40, 300], size=6)]
    expected = [sps.mannwhitneyu(s, baseline, alternative="two-sided").pvalue for s in samples]
    assert mann_whitney_p_against(samples, baseline) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert [mann_whitney_p(s, baseline) for s in samples] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_exact_mann_whitney_by_hand_and_beyond_int64():
    from metrics.stats import _mann_whitney_exact_p

    # n1 = n2 = 2: U counts 0,1,2,2,3,4 come as 1,1,2,1,1 of the 6 orderings; U = 4 (every value above)
    # → 2·P(U' ≤ 0) = 2/6; U = 3 → 2·P(U' ≤ 1) = 4/6.
    assert _mann_whitney_exact_p(4, 2, 2) == pytest.approx(1 / 3)
    assert _mann_whitney_exact_p(3, 2, 2) == pytest.approx(2 / 3)
    assert _mann_whitney_exact_p(2, 2, 2) == 1.0
    # C(8 + 3000, 8) > 2⁶²: counted with Python integers, still equal to scipy.
    rng = np.random.default_rng(7)
    baseline, sample = rng.normal(0, 1, 3000), rng.normal(0.8, 1, 8)
    expected = sps.mannwhitneyu(sample, baseline, alternative="two-sided", method="exact").pvalue
    assert mann_whitney_p(sample, baseline) == pytest.approx(expected, rel=1e-9)


def test_the_metrics_package_does_not_import_scipy():
    import subprocess
    import sys

    code = "import sys, metrics.stats, metrics.scorecard; print('scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_mann_whitney_p_from_u_by_hand():
    from metrics.stats import mann_whitney_p_from_u, tie_term_change

    u1 = np.array([0.0, 3.0, 1.0, 3.0, 5.0, 1.0])
    n1 = np.array([2, 1, 3, 2, 0, 1])
    n2 = np.array([2, 3, 9, 3, 4, 0])
    ties = np.array([0.0, 0.0, 24.0, 120.0, 0.0, 0.0])
    p = mann_whitney_p_from_u(u1, n1, n2, ties)
    # [1, 2] vs [3, 4]: U1 = 0, U = max(0, 4) = 4, exact (no ties): 2·P(U' ≤ 0) = 2 · 1/6.
    assert p[0] == pytest.approx(1 / 3)
    # [5] vs [1, 2, 3]: U = 3 of n1·n2 = 3; exact: U' is 0…3 with equal chances, 2·P(U' ≤ 0) = 2/4.
    assert p[1] == pytest.approx(0.5)
    # [1, 2, 2] vs [2, 3, …, 10]: U1 = 0 + ½ + ½ = 1, U = 27 − 1 = 26; a tie (2 three times pooled: 3³ − 3 =
    # 24), so the normal approximation: s = √(27/12 · (13 − 24/132)) = 5.370373, z = (26 − 13.5 − ½)/s =
    # 2.234482, p = 2·(1 − Φ(z)) = 0.0254514.
    assert p[2] == pytest.approx(0.025451405122924403, rel=1e-12)
    assert p[2] == pytest.approx(sps.mannwhitneyu([1, 2, 2], [2, 3, 4, 5, 6, 7, 8, 9, 10]).pvalue, rel=1e-12)
    # [2, 2] vs [2, 2, 2]: all tied (5³ − 5 = 120), s = √(6/12 · (6 − 120/20)) = 0: z = −∞, p = 1 as scipy.
    assert p[3] == 1.0 == sps.mannwhitneyu([2, 2], [2, 2, 2]).pvalue
    # An empty sample or an empty baseline: nothing to test.
    assert np.isnan(p[4]) and np.isnan(p[5])
    # A value once in the sample and not in the baseline adds nothing; twice: 2³ − 2; once beside 2 in the
    # baseline: (3³ − 3) − (2³ − 2) = 18.
    assert tie_term_change(np.array([1.0, 2.0, 1.0]), np.array([0.0, 0.0, 2.0])).tolist() == [0.0, 6.0, 18.0]


@pytest.mark.parametrize("seed", range(10))
def test_mann_whitney_p_from_u_equals_scipy_n1_n2_and_ties(seed):
    """U1 and the tie term counted directly from the two samples (n = 1, 2, all-equal values, rounding
    ties), then the p-value: scipy's."""
    from metrics.stats import mann_whitney_p_from_u

    rng = np.random.default_rng(50 + seed)
    cases = [(rng.integers(0, 4, n1).astype(float), rng.integers(0, 4, n2).astype(float))
             for n1, n2 in [(1, 1), (1, 2), (2, 2), (2, 9), (1, 30), (9, 9), (40, 3)]]
    cases += [(np.full(3, 1.0), np.full(4, 1.0)), (rng.normal(size=2), rng.normal(size=5))]
    for sample, base in cases:
        u1 = sum((base < x).sum() + 0.5 * (base == x).sum() for x in sample)
        counts = np.unique(np.concatenate([sample, base]), return_counts=True)[1].astype(float)
        p = mann_whitney_p_from_u(np.array([u1]), np.array([len(sample)]), np.array([len(base)]),
                                  np.array([np.sum(counts**3 - counts)]))[0]
        assert p == pytest.approx(sps.mannwhitneyu(sample, base, alternative="two-sided").pvalue, rel=1e-9, abs=1e-15)
