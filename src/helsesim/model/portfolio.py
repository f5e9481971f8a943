"""The portfolio of funded projects: who gets the money, what it buys, what projects do while
they run, how they end, and what their effects on the labour market are each year.

:class:`ProjectPortfolio` is the one owner of the funded projects and their life cycle. It
changes the agents' state (benefits, experience, knowledge, services, information) and tells
the workforce, once a year, what the projects do to each employer
(:meth:`Workforce.set_project_effects`).

Money has a dose (:mod:`helsesim.model.dose`): a project's yearly money, less what
coordinating its parties costs (seed 003), reaches each party in proportion to its benefit
share, and every effect is the dose response of that money per unit it acts on.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from helsesim.model.dose import dose_response
from helsesim.model.draws import logistic

if TYPE_CHECKING:
    from helsesim.config import HostParams, ProjectParams, TrustParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality
    from helsesim.model.board import CollaborativeBoard
    from helsesim.model.levers import Levers
    from helsesim.model.projects import Project
    from helsesim.model.workforce import Workforce

#: Mean anchoring assumed for a project without municipal parties.
ANCHORING_WITHOUT_MUNICIPALITIES = 0.7
#: Effects whose level has faded below this are dropped.
FADED = 1e-3
#: Types whose effect acts on the labour market (retention, attraction).
LABOUR_TYPES = ("recruitment", "personnel_pool", "competence")


class ProjectPortfolio:
    """Funded projects and their life cycle.

    Attributes:
        projects: every funded project, in funding order.
        new: funded this year.
        active: funded and not yet ended.
        ended: ended (implemented or failed) this year.
        lasting: ended projects whose labour effect lives on (surviving) or fades.
        retention_fte: FTE of staff whose quit hazard projects removed, this year (the
            retention share times the filled FTE, summed over employers).
    """

    def __init__(self, params: ProjectParams, transfer: TrustParams, host: HostParams,
                 levers: Levers, workforce: Workforce, trusts: dict[str, HealthTrust],
                 rng: np.random.Generator, rng_host: np.random.Generator) -> None:
        self.params = params
        self.transfer = transfer
        self.host = host
        self.levers = levers
        self.workforce = workforce
        self.trusts = trusts  # community -> its health trust
        self.rng = rng
        self.rng_host = rng_host  # who is represented in a project's steering
        self.projects: list[Project] = []
        self.new: list[Project] = []
        self.active: list[Project] = []
        self.ended: list[Project] = []
        self.lasting: list[Project] = []
        self.retention_fte = 0.0
        positions = workforce.positions
        #: Share of each employer's positions that are nurses and doctors (the target of
        #: recruitment work, seed 004 line 30).
        self._target_share = positions[:, :2].sum(axis=1) / np.maximum(positions.sum(axis=1),
                                                                        1e-9)

    def start_year(self) -> None:
        self.new = []

    # -- funding ----------------------------------------------------------------------------
    def fund(self, board: CollaborativeBoard, project: Project, year: int) -> None:
        """Record a funded project: attribute its money to the parties, count experience, set
        its hosts' and partners' information and what its money buys."""
        project.project_id, project.year, project.status = len(self.projects), year, "active"
        project.benefit = self.attribute(project, board.trust)
        project.first_timers = {m for m in project.municipalities if m.experience == 0}
        for a, b in project.benefit.items():
            a.benefit += b
        board.municipal_money += sum([b for a, b in project.benefit.items()
                                      if a.kind == "municipality"])
        project.lead.projects_led += 1
        for m in project.municipalities:
            m.experience += 1
            m.active_year = year
            m.voluntary_projects += project.voluntary
            if m is not project.lead:
                m.projects_joined += 1
        board.trust.experience += 1
        self.inform(project)
        self.dose(project, board.trust)
        self.projects.append(project)
        self.new.append(project)
        self.active.append(project)

    def attribute(self, project: Project, trust: HealthTrust) -> dict[Employer, float]:
        """Who gets a project's money (NOK): the trust its share when it takes part; of the
        rest, a municipal lead its share and the partners the remainder by population."""
        params = self.params
        if not project.trust_party or project.type == "task_transfer":
            trust_share = 0.0  # transition support goes to the receiving municipalities
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
            population = sum([m.population for m in partners])
            for m in partners:
                benefit[m] = benefit.get(m, 0.0) + municipal_money * m.population / population
        elif project.lead.kind == "trust":  # no municipality took part: it stays with the trust
            benefit[trust] = benefit.get(trust, 0.0) + municipal_money
        return benefit

    def coordination_fte(self, n_municipalities: int) -> float:
        """FTE a year a project needs to coordinate its municipal parties (seed 003): none for
        one, else the host's share plus a share per party to the exponent."""
        host = self.host
        if n_municipalities < 2:
            return 0.0
        return (host.coordination_lead_fte
                + host.coordination_party_fte * n_municipalities ** host.coordination_exponent)

    def inform(self, project: Project) -> None:
        """Each municipal party's information about the project: the host (lead) has it all; a
        partner lacks some, more when not represented in steering, in a project with many
        members, or when small (seed 003)."""
        host = self.host
        n = len(project.municipalities)
        members_gap = host.info_gap_base + host.info_gap_members * math.log(max(n, 1))
        info = {}
        for m in project.municipalities:
            if m is project.lead:
                info[m] = 1.0
                continue
            represented = self.rng_host.random() < host.represented_share
            gap = (members_gap + host.info_gap_unrepresented * (not represented)
                   + host.info_gap_small * (m.size_class == "small"))
            info[m] = min(max(1.0 - gap, 0.0), 1.0)
        project.information = info

    def dose(self, project: Project, trust: HealthTrust) -> None:
        """What the project's money buys each party: the yearly money less coordination,
        split by benefit shares, as a dose response per unit the project's type acts on."""
        params = self.params
        yearly = project.money_per_year
        n = len(project.municipalities)
        project.coordination = min(yearly, self.coordination_fte(n) * params.cost_per_fte)
        left = yearly - project.coordination
        parties = list(project.benefit)
        if not parties or project.budget <= 0:
            project.response = {a: 0.0 for a in project.parties(trust)}
            return
        money = [left * project.benefit[a] / project.budget for a in parties]
        positions = self.workforce.positions
        kind = project.type
        if kind in ("recruitment", "personnel_pool"):  # open nurse and doctor posts
            open_posts = positions[:, :2] - self.workforce.filled[:, :2]
            units = [max(open_posts[a.employer_index].sum(), 1.0) for a in parties]
            half = params.half_dose_recruitment
        elif kind == "competence":  # the group of staff it trains
            units = [min(positions[a.employer_index].sum(), params.competence_reach)
                     for a in parties]
            half = params.half_dose_competence
        else:  # service development, support for a transferred service: per inhabitant
            units, half = [a.population for a in parties], params.half_dose_service
        if kind == "personnel_pool":  # one pool: the money and the target staff together
            response = float(dose_response(sum(money), sum(units), half,
                                           params.setup_cost * len(parties), params.dose_hill))
            project.response = dict.fromkeys(parties, response)
        else:
            response = dose_response(money, units, half, params.setup_cost, params.dose_hill)
            project.response = dict(zip(parties, response.tolist(), strict=True))
        if kind in LABOUR_TYPES:
            project.labour = self.labour_terms(project)

    def labour_terms(self, project: Project) -> list[tuple[int, float, float, float]]:
        """What a labour project does to each party at full level, per year: (employer index,
        share of its quit hazard removed, attraction added, student placements funded).

        recruitment and pools: the nurse and doctor quit hazard (their share of the
        employer's staff) falls by up to `recruitment_retention_max`, attractiveness rises by up
        to `recruitment_effect`, placements up to `recruitment_placements` per nurse and doctor
        position; competence: the quit hazard of the staff it trained falls by up to
        `competence_retention_max` (RETAIN element 8, professional development)."""
        params, positions = self.params, self.workforce.positions
        terms = []
        for a, response in project.response.items():
            effect = response * project.information.get(a, 1.0)
            if effect <= 0.0:
                continue
            i = a.employer_index
            if project.type == "competence":  # only the staff it trained
                reach = min(params.competence_reach / max(positions[i].sum(), 1e-9), 1.0)
                terms.append((i, params.competence_retention_max * effect * reach, 0.0, 0.0))
            else:
                target = positions[i, 0] + positions[i, 1]
                terms.append((i, params.recruitment_retention_max * effect
                              * self._target_share[i], params.recruitment_effect * effect,
                              params.recruitment_placements * effect * target))
        return terms

    # -- running ------------------------------------------------------------------------------
    def run(self, year: int) -> None:
        """Active projects act; those in their last year are implemented or fail, and
        implemented ones survive the end of funding or not (anchoring, capacity, knowledge,
        dose, coordination)."""
        params, rng = self.params, self.rng
        for pr in self.active:
            municipalities = pr.municipalities
            for m in municipalities:
                m.active_year = year
                m.note_information(pr.information.get(m, 1.0), m is not pr.lead)
            if pr.type == "competence":
                for m in municipalities:
                    gain = params.competence_knowledge * pr.response.get(m, 0.0)
                    m.knowledge += gain * pr.information.get(m, 1.0) * (1 - m.knowledge)
            if pr.end_year != year:
                continue
            n = len(municipalities)
            anchoring = (sum([m.anchoring for m in municipalities]) / n if n
                         else ANCHORING_WITHOUT_MUNICIPALITIES)
            knowledge = sum([m.knowledge for m in municipalities]) / n if n else 0.0
            # the dose where the project is to be implemented: its municipal parties (the
            # trust's own share acts on the hospital side, not modelled)
            doses = ([pr.response.get(m, 0.0) for m in municipalities] if n
                     else list(pr.response.values()))
            dose = sum(doses) / len(doses) if doses else 0.0
            log_capacity = math.log(max(pr.lead.capacity, 1e-9))
            x = (params.implement_intercept + params.implement_anchoring * anchoring
                 + params.implement_capacity * log_capacity
                 + params.implement_knowledge * knowledge + params.implement_dose * dose
                 - params.coordination_cost * self.coordination_fte(n)
                 / max(pr.lead.capacity, 1e-9))
            if rng.random() < logistic(x):
                pr.status = "implemented"
                pr.survives = bool(rng.random() < logistic(
                    params.survive_intercept + params.survive_anchoring * anchoring
                    + params.survive_capacity * log_capacity))
                self._implement(pr)
            else:
                pr.status = "failed"
            if pr.type in LABOUR_TYPES:
                self.lasting.append(pr)
        self.ended = [pr for pr in self.active if pr.status != "active"]
        self.active = [pr for pr in self.active if pr.status == "active"]

    def _implement(self, pr: Project) -> None:
        """What an implemented project leaves behind."""
        params, trust = self.params, self.trusts[pr.community]
        for a, b in pr.benefit.items():
            bonus = params.first_timer_gain if a in pr.first_timers else 0.0
            a.realised_benefit += b * (1 + bonus) * pr.information.get(a, 1.0)
        if pr.type == "service_development":
            for m in pr.municipalities:
                m.service_level += (params.service_level_gain * pr.response.get(m, 0.0)
                                    * pr.information.get(m, 1.0) * (1 + m.knowledge)
                                    * (1.0 if pr.survives else 0.5))
        elif pr.type == "task_transfer":
            self.transfer_service(trust, pr.municipalities, pr.compensation_share)

    def transfer_service(self, trust: HealthTrust, municipalities: list[Municipality],
                         compensation: float) -> None:
        """The trust hands a service over: its yearly cost and the nurse positions move to the
        municipalities, and the trust pays the negotiated share of the cost."""
        trust.transfers += 1
        population = sum(m.population for m in municipalities)
        self.workforce.transfer_positions(
            trust, municipalities, self.transfer.transfer_staff_per_1000 * population / 1000)
        cost = 0.0
        for m in municipalities:
            service = self.transfer.transfer_cost_per_capita * m.population
            m.services_taken += 1
            m.shift_cost += service
            m.shift_compensation += compensation * service
            cost += service
        trust.relieve(cost, compensation)

    # -- what projects do to the labour market --------------------------------------------------
    def labour_effects(self, year: int) -> None:
        """Tell the workforce what running and lasting projects do to each employer this year:
        the share of the quit hazard removed (recruitment: of nurses and doctors; competence:
        professional development), the attractiveness added for job seekers, the student
        placements funded and the shared personnel pools. A project's effects hold while it
        runs and after it if it survives; otherwise they fade at `recruitment_persistence`."""
        params, workforce = self.params, self.workforce
        n = len(workforce.employers)
        kept = np.zeros(n)  # log of the share of the quit hazard left
        attraction = np.zeros(n)
        placements = np.zeros(n)
        pools: list[np.ndarray] = []
        lasting = []
        for pr in self.lasting:
            if not pr.survives:
                pr.level = params.recruitment_persistence ** (year - pr.end_year)
            if pr.level >= FADED:
                lasting.append(pr)
        self.lasting = lasting
        for pr in (*(p for p in self.active if p.type in LABOUR_TYPES), *lasting):
            running = pr.status == "active"
            if pr.type == "personnel_pool" and (running or pr.survives):
                pools.append(np.array([a.employer_index for a in pr.response], dtype=np.int64))
            level = pr.level
            for i, retention, attract, placed in pr.labour:
                kept[i] += math.log1p(-retention * level)
                attraction[i] += attract * level
                if running:
                    placements[i] += placed * level
        retention = -np.expm1(kept)
        self.retention_fte = float((retention * workforce.filled.sum(axis=1)).sum())
        workforce.set_project_effects(retention, attraction, placements, pools)
