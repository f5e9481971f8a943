"""Agents' decisions on a small community built by hand (three municipalities, their trust and
board), without a HealthSystem: applying, partnering, accepting, the trust's agreement and
partners, the board's weights and scores, the trust update, and the designs' allocations."""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import mesa
import networkx as nx
import numpy as np
import pytest

from helsesim.config import AllocationConfig, LeverConfig, ModelParams
from helsesim.model.agents import HealthTrust, Municipality
from helsesim.model.allocation import GovernanceLed, OpenCall, PerCapita, make_design
from helsesim.model.board import CollaborativeBoard
from helsesim.model.draws import logistic
from helsesim.model.levers import Levers
from helsesim.model.network import CollaborationNetwork
from helsesim.model.projects import Project
from helsesim.model.workforce import Workforce

Row = namedtuple("Row", "municipality_id name population x_km y_km")
ROWS = [Row("A", "Small", 2_000, 0.0, 0.0), Row("B", "Medium", 8_000, 30.0, 0.0),
        Row("C", "Large", 40_000, 60.0, 0.0)]


def replace(params: ModelParams, **groups: dict) -> ModelParams:
    """``params`` with some fields of some groups changed: ``participation={...}``."""
    return dataclasses.replace(params, **{g: dataclasses.replace(getattr(params, g), **kw)
                                          for g, kw in groups.items()})


class Community:
    """A, B and C on a line (A-B and B-C tied, A and C not), a trust tied to all three, the
    board with one region each, a workforce; every part as HealthSystem builds it."""

    def __init__(self, params: ModelParams | None = None, levers: LeverConfig | None = None,
                 seed: int = 1) -> None:
        self.params = params or ModelParams()
        self.levers = Levers(levers or LeverConfig())
        self.model = mesa.Model(rng=seed)
        self.rng = np.random.default_rng(seed)
        graph = nx.Graph()
        graph.add_edges_from([("A", "B"), ("B", "C")], kind="neighbour", tie=0.3)
        graph.add_edges_from([("HF:x", m) for m in "ABC"], kind="trust", tie=0.4)
        self.network = CollaborationNetwork(graph, self.params.network, self.levers)
        self.municipalities = [Municipality(self.model, row, 10.0 * i, "x", self.params,
                                            self.rng) for i, row in enumerate(ROWS)]
        self.small, self.medium, self.large = self.municipalities
        self.trust = HealthTrust(self.model, "HF:x", "x", "Trust HF", self.municipalities,
                                 self.params)
        for agent in (*self.municipalities, self.trust):
            self.network.place(agent)
        self.board = CollaborativeBoard(self.model, "x", self.trust, self.municipalities,
                                        [["A"], ["B"], ["C"]], 3e6, self.params.board,
                                        self.levers, self.network, self.rng)
        self.workforce = Workforce({"x": [self.trust, *self.municipalities]},
                                   self.params.labour, self.rng)


@pytest.fixture
def community() -> Community:
    return Community()


# -- applying ---------------------------------------------------------------------------------
def test_willingness_rises_with_capacity_experience_trust_and_support(community):
    small, medium, large = community.municipalities
    assert small.willingness(0.0) < medium.willingness(0.0) < large.willingness(0.0)
    before = small.willingness(0.0)
    small.experience += 1
    small.trust += 0.1
    assert small.willingness(0.0) > before
    more = small.willingness(0.0)
    small.support = 1.0  # a coordinator removes the cost of applying
    assert small.willingness(0.0) == pytest.approx(
        more + community.params.participation.apply_cost / small.capacity)


@pytest.mark.parametrize("intercept, expected", [(-50.0, 0), (50.0, 3)])
def test_a_municipality_leads_none_or_at_most_max_proposals(intercept, expected):
    params = replace(ModelParams(), participation={"apply_intercept": intercept,
                                                   "trust_agree": 1.0, "max_proposals": 3})
    c = Community(params)
    c.large.trust = 1.0  # the trust then agrees for sure
    c.large.prepare_proposals(c.rng, c.board)
    assert len(c.board.proposals) == expected
    for pr in c.board.proposals:
        assert pr.lead is c.large and pr.community == "x" and pr.budget > 0
        assert set(pr.partners) <= {c.medium}  # its only tie


def test_no_agreement_no_proposal():
    params = replace(ModelParams(), participation={"apply_intercept": 50.0,
                                                   "trust_agree": 0.0})
    c = Community(params)
    c.medium.prepare_proposals(c.rng, c.board)
    assert c.board.proposals == []


# -- partnering and accepting ------------------------------------------------------------------
@pytest.mark.parametrize("join, expected", [(50.0, {"A", "C"}), (-50.0, set())])
def test_partners_are_tied_neighbours_who_accept(join, expected):
    params = replace(ModelParams(), participation={"join_intercept": join,
                                                   "partner_mean": 50.0})
    c = Community(params)
    partners = c.medium.invite_partners(c.rng, c.network)
    assert {m.municipality_id for m in partners} == expected
    assert c.small.invite_partners(c.rng, c.network) in ([], [c.medium])  # A is tied to B only


def test_acceptance_follows_the_joining_logit(community):
    m = community.medium
    p = logistic(m.willingness(community.params.participation.join_intercept))
    rng = np.random.default_rng(3)
    share = np.mean([m.accepts(rng) for _ in range(4000)])
    assert share == pytest.approx(p, abs=0.03)


def test_partner_candidates_follow_ties_and_new_project_ties(community):
    candidates, weights = community.network.partner_candidates(community.small)
    assert candidates == [community.medium]
    assert weights == [pytest.approx(0.3 + 1e-3)]
    project = Project("x", community.small, [community.large], budget=1.0)
    community.network.update_ties([project], {"x": community.trust})
    candidates, _ = community.network.partner_candidates(community.small)
    assert candidates == [community.medium, community.large]  # a project tie is a new tie


# -- the trust ---------------------------------------------------------------------------------
def test_trust_agreement_rises_with_the_leads_trust(community):
    trust, m = community.trust, community.small
    m.trust = 0.0
    low = trust.agreement(m)
    m.trust = 1.0
    assert trust.agreement(m) == pytest.approx(community.params.participation.trust_agree)
    assert low == pytest.approx(trust.agreement(m) / 2)


def test_cost_pressure_makes_a_transfer_likelier(community):
    trust = community.trust
    rng = np.random.default_rng(2)

    def share_proposing(gap: float) -> float:
        hits = 0
        for _ in range(2000):
            trust.cost_gap = gap
            trust.review_costs(rng)
            hits += trust.transfer_pending
        return hits / 2000

    assert share_proposing(0.0) < share_proposing(0.03) - 0.3
    trust.cost_gap = 0.0
    trust.transfer_params = dataclasses.replace(trust.transfer_params, transfer_pressure=0.0,
                                                transfer_propensity=0.0)
    trust.review_costs(rng)
    assert not trust.transfer_pending


def test_a_transfer_relieves_the_trusts_cost_gap_by_its_net_saving(community):
    trust = community.trust
    trust.cost_gap = 0.5
    trust.relieve(1e6, compensation=0.4)
    saving = (trust.transfer_params.saving_ratio - 0.4) * 1e6
    assert trust.cost_gap == pytest.approx(0.5 - saving / trust.operating_budget)
    trust.relieve(1e12, compensation=0.0)
    assert trust.cost_gap == 0.0


def test_a_transfer_is_assigned_with_negotiated_compensation_and_support(community):
    board, trust = community.board, community.trust
    trust.transfer_params = dataclasses.replace(trust.transfer_params, transfer_partners=0.5)
    board.start_year(3e6)
    pr = board.transfer_proposal(community.rng)
    assert pr.type == "task_transfer" and pr.lead is trust and not pr.voluntary
    assert len(pr.partners) == round(0.5 * 3) and len(set(pr.partners)) == len(pr.partners)
    cost = trust.transfer_params.transfer_cost_per_capita * sum(m.population
                                                                for m in pr.partners)
    assert pr.budget == pytest.approx(trust.transfer_params.transition_support
                                      * board.params.priority_task_transfer * cost)
    floor = community.levers.config.compensation
    assert floor <= pr.compensation_share <= 1.0


def test_compensation_rises_with_municipal_voice_and_trust():
    low = Community()
    for m in low.municipalities:
        m.trust = 0.2
    high = Community(levers=LeverConfig(equal_votes=True, compensation=0.0))
    for m in high.municipalities:
        m.trust = 1.0
    assert high.board.negotiate_compensation() > low.board.negotiate_compensation()
    floor = Community(levers=LeverConfig(compensation=0.9))
    assert floor.board.negotiate_compensation() == 0.9


def test_more_money_on_offer_more_and_larger_proposals():
    params = replace(ModelParams(), participation={"trust_agree": 1.0})
    counts, asks = [], []
    for money in (1e6, 20e6):
        c = Community(params, seed=3)
        n, total = 0, 0.0
        for _ in range(200):
            out = c.board.call_for_proposals(c.rng, money)
            n += len(out)
            total += sum(pr.budget for pr in out)
        counts.append(n)
        asks.append(total / max(n, 1))
    assert counts[1] > counts[0] and asks[1] > asks[0]


def test_recruitment_is_chosen_more_often_with_vacancies(community):
    m = community.small
    rng = np.random.default_rng(5)
    full = np.mean([m.choose_type(rng) == "recruitment" for _ in range(3000)])
    community.workforce.filled[m.employer_index] = 0
    community.workforce.refresh_vacancies()
    assert m.vacancy_share == 1.0
    empty = np.mean([m.choose_type(rng) == "recruitment" for _ in range(3000)])
    assert empty > full + 0.05


# -- the board: seats, weights, scores -----------------------------------------------------------
def test_seats_and_weights(community):
    board, params = community.board, community.params.board
    assert community.trust.seats == params.trust_seats
    assert all(m.seats == 1 and m.voice == 1.0 for m in community.municipalities)  # 3 regions
    assert sum(board.vote_shares.values()) == pytest.approx(1.0)
    assert board.weights[community.large] > board.weights[community.small]
    equal = Community(levers=LeverConfig(equal_votes=True))
    assert equal.board.weights[equal.large] == equal.board.weights[equal.small] == 1.0


def scored(community: Community, *proposals: Project) -> np.ndarray:
    community.board.params = dataclasses.replace(community.board.params, score_noise=0.0)
    return community.board.score(list(proposals), community.rng)


def test_scores_rise_with_quality_priority_breadth_and_levers(community):
    c = community
    low, high = Project("x", c.small, quality=0.0), Project("x", c.small, quality=1.0)
    wide = Project("x", c.small, [c.medium], quality=0.0)
    rec = Project("x", c.small, type="recruitment")
    s = scored(c, low, high, wide, rec)
    assert s[1] > s[0] and s[2] > s[0]
    assert s[3] < s[0]  # recruitment has a lower priority fit by default
    c.levers.config = LeverConfig(recruitment_weight=5.0)
    assert scored(c, low, rec)[1] > scored(c, low, rec)[0]


# -- trust update ------------------------------------------------------------------------------
def test_trust_moves_towards_fairness_at_most_by_the_rate(community):
    m, rate = community.small, community.params.trust_update.trust_rate
    m.trust, m.fair_share = 0.5, 100.0
    m.benefit = 300.0  # more than its fair share
    m.update_trust()
    up = m.trust
    assert 0.5 < up <= 0.5 + rate
    m.trust, m.benefit = 0.5, 0.0
    m.shift_cost = 1e9  # a large uncompensated shifted cost
    m.update_trust()
    assert m.trust < up


# -- designs on the community --------------------------------------------------------------------
def test_open_call_funds_in_score_order_within_budget():
    params = replace(ModelParams(), participation={"apply_intercept": 3.0, "trust_agree": 1.0})
    c = Community(params, seed=4)
    funded = OpenCall().allocate(c.board, 2e6, c.rng)
    assert funded and sum(pr.budget for pr in funded) <= 2e6
    assert all(pr.stream == "open_call" and np.isfinite(pr.score) for pr in funded)


def test_governance_agenda_follows_weights_within_capacity_and_money(community):
    design = GovernanceLed(capacity=3.0, breadth=1.0)
    projects = design.allocate(community.board, 3e6, community.rng)
    assert 1 <= len(projects) <= 3
    assert sum(pr.budget for pr in projects) <= 3e6 * (1 + 1e-12)
    for pr in projects:
        assert community.board.weights[pr.lead] > 0
        assert set(pr.municipalities) == set(community.municipalities)  # breadth 1
    rich = GovernanceLed(capacity=1.0).allocate(community.board, 1e9, community.rng)
    assert len(rich) == 1 and rich[0].budget < 1e9  # its ask, not all the money
    assert GovernanceLed(capacity=0.0).allocate(community.board, 3e6, community.rng) == []


def test_per_capita_gives_population_shares(community):
    projects = PerCapita().allocate(community.board, 5e6, community.rng)
    total = sum(m.population for m in community.municipalities)
    assert [pr.budget for pr in projects] == pytest.approx(
        [5e6 * m.population / total for m in community.municipalities])
    assert not any(pr.trust_party or pr.partners for pr in projects)


def test_designs_are_built_from_their_configuration():
    allocation = AllocationConfig(design="two_stream", stream_share=0.3, governance_breadth=0.2)
    design = make_design(allocation, earmark=0.4)
    assert design.share == 0.3 and design.governance.breadth == 0.2
    assert design.open_call.earmark == design.governance.earmark == 0.4
    assert make_design(AllocationConfig(design="lottery", lottery_bar=0.8)).bar == 0.8
    assert make_design(AllocationConfig(design="governance_led",
                                        governance_projects=4.0)).capacity == 4.0


def test_influence_follows_experience_and_information(community):
    board, large = community.board, community.large
    before = board.vote_shares[large]
    large.experience = 5
    board.update_influence()
    assert board.vote_shares[large] > before
    informed = board.weights[large]
    large.information = 0.0  # knows nothing: half the weight
    board.update_influence()
    assert board.weights[large] == pytest.approx(informed / (0.5 + 0.5 * 0.9) * 0.5)
    equal = Community(levers=LeverConfig(equal_votes=True))
    equal.large.experience = 5
    equal.board.update_influence()
    assert equal.board.weights[equal.large] == equal.board.weights[equal.small] == 1.0
