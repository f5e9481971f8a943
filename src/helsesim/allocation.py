"""Allocation designs: interchangeable strategies in one registry, selected by name.

A design turns a board, its yearly budget and a random generator into a list of funded
projects (``Project`` records with their ``budget`` set). It decides from the agents'
behaviour: proposals come from ``board.call_for_proposals`` (municipalities and the trust decide
whether to apply and with whom), the agenda of governance-developed projects from the board's
influence weights, and scores from ``board.score``. The model never branches on a design's name.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from helsesim.projects import Project


class Design(Protocol):
    name: ClassVar[str]

    def allocate(self, board, budget: float, rng: np.random.Generator) -> list[Project]:
        """Funded projects whose budgets sum to at most ``budget``."""


def fund_in_order(proposals: list[Project], order, budget: float, earmark: float = 0.0
                  ) -> list[Project]:
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


class OpenCall:
    """Open, application-based call: agents apply, the board scores and funds in rank order."""

    name = "open_call"

    def allocate(self, board, budget, rng):
        proposals = board.call_for_proposals(rng)
        for pr in proposals:
            pr.stream = self.name
        if not proposals:
            return []
        scores = board.score(proposals, rng)
        for pr, s in zip(proposals, scores, strict=True):
            pr.score = float(s)
        return fund_in_order(proposals, self.order(board, scores, rng), budget,
                             board.model.cfg.levers.recruitment_earmark)

    def order(self, board, scores: np.ndarray, rng) -> np.ndarray:
        """The order in which proposals are funded: by score, best first."""
        return np.argsort(-scores, kind="stable")


class GovernanceLed:
    """No call: the board develops fewer, larger, community-wide projects itself."""

    name = "governance_led"

    def allocate(self, board, budget, rng):
        earmark = board.model.cfg.levers.recruitment_earmark
        projects = board.develop_projects(budget * (1 - earmark), rng, stream=self.name)
        if earmark > 0:  # the earmarked share becomes one joint recruitment project
            projects += board.develop_projects(budget * earmark, rng, stream=self.name, n=1,
                                               kind="recruitment")
        return projects


class TwoStream:
    """The report's recommendation: one open call and one governance stream, both decided by
    the board; ``allocation.stream_share`` of the budget goes through the open call."""

    name = "two_stream"

    def allocate(self, board, budget, rng):
        share = board.model.cfg.allocation.stream_share
        return (OpenCall().allocate(board, budget * share, rng)
                + GovernanceLed().allocate(board, budget * (1 - share), rng))


class PerCapita:
    """Reference design: every municipality gets its population share to spend alone."""

    name = "per_capita"

    def allocate(self, board, budget, rng):
        p = board.model.p.project
        from helsesim.agents import draw_duration

        if budget <= 0:
            return []
        pop = sum(m.population for m in board.municipalities)
        return [Project(community=board.community, lead=m, partners=[],
                        type=m.choose_type(rng, p), budget=budget * m.population / pop,
                        duration=draw_duration(rng, p), quality=m.proposal_quality(rng),
                        stream=self.name, trust_party=False)
                for m in board.municipalities]


class Lottery(OpenCall):
    """Partial lottery: proposals scoring above a quantile bar are drawn at random."""

    name = "lottery"

    def order(self, board, scores, rng):
        bar = np.quantile(scores, board.model.cfg.allocation.lottery_bar)
        return rng.permutation(np.flatnonzero(scores >= bar))


#: The registry: design name -> strategy class.
DESIGNS: dict[str, type] = {d.name: d for d in (OpenCall, GovernanceLed, TwoStream, PerCapita,
                                                 Lottery)}


def make_design(name: str) -> Design:
    """The strategy registered under ``name``."""
    try:
        return DESIGNS[name]()
    except KeyError:
        raise ValueError(f"allocation.design: got {name!r}; allowed: "
                         f"{', '.join(DESIGNS)}") from None
