"""The strategic collaborative board (SSU) of a health community: who sits on it, how much
each member weighs, the call for proposals and how proposals are scored.

How the board's money becomes projects is the allocation design's business
(:mod:`helsesim.model.allocation`); the board offers what every design may use: its members'
weights, a call for proposals and the scoring rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent, Model

from helsesim.model.projects import Project
from helsesim.outcomes.metrics import concentration
from helsesim.outcomes.tables import LEAD_CLASSES

if TYPE_CHECKING:
    from helsesim.config import BoardParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality
    from helsesim.model.levers import Levers
    from helsesim.model.network import CollaborationNetwork


class CollaborativeBoard(Agent):
    """The board: seats, influence, the call for proposals, scoring and fair shares.

    Seats: the trust's members; the largest municipalities; one representative (the largest)
    for each regional group of the others; seats reserved for small municipalities (a lever).

    Attributes:
        budget: the community's yearly RS grant (NOK/yr).
        carried: money not committed last year and carried over (NOK).
        available: this year's money, grant plus money carried over (NOK).
        weights: influence of each member (0 without a seat): its formal weight (seats,
            capacity) times what experience and information add, recomputed every year.
        vote_shares: each member's share of the weights (its influence).
        municipal_money: RS money attributed to municipalities so far (NOK).
        money_per_actor: the money of this year's call (or agenda) per eligible actor (NOK).
        money_asked, call_money: this year's money asked in open calls and money offered
            by them (NOK; oversubscription is their ratio).
        proposals_by_class: this year's proposals (open call) and agenda items (governance)
            by who made them (trust, large, medium, small).
    """

    kind = "board"

    def __init__(self, model: Model, community: str, trust: HealthTrust,
                 municipalities: list[Municipality], regions: list[list[str]], budget: float,
                 params: BoardParams, levers: Levers, network: CollaborationNetwork,
                 rng: np.random.Generator) -> None:
        super().__init__(model)
        self.community = community
        self.trust = trust
        self.municipalities = municipalities
        self.network = network
        self.levers = levers
        self.budget = budget
        self.params = params
        self.population = sum(m.population for m in municipalities)
        self.municipal_money = 0.0
        self.carried = 0.0
        self.available = budget
        self.money_per_actor = budget / (len(municipalities) + 1)
        self.call_earmark = 0.0  # the share of this year's call reserved for recruitment
        self.money_asked = 0.0
        self.call_money = 0.0
        self.proposals_by_class = dict.fromkeys(LEAD_CLASSES, 0)
        self.proposals: list[Project] = []
        #: Fit of each project type with the national priorities (scoring).
        self.priority_fit = {"service_development": params.priority_service_development,
                             "competence": params.priority_competence,
                             "recruitment": params.priority_recruitment,
                             "personnel_pool": params.priority_recruitment,
                             "task_transfer": params.priority_task_transfer}
        self._seat(regions, rng)
        for m in municipalities:
            m.voice = 1.0 if m.seats else 0.0
        #: Formal weights: seats (times capacity unless votes are equal).
        self.formal_weights: dict[Employer, float] = {
            a: levers.vote_weight(a.seats, a.capacity, params.capacity_influence)
            for a in [trust, *municipalities]}
        # the coordinator speaks for the small municipalities without a seat (seed 001)
        unseated = [m for m in municipalities if m.size_class == "small" and not m.seats]
        self.spokesperson = levers.spokesperson_weights(unseated)
        self.update_influence()

    def update_influence(self) -> None:
        """Each member's influence this year: its formal weight, raised by its experience and
        lowered by what it does not know (seed 002 lines 2958-2960: the experienced are
        favoured; seed 003: partners are less informed); the coordinator's shares stay."""
        eta = self.params.influence_experience
        self.weights = {a: self.levers.informal_influence(w, min(a.experience, 5) / 5,
                                                          a.information, eta)
                        for a, w in self.formal_weights.items()}
        self.weights.update(self.spokesperson)
        self.total_weight = sum(self.weights.values())
        self.vote_shares = {a: w / self.total_weight for a, w in self.weights.items()}
        self.influence_concentration = concentration(list(self.weights.values()))
        self.influence_by_class = {c: 0.0 for c in LEAD_CLASSES}
        for a, w in self.weights.items():
            self.influence_by_class["trust" if a.kind == "trust" else a.size_class] += (
                w / self.total_weight)

    def _seat(self, regions: list[list[str]], rng: np.random.Generator) -> None:
        municipalities = self.municipalities
        self.trust.seats = self.params.trust_seats
        by_id = {m.municipality_id: m for m in municipalities}
        for r, ids in enumerate(regions):
            for i in ids:
                by_id[i].region = r
        ranked = sorted(municipalities, key=lambda m: (-m.population, m.municipality_id))
        for m in ranked[: self.params.large_seats]:
            m.seats = 1
        for ids in regions:  # one representative per region: its largest unseated member
            group = [by_id[i] for i in ids if not by_id[i].seats]
            if group:
                max(group, key=lambda m: (m.population, m.municipality_id)).seats = 1
        small = [m for m in municipalities if m.size_class == "small" and m.seats == 0]
        for m in self.levers.reserve_small_seats(small, rng):
            m.seats = 1

    def influence(self, agent: Employer) -> float:
        """Share of the board's votes an agent holds (0 without a seat)."""
        return self.vote_shares.get(agent, 0.0)

    # -- proposals --------------------------------------------------------------------------
    def receive(self, proposal: Project) -> None:
        self.proposals.append(proposal)

    def start_year(self, money: float) -> None:
        """This year's money (grant plus carry-over); the year's counts start at zero."""
        self.available = money
        self.money_asked = self.call_money = 0.0
        self.proposals_by_class = dict.fromkeys(LEAD_CLASSES, 0)

    def end_year(self, committed: float, carry_over_share: float) -> None:
        """What was not committed this year carries over (at `carry_over_share`)."""
        self.carried = carry_over_share * max(self.available - committed, 0.0)

    def count_proposal(self, lead: Employer) -> None:
        self.proposals_by_class["trust" if lead.kind == "trust" else lead.size_class] += 1

    def offer(self, money: float) -> None:
        """Announce the money of a call or agenda: per eligible actor (the trust and every
        municipality), which sets how many proposals come and how large."""
        self.money_per_actor = money / (len(self.municipalities) + 1)

    def call_for_proposals(self, rng: np.random.Generator, money: float,
                           earmark: float = 0.0) -> list[Project]:
        """Open call of ``money`` (``earmark`` of it reserved for recruitment): the
        municipalities (in random order) and the trust decide whether to apply and prepare
        proposals."""
        self.offer(money)
        self.call_earmark = earmark
        self.proposals = []
        for m in self.random.sample(self.municipalities, len(self.municipalities)):
            m.prepare_proposals(rng, self)
        self.trust.prepare_proposals(rng, self)
        out, self.proposals = self.proposals, []
        self.call_money += money
        self.money_asked += sum([pr.budget for pr in out])
        for pr in out:
            self.count_proposal(pr.lead)
        return out

    def transfer_proposal(self, rng: np.random.Generator) -> Project:
        """The trust's transfer, decided in its own step: the municipalities it names take the
        service over (assigned, seed 000 line 34); the board negotiates the compensation and
        grants RS transition support (`transition_support` of a year's cost, times the priority
        it gives the right division of labour) off the top of this year's money."""
        trust = self.trust
        partners = trust.choose_partners(rng, "task_transfer", self.network)
        transfer = trust.transfer_params
        cost = transfer.transfer_cost_per_capita * sum(m.population for m in partners)
        support = min(transfer.transition_support * self.params.priority_task_transfer * cost,
                      self.available)
        self.count_proposal(trust)
        return Project(community=self.community, lead=trust, partners=partners,
                       type="task_transfer", budget=support, duration=1, stream="transfer",
                       compensation_share=self.negotiate_compensation())

    def negotiate_compensation(self) -> float:
        """The share of a transferred service's cost the trust pays: the municipalities'
        bargaining power (their share of the board's influence times their mean trust) times
        the trust's saving, discounted by the chance that its outside option (discontinue the
        service anyway) is credible; never below the `compensation` lever, at most all."""
        transfer = self.trust.transfer_params
        municipal = 1.0 - self.vote_shares.get(self.trust, 0.0)
        trust = sum([m.trust for m in self.municipalities]) / len(self.municipalities)
        negotiated = (municipal * trust * transfer.saving_ratio
                      * (1.0 - transfer.threat_credibility))
        return min(max(self.levers.compensation_floor(), negotiated), 1.0)

    def score(self, proposals: list[Project], rng: np.random.Generator) -> np.ndarray:
        """Board scores: quality, priority fit, breadth, proposers' influence, levers, noise."""
        params = self.params
        out = params.score_noise * rng.standard_normal(len(proposals))
        shares = self.vote_shares
        for i, pr in enumerate(proposals):
            breadth = sum([m.population for m in pr.municipalities]) / self.population
            influence = min(1.0, sum([shares.get(a, 0.0) for a in pr.parties(self.trust)]))
            score = (params.score_quality * pr.quality
                     + params.score_priority * self.priority_fit[pr.type]
                     + params.score_breadth * breadth + params.score_influence * influence)
            out[i] += self.levers.adjust_score(score, pr)
        return out

    def set_fair_shares(self) -> None:
        """Each municipality's fair share: the municipal money split per capita."""
        for m in self.municipalities:
            m.fair_share = self.municipal_money * m.population / self.population
