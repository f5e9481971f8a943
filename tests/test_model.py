"""Yearly invariants of HealthSystem, checked after every step for every design: staff within
positions, trust, knowledge and ties in [0, 1], money conserved from budget to parties."""

from __future__ import annotations

import copy

import numpy as np
import pandas.testing as pdt
import pytest

import helsesim
from helsesim.model import HealthSystem
from helsesim.model.allocation import DESIGNS

YEARS = 5
REL = 1e-6

CASES = {
    "nordland": dict(scenario="nordland"),
    "synthetic": dict(scenario="synthetic", n_municipalities=30),
    "levers": dict(scenario="nordland", capacity_support=0.6, reserved_small_seats=2,
                   equal_votes=True, knowledge_base=0.5, recruitment_earmark=0.25,
                   compensation=0.5, equity_weight=1.0),
    "helgeland_pressure": dict(scenario="helgeland", transfer_propensity=1.0, need_growth=0.05,
                               quit_rate=0.3),
}


def check_year(model: HealthSystem, cfg: helsesim.SimConfig, seen: set) -> None:
    """All invariants of one collected year."""
    ms = list(model.municipalities)
    trusts = list(model.trusts)
    employers = ms + trusts
    # -- staff: 0 <= filled <= round(positions), integer counts
    for e in employers:
        cap = np.round(e.positions)
        assert e.filled.dtype.kind == "i", type(e).__name__
        assert (e.filled >= 0).all(), (e.name, e.filled)
        assert (e.filled <= cap).all(), (e.name, e.filled, cap)
        assert (e.positions >= 0).all()
    # -- trust, knowledge, ties
    for m in ms:
        assert 0.0 <= m.trust <= 1.0, (m.name, m.trust)
        assert 0.0 <= m.knowledge <= 1.0, (m.name, m.knowledge)
        assert m.experience >= 0
        assert m.shift_cost >= 0 and 0 <= m.shift_compensation <= m.shift_cost + 1e-9
        # negotiated compensation: never below the lever's floor
        assert m.shift_compensation >= cfg.levers.compensation * m.shift_cost * (1 - REL)
    for t in trusts:
        assert t.experience >= 0 and t.transfers >= 0 and t.benefit >= 0
    ties = [e["tie"] for _, _, e in model.network.graph.edges(data=True)]
    assert min(ties) >= 0.0 and max(ties) <= 1.0
    # -- money: each new project's budget is split between its parties
    for pr in model.portfolio.new:
        assert id(pr) not in seen
        seen.add(id(pr))
        assert pr.year == model.year
        assert pr.budget >= 0
        assert sum(pr.benefit.values()) == pytest.approx(pr.budget, rel=REL, abs=1e-6)
        assert all(b >= 0 for b in pr.benefit.values())
        trust = model.boards[pr.community].trust
        parties = {id(a) for a in pr.parties(trust)}
        assert all(id(a) in parties for a in pr.benefit), "money goes to a non-party"
        assert all(a.community == pr.community for a in pr.benefit)
        assert 1 <= pr.duration <= 3
    assert {pr.status for pr in model.portfolio.projects} <= {"active", "implemented", "failed"}
    # -- money: what the agents received is what was funded, and fair shares add up
    funded = sum(pr.budget for pr in model.portfolio.projects)
    received = sum(a.benefit for a in employers)
    assert received == pytest.approx(funded, rel=REL, abs=1e-6)
    muni_benefit = sum(m.benefit for m in ms)
    assert sum(m.fair_share for m in ms) == pytest.approx(muni_benefit, rel=REL, abs=1e-6)
    for pr in model.portfolio.projects:
        if pr.type == "task_transfer":
            assert cfg.levers.compensation <= pr.compensation_share <= 1.0
    for key, board in model.boards.items():
        spent = sum(pr.budget for pr in model.portfolio.new if pr.community == key)
        assert spent <= board.available * (1 + 1e-9)
        assert 0.0 <= board.carried <= board.available * (1 + 1e-9)
        assert sum(board.influence(a) for a in board.weights) == pytest.approx(1.0)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_yearly_invariants(design, case):
    cfg = helsesim.build_config(allocation=design, seed=7, years=YEARS, **CASES[case])
    model = HealthSystem(cfg)
    seen: set = set()
    check_year(model, cfg, seen)
    for year in range(1, YEARS + 1):
        model.step()
        assert model.year == year
        check_year(model, cfg, seen)
    years = model.years_table()
    assert years["year"].tolist() == list(range(YEARS + 1))
    for col in ("mean_trust", "share_high_trust", "mean_tie_strength", "mean_knowledge",
                "vacancy_rate", "participation_small", "influence_concentration"):
        v = years[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col


def test_phases_are_methods_and_run_steps_every_year():
    cfg = helsesim.build_config(seed=3, years=3)
    assert all(callable(getattr(HealthSystem, ph, None)) for ph in HealthSystem.PHASES)
    assert HealthSystem.PHASES[-1] == "collect"
    model = HealthSystem(cfg).run()
    assert model.year == 3
    assert len(model.years_table()) == 4
    # run() is the same as stepping by hand
    stepped = HealthSystem(cfg)
    for _ in range(3):
        stepped.step()
    pdt.assert_frame_equal(model.years_table(), stepped.years_table())


def test_tables_have_one_row_per_unit_and_year():
    r = helsesim.simulate("nordland", "open_call", seed=2, years=3)
    assert len(r.years) == 4
    assert len(r.municipalities) == 20 * 4
    assert not r.municipalities.duplicated(["year", "municipality_id"]).any()
    assert len(r.communities) == 4 and (r.communities["community"] == "nordland").all()
    assert r.projects["project_id"].is_unique
    assert set(r.projects["year"]) <= {1, 2, 3}
    assert r.summary["years"] == 3
    assert r.summary["n_projects"] == len(r.projects)
    assert r.summary["total_funded"] == pytest.approx(r.projects["budget"].sum())
    # the single community's table is the years table
    shared = [c for c in r.years.columns if c in r.communities.columns]
    pdt.assert_frame_equal(r.years[shared].reset_index(drop=True),
                           r.communities[shared].reset_index(drop=True), check_dtype=False)


def test_trust_moves_at_most_trust_rate_per_year():
    """Trust moves towards perceived fairness in [0, 1] at speed trust_rate: no jumps."""
    r = helsesim.simulate("nordland", "per_capita", seed=5, years=5)
    t = r.municipalities.pivot(index="municipality_id", columns="year", values="trust")
    step = t.diff(axis=1).abs().max().max()
    assert step <= helsesim.SimConfig().params.trust_update.trust_rate + 1e-12


def test_summary_has_every_registered_key_as_a_number():
    from helsesim.outcomes import SUMMARY_KEYS

    res = helsesim.simulate("nordland", "open_call", seed=2, years=3)
    assert list(res.summary) == SUMMARY_KEYS
    assert all(isinstance(res.summary[k], (int, float)) for k in SUMMARY_KEYS)
    assert res.summary["n_projects"] == len(res.projects)


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_a_run_does_not_change_its_configuration(design):
    """The sweep runner gives the runs of an arm one shared configuration (with their own
    seeds): no run may change it."""
    cfg = helsesim.build_config(allocation=design, seed=3, years=3, **CASES["levers"])
    before = copy.deepcopy(cfg)
    HealthSystem(cfg).run()
    assert cfg == before
