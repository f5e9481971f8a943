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

from helsesim.outcomes.metrics import concentration
from helsesim.outcomes.tables import LEAD_CLASSES

if TYPE_CHECKING:
    from helsesim.config import BoardParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality
    from helsesim.model.levers import Levers
    from helsesim.model.network import CollaborationNetwork
    from helsesim.model.projects import Project


class CollaborativeBoard(Agent):
    """The board: seats, influence, the call for proposals, scoring and fair shares.

    Seats: the trust's members; the largest municipalities; one representative (the largest)
    for each regional group of the others; seats reserved for small municipalities (a lever).

    Attributes:
        budget: the community's yearly RS grant (NOK/yr).
        weights: voting weight of each member (0 without a seat).
        vote_shares: each member's share of the weights (its influence).
        municipal_money: RS money attributed to municipalities so far (NOK).
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
        self.proposals: list[Project] = []
        #: Fit of each project type with the national priorities (scoring).
        self.priority_fit = {"service_development": params.priority_service_development,
                             "competence": params.priority_competence,
                             "recruitment": params.priority_recruitment,
                             "task_transfer": params.priority_task_transfer}
        self._seat(regions, rng)
        for m in municipalities:
            m.voice = 1.0 if m.seats else 0.0
        self.weights: dict[Employer, float] = {
            a: levers.vote_weight(a.seats, a.capacity, params.capacity_influence)
            for a in [trust, *municipalities]}
        # the coordinator speaks for the small municipalities without a seat (seed 001)
        unseated = [m for m in municipalities if m.size_class == "small" and not m.seats]
        self.weights.update(levers.spokesperson_weights(unseated))
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

    def call_for_proposals(self, rng: np.random.Generator) -> list[Project]:
        """Open call: the municipalities (in random order) and the trust prepare proposals."""
        self.proposals = []
        for m in self.random.sample(self.municipalities, len(self.municipalities)):
            m.prepare_proposals(rng, self)
        self.trust.prepare_proposals(rng, self)
        out, self.proposals = self.proposals, []
        return out

    def score(self, proposals: list[Project], rng: np.random.Generator) -> np.ndarray:
        """Board scores: quality, priority fit, breadth, proposers' influence, levers, noise."""
        params = self.params
        out = np.empty(len(proposals))
        for i, pr in enumerate(proposals):
            breadth = sum(m.population for m in pr.municipalities) / self.population
            influence = min(1.0, sum(self.vote_shares.get(a, 0.0)
                                     for a in pr.parties(self.trust)))
            score = (params.score_quality * pr.quality
                     + params.score_priority * self.priority_fit[pr.type]
                     + params.score_breadth * breadth + params.score_influence * influence)
            out[i] = (self.levers.adjust_score(score, pr)
                      + params.score_noise * rng.standard_normal())
        return out

    def set_fair_shares(self) -> None:
        """Each municipality's fair share: the municipal money split per capita."""
        for m in self.municipalities:
            m.fair_share = self.municipal_money * m.population / self.population
