"""Allocation designs: interchangeable strategies in one registry, selected by name.

A design is built from its configuration (:meth:`from_config`: the ``allocation`` group and the
recruitment earmark, a lever) and turns a board, the year's money and a random generator into
funded projects (``Project`` records with their ``budget`` set). It decides from the agents'
behaviour: proposals come from ``board.call_for_proposals`` (municipalities and the trust decide
whether to apply, with whom and for how much, given the money on offer), scores from
``board.score``, and the agenda of governance-developed projects from the board's members'
needs and influence within its capacity (:meth:`GovernanceLed.develop`). Every design funds by
the same rule (:func:`fund_in_order`: in order, the marginal proposal partly); what it does not
commit carries over (``HealthSystem.allocate``). The model never branches on a design's name.
This module does not import Mesa.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from helsesim.model.projects import RECRUITMENT_TYPES, Project

if TYPE_CHECKING:
    from helsesim.config import AllocationConfig
    from helsesim.model.board import CollaborativeBoard


class Design(Protocol):
    name: ClassVar[str]

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> Design:
        """The design with its parameters from the ``allocation`` group."""

    def allocate(self, board: CollaborativeBoard, money: float, rng: np.random.Generator
                 ) -> list[Project]:
        """Funded projects whose budgets sum to at most ``money``."""


def grant(proposal: Project, left: float, min_share: float) -> float | None:
    """What a proposal gets from ``left``: its ask if it fits, else all that is left if that
    is at least ``min_share`` of the ask (partial funding of the marginal proposal), else
    nothing (None)."""
    if proposal.budget <= left:
        return proposal.budget
    if left > 0 and left >= min_share * proposal.budget:
        return left
    return None


def fund_in_order(proposals: list[Project], order: Iterable[int], budget: float,
                  earmark: float = 0.0, min_share: float = 1.0) -> list[Project]:
    """Fund proposals in the given order while money is left; the one that does not fit is
    offered what is left if that is at least ``min_share`` of its ask (its budget shrinks).

    ``earmark`` (a share of the budget) is first spent on recruitment proposals (recruitment
    and personnel pools) only; what it does not use goes to the general pool.
    """
    order = list(order)
    funded: list[Project] = []
    taken = set()
    reserved = budget * earmark
    for i in order if earmark > 0 else ():
        pr = proposals[i]
        if pr.type in RECRUITMENT_TYPES:
            money = grant(pr, reserved, min_share)
            if money is not None:
                pr.budget = money
                reserved -= money
                funded.append(pr)
                taken.add(i)
    left = budget - (budget * earmark - reserved)
    for i in order:
        if i in taken:
            continue
        pr = proposals[i]
        money = grant(pr, left, min_share)
        if money is not None:
            pr.budget = money
            left -= money
            funded.append(pr)
    return funded


@dataclass
class OpenCall:
    """Open, application-based call: agents apply, the board scores and funds in rank order."""

    name: ClassVar[str] = "open_call"
    earmark: float = 0.0  # share of the money first spent on recruitment proposals
    min_share: float = 0.5  # least share of its ask the marginal proposal accepts

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> OpenCall:
        return cls(earmark=earmark, min_share=allocation.min_grant_share)

    def allocate(self, board: CollaborativeBoard, money: float, rng: np.random.Generator
                 ) -> list[Project]:
        if money <= 0:
            return []
        proposals = board.call_for_proposals(rng, money, self.earmark)
        for pr in proposals:
            pr.stream = self.name
        if not proposals:
            return []
        scores = board.score(proposals, rng)
        for pr, s in zip(proposals, scores, strict=True):
            pr.score = float(s)
        asks = np.array([pr.budget for pr in proposals])
        return fund_in_order(proposals, self.order(scores, asks, money, rng), money,
                             self.earmark, self.min_share)

    def order(self, scores: np.ndarray, asks: np.ndarray, money: float,
              rng: np.random.Generator) -> np.ndarray:
        """The order in which proposals are funded: by score, best first."""
        return np.argsort(-scores, kind="stable")


@dataclass
class Lottery(OpenCall):
    """Partial lottery: when the proposals scoring above a quantile bar ask for more than the
    money, they are funded in random order (the rest after them by score); otherwise all of
    them, then the rest, by score."""

    name: ClassVar[str] = "lottery"
    bar: float = 0.5  # score quantile a proposal must reach to enter the draw

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> Lottery:
        return cls(earmark=earmark, min_share=allocation.min_grant_share,
                   bar=allocation.lottery_bar)

    def order(self, scores: np.ndarray, asks: np.ndarray, money: float,
              rng: np.random.Generator) -> np.ndarray:
        by_score = np.argsort(-scores, kind="stable")
        above = scores >= np.quantile(scores, self.bar)
        if asks[above].sum() <= money:
            return by_score
        return np.concatenate([rng.permutation(np.flatnonzero(above)),
                               by_score[~above[by_score]]])


@dataclass
class GovernanceLed:
    """No call: the board develops projects itself. Its members put items on the agenda in
    proportion to their influence and needs; it develops as many as its capacity allows, each
    as large as its owner's need-based ask with community-wide partners, until the money runs
    out (the marginal item partly)."""

    name: ClassVar[str] = "governance_led"
    capacity: float = 2.5  # agenda items the board can develop in a year
    breadth: float = 0.6  # share of the other municipalities that join a project
    earmark: float = 0.0  # share of the money spent as one joint recruitment project
    min_share: float = 0.5  # least share of its ask the marginal item accepts

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> GovernanceLed:
        return cls(capacity=allocation.governance_projects,
                   breadth=allocation.governance_breadth, earmark=earmark,
                   min_share=allocation.min_grant_share)

    def allocate(self, board: CollaborativeBoard, money: float, rng: np.random.Generator
                 ) -> list[Project]:
        projects = self.develop(board, money * (1 - self.earmark), rng)
        if self.earmark > 0:  # the earmarked share becomes one joint recruitment project
            projects += self.develop(board, money * self.earmark, rng, n=1, kind="recruitment")
        return projects

    def agenda_weights(self, board: CollaborativeBoard) -> tuple[list, np.ndarray]:
        """Members who can put items on the agenda (a positive influence) and their weights:
        influence times need (vacancies; the trust's also its cost pressure)."""
        need_weight = board.params.agenda_need
        owners = [a for a, w in board.weights.items() if w > 0]
        need = np.array([a.vacancy_share + (a.cost_pressure if a.kind == "trust" else 0.0)
                         for a in owners])
        w = np.array([board.weights[a] for a in owners]) * (1.0 + need_weight * need)
        return owners, w

    def develop(self, board: CollaborativeBoard, money: float, rng: np.random.Generator,
                n: int | None = None, kind: str | None = None) -> list[Project]:
        """The board's agenda: up to its capacity (``n`` items for an earmark, which takes
        all its money), each item's owner drawn by influence times need, of its owner's type
        (or ``kind``), the other municipalities joining at random, its budget the owner's ask
        while the money lasts."""
        if money <= 0:
            return []
        if n is None:
            n = int(self.capacity) + int(rng.random() < self.capacity % 1)
        board.offer(money)
        owners, w = self.agenda_weights(board)
        projects: list[Project] = []
        left = money
        for i in rng.choice(len(owners), size=n, p=w / w.sum()) if n else ():
            owner = owners[i]
            board.count_proposal(owner)
            ptype = kind or owner.choose_type(rng)
            others = [m for m in board.municipalities if m is not owner]
            partners = [m for m in others if rng.random() < self.breadth]
            if owner.kind == "trust" and not partners:
                partners = [max(others or board.municipalities, key=lambda m: m.population)]
            ask = (left if kind else
                   owner.request_budget(rng, len(partners), owner.ask_scale(board)))
            project = Project(community=board.community, lead=owner, partners=partners,
                              type=ptype, budget=ask, quality=owner.proposal_quality(rng),
                              stream=self.name, duration=owner.draw_duration(rng))
            money = grant(project, left, self.min_share)
            if money is None or money <= 0:
                break
            project.budget = money
            left -= project.budget
            projects.append(project)
        return projects


@dataclass
class TwoStream:
    """The report's recommendation: one open call and one governance stream, both decided by
    the board; ``share`` of the money goes through the open call."""

    name: ClassVar[str] = "two_stream"
    share: float = 0.5
    open_call: OpenCall = field(default_factory=OpenCall)
    governance: GovernanceLed = field(default_factory=GovernanceLed)

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> TwoStream:
        return cls(share=allocation.stream_share,
                   open_call=OpenCall.from_config(allocation, earmark),
                   governance=GovernanceLed.from_config(allocation, earmark))

    def allocate(self, board: CollaborativeBoard, money: float, rng: np.random.Generator
                 ) -> list[Project]:
        return (self.open_call.allocate(board, money * self.share, rng)
                + self.governance.allocate(board, money * (1 - self.share), rng))


@dataclass
class PerCapita:
    """Reference design: every municipality gets its population share to spend alone."""

    name: ClassVar[str] = "per_capita"

    @classmethod
    def from_config(cls, allocation: AllocationConfig, earmark: float) -> PerCapita:
        return cls()  # the earmark and the score levers do not apply

    def allocate(self, board: CollaborativeBoard, money: float, rng: np.random.Generator
                 ) -> list[Project]:
        if money <= 0:
            return []
        population = sum(m.population for m in board.municipalities)
        return [Project(community=board.community, lead=m, partners=[],
                        type=m.choose_type(rng), budget=money * m.population / population,
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
