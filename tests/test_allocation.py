"""Allocation designs: budget, signs and parties for every registered design; ``fund_in_order``
on hand-made cases; ``per_capita`` anchors the equity scale at 0."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helsesim
from helsesim.config import AllocationConfig
from helsesim.model.allocation import DESIGNS, fund_in_order, make_design
from helsesim.model.projects import Project

DESIGN_NAMES = sorted(DESIGNS)
SEEDS = (1, 2, 3)
YEARS = 4
EARMARKS = (0.0, 0.3)
REL = 1e-9  # float slack when money is compared with the budget


@cache
def run(design: str, seed: int, earmark: float = 0.0, scenario: str = "nordland",
        years: int = YEARS):
    return helsesim.simulate(scenario, design, seed=seed, years=years,
                             recruitment_earmark=earmark)


def runs(design):
    return [run(design, s, e) for s in SEEDS for e in EARMARKS]


# -- the registry ----------------------------------------------------------------------------------
def test_registry_has_the_brief_designs():
    assert {"open_call", "governance_led", "two_stream", "per_capita"} <= set(DESIGNS)
    for name, cls in DESIGNS.items():
        assert cls.name == name
        assert make_design(AllocationConfig(design=name)).name == name


def test_public_import_and_no_mesa_to_validate():
    """``helsesim.allocation.DESIGNS`` (the README's import) is the registry, and validating a
    configuration (which checks the design's name) does not import Mesa (~1 s)."""
    import subprocess
    import sys

    import helsesim.allocation

    assert helsesim.allocation.DESIGNS is DESIGNS
    code = ("import sys, helsesim; helsesim.build_config(allocation='lottery'); "
            "import helsesim.model.allocation; assert 'mesa' not in sys.modules; "
            "from helsesim.model import HealthSystem; assert 'mesa' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_unknown_design_names_the_parameter_and_choices():
    with pytest.raises(ValueError) as e:
        make_design(AllocationConfig(design="atlantis"))
    assert "allocation.design" in str(e.value) and "open_call" in str(e.value)


# -- every design ----------------------------------------------------------------------------------
@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_never_spends_more_than_the_budget(design):
    for r in runs(design):
        y = r.years[r.years["year"] > 0]
        assert len(y) == YEARS
        assert (y["budget"] > 0).all()
        # the money of a year is its grant plus what the year before did not commit
        assert (y["money_available"] >= y["budget"] * (1 - REL)).all()
        assert (y["funded_amount"] <= y["money_available"] * (1 + REL)).all(), y[
            ["money_available", "funded_amount"]]
        carried = (y["money_available"] - y["budget"]).to_numpy()[1:]
        unspent = (y["money_available"] - y["funded_amount"]).to_numpy()[:-1]
        np.testing.assert_allclose(carried, unspent, rtol=1e-9, atol=1e-3)
        by_year = r.projects.groupby("year")["budget"].sum()
        budget = r.years.set_index("year")["money_available"]
        for year, spent in by_year.items():
            assert spent <= budget[year] * (1 + REL)
            assert spent == pytest.approx(r.years.set_index("year").loc[year, "funded_amount"],
                                          rel=1e-9)


@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_never_spends_more_than_the_budget_in_any_community(design):
    r = run(design, 1, 0.0, "norway", 2)
    c = r.communities[r.communities["year"] > 0]
    assert c["community"].nunique() == 19
    assert (c["funded_amount"] <= c["money_available"] * (1 + REL)).all()
    spent = r.projects.groupby(["community", "year"])["budget"].sum()
    budget = c.set_index(["community", "year"])["money_available"]
    assert (spent <= budget.loc[spent.index] * (1 + REL)).all()


@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_no_negative_amounts(design):
    for r in runs(design):
        pr = r.projects
        for col in ("budget", "benefit_trust", "benefit_municipalities"):
            assert (pr[col] >= 0).all(), col
        m = r.municipalities
        for col in ("benefit", "realised_benefit", "shift_cost", "shift_compensation"):
            assert (m[col] >= 0).all(), col
        # the benefit of a project is its budget, split between the parties
        total = pr["benefit_trust"] + pr["benefit_municipalities"]
        np.testing.assert_allclose(total, pr["budget"], rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_joint_projects_have_the_trust_and_a_municipality(design):
    """The RS grant requires the trust and the municipalities to agree on a project."""
    for r in runs(design):
        pr = r.projects
        assert len(pr) > 0
        transfers = pr["stream"] == "transfer"  # decided in their own step, in every design
        assert (pr.loc[transfers, "type"] == "task_transfer").all()
        assert pr.loc[transfers, "trust_party"].all()
        assert (pr.loc[transfers, "benefit_trust"] == 0).all()  # support goes to the receivers
        pr = pr[~transfers]
        if design == "per_capita":
            assert not pr["trust_party"].any()
            assert (pr["n_partners"] == 0).all()
            assert (pr["n_municipalities"] == 1).all()
            assert (pr["benefit_trust"] == 0).all()
            continue
        assert pr["trust_party"].all()
        assert (pr["n_municipalities"] >= 1).all()
        trust_led = pr["lead_class"] == "trust"
        assert (pr.loc[trust_led, "n_partners"] >= 1).all()


def test_per_capita_gives_every_municipality_its_population_share():
    r = helsesim.simulate("nordland", "per_capita", seed=1, years=YEARS,
                          transition_support=0.0)
    m = r.municipalities
    first = m[m["year"] == 1]
    assert len(first) == 20
    budget = r.years.set_index("year").loc[1, "budget"]
    share = first["population"] / first["population"].sum()
    np.testing.assert_allclose(first["benefit"], budget * share, rtol=1e-9)


@pytest.mark.parametrize("scenario", ["nordland", "norway", "synthetic"])
def test_per_capita_is_zero_on_the_equity_scale(scenario):
    # transition support to a transfer's receivers is taken off the top in every design; the
    # per-capita split of the rest is the equity scale's zero
    r = helsesim.simulate(scenario, "per_capita", seed=4, years=3, transition_support=0.0)
    y = r.years[r.years["year"] > 0]
    for col in ("gini_benefit_per_capita", "theil_benefit_per_capita", "hoover_benefit"):
        assert (y[col].abs() < 1e-12).all(), (col, y[col].tolist())
    np.testing.assert_allclose(y["small_representation_ratio"], 1.0, atol=1e-12)
    assert r.summary["gini_benefit_per_capita"] == pytest.approx(0, abs=1e-12)


def test_joint_designs_are_not_zero_on_the_equity_scale():
    """The scale can tell designs apart: a joint-project design is not per capita."""
    r = run("open_call", 1)
    assert r.summary["gini_benefit_per_capita"] > 0.01
    assert r.summary["hoover_benefit"] > 0.01


@pytest.mark.parametrize("design", ["open_call", "lottery", "two_stream"])
def test_full_earmark_funds_only_recruitment_first(design):
    """With the whole budget earmarked, a call funds recruitment proposals first: in each
    year's call stream, the recruitment projects come before any other (funding order)."""
    r = helsesim.simulate("nordland", design, seed=2, years=4, recruitment_earmark=1.0)
    calls = r.projects[r.projects["stream"].isin(["open_call", "lottery"])]
    calls = calls.sort_values("project_id")
    assert len(calls) > 0
    for year, pr in calls.groupby("year"):
        is_rec = pr["type"].isin(["recruitment", "personnel_pool"]).to_numpy()
        # a prefix of True then only False
        assert not np.any(np.diff(is_rec.astype(int)) > 0), (year, pr["type"].tolist())


@pytest.mark.parametrize("design", ["governance_led", "two_stream"])
def test_governance_earmark_becomes_a_recruitment_project(design):
    """GovernanceLed: 'the earmarked share becomes one joint recruitment project', so each year
    recruitment projects of the governance stream get at least the earmarked money (of the
    year's money after transition support)."""
    earmark = 0.4
    share = 0.5 if design == "two_stream" else 1.0
    bad = {}
    for seed in SEEDS:
        r = helsesim.simulate("nordland", design, seed=seed, years=4,
                              recruitment_earmark=earmark, stream_share=0.5)
        money = r.years.set_index("year")["money_available"]
        support = r.projects[r.projects["stream"] == "transfer"].groupby("year")["budget"].sum()
        gov = r.projects[r.projects["stream"] == "governance_led"]
        got = [gov[(gov["year"] == y) & (gov["type"] == "recruitment")]["budget"].sum()
               / (earmark * share * (money[y] - support.get(y, 0.0))) for y in range(1, 5)]
        if min(got) < 1 - REL:
            bad[seed] = np.round(got, 3).tolist()
    assert not bad, f"recruitment money / earmark by year, for seeds {bad}"


@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_zero_budget_funds_nothing(design):
    """A budget of 0 is valid (lo=0): the run must work, and no project is funded without
    money (a 0-NOK project would still move services, ties and experience)."""
    r = helsesim.simulate("nordland", design, seed=1, years=2, budget=0.0)
    assert (r.years["funded_amount"] == 0).all()
    # a task transfer is the trust's decision, not an RS project: it may come without money
    rs = r.projects[r.projects["stream"] != "transfer"]
    assert len(rs) == 0


@pytest.mark.parametrize("design", DESIGN_NAMES)
def test_funded_projects_have_money(design):
    for r in runs(design):
        assert (r.projects["budget"] > 0).all()
    # levers at the ends of their ranges: no stream may fund a project with 0 NOK
    for levers in (dict(recruitment_earmark=1.0), dict(stream_share=1.0),
                   dict(stream_share=0.0)):
        r = helsesim.simulate("nordland", design, seed=1, years=3, **levers)
        assert (r.projects["budget"] > 0).all(), (levers, r.projects[["year", "stream", "type",
                                                                      "budget"]])


# -- fund_in_order on hand-made cases --------------------------------------------------------------
def P(budget, type="service_development"):
    return Project(community="x", lead=None, type=type, budget=float(budget))


def test_fund_in_order_greedy_in_order():
    ps = [P(5), P(4), P(3), P(2)]
    assert fund_in_order(ps, [0, 1, 2, 3], 10) == [ps[0], ps[1]]  # 5 + 4, then 1 left
    assert fund_in_order(ps, [3, 2, 1, 0], 10) == [ps[3], ps[2], ps[1]]  # 2 + 3 + 4
    # a proposal that does not fit is skipped, later smaller ones still get money
    assert fund_in_order(ps, [0, 2, 1, 3], 10) == [ps[0], ps[2], ps[3]]  # 5 + 3 + 2
    assert fund_in_order(ps, [0, 1, 2, 3], 0) == []
    assert fund_in_order([], [], 10) == []


def test_fund_in_order_exact_fit():
    ps = [P(6), P(4)]
    assert fund_in_order(ps, [0, 1], 10) == ps


def test_fund_in_order_recruitment_earmark():
    # budget 10, earmark 0.3 -> 3 reserved for recruitment
    ps = [P(5), P(2, "recruitment"), P(2, "recruitment"), P(4)]
    funded = fund_in_order(ps, [0, 1, 2, 3], 10, earmark=0.3)
    # earmark pass: B (2 <= 3, 1 left), C does not fit; the unused 1 joins the general pool
    # of 10 - 2 = 8: A (5, 3 left), C (2, 1 left), D (4) does not fit
    assert funded == [ps[1], ps[0], ps[2]]
    assert sum(p.budget for p in funded) == 9


def test_fund_in_order_earmark_without_recruitment_proposals_is_not_lost():
    ps = [P(5), P(5)]
    assert fund_in_order(ps, [0, 1], 10, earmark=0.5) == ps


def test_fund_in_order_earmark_reserves_money_for_recruitment():
    # without the earmark the general proposals take everything, with it recruitment gets in
    ps = [P(6), P(4), P(3, "recruitment")]
    assert fund_in_order(ps, [0, 1, 2], 10) == [ps[0], ps[1]]
    assert fund_in_order(ps, [0, 1, 2], 10, earmark=0.3) == [ps[2], ps[0]]


def test_fund_in_order_partial_funding_of_the_marginal_proposal():
    ps = [P(6), P(6), P(3)]
    funded = fund_in_order(ps, [0, 1, 2], 10, min_share=0.5)
    # 6, then 4 left: at least half of the next ask, so it gets 4 and nothing is left
    assert funded == [ps[0], ps[1]] and ps[1].budget == 4
    ps = [P(6), P(10), P(3)]
    funded = fund_in_order(ps, [0, 1, 2], 10, min_share=0.5)
    assert funded == [ps[0], ps[2]]  # 4 < half of 10: skipped; 3 fits
    assert ps[1].budget == 10


def test_lottery_draws_only_when_the_proposals_above_the_bar_exceed_the_money():
    from helsesim.model.allocation import Lottery

    scores = np.array([3.0, 2.0, 1.0, 0.0])
    asks = np.array([1.0, 1.0, 1.0, 1.0])
    lottery, rng = Lottery(bar=0.5), np.random.default_rng(0)
    assert lottery.order(scores, asks, 5.0, rng).tolist() == [0, 1, 2, 3]
    orders = {tuple(lottery.order(scores, asks, 1.5, rng).tolist()) for _ in range(50)}
    assert {o[:2] for o in orders} == {(0, 1), (1, 0)}  # a draw among the two above the bar
    assert all(o[2:] == (2, 3) for o in orders)


def test_fund_in_order_full_earmark():
    ps = [P(4), P(3, "recruitment"), P(3, "recruitment"), P(3, "recruitment"), P(2)]
    funded = fund_in_order(ps, range(5), 10, earmark=1.0)
    # 9 on recruitment, then 1 left for the rest: nothing else fits
    assert funded == [ps[1], ps[2], ps[3]]


proposal = st.tuples(st.floats(min_value=0.0, max_value=100.0),
                     st.sampled_from(["service_development", "competence", "recruitment",
                                      "task_transfer"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(proposal, max_size=25), st.floats(min_value=0.0, max_value=300.0),
       st.floats(min_value=0.0, max_value=1.0), st.randoms(use_true_random=False))
def test_fund_in_order_properties(items, budget, earmark, rnd):
    ps = [P(b, t) for b, t in items]
    order = list(range(len(ps)))
    rnd.shuffle(order)
    funded = fund_in_order(ps, order, budget, earmark)  # min_share 1: no partial funding
    spent = sum(p.budget for p in funded)
    assert spent <= budget * (1 + REL) + 1e-12
    assert len({id(p) for p in funded}) == len(funded)  # nobody funded twice
    assert all(any(p is q for q in ps) for p in funded)
    # greedy: every proposal left out is larger than the money left over
    ids = {id(p) for p in funded}
    for p in ps:
        if id(p) not in ids:
            assert p.budget > budget - spent - 1e-9 * max(budget, 1.0)
    # without an earmark, funded proposals keep the given order
    if earmark == 0:
        pos = {id(ps[i]): k for k, i in enumerate(order)}
        ranks = [pos[id(p)] for p in funded]
        assert ranks == sorted(ranks)
    # the earmark pass comes first and spends on recruitment only, at most the earmark
    head = 0.0
    for p in funded:
        if p.type != "recruitment" or head + p.budget > budget * earmark * (1 + REL):
            break
        head += p.budget
    assert math.isfinite(spent)


@settings(max_examples=150, deadline=None)
@given(st.lists(proposal, max_size=25), st.floats(min_value=0.0, max_value=300.0),
       st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_partial_funding_properties(items, budget, earmark, min_share):
    """With partial funding no proposal gets more than it asked, none gets less than
    ``min_share`` of its ask, and the money is never exceeded."""
    ps = [P(b, t) for b, t in items]
    asked = {id(p): p.budget for p in ps}
    funded = fund_in_order(ps, range(len(ps)), budget, earmark, min_share)
    assert sum(p.budget for p in funded) <= budget * (1 + REL) + 1e-9
    for p in funded:
        assert p.budget <= asked[id(p)] + 1e-12
        assert p.budget >= min_share * asked[id(p)] - 1e-9
