"""The samplers by inversion (common random numbers): each draw is exactly scipy.stats' inverse
CDF of its uniform, the draws have the right distribution (moments and a chi-square test over
many uniforms), they move little when a parameter moves little, and the matching's member
choices are the multinomial in distribution with each member's uniform fixed by its slot."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from helsesim.model import inversion


def uniforms(rng: np.random.Generator, size: int) -> np.ndarray:
    """Uniforms away from 0 and 1 by 1e-12: there the CDF's rounding decides (a chance of
    about 1e-12 per draw), and scipy's and these samplers' roundings differ."""
    return np.clip(rng.random(size), 1e-12, 1 - 1e-12)


def test_binomial_is_scipys_inverse_cdf():
    rng = np.random.default_rng(1)
    size = 60_000
    n = np.concatenate([rng.integers(0, 40, size // 3), rng.integers(0, 400, size // 3),
                        rng.integers(0, 6000, size - 2 * (size // 3))])
    p = rng.uniform(0, 1, size)
    p[::4] = rng.uniform(0, 0.03, p[::4].size)  # quits, exits: small probabilities
    p[1::9] = rng.uniform(0.97, 1, p[1::9].size)
    p[2::50] = 0.0
    p[3::50] = 1.0
    p[4::50] = 0.5
    u = uniforms(rng, size)
    expected = stats.binom.ppf(u, n, p).astype(np.int64)
    np.testing.assert_array_equal(inversion.binomial(u, n, p), expected)


def test_poisson_is_scipys_inverse_cdf():
    rng = np.random.default_rng(2)
    size = 60_000
    lam = np.concatenate([rng.uniform(0, 3, size // 4), rng.uniform(0, 60, size // 4),
                          rng.uniform(0, 300, size // 4), rng.uniform(0, 20_000, size // 4)])
    lam[::97] = 0.0
    u = uniforms(rng, size)
    expected = np.nan_to_num(stats.poisson.ppf(u, lam)).astype(np.int64)
    np.testing.assert_array_equal(inversion.poisson(u, lam), expected)


def test_hypergeometric_is_scipys_inverse_cdf():
    rng = np.random.default_rng(3)
    size = 5_000
    good = rng.integers(0, 900, size)
    bad = rng.integers(0, 900, size)
    good[:100], bad[:100] = 3, 4000  # a rare kind among many
    draws = (rng.random(size) * (good + bad + 1)).astype(np.int64)
    u = uniforms(rng, size)
    expected = stats.hypergeom.ppf(u, good + bad, good, draws).astype(np.int64)
    got = inversion.hypergeometric(u, good, bad, draws)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("n", "p"), [(7, 0.12), (40, 0.3), (700, 0.13), (5800, 0.55)])
def test_binomial_draws_have_the_binomial_distribution(n, p):
    """Over 200,000 uniforms: mean and variance within 4 standard errors, and a chi-square test
    over the cells with at least 20 expected draws (pooled tails) at the 0.1 % level."""
    rng = np.random.default_rng(n)
    draws = inversion.binomial(rng.random(200_000), np.full(200_000, n), p)
    assert_distribution(draws, stats.binom(n, p))


@pytest.mark.parametrize("lam", [0.4, 9.0, 150.0, 4000.0])
def test_poisson_draws_have_the_poisson_distribution(lam):
    rng = np.random.default_rng(int(lam * 10))
    draws = inversion.poisson(rng.random(200_000), np.full(200_000, lam))
    assert_distribution(draws, stats.poisson(lam))


def test_hypergeometric_draws_have_the_hypergeometric_distribution():
    rng = np.random.default_rng(4)
    size = 20_000
    draws = inversion.hypergeometric(rng.random(size), np.full(size, 300), np.full(size, 500),
                                     np.full(size, 250))
    assert_distribution(draws, stats.hypergeom(800, 300, 250))


def assert_distribution(draws: np.ndarray, dist) -> None:
    size = draws.size
    mean, var = dist.stats(moments="mv")
    assert abs(draws.mean() - mean) < 4 * np.sqrt(var / size), (draws.mean(), mean)
    # the variance's standard error, from the fourth central moment
    kurtosis = float(dist.stats(moments="k"))
    se_var = var * np.sqrt((kurtosis + 2) / size)
    assert abs(draws.var() - var) < 4 * se_var, (draws.var(), var)
    low, high = dist.ppf(1e-9), dist.ppf(1 - 1e-9)
    support = np.arange(int(low), int(high) + 1)
    expected = dist.pmf(support) * size
    observed = np.bincount(draws - int(low), minlength=support.size)[:support.size]
    # pool cells with fewer than 20 expected draws into their neighbours
    keep = expected >= 20
    groups = np.cumsum(keep) - 1
    groups[groups < 0] = 0
    exp_pooled = np.bincount(groups, expected)
    obs_pooled = np.bincount(groups, observed)
    exp_pooled *= obs_pooled.sum() / exp_pooled.sum()
    result = stats.chisquare(obs_pooled, exp_pooled)
    assert result.pvalue > 1e-3, result


def test_a_small_change_of_p_moves_a_draw_little():
    """Common random numbers: with the same uniforms, 1 % more probability raises a draw by
    about the change of its mean, never lowers it; numpy's rejection sampler, fed the same
    stream, changes draws by about the standard deviation."""
    rng = np.random.default_rng(5)
    n = rng.integers(0, 800, 10_000)
    p = rng.uniform(0.02, 0.4, 10_000)
    u = rng.random(10_000)
    a, b = inversion.binomial(u, n, p), inversion.binomial(u, n, p * 1.01)
    assert (b >= a).all()  # nondecreasing in p
    assert (b - a <= np.ceil(0.01 * n * p) + 1).all()
    numpy_a = np.random.default_rng(9).binomial(n, p)
    numpy_b = np.random.default_rng(9).binomial(n, p * 1.01)
    assert np.abs(b - a).mean() < 0.2 * np.abs(numpy_b - numpy_a).mean()


def test_binomial_is_nondecreasing_in_the_uniform():
    u = np.linspace(0, 1, 2001)[:-1]
    for n, p in [(30, 0.2), (300, 0.7), (3000, 0.05)]:
        assert (np.diff(inversion.binomial(u, np.full(u.size, n), p)) >= 0).all()


def test_categorical_counts_are_multinomial():
    """Many members of one group over five categories (one without weight): the counts match
    the multinomial's means and pass a chi-square test; nobody chooses the empty category."""
    rng = np.random.default_rng(6)
    weights = np.array([[3.0, 0.0, 1.0, 5.0, 1.0]])
    members = 200_000
    counts = inversion.categorical_counts(rng.integers(0, 1 << 53, (members, 1)),
                                          np.array([members]), weights)
    assert counts.sum() == members and counts[0, 1] == 0
    share = weights[0] / weights[0].sum()
    result = stats.chisquare(counts[0][share > 0], members * share[share > 0])
    assert result.pvalue > 1e-3, result


def test_categorical_counts_per_group_match_a_multinomial_in_distribution():
    """Over many repetitions of small groups, each group's count of each category has the
    binomial mean and variance (the margins of the multinomial)."""
    rng = np.random.default_rng(7)
    weights = rng.uniform(0, 1, (4, 6))
    weights[2, 3:] = 0.0  # a community with fewer employers
    members = np.array([3, 0, 11, 40])
    reps = 4_000
    totals = np.zeros((reps, 4, 6))
    for r in range(reps):
        totals[r] = inversion.categorical_counts(rng.integers(0, 1 << 53, (40, 4)), members,
                                                   weights)
    share = weights / weights.sum(axis=1, keepdims=True)
    mean = members[:, None] * share
    var = members[:, None] * share * (1 - share)
    assert np.all(np.abs(totals.mean(axis=0) - mean) <= 4 * np.sqrt(var / reps) + 1e-12)
    ok = var > 0
    assert np.all(np.abs(totals.var(axis=0)[ok] / var[ok] - 1) < 0.15)
    assert (totals[:, 2, 3:] == 0).all()


def test_a_members_choice_depends_only_on_its_own_slot():
    """Member i of a group meets u[i, g] whatever the other groups' sizes, so a paired run in
    which another group grows keeps this group's choices."""
    rng = np.random.default_rng(8)
    weights = rng.uniform(0.1, 1, (3, 7))
    u = rng.integers(0, 1 << 53, (500, 3))
    a = inversion.categorical_counts(u, np.array([120, 40, 90]), weights)
    b = inversion.categorical_counts(u, np.array([120, 400, 91]), weights)
    np.testing.assert_array_equal(a[0], b[0])
    # one more member in group 2 adds exactly one choice
    assert (b[2] - a[2]).sum() == 1 and (b[2] >= a[2]).all()


def test_choose_draws_the_same_whatever_the_chunk(monkeypatch):
    """The slot layout does not depend on how many rows are drawn at once (memory bound)."""
    weights = np.random.default_rng(10).uniform(0, 1, (3, 5))
    counts = np.array([10, 2500, 7])
    whole = inversion.choose(np.random.default_rng(3), counts, weights)
    monkeypatch.setattr(inversion, "CHUNK", 64)
    np.testing.assert_array_equal(inversion.choose(np.random.default_rng(3), counts, weights),
                                  whole)
    assert (whole.sum(axis=1) == counts).all()


def test_the_two_searches_of_a_members_category_agree(monkeypatch):
    """Few members: one binary search each; many: a guide table. Both compare the same
    integers, so they choose alike (a run's choices do not depend on the switch)."""
    rng = np.random.default_rng(11)
    weights = rng.uniform(0, 1, (5, 9))
    weights[1, 4:] = 0.0
    weights[3, :8] = 1e-9  # nearly all on the last category
    counts = np.array([300, 700, 5, 900, 120])
    u = rng.integers(0, 1 << 53, (900, 5))
    monkeypatch.setattr(inversion, "SEARCHED_MEMBERS", 10**9)
    searched = inversion.categorical_counts(u, counts, weights)
    monkeypatch.setattr(inversion, "SEARCHED_MEMBERS", 0)
    np.testing.assert_array_equal(inversion.categorical_counts(u, counts, weights), searched)
