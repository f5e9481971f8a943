"""Allocation designs: interchangeable strategies in one registry, selected by name.

A design is built from its configuration (:meth:`from_config`: the ``allocation`` group and the
recruitment earmark, a lever) and turns a board, a budget and a random generator into funded
projects (``Project`` records with their ``budget`` set). It decides from the agents' behaviour:
proposals come from ``board.call_for_proposals`` (municipalities and the trust decide whether to
apply and with whom), scores from ``board.score``, and the agenda of governance-developed
projects from the board's weights (:meth:`GovernanceLed.develop`). The model never branches on
a design's name. This module does not import Mesa.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from helsesim.model.projects import Project

if TYPE_CHECKING:
    from helsesim.config import AllocationConfig
    from helsesim.model.board import CollaborativeBoard


class Design(Protocol):
    name: ClassVar[str]

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> Design:
        """The design with its parameters from the ``allocation`` group."""

    def allocate(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator
                 ) -> list[Project]:
        """Funded projects whose budgets sum to at most ``budget``."""


def fund_in_order(proposals: list[Project], order: Iterable[int], budget: float,
                  earmark: float = 0.0) -> list[Project]:
    """Fund proposals in the given order while they fit in the budget.

    ``earmark`` (a share of the budget) is first spent on recruitment proposals only; what it
    does not use goes to the general pool.
    """
    funded: list[Project] = []
    taken = set()
    reserved = budget * earmark
    for i in order if earmark > 0 else ():
        pr = proposals[i]
        if pr.type == "recruitment" and pr.budget <= reserved:
            reserved -= pr.budget
            funded.append(pr)
            taken.add(i)
    left = budget - (budget * earmark - reserved)
    for i in order:
        pr = proposals[i]
        if i not in taken and pr.budget <= left:
            left -= pr.budget
            funded.append(pr)
    return funded


@dataclass
class OpenCall:
    """Open, application-based call: agents apply, the board scores and funds in rank order."""

    name: ClassVar[str] = "open_call"
    earmark: float = 0.0  # share of the budget first spent on recruitment proposals

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> OpenCall:
        return cls(earmark=earmark)

    def allocate(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator
                 ) -> list[Project]:
        proposals = board.call_for_proposals(rng)
        for pr in proposals:
            pr.stream = self.name
        if not proposals:
            return []
        scores = board.score(proposals, rng)
        for pr, s in zip(proposals, scores, strict=True):
            pr.score = float(s)
        return fund_in_order(proposals, self.order(scores, rng), budget, self.earmark)

    def order(self, scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The order in which proposals are funded: by score, best first."""
        return np.argsort(-scores, kind="stable")


@dataclass
class Lottery(OpenCall):
    """Partial lottery: proposals scoring above a quantile bar are drawn at random."""

    name: ClassVar[str] = "lottery"
    bar: float = 0.5  # score quantile a proposal must reach to enter the draw

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> Lottery:
        return cls(earmark=earmark, bar=allocation.lottery_bar)

    def order(self, scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        bar = np.quantile(scores, self.bar)
        return rng.permutation(np.flatnonzero(scores >= bar))


@dataclass
class GovernanceLed:
    """No call: the board develops fewer, larger, community-wide projects itself, on an agenda
    set in proportion to its members' weights."""

    name: ClassVar[str] = "governance_led"
    projects: float = 2.5  # mean projects a year at the full budget
    breadth: float = 0.6  # share of the other municipalities that join a project
    earmark: float = 0.0  # share of the budget spent as one joint recruitment project

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> GovernanceLed:
        return cls(projects=allocation.governance_projects,
                   breadth=allocation.governance_breadth, earmark=earmark)

    def allocate(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator
                 ) -> list[Project]:
        projects = self.develop(board, budget * (1 - self.earmark), rng)
        if self.earmark > 0:  # the earmarked share becomes one joint recruitment project
            projects += self.develop(board, budget * self.earmark, rng, n=1, kind="recruitment")
        return projects

    def develop(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator,
                n: int | None = None, kind: str | None = None) -> list[Project]:
        """The board develops ``n`` projects (by default 1 + Poisson, scaled to the budget):
        owners drawn by weight, the budget split by weight, each of its owner's type (or of
        ``kind``, an earmark), the other municipalities joining at random."""
        if budget <= 0:
            return []
        if n is None:
            n = 1 + int(rng.poisson(max(self.projects - 1.0, 0.0) * budget / board.budget))
        weights = board.weights
        owners = [a for a in weights if weights[a] > 0]
        w = np.array([weights[a] for a in owners])
        picks = [owners[i] for i in rng.choice(len(owners), size=n, p=w / w.sum())]
        share = np.array([weights[a] for a in picks])
        projects = []
        for owner, money in zip(picks, budget * share / share.sum(), strict=True):
            ptype = kind or owner.choose_type(rng)
            others = [m for m in board.municipalities if m is not owner]
            if ptype == "task_transfer":
                partners = board.trust.choose_partners(rng, ptype, board.network)
                partners = [m for m in partners if m is not owner]
            else:
                partners = [m for m in others if rng.random() < self.breadth]
            if owner.kind == "trust" and not partners:
                partners = [max(others or board.municipalities, key=lambda m: m.population)]
            projects.append(Project(community=board.community, lead=owner, partners=partners,
                                    type=ptype, budget=float(money),
                                    quality=owner.proposal_quality(rng), stream=self.name,
                                    duration=owner.draw_duration(rng)))
        return projects


@dataclass
class TwoStream:
    """The report's recommendation: one open call and one governance stream, both decided by
    the board; ``share`` of the budget goes through the open call."""

    name: ClassVar[str] = "two_stream"
    share: float = 0.5
    open_call: OpenCall = field(default_factory=OpenCall)
    governance: GovernanceLed = field(default_factory=GovernanceLed)

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> TwoStream:
        return cls(share=allocation.stream_share,
                   open_call=OpenCall.from_config(allocation, earmark),
                   governance=GovernanceLed.from_config(allocation, earmark))

    def allocate(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator
                 ) -> list[Project]:
        return (self.open_call.allocate(board, budget * self.share, rng)
                + self.governance.allocate(board, budget * (1 - self.share), rng))


@dataclass
class PerCapita:
    """Reference design: every municipality gets its population share to spend alone."""

    name: ClassVar[str] = "per_capita"

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> PerCapita:
        return cls()  # the earmark and the score levers do not apply

    def allocate(self, board: CollaborativeBoard, budget: float, rng: np.random.Generator
                 ) -> list[Project]:
        if budget <= 0:
            return []
        population = sum(m.population for m in board.municipalities)
        return [Project(community=board.community, lead=m, partners=[],
                        type=m.choose_type(rng), budget=budget * m.population / population,
                        duration=m.draw_duration(rng), quality=m.proposal_quality(rng),
                        stream=self.name, trust_party=False)
                for m in board.municipalities]


#: The registry: design name -> strategy class.
DESIGNS: dict[str, type[Design]] = {d.name: d for d in (OpenCall, GovernanceLed, TwoStream,
                                                         PerCapita, Lottery)}


def make_design(allocation: AllocationConfig, earmark: float = 0.0) -> Design:
    """The design named by ``allocation.design``, with its parameters."""
    try:
        design = DESIGNS[allocation.design]
    except KeyError:
        raise ValueError(f"allocation.design: got {allocation.design!r}; allowed: "
                         f"{', '.join(DESIGNS)}") from None
    return design.from_config(allocation, earmark)
