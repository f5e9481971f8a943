"""Money buys something (issue 10): the dose response, spending, demand, and the direction of
outcomes when the money, the earmark or knowledge change, with paired seeds on Nordland.

The tests hold both the mechanism's own measures (staff-years whose quit hazard projects
removed, knowledge, implementation) and the staff they buy (filled FTE in the final year; the
labour market's common random numbers make the paired difference readable on 10 seeds);
`benchmarks/money_response.py` prints the same on 20 seeds with medians and spreads.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import helsesim
from helsesim.config import ProjectParams
from helsesim.model.dose import dose_response

SEEDS = range(1, 11)
YEARS = 10
NATIONAL = 280e6


@functools.cache
def _summaries(design: str, over: tuple[tuple[str, float], ...]) -> tuple[dict, ...]:
    return tuple(helsesim.simulate("nordland", design, seed=s, years=YEARS, **dict(over)).summary
                 for s in SEEDS)


def summaries(design: str, **over: float) -> list[dict]:
    """The summaries of seeds 1-10 (cached: several tests pair the same arms)."""
    return list(_summaries(design, tuple(sorted(over.items()))))


def share_higher(alt: list[dict], base: list[dict], key: str) -> float:
    return float(np.mean([a[key] > b[key] for a, b in zip(alt, base, strict=True)]))


# -- the dose response -----------------------------------------------------------------------------
def test_dose_response_has_a_threshold_and_saturates():
    p = ProjectParams()
    money = np.array([0.0, p.setup_cost, p.setup_cost + 1e3, 1e5, 1e6, 1e8, 1e12])
    r = dose_response(money, 10.0, p.half_dose_recruitment, p.setup_cost, p.dose_hill)
    assert r[0] == r[1] == 0.0  # nothing below the set-up cost
    assert np.all(np.diff(r) >= 0) and r[-1] < 1.0 and r[-1] > 0.999
    half = dose_response(p.setup_cost + 10 * p.half_dose_recruitment, 10.0,
                         p.half_dose_recruitment, p.setup_cost, p.dose_hill)
    assert half == pytest.approx(0.5)


def test_a_tiny_grant_buys_little_and_a_large_one_more():
    """Røst's 23 kNOK project against Bodø's 2.7 MNOK (issue 10): per year, over two years,
    per nurse and doctor position of the party."""
    p = ProjectParams()
    rost = dose_response(23e3 / 2, 7.5, p.half_dose_recruitment, p.setup_cost, p.dose_hill)
    bodo = dose_response(2.7e6 / 2, 417.0, p.half_dose_recruitment, p.setup_cost, p.dose_hill)
    assert rost == 0.0 and bodo > 0.0


def test_coordination_grows_with_municipal_parties():
    from helsesim.model import HealthSystem

    model = HealthSystem(helsesim.build_config("nordland", seed=1))
    fte = [model.portfolio.coordination_fte(n) for n in range(1, 8)]
    assert fte[0] == 0.0 and all(b > a for a, b in zip(fte[1:], fte[2:], strict=False))


# -- spending and demand ---------------------------------------------------------------------------
@pytest.mark.parametrize("design", ["open_call", "governance_led", "two_stream", "per_capita",
                                    "lottery"])
def test_every_design_spends_nearly_all_the_money(design):
    rows = summaries(design)
    assert np.median([r["spent_share"] for r in rows]) >= 0.95


def test_the_open_call_is_oversubscribed():
    rows = summaries("open_call")
    assert np.median([r["oversubscription"] for r in rows]) > 1.0


def test_unspent_money_carries_over_or_lapses():
    kept = helsesim.simulate("nordland", "open_call", seed=3, years=YEARS).years
    lapsed = helsesim.simulate("nordland", "open_call", seed=3, years=YEARS,
                               carry_over_share=0.0).years
    assert (lapsed["money_available"] == lapsed["budget"]).all()
    assert (kept["money_available"] >= kept["budget"] - 1e-6).all()


# -- outcomes follow the money ----------------------------------------------------------------
@pytest.mark.parametrize("design", ["open_call", "governance_led", "two_stream", "per_capita",
                                    "lottery"])
def test_outcomes_differ_at_10_and_100_percent_of_the_budget(design):
    """Non-money outcomes are not identical at a tenth of the money, and projects remove
    more quit hazard with all of it."""
    full = helsesim.simulate("nordland", design, seed=2, years=YEARS).summary
    tenth = helsesim.simulate("nordland", design, seed=2, years=YEARS,
                              national_budget=0.1 * NATIONAL).summary
    outcomes = ("vacancy_rate", "vacancy_rate_small", "mean_knowledge", "mean_trust",
                "implementation_rate", "retention_fte_years")
    assert any(full[k] != tenth[k] for k in outcomes)
    assert full["retention_fte_years"] > tenth["retention_fte_years"]


@pytest.mark.parametrize("design", ["open_call", "governance_led", "per_capita"])
def test_doubling_the_grant_removes_more_quit_hazard(design):
    base = summaries(design)
    double = summaries(design, national_budget=2 * NATIONAL)
    assert share_higher(double, base, "retention_fte_years") >= 0.7


@pytest.mark.parametrize("design", ["open_call", "governance_led"])
def test_a_recruitment_earmark_funds_more_recruitment(design):
    base = summaries(design)
    earmark = summaries(design, recruitment_earmark=0.5)
    assert share_higher(earmark, base, "recruitment_project_share") >= 0.7


@pytest.mark.parametrize("design", ["open_call", "governance_led", "per_capita"])
def test_doubling_the_grant_adds_municipal_staff(design):
    """Issue 10's test of money: more money, more filled municipal FTE in the final year."""
    base = summaries(design)
    double = summaries(design, national_budget=2 * NATIONAL)
    assert share_higher(double, base, "staff_fte_municipal") >= 0.7


@pytest.mark.parametrize("design", ["open_call", "two_stream"])
def test_a_recruitment_earmark_adds_staff_in_small_municipalities(design):
    """The earmarked money buys recruitment packages for the small municipalities' open posts.
    (Governance-led passes in 65 % of 20 seeds: its one joint recruitment project is often led
    by the trust, which keeps half the benefit; benchmarks/money_response.py prints it.)"""
    base = summaries(design)
    earmark = summaries(design, recruitment_earmark=0.5)
    assert share_higher(earmark, base, "staff_fte_small") >= 0.7


# -- knowledge changes something ------------------------------------------------------------
def test_switching_knowledge_off_lowers_implementation_and_changes_headlines():
    base = summaries("open_call")
    off = summaries("open_call", competence_knowledge=0.0, spread_rate=0.0, knowledge_base=0.0)
    assert all(r["mean_knowledge"] == 0.0 for r in off)
    assert share_higher(base, off, "implementation_rate") >= 0.7
    headline = ("vacancy_rate", "vacancy_rate_small", "small_representation_ratio",
                "mean_trust", "gini_benefit_per_capita")
    assert any(np.median([r[k] for r in base]) != np.median([r[k] for r in off])
               for k in headline)
