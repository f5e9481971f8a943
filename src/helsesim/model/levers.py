"""The policy levers (the report's recommendations and others) and the hooks they act through.

Each lever is a parameter of :class:`~helsesim.config.LeverConfig`. A process that a lever can
change calls a named hook of :class:`Levers` at one point of its rule, and the hook holds all
that the lever does there; no process reads the configuration itself.

=========================  ==========================================  =======================
hook                       called by                                   levers
=========================  ==========================================  =======================
``reserve_small_seats``    ``CollaborativeBoard`` (seats, at start)     ``reserved_small_seats``
``vote_weight``            ``CollaborativeBoard`` (weights, at start)   ``equal_votes``
``spokesperson_weights``   ``CollaborativeBoard`` (weights, at start)   ``capacity_support``
``appoint_coordinator``    ``community.build_community`` (at start)     ``capacity_support``
``adjust_score``           ``CollaborativeBoard.score``                 ``recruitment_weight``,
                                                                        ``equity_weight``
``earmark``                the allocation designs (given at start)      ``recruitment_earmark``
``informal_influence``     ``CollaborativeBoard.update_influence``      ``equal_votes``
``compensation_floor``     ``CollaborativeBoard`` (a transfer's price)  ``compensation``
``shared_knowledge``       ``CollaborationNetwork.spread_knowledge``    ``knowledge_base``
=========================  ==========================================  =======================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from helsesim.model.agents import Coordinator
from helsesim.model.projects import RECRUITMENT_TYPES

if TYPE_CHECKING:
    from mesa import Model

    from helsesim.config import LeverConfig
    from helsesim.model.agents import Municipality
    from helsesim.model.projects import Project


class Levers:
    """The levers of one simulation, each acting through its hook."""

    def __init__(self, config: LeverConfig) -> None:
        self.config = config
        #: Share of each call's budget reserved for recruitment projects (the designs').
        self.earmark = config.recruitment_earmark

    # -- the board's constitution (at the start) --------------------------------------------------
    def reserve_small_seats(self, candidates: list[Municipality], rng: np.random.Generator
                            ) -> list[Municipality]:
        """Small municipalities without a seat that get a reserved one: drawn at random."""
        k = min(self.config.reserved_small_seats, len(candidates))
        if not k:
            return []
        return [candidates[i] for i in sorted(rng.choice(len(candidates), size=k,
                                                         replace=False))]

    def vote_weight(self, seats: int, capacity: float, capacity_influence: float) -> float:
        """A member's voting weight: its seats, times capacity unless every seat counts the
        same."""
        if not seats:
            return 0.0
        if self.config.equal_votes:
            return float(seats)
        return seats * capacity ** capacity_influence

    def spokesperson_weights(self, unseated_small: list[Municipality]
                             ) -> dict[Municipality, float]:
        """The coordinator speaks for the small municipalities without a seat: up to one
        seat's weight, shared between them (seed 001: the catalyst role)."""
        strength = self.config.capacity_support
        if strength <= 0 or not unseated_small:
            return {}
        return {m: strength / len(unseated_small) for m in unseated_small}

    def appoint_coordinator(self, model: Model, community: str,
                            municipalities: list[Municipality]) -> Coordinator | None:
        """An inter-municipal coordinator who supports the small municipalities, if any."""
        if self.config.capacity_support <= 0:
            return None
        coordinator = Coordinator(model, community, self.config.capacity_support)
        coordinator.support(municipalities)
        return coordinator

    # -- every year -----------------------------------------------------------------------------
    def informal_influence(self, weight: float, experience: float, information: float,
                           experience_influence: float) -> float:
        """A member's influence from its formal weight: raised by experience (0-1, a share of
        full experience) and lowered by what it does not know, unless every seat counts the
        same (`equal_votes`: only the seats count)."""
        if self.config.equal_votes:
            return weight
        return weight * (1.0 + experience_influence * experience) * (0.5 + 0.5 * information)

    def adjust_score(self, score: float, proposal: Project) -> float:
        """The board's score with the extra weight for recruitment and for the small
        municipalities among the parties."""
        municipalities = proposal.municipalities
        small = (sum([m.size_class == "small" for m in municipalities])
                 / max(len(municipalities), 1))
        return (score + self.config.recruitment_weight * (proposal.type in RECRUITMENT_TYPES)
                + self.config.equity_weight * small)

    def compensation_floor(self) -> float:
        """The least share of a transferred service's cost the trust pays (a negotiation may
        give more)."""
        return self.config.compensation

    def shared_knowledge(self, knowledge: np.ndarray, best: np.ndarray, spread_rate: float
                         ) -> np.ndarray:
        """Knowledge gained from a shared knowledge base: everyone draws on the community's
        best practice (``best``: the highest knowledge in each municipality's community), not
        only along ties."""
        return (self.config.knowledge_base * spread_rate
                * np.maximum(best - knowledge, 0.0))
