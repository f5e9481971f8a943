"""Equity and outcome metrics against hand-computed values and the reference values of
research/anchors-domain.md §5 (computed on the 357 municipalities, 2024 population)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helsesim import data
from helsesim.outcomes import metrics


def brute_gini(y, w):
    """The definition, literally: (1 / 2 mu) sum_ij pi_i pi_j |y_i - y_j|."""
    y, w = np.asarray(y, float), np.asarray(w, float)
    pi = w / w.sum()
    mu = float(pi @ y)
    return float((pi[:, None] * pi[None, :] * np.abs(y[:, None] - y[None, :])).sum() / (2 * mu))


# -- Gini ----------------------------------------------------------------------------------------
def test_gini_equal_values_is_zero():
    assert metrics.gini([1, 1, 1]) == 0.0
    assert metrics.gini([7.5] * 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == pytest.approx(0, abs=1e-15)


def test_gini_one_of_three_holds_everything():
    # sum_ij |x_i - x_j| = 4 * 3 = 12; 2 n^2 mu = 2 * 9 * 1 = 18
    assert metrics.gini([0, 0, 3]) == pytest.approx(2 / 3, abs=1e-12)


def test_gini_one_of_n_holds_everything_is_1_minus_1_over_n():
    assert metrics.gini([0, 0, 0, 5]) == pytest.approx(0.75, abs=1e-12)


def test_gini_weighted_by_hand():
    # y = (1, 3) with population shares (0.75, 0.25): mu = 1.5,
    # sum_ij pi_i pi_j |y_i - y_j| = 2 * 0.75 * 0.25 * 2 = 0.75, G = 0.75 / (2 * 1.5) = 0.25
    assert metrics.gini([1, 3], [3, 1]) == pytest.approx(0.25, abs=1e-12)
    # ... which is the unweighted Gini of the replicated persons (1, 1, 1, 3)
    assert metrics.gini([1, 1, 1, 3]) == pytest.approx(0.25, abs=1e-12)


def test_gini_weighted_unsorted_input():
    # y = (4, 0, 2), weights (1, 2, 1): pi = (.25, .5, .25), mu = 1.5;
    # pairs: |4-0| .25*.5, |4-2| .25*.25, |0-2| .5*.25 -> 2 * (0.5 + 0.125 + 0.25) = 1.75
    # G = 1.75 / 3
    assert metrics.gini([4, 0, 2], [1, 2, 1]) == pytest.approx(1.75 / 3, abs=1e-12)


def test_gini_degenerate_inputs_are_zero():
    assert metrics.gini([]) == 0.0
    assert metrics.gini([0, 0, 0]) == 0.0
    assert metrics.gini([1, 2], [0, 0]) == 0.0


def test_gini_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        metrics.gini([1, 2, 3], [1, 2])


# zero or a normal float (subnormals underflow in the brute-force reference)
positive = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e6))
weight = st.floats(min_value=0.01, max_value=1e5, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(positive, weight), min_size=1, max_size=30))
def test_gini_matches_definition(pairs):
    y, w = map(np.array, zip(*pairs, strict=True))
    if (y * w).sum() <= 0:
        assert metrics.gini(y, w) == 0.0
        return
    g = metrics.gini(y, w)
    assert g == pytest.approx(brute_gini(y, w), rel=1e-9, abs=1e-12)
    assert -1e-12 <= g < 1.0
    # scale invariance in both values and weights
    assert metrics.gini(3.0 * y, 7.0 * w) == pytest.approx(g, rel=1e-9, abs=1e-12)


# -- Theil ---------------------------------------------------------------------------------------
def test_theil_two_units_by_hand():
    # x = (1, 3): mu = 2, T = 1/2 (0.5 ln 0.5 + 1.5 ln 1.5) = 0.130812...
    assert metrics.theil([1, 3]) == pytest.approx(0.1308120, abs=1e-7)


def test_theil_two_units_weighted_by_hand():
    # y = (1, 3), pi = (.75, .25): mu = 1.5, T = .75 (2/3) ln(2/3) + .25 * 2 ln 2 = 0.5 ln(4/3)
    assert metrics.theil([1, 3], [3, 1]) == pytest.approx(0.5 * math.log(4 / 3), abs=1e-12)


def test_theil_equality_zero_and_maximum_ln_n():
    assert metrics.theil([2, 2, 2]) == pytest.approx(0, abs=1e-15)
    assert metrics.theil([0, 5]) == pytest.approx(math.log(2), abs=1e-12)
    assert metrics.theil([0, 0, 0, 1]) == pytest.approx(math.log(4), abs=1e-12)
    assert metrics.theil([0, 0]) == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(positive, min_size=1, max_size=30))
def test_theil_between_zero_and_ln_n(xs):
    t = metrics.theil(xs)
    assert -1e-12 <= t <= math.log(len(xs)) + 1e-9


# -- Hoover, representation ratio ------------------------------------------------------------------
def test_hoover_by_hand():
    # s = (.5, .5), pi = (.25, .75): H = (.25 + .25) / 2
    assert metrics.hoover([1, 1], [1, 3]) == pytest.approx(0.25, abs=1e-12)
    # s = (0, 0, 1), pi = (.25, .25, .5): H = (.25 + .25 + .5) / 2
    assert metrics.hoover([0, 0, 10], [1, 1, 2]) == pytest.approx(0.5, abs=1e-12)
    assert metrics.hoover([2, 6], [1, 3]) == pytest.approx(0, abs=1e-15)
    assert metrics.hoover([0, 0], [1, 3]) == 0.0


def test_representation_ratio_by_hand():
    # the first unit gets half the money for a quarter of the people
    assert metrics.representation_ratio([1, 1], [1, 3], [True, False]) == pytest.approx(2.0)
    assert metrics.representation_ratio([1, 1], [1, 3], [False, True]) == pytest.approx(2 / 3)
    # group of two: (1 + 0) / 4 of money for (1 + 1) / 4 of the people
    assert metrics.representation_ratio([1, 0, 3], [1, 1, 2], [True, True, False]) == \
        pytest.approx(0.5)
    assert metrics.representation_ratio([5, 10], [1, 2], [True, False]) == pytest.approx(1.0)


def test_representation_ratio_undefined_cases_are_nan():
    assert math.isnan(metrics.representation_ratio([1, 1], [1, 3], [False, False]))
    assert math.isnan(metrics.representation_ratio([0, 0], [1, 3], [True, False]))


# -- other outcome functions -----------------------------------------------------------------------
def test_vacancy_rate_by_hand():
    assert metrics.vacancy_rate([10, 10], [9, 5]) == pytest.approx(0.3)
    assert metrics.vacancy_rate([0, 0], [0, 0]) == 0.0


def test_concentration_by_hand():
    assert metrics.concentration([1, 1, 1, 1]) == pytest.approx(0.25)
    assert metrics.concentration([3, 0, 0]) == pytest.approx(1.0)
    assert metrics.concentration([3, 1]) == pytest.approx(0.75 ** 2 + 0.25 ** 2)
    assert metrics.concentration([0, 0]) == 0.0


def test_shares_by_hand():
    assert metrics.shares(["a", "b", "a"], ["a", "b", "c"]) == pytest.approx(
        {"a": 2 / 3, "b": 1 / 3, "c": 0.0})
    assert metrics.shares([], ["a"]) == {"a": 0.0}


# -- reference values on the real data (anchors-domain §5) -----------------------------------------
@pytest.fixture(scope="module")
def population():
    df = data.municipalities()
    return df["population_2024"].to_numpy(float)


def test_reference_per_capita_allocation_is_zero(population):
    g = 280e6 * population / population.sum()
    y = g / population
    assert metrics.gini(y, population) == pytest.approx(0, abs=1e-12)
    assert metrics.theil(y, population) == pytest.approx(0, abs=1e-12)
    assert metrics.hoover(g, population) == pytest.approx(0, abs=1e-12)
    assert metrics.representation_ratio(g, population, population < 5000) == pytest.approx(1.0)


def test_reference_equal_sum_per_municipality(population):
    """Equal sum per municipality: Gini 0.70, Hoover 0.54, R_S 6.69 (rounded to 2 decimals)."""
    assert len(population) == 357
    g = np.full_like(population, 280e6 / len(population))
    small = population < 5000
    assert small.sum() == 174
    assert metrics.gini(g / population, population) == pytest.approx(0.70, abs=0.005)
    assert metrics.hoover(g, population) == pytest.approx(0.54, abs=0.005)
    assert metrics.representation_ratio(g, population, small) == pytest.approx(6.69, abs=0.005)
    # 48.7 % of the money for 7.3 % of the population
    assert small.mean() == pytest.approx(0.487, abs=0.0005)
    assert population[small].sum() / population.sum() == pytest.approx(0.073, abs=0.0005)
