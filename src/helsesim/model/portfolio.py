"""The portfolio of funded projects: who gets the money, what projects do while they run, how
they end, and how their recruitment effects fade.

:class:`ProjectPortfolio` is the one owner of the funded projects and their life cycle. It
changes the agents' state (benefits, experience, knowledge, services) and asks the workforce to
move positions and attractiveness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from helsesim.model.draws import logistic

if TYPE_CHECKING:
    from helsesim.config import ProjectParams, TrustParams
    from helsesim.model.agents import Employer, HealthTrust
    from helsesim.model.board import CollaborativeBoard
    from helsesim.model.levers import Levers
    from helsesim.model.projects import Project
    from helsesim.model.workforce import Workforce

#: Mean anchoring assumed for a project without municipal parties.
ANCHORING_WITHOUT_MUNICIPALITIES = 0.7


class ProjectPortfolio:
    """Funded projects and their life cycle.

    Attributes:
        projects: every funded project, in funding order.
        new: funded this year.
        active: funded and not yet ended.
        ended: ended (implemented or failed) this year.
        fading: recruitment projects whose effect fades (failed or not surviving).
    """

    def __init__(self, params: ProjectParams, transfer: TrustParams, levers: Levers,
                 workforce: Workforce, trusts: dict[str, HealthTrust],
                 rng: np.random.Generator) -> None:
        self.params = params
        self.transfer = transfer
        self.levers = levers
        self.workforce = workforce
        self.trusts = trusts  # community -> its health trust
        self.rng = rng
        self.projects: list[Project] = []
        self.new: list[Project] = []
        self.active: list[Project] = []
        self.ended: list[Project] = []
        self.fading: list[Project] = []

    def start_year(self) -> None:
        self.new = []

    def fund(self, board: CollaborativeBoard, project: Project, year: int) -> None:
        """Record a funded project: attribute its money to the parties, count experience."""
        project.project_id, project.year, project.status = len(self.projects), year, "active"
        project.benefit = self.attribute(project, board.trust)
        project.first_timers = {m for m in project.municipalities if m.experience == 0}
        for a, b in project.benefit.items():
            a.benefit += b
        board.municipal_money += sum(b for a, b in project.benefit.items()
                                     if a.kind == "municipality")
        project.lead.projects_led += 1
        for m in project.municipalities:
            m.experience += 1
            m.active_year = year
            if m is not project.lead:
                m.projects_joined += 1
        board.trust.experience += 1
        self.projects.append(project)
        self.new.append(project)
        self.active.append(project)

    def attribute(self, project: Project, trust: HealthTrust) -> dict[Employer, float]:
        """Who gets a project's money (NOK): the trust its share when it takes part; of the
        rest, a municipal lead its share and the partners the remainder by population."""
        params = self.params
        if not project.trust_party:
            trust_share = 0.0
        elif project.lead.kind == "trust":
            trust_share = params.trust_benefit_own
        else:
            trust_share = params.trust_benefit_partner
        benefit: dict[Employer, float] = {}
        if trust_share > 0:
            benefit[trust] = project.budget * trust_share
        municipal_money = project.budget * (1 - trust_share)
        partners = list(project.partners)
        if project.lead.kind == "municipality":
            lead_part = municipal_money if not partners else municipal_money * params.lead_benefit
            benefit[project.lead] = lead_part
            municipal_money -= lead_part
        if partners:
            population = sum(m.population for m in partners)
            for m in partners:
                benefit[m] = benefit.get(m, 0.0) + municipal_money * m.population / population
        elif project.lead.kind == "trust":  # no municipality took part: it stays with the trust
            benefit[trust] = benefit.get(trust, 0.0) + municipal_money
        return benefit

    def run(self, year: int) -> None:
        """Active projects act; those in their last year are implemented or fail, and
        implemented ones survive the end of funding or not (anchoring, capacity, partners)."""
        params, rng = self.params, self.rng
        for pr in self.active:
            municipalities = pr.municipalities
            for m in municipalities:
                m.active_year = year
            if pr.type == "competence":
                for m in municipalities:
                    m.knowledge += params.competence_knowledge * (1 - m.knowledge)
            elif pr.type == "recruitment" and pr.year == year:
                # seed 004: single measures help little; long, coordinated work helps more
                pr.gain = params.recruitment_effect * (pr.duration / 3) ** 0.5 * (
                    1 + 0.5 * min(len(municipalities) - 1, 4) / 4)
                self.workforce.raise_attractiveness(pr.parties(self.trusts[pr.community]),
                                                    pr.gain)
            if pr.end_year != year:
                continue
            anchoring = (np.mean([m.anchoring for m in municipalities]) if municipalities
                         else ANCHORING_WITHOUT_MUNICIPALITIES)
            log_capacity = np.log(max(pr.lead.capacity, 1e-9))
            x = (params.implement_intercept + params.implement_anchoring * anchoring
                 + params.implement_capacity * log_capacity
                 - params.coordination_cost * len(pr.partners))
            if rng.random() < logistic(x):
                pr.status = "implemented"
                pr.survives = bool(rng.random() < logistic(
                    params.survive_intercept + params.survive_anchoring * anchoring
                    + params.survive_capacity * log_capacity))
                self._implement(pr)
            else:
                pr.status = "failed"
            if pr.type == "recruitment" and not pr.survives:
                self.fading.append(pr)
        self.ended = [pr for pr in self.active if pr.status != "active"]
        self.active = [pr for pr in self.active if pr.status == "active"]

    def _implement(self, pr: Project) -> None:
        """What an implemented project leaves behind."""
        params, trust = self.params, self.trusts[pr.community]
        for a, b in pr.benefit.items():
            bonus = params.first_timer_gain if a in pr.first_timers else 0.0
            a.realised_benefit += b * (1 + bonus)
        if pr.type == "service_development":
            for m in pr.municipalities:
                m.service_level += params.service_level_gain * (1.0 if pr.survives else 0.5)
        elif pr.type == "task_transfer":
            trust.transfers += 1
            municipalities = pr.municipalities
            population = sum(m.population for m in municipalities)
            self.workforce.transfer_positions(
                trust, municipalities,
                self.transfer.transfer_staff_per_1000 * population / 1000)
            for m in municipalities:
                cost = self.transfer.transfer_cost_per_capita * m.population
                m.services_taken += 1
                m.shift_cost += cost
                m.shift_compensation += self.levers.compensate(cost)

    def fade_recruitment_effects(self, year: int) -> None:
        """Recruitment effects fade after their project ends, unless it lives on."""
        persistence = self.params.recruitment_persistence
        for pr in self.fading:
            if pr.end_year < year:
                loss = pr.gain * (1 - persistence)
                self.workforce.lower_attractiveness(pr.parties(self.trusts[pr.community]), loss)
                pr.gain -= loss
