"""The labour market (``labour_year``, ``labour_years``) on hand-made employers: staff within
positions, staff accounted for (quits, exits, leavers, hires by origin), nothing moves without
quits and inflow, attractive employers fill more vacancies, absolute attractiveness gains staff
from the country, projects' retention cuts quits, placement graduates are hired where they had
their placement, and communities share no pool."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helsesim.config import LabourParams
from helsesim.model.labour_market import Flows, labour_year, labour_years

ORIGIN_FIELDS = ("trust_to_trust", "trust_to_municipality", "municipality_to_trust",
                 "municipality_to_municipality", "entrants_hired")


def params(**kw) -> LabourParams:
    return dataclasses.replace(LabourParams(), **kw)


def community(rng, n=8, k=3):
    """One trust (first row) and n municipalities with random positions and vacancies."""
    positions = rng.uniform(5, 200, size=(n + 1, k))
    positions[0] *= 5  # the hospital is the largest employer
    filled = np.floor(positions * rng.uniform(0.5, 1.0, size=(n + 1, k))).astype(np.int64)
    attract = rng.normal(0, 0.7, size=n + 1)
    attract[0] = 1.0
    is_trust = np.zeros(n + 1, dtype=bool)
    is_trust[0] = True
    return positions, filled, attract, is_trust


@pytest.mark.parametrize("seed", range(40))
def test_filled_stays_between_zero_and_rounded_positions(seed):
    rng = np.random.default_rng(seed)
    positions, filled, attract, is_trust = community(rng)
    lp = params(quit_rate=rng.uniform(0, 1), inflow_rate=rng.uniform(0, 0.5),
                exit_share=rng.uniform(0, 1), leave_community_share=rng.uniform(0, 1),
                outside_option=rng.uniform(0, 0.1), fill_chance=rng.uniform(0, 1))
    # some employers start above their (rounded) positions: they must be cut back
    filled[1] = np.round(positions[1]).astype(np.int64) + 3
    new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp, rng)
    assert new.shape == positions.shape
    assert new.dtype.kind == "i"
    assert (new >= 0).all()
    assert (new <= np.round(positions)).all()
    assert all(getattr(flows, f) >= 0 for f in vars(flows))


@pytest.mark.parametrize("seed", range(40))
def test_staff_are_accounted_for(seed):
    """new filled = old filled (capped) - quits + hires, and hires by origin add up:
    trust->trust + trust->municipality + municipality->trust + municipality->municipality
    + entrants hired = total hires; movers hired <= quitters who stayed in the sector; the
    staff's change is what came from outside minus exits and those who left the community."""
    gen = np.random.default_rng(1000 + seed)
    positions, filled, attract, is_trust = community(gen)
    lp = params(quit_rate=gen.uniform(0.05, 0.5), inflow_rate=gen.uniform(0, 0.2),
                exit_share=gen.uniform(0, 1))
    cap = np.round(positions).astype(np.int64)
    start = np.minimum(filled, cap)
    detail = {}
    new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp,
                             np.random.default_rng(seed), detail=detail)
    quits, exits = detail["quits"], detail["exits"]
    assert (quits <= start).all() and (exits <= quits).all()
    movers = quits - exits
    inflow = int(detail["entrants"].sum())
    hires = new - (start - quits)
    assert (hires >= 0).all(), "an employer lost staff it did not lose to quits"
    assert (hires <= cap - (start - quits)).all()
    total_hires = int(hires.sum())
    assert flows.exits == int(exits.sum())
    assert sum(getattr(flows, f) for f in ORIGIN_FIELDS) == total_hires
    assert int(new.sum()) == int(start.sum()) - int(quits.sum()) + total_hires
    # nobody is hired who was not in the pool
    assert flows.trust_to_trust + flows.trust_to_municipality <= int(movers[is_trust].sum())
    assert (flows.municipality_to_trust + flows.municipality_to_municipality
            <= int(movers[~is_trust].sum()))
    assert flows.entrants_hired <= inflow
    assert total_hires <= int(movers.sum()) + inflow
    assert flows.quits == int(quits.sum())
    assert int(new.sum()) - int(start.sum()) == (flows.entrants_hired - flows.exits
                                                 - flows.left_community)


@pytest.mark.parametrize("inflow", [0.0, 0.05])
def test_flows_by_destination_match_hires(inflow):
    """The flows are the same people as the hires: trust->trust + municipality->trust <= the
    trust's hires (the rest are entrants), likewise for the municipalities; without inflow
    every hire is a mover, so the two sides are equal."""
    bad = []
    for seed in range(20):
        gen = np.random.default_rng(2000 + seed)
        positions, filled, attract, is_trust = community(gen)
        lp = params(quit_rate=0.3, inflow_rate=inflow, migration_rate=inflow, exit_share=0.2)
        start = np.minimum(filled, np.round(positions).astype(np.int64))
        detail = {}
        new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp,
                                 np.random.default_rng(seed), detail=detail)
        quits = detail["quits"]
        hires = new - (start - quits)
        to = (int(hires[is_trust].sum()), int(hires[~is_trust].sum()))
        into = (flows.trust_to_trust + flows.municipality_to_trust,
                flows.trust_to_municipality + flows.municipality_to_municipality)
        ok = into[0] <= to[0] and into[1] <= to[1] and (inflow > 0 or into == to)
        if not ok:
            bad.append(f"seed {seed}: moves into (trust, municipalities) {into}, hires {to}")
    assert not bad, f"{len(bad)}/20 seeds: " + "; ".join(bad[:3])


def test_nothing_changes_without_quits_and_inflow():
    rng = np.random.default_rng(5)
    positions, filled, attract, is_trust = community(rng)
    lp = params(quit_rate=0.0, inflow_rate=0.0, migration_rate=0.0)
    new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp, rng)
    np.testing.assert_array_equal(new, filled)
    assert flows == Flows()


def test_only_entrants_fill_vacancies_without_quits():
    rng = np.random.default_rng(6)
    positions, filled, attract, is_trust = community(rng)
    lp = params(quit_rate=0.0, inflow_rate=0.05)
    new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp, rng)
    assert (new >= filled).all()
    assert flows.entrants_hired == int(new.sum() - filled.sum()) > 0
    assert flows.exits == 0
    for f in ORIGIN_FIELDS[:4]:
        assert getattr(flows, f) == 0


def test_movers_are_all_rehired_when_vacancies_abound():
    """Without inflow, outside option, leaving or friction, and with vacancies everywhere,
    everyone who quits and stays in the sector finds a job: staff fall by exactly the exits."""
    rng = np.random.default_rng(7)
    positions = np.full((6, 3), 1000.0)
    filled = np.full((6, 3), 100, dtype=np.int64)
    attract = np.linspace(-1, 1, 6)
    is_trust = np.array([True, False, False, False, False, False])
    lp = params(quit_rate=0.3, inflow_rate=0.0, migration_rate=0.0, exit_share=0.4,
                leave_community_share=0.0, outside_option=0.0, fill_chance=1.0)
    new, flows = labour_year(positions, filled.copy(), attract, is_trust, lp, rng)
    assert flows.exits > 0 and flows.left_community == 0
    assert int(new.sum()) == int(filled.sum()) - flows.exits
    assert flows.entrants_hired == 0


def test_full_employers_hire_nobody():
    rng = np.random.default_rng(8)
    positions = np.array([[50.0, 10.0, 20.0], [30.0, 5.0, 10.0]])
    filled = np.round(positions).astype(np.int64)
    attract = np.array([1.0, 0.0])
    lp = params(quit_rate=0.0, inflow_rate=0.3)
    new, flows = labour_year(positions, filled.copy(), attract, np.array([True, False]), lp,
                             rng)
    np.testing.assert_array_equal(new, filled)
    assert flows.entrants_hired == 0


def test_attractive_employers_fill_more_vacancies():
    """Two municipalities alike except attractiveness: over many seeds the attractive one
    fills more of its vacancies (and keeps more of its staff)."""
    positions = np.array([[500.0, 50.0, 100.0], [100.0, 20.0, 60.0], [100.0, 20.0, 60.0]])
    filled = np.array([[500, 50, 100], [60, 10, 30], [60, 10, 30]], dtype=np.int64)
    attract = np.array([0.5, 0.8, -0.8])
    is_trust = np.array([True, False, False])
    lp = params(quit_rate=0.15, inflow_rate=0.03)
    gain = np.zeros(2)
    wins = 0
    n = 200
    for seed in range(n):
        new, _ = labour_year(positions, filled.copy(), attract, is_trust, lp,
                             np.random.default_rng(seed))
        g = new[1:].sum(axis=1) - filled[1:].sum(axis=1)
        gain += g
        wins += g[0] > g[1]
    assert gain[0] > gain[1]
    assert wins > 0.8 * n
    # the same holds from choice alone, with retention switched off
    lp = params(quit_rate=0.15, inflow_rate=0.03, retention_sensitivity=0.0)
    hires = np.zeros(2)
    for seed in range(n):
        new, _ = labour_year(positions, filled.copy(), attract, is_trust, lp,
                             np.random.default_rng(seed))
        hires += new[1:].sum(axis=1)
    assert hires[0] > hires[1]


def test_same_generator_state_same_result():
    positions, filled, attract, is_trust = community(np.random.default_rng(9))
    lp = params()
    a = labour_year(positions, filled.copy(), attract, is_trust, lp, np.random.default_rng(1))
    b = labour_year(positions, filled.copy(), attract, is_trust, lp, np.random.default_rng(1))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_input_filled_is_not_modified():
    positions, filled, attract, is_trust = community(np.random.default_rng(10))
    before = filled.copy()
    labour_year(positions, filled, attract, is_trust, params(), np.random.default_rng(1))
    np.testing.assert_array_equal(filled, before)


def test_flows_add():
    a = Flows(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.5)
    a.add(Flows(10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 1.0))
    assert a == Flows(11, 22, 33, 44, 55, 66, 77, 88, 99, 110, 1.5)


def test_communities_share_no_labour_pool():
    """Several communities in one call: each hires only from its own pool (its quitters who
    stay in the sector and its entrants), and its flows account for its own hires."""
    gen = np.random.default_rng(11)
    blocks = [community(gen, n=n) for n in (3, 8, 5)]
    positions = np.vstack([b[0] for b in blocks])
    filled = np.vstack([b[1] for b in blocks])
    attract = np.concatenate([b[2] for b in blocks])
    is_trust = np.concatenate([b[3] for b in blocks])
    starts = np.array([0, 4, 13])
    filled[starts[0]:starts[1]] = np.round(positions[starts[0]:starts[1]])  # full: seekers only
    positions[starts[1]:starts[2]] *= 3  # vacancies everywhere: would hire anyone
    lp = params(quit_rate=0.3, inflow_rate=0.02, exit_share=0.2)
    start = np.minimum(filled, np.round(positions).astype(np.int64))
    detail = {}
    new, flows = labour_years(positions, filled.copy(), attract, is_trust, lp,
                              np.random.default_rng(12), starts, detail=detail)
    assert len(flows) == 3
    quits, exits = detail["quits"], detail["exits"]
    inflow = detail["entrants"]  # communities x professions
    hires = new - (start - quits)
    for c, (a, b) in enumerate(zip(starts, [*starts[1:], len(new)], strict=True)):
        movers = int((quits - exits)[a:b].sum())
        assert int(hires[a:b].sum()) <= movers + int(inflow[c].sum())
        assert sum(getattr(flows[c], f) for f in ORIGIN_FIELDS) == int(hires[a:b].sum())
        assert flows[c].exits == int(exits[a:b].sum())
    # the full community filled its own vacancies left by quits, from its own pool only
    assert int(hires[starts[0]:starts[1]].sum()) > 0


def test_one_block_is_one_community():
    positions, filled, attract, is_trust = community(np.random.default_rng(13))
    lp = params()
    a = labour_year(positions, filled.copy(), attract, is_trust, lp, np.random.default_rng(4))
    b = labour_years(positions, filled.copy(), attract, is_trust, lp, np.random.default_rng(4),
                     np.array([0]))
    np.testing.assert_array_equal(a[0], b[0])
    assert [a[1]] == b[1]


# -- a labour market open to the country --------------------------------------------------------

def mean_staff_after(attract, lp, seeds=range(200), **kw):
    """Mean total staff after one year, over seeds, of the standard community."""
    positions, filled, _, is_trust = community(np.random.default_rng(21))
    total = 0
    for seed in seeds:
        new, _ = labour_year(positions, filled.copy(), attract, is_trust, lp,
                             np.random.default_rng(seed), **kw)
        total += int(new.sum())
    return total / len(seeds)


def test_absolute_attractiveness_gains_staff_from_the_country():
    """Raising every employer of a community by the same amount changes no rank, yet the
    community keeps and draws more staff: attractiveness is absolute, not relative to the
    community mean (issue 10 item 3)."""
    _, _, attract, _ = community(np.random.default_rng(21))
    lp = params()
    low, high = mean_staff_after(attract, lp), mean_staff_after(attract + 0.5, lp)
    assert high > low + 5, (low, high)


def test_retention_cuts_the_quit_hazard_by_its_share():
    positions, filled, attract, is_trust = community(np.random.default_rng(22))
    lp = params()
    quits = {}
    for share in (0.0, 0.5):
        retention = np.full(len(positions), share)
        quits[share] = sum(labour_year(positions, filled.copy(), attract, is_trust, lp,
                                       np.random.default_rng(seed), retention=retention)[1].quits
                           for seed in range(100))
    assert 0.4 < quits[0.5] / quits[0.0] < 0.6, quits


def test_quits_avoided_are_reported_as_fte_retained():
    positions, filled, attract, is_trust = community(np.random.default_rng(23))
    none = labour_year(positions, filled.copy(), attract, is_trust, params(),
                       np.random.default_rng(1))[1]
    some = labour_year(positions, filled.copy(), attract, is_trust, params(),
                       np.random.default_rng(1), retention=np.full(len(positions), 0.3))[1]
    assert none.fte_retained == 0.0 and some.fte_retained > 0.0


def test_unattractive_employers_lose_more_to_the_rest_of_the_country():
    """Leavers per quitter who stays in the sector fall with the employer's attractiveness."""
    positions = np.full((3, 3), 400.0)
    filled = np.full((3, 3), 380, dtype=np.int64)
    attract = np.array([0.0, 1.0, -1.0])
    is_trust = np.array([True, False, False])
    lp = params(quit_rate=0.3, exit_share=0.0)
    leavers = np.zeros(3)
    for seed in range(100):
        detail = {}
        labour_year(positions, filled.copy(), attract, is_trust, lp,
                    np.random.default_rng(seed), detail=detail)
        leavers += detail["leavers"].sum(axis=1) / np.maximum(detail["quits"].sum(axis=1), 1)
    assert leavers[2] > leavers[0] > leavers[1]


def test_the_outside_option_takes_job_seekers():
    """With a strong outside option most movers leave the community rather than fill its
    vacancies; without one they are hired."""
    positions = np.full((4, 3), 300.0)
    filled = np.full((4, 3), 200, dtype=np.int64)
    attract = np.full(4, -1.0)
    is_trust = np.array([True, False, False, False])
    base = dict(quit_rate=0.3, inflow_rate=0.0, migration_rate=0.0, exit_share=0.0,
                leave_community_share=0.0, fill_chance=1.0)
    _, without = labour_year(positions, filled.copy(), attract, is_trust,
                             params(outside_option=0.0, **base), np.random.default_rng(3))
    _, strong = labour_year(positions, filled.copy(), attract, is_trust,
                            params(outside_option=5.0, **base), np.random.default_rng(3))
    assert without.left_community == 0
    assert strong.left_community > 0.5 * strong.quits


def test_graduates_prefer_the_hospital():
    positions = np.array([[300.0] * 3, [300.0] * 3])
    filled = np.full((2, 3), 200, dtype=np.int64)
    is_trust = np.array([True, False])
    share = {}
    for preference in (0.0, 4.0):  # exp(0.4 x 4) ~ 5 times the pull per vacancy
        lp = params(quit_rate=0.0, inflow_rate=0.05, graduate_trust_preference=preference)
        to_trust = to_all = 0
        for seed in range(30):
            new, _ = labour_year(positions, filled.copy(), np.zeros(2), is_trust, lp,
                                 np.random.default_rng(seed))
            gained = new - filled
            to_trust += int(gained[0].sum())
            to_all += int(gained.sum())
        share[preference] = to_trust / to_all
    assert 0.4 < share[0.0] < 0.6 and share[4.0] > 0.75, share


def test_placement_graduates_are_hired_where_they_had_their_placement():
    positions = np.full((3, 3), 100.0)
    filled = np.full((3, 3), 60, dtype=np.int64)
    is_trust = np.array([True, False, False])
    graduates = np.zeros((3, 3))
    graduates[2] = 10.0
    lp = params(quit_rate=0.0, inflow_rate=0.0, migration_rate=0.0, fill_chance=1.0)
    detail = {}
    new, flows = labour_year(positions, filled.copy(), np.zeros(3), is_trust, lp,
                             np.random.default_rng(5), placement_graduates=graduates,
                             detail=detail)
    drawn = detail["graduates"]
    np.testing.assert_array_equal(new[2] - filled[2], drawn[2])
    assert flows.placement_hires == flows.entrants_hired == int(drawn.sum()) > 0


def test_common_random_numbers_a_change_in_one_community_leaves_another_alone():
    """Every labour draw inverts its own uniform, in a layout fixed by the shapes: making one
    community's employers more attractive (more entrants, other quits and choices there) leaves
    another community's year bit-identical, and a small change of one employer's quit hazard
    changes its community's staff by a few, not by a new draw of everything."""
    gen = np.random.default_rng(31)
    blocks = [community(gen, n=n) for n in (6, 9)]
    positions = np.vstack([b[0] for b in blocks])
    filled = np.vstack([b[1] for b in blocks])
    attract = np.concatenate([b[2] for b in blocks])
    is_trust = np.concatenate([b[3] for b in blocks])
    starts = np.array([0, 7])
    lp = params()

    def year(a, **kw):
        return labour_years(positions, filled.copy(), a, is_trust, lp,
                            np.random.default_rng(5), starts, **kw)

    base_new, base_flows = year(attract)
    better = attract.copy()
    better[7:] += 0.4
    new, flows = year(better)
    np.testing.assert_array_equal(new[:7], base_new[:7])
    assert flows[0] == base_flows[0]
    assert not np.array_equal(new[7:], base_new[7:])
    retained = np.zeros(len(attract))
    retained[9] = 0.02  # 2 % fewer quits at one municipality
    new, _ = year(attract, retention=retained)
    assert np.abs(new - base_new).sum() <= 6, np.abs(new - base_new).sum()
