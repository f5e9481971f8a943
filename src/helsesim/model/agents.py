"""Agents of a health community and their decisions: municipalities, the health trust and the
inter-municipal coordinator.

An agent decides (whether to apply, with whom, whether to join, whether the trust agrees, which
type of project, how much to ask for, whether to put a service up for transfer) and keeps its own
state (trust, knowledge, experience, benefits). The processes it takes part in own what is shared:
its staff are a row of the :class:`~helsesim.model.workforce.Workforce`, its ties are edges of the
:class:`~helsesim.model.network.CollaborationNetwork`. Every agent is built with the parameter
groups it decides by, and every random draw uses the generator passed in.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np
from mesa import Agent, Model

from helsesim.model.draws import logistic, weighted_index, weighted_sample
from helsesim.model.projects import PROJECT_TYPES, Project

if TYPE_CHECKING:
    from helsesim.config import ModelParams, ParticipationParams, ProjectParams
    from helsesim.model.board import CollaborativeBoard
    from helsesim.model.network import CollaborationNetwork
    from helsesim.model.workforce import Workforce

class MunicipalityRow(Protocol):
    """A municipality of the data (``data.Community.rows``)."""

    municipality_id: str
    name: str
    population: int
    x_km: float
    y_km: float


#: Inhabitants at which capacity is 1 and the size terms vanish.
REFERENCE_POPULATION = 10_000
#: Experience counts up to this many projects.
EXPERIENCE_CAP = 5


class Employer(Agent):
    """What municipalities and trusts share: a node of the network, a row of the workforce, and
    the way they choose and price a project.

    Attributes:
        node: the node id in the collaboration graph.
        community: key of the health community.
        initial_positions: FTE needed per profession at the start (the workforce's first row).
        base_attractiveness: the place as a workplace (a municipality's size and remoteness, the
            hospital's own), the part of its attractiveness that does not change (7.10).
    """

    kind: ClassVar[str] = "employer"
    workforce: Workforce  # set when the workforce is built (join_workforce)
    participation: ParticipationParams

    def __init__(self, model: Model, node: str, community: str, project: ProjectParams
                 ) -> None:
        super().__init__(model)
        self.node = node
        self.community = community
        self.project_params = project
        self.employer_index = -1  # its row of the workforce (join_workforce)
        self.initial_positions = np.zeros(3)
        self.base_attractiveness = 0.0
        self.capacity = 1.0
        self.benefit = 0.0  # NOK of RS money attributed, cumulative
        self.realised_benefit = 0.0  # NOK of benefit from implemented projects, cumulative
        self.projects_led = 0
        self.seats = 0

    # -- the workforce's row (read-only views; the Workforce changes them) --------------------
    def join_workforce(self, workforce: Workforce, index: int) -> None:
        self.workforce, self.employer_index = workforce, index

    @property
    def positions(self) -> np.ndarray:
        """FTE needed per profession."""
        return self.workforce.positions[self.employer_index]

    @property
    def filled(self) -> np.ndarray:
        """FTE filled per profession."""
        return self.workforce.filled[self.employer_index]

    @property
    def vacancy_share(self) -> float:
        return self.workforce.vacancy_shares[self.employer_index]

    @property
    def attractiveness(self) -> float:
        """Absolute attractiveness as an employer (the workforce's, 7.10: place, workload,
        professional environment, knowledge, projects; mean over professions)."""
        return float(self.workforce.attractiveness()[self.employer_index])

    # -- proposing ------------------------------------------------------------------------------
    def choose_type(self, rng: np.random.Generator, earmark: float = 0.0) -> str:
        """Choose a project type from needs: recruitment and a shared personnel pool grow with
        the own vacancy rate. A call that earmarks a share of its money for recruitment draws
        proposals to it (content aligns with the call's priorities, seed 000 line 26): the
        recruitment types gain ``earmark_alignment`` x the earmark of the choice."""
        project = self.project_params
        pull = 1 + project.vacancy_pull * self.vacancy_share
        weights = [project.weight_service_development, project.weight_competence,
                   project.weight_recruitment * pull, project.weight_personnel_pool * pull]
        tilt = project.earmark_alignment * earmark
        if tilt > 0:
            total, recruiting = sum(weights), weights[2] + weights[3]
            # the recruitment types' share becomes s + tilt (1 - s), split as before
            target = recruiting / total + tilt * (1 - recruiting / total)
            scale = (target * total / recruiting if recruiting > 0 else 0.0)
            if recruiting > 0:
                weights[2] *= scale
                weights[3] *= scale
                others = (1 - target) * total / (weights[0] + weights[1])
                weights[0] *= others
                weights[1] *= others
        return PROJECT_TYPES[weighted_index(rng, weights)]

    def request_budget(self, rng: np.random.Generator, n_partners: int,
                       money_scale: float = 1.0) -> float:
        """The budget asked for: larger for a lead of larger capacity, with more partners, and
        when more money is on offer (``money_scale``, the board's)."""
        project = self.project_params
        return float(project.base_budget * self.capacity ** project.budget_elasticity
                     * (1 + project.budget_per_partner * n_partners) * money_scale
                     * math.exp(project.budget_sd * rng.standard_normal()))

    def money_on_offer(self, board: CollaborativeBoard) -> float:
        """Log of the money the board offers per eligible actor over `money_reference`: more
        money on offer, more and larger proposals."""
        reference = self.participation.money_reference
        return math.log(max(board.money_per_actor, 1.0) / reference)

    def ask_scale(self, board: CollaborativeBoard) -> float:
        """Factor on the budget asked for, from the money on offer (`ask_elasticity`)."""
        return math.exp(self.participation.ask_elasticity * self.money_on_offer(board))

    def draw_duration(self, rng: np.random.Generator) -> int:
        """1, 2 or 3 years, by ``duration_weights``."""
        return weighted_index(rng, self.project_params.duration_weights) + 1

    def proposal_quality(self, rng: np.random.Generator) -> float:
        raise NotImplementedError


class Municipality(Employer):
    """A municipality (kommune): population, capacity, anchoring, trust, services, benefits."""

    kind = "municipality"

    def __init__(self, model: Model, row: MunicipalityRow, hospital_km: float, community: str,
                 params: ModelParams, rng: np.random.Generator) -> None:
        """``row`` is a municipality of the data (``municipality_id``, ``name``,
        ``population``, ``x_km``, ``y_km``); ``rng`` draws anchoring, trust and experience."""
        super().__init__(model, row.municipality_id, community, params.project)
        self.participation = params.participation
        self.trust_update = params.trust_update
        self.municipality_id: str = row.municipality_id
        self.name: str = row.name
        self.population: int = int(row.population)
        self.x_km, self.y_km = float(row.x_km), float(row.y_km)
        traits, labour = params.municipality, params.labour
        if self.population < traits.small_threshold:
            self.size_class = "small"
        elif self.population < traits.large_threshold:
            self.size_class = "medium"
        else:
            self.size_class = "large"
        self.capacity = (self.population / REFERENCE_POPULATION) ** traits.capacity_elasticity
        self.log_capacity = math.log(self.capacity)
        a = traits.anchoring_mean * traits.anchoring_concentration
        self.anchoring = float(rng.beta(a, traits.anchoring_concentration - a))
        self.trust = min(max(float(rng.normal(traits.initial_trust, traits.initial_trust_sd)),
                             0.0), 1.0)
        self.experience = int(rng.poisson(traits.initial_experience * self.capacity))
        self.initial_experience = self.experience
        self.hospital_km = hospital_km
        per_head = ((self.population / REFERENCE_POPULATION) ** labour.staffing_elasticity
                    * self.population / 1000)
        self.initial_positions = np.array([labour.nurse_per_1000, labour.doctor_per_1000,
                                           labour.health_worker_per_1000]) * per_head
        self.base_attractiveness = (
            labour.size_attraction * math.log(self.population / REFERENCE_POPULATION)
            - labour.remoteness_penalty * self.hospital_km / 100)
        self.knowledge = 0.0  # share of good practices adopted (0-1)
        self.service_level = 0.0  # services developed through projects
        self.services_taken = 0  # services taken over from the trust
        self.shift_cost = 0.0  # NOK/yr of services taken over
        self.shift_compensation = 0.0  # NOK/yr paid by the trust for them
        self.fair_share = 0.0  # NOK: the municipal money split per capita (set each year)
        self.projects_joined = 0
        self.active_year = -1  # last year it was party to a funded or running project
        self.host_params = params.host
        #: Information about the community's collaboration this year (0-1): the mean over its
        #: running projects (host 1, partner less, seed 003), else what a member learns on the
        #: board or without a seat (:meth:`update_information`).
        self.information = 1.0 - params.host.info_gap_base
        self.partner_years = 0  # project-years as a partner (not the host), cumulative
        self.partner_information = 0.0  # information summed over those project-years
        self._information_sum, self._information_n = 0.0, 0
        self.voluntary_projects = 0  # funded projects it chose to lead or join (P5)
        self.voice = 0.0
        self.support = 0.0  # coordinator support (0-1)
        self.region = -1

    @property
    def uncompensated_shift(self) -> float:
        return self.shift_cost - self.shift_compensation

    def note_information(self, information: float, as_partner: bool) -> None:
        """A running project's information this year (seed 003: partners know less)."""
        self._information_sum += information
        self._information_n += 1
        if as_partner:
            self.partner_years += 1
            self.partner_information += information

    def update_information(self) -> None:
        """This year's information: the mean over its running projects; without any, what a
        member learns on the board (a seat) or lacks without one."""
        host = self.host_params
        if self._information_n:
            self.information = self._information_sum / self._information_n
        else:
            gap = (host.info_gap_base + host.info_gap_unrepresented * (not self.seats)
                   + host.info_gap_small * (self.size_class == "small"))
            self.information = min(max(1.0 - gap, 0.0), 1.0)
        self._information_sum, self._information_n = 0.0, 0

    def willingness(self, intercept: float) -> float:
        """Logit of taking part: capacity, experience (Matthew effect), trust, cost."""
        participation = self.participation
        cost = participation.apply_cost * (1.0 - self.support) / self.capacity
        return (intercept + participation.apply_capacity * self.log_capacity
                + participation.apply_experience * min(self.experience, EXPERIENCE_CAP)
                + participation.apply_trust * (self.trust - 0.5) - cost)

    # -- decisions -------------------------------------------------------------------------------
    def prepare_proposals(self, rng: np.random.Generator, board: CollaborativeBoard) -> None:
        """Open call: decide how many proposals to lead, form a consortium for each, and seek
        the trust's agreement; hand the agreed ones to the board."""
        participation = self.participation
        offer = self.money_on_offer(board)
        scale = math.exp(participation.ask_elasticity * offer)
        will = (self.willingness(participation.apply_intercept)
                + participation.apply_need * self.vacancy_share + participation.apply_money * offer)
        n = 0
        while n < participation.max_proposals and rng.random() < logistic(will - n):
            n += 1
        for _ in range(n):
            # the agreement with the trust comes first (the Agder call: anchoring and a signed
            # agreement before the application); without it there is no proposal
            if rng.random() > board.trust.agreement(self):
                continue
            kind = self.choose_type(rng, board.call_earmark)
            partners = self.invite_partners(rng, board.network)
            board.receive(Project(community=self.community, lead=self, partners=partners,
                                  type=kind, budget=self.request_budget(
                                      rng, len(partners), scale),
                                  duration=self.draw_duration(rng),
                                  quality=self.proposal_quality(rng), voluntary=True))

    def invite_partners(self, rng: np.random.Generator, network: CollaborationNetwork
                        ) -> list[Municipality]:
        """Invite neighbours in the network, stronger ties first; each decides to join."""
        participation = self.participation
        want = int(rng.poisson(participation.partner_mean
                               * self.capacity ** participation.partner_exponent))
        if want == 0:
            return []
        candidates, weights = network.partner_candidates(self)
        if not candidates:
            return []
        picks = weighted_sample(rng, weights, min(want, len(candidates)))
        return [candidates[i] for i in picks if candidates[i].accepts(rng)]

    def accepts(self, rng: np.random.Generator) -> bool:
        """Accept an invitation to partner."""
        return bool(rng.random() < logistic(self.willingness(self.participation.join_intercept)))

    def proposal_quality(self, rng: np.random.Generator) -> float:
        """Application quality: capacity, experience, practice and coordinator support."""
        project = self.project_params
        return (project.quality_capacity * self.log_capacity
                + project.quality_experience * min(self.experience, EXPERIENCE_CAP)
                + project.quality_knowledge * self.knowledge
                + project.quality_support * self.support
                + project.quality_noise * rng.standard_normal())

    def update_trust(self) -> None:
        """Trust moves towards perceived fairness: benefit vs fair share, voice, how informed
        it is about the collaboration (seed 003), shifted cost."""
        update = self.trust_update
        ratio = self.benefit / self.fair_share if self.fair_share > 0 else 1.0
        shift = min(self.uncompensated_shift / self.population / update.shift_reference, 1.0)
        perceived = (update.fairness_baseline + update.fairness_benefit * math.tanh(ratio - 1.0)
                     + update.fairness_voice * (self.voice - 0.5)
                     + update.fairness_information * (self.information - 1.0)
                     - update.fairness_shift * shift)
        target = min(max(perceived, 0.0), 1.0)
        self.trust = min(max(self.trust + update.trust_rate * (target - self.trust), 0.0), 1.0)


class HealthTrust(Employer):
    """The health trust (helseforetak): hospital staff, cost pressure, proposals, partners."""

    kind = "trust"

    def __init__(self, model: Model, node: str, community: str, name: str,
                 municipalities: list[Municipality], params: ModelParams) -> None:
        super().__init__(model, node, community, params.project)
        self.participation = params.participation
        self.transfer_params = params.trust
        self.name = name
        self.municipalities = municipalities  # those it serves
        self.population = sum(m.population for m in municipalities)  # inhabitants served
        self.capacity = ((self.population / REFERENCE_POPULATION)
                         ** params.municipality.capacity_elasticity)
        self.experience = 0  # funded projects of its community (a count; reported only)
        labour = params.labour
        self.initial_positions = np.array([
            labour.hospital_nurse_per_1000, labour.hospital_doctor_per_1000,
            labour.hospital_health_worker_per_1000]) * self.population / 1000
        self.base_attractiveness = labour.trust_attractiveness
        self.knowledge = 0.0  # the trust's adopted practice (0-1): none modelled yet
        self.information = 1.0  # the trust takes part in every joint project
        self.need_growth = labour.need_growth
        self.cost_per_fte = params.project.cost_per_fte
        #: Yearly cost growth its funding has not covered, as a share of its budget (Innst.
        #: 387 S: 80 % of cost growth funded); transfers relieve it.
        self.cost_gap = 0.0
        self.cost_pressure = 0.0
        self.transfer_pending = False
        self.transfers = 0
        # partners are likelier the larger they are (and the closer the tie)
        self._partner_size = np.array([m.population ** 0.5 for m in municipalities])

    def proposal_quality(self, rng: np.random.Generator) -> float:
        project = self.project_params
        return (project.quality_capacity * math.log(self.capacity) + project.trust_quality
                + project.quality_noise * rng.standard_normal())

    # -- decisions -------------------------------------------------------------------------------
    @property
    def operating_budget(self) -> float:
        """NOK a year: its positions priced at the cost of an FTE, over labour's share."""
        return (float(self.positions.sum()) * self.cost_per_fte
                / self.transfer_params.labour_cost_share)

    def review_costs(self, rng: np.random.Generator) -> None:
        """Cost pressure: activity growth its funding does not cover accumulates, and its
        vacancies cost agency staff and overtime; the higher the pressure, the likelier it puts
        a service up for transfer to the municipalities this year."""
        params = self.transfer_params
        self.cost_gap += self.need_growth * (1.0 - params.funded_growth_share)
        self.cost_pressure = self.cost_gap + params.trust_vacancy_cost * self.vacancy_share
        p0 = min(max(params.transfer_propensity, 1e-9), 1 - 1e-9)
        x = math.log(p0 / (1 - p0)) + params.transfer_pressure * self.cost_pressure / 0.01
        self.transfer_pending = bool(rng.random() < logistic(x))

    def relieve(self, cost: float, compensation: float) -> None:
        """A service of yearly ``cost`` handed over: the trust saves `saving_ratio` times it and
        pays the negotiated share; what is left lowers its cost gap (not below 0)."""
        saving = (self.transfer_params.saving_ratio - compensation) * cost
        self.cost_gap = max(self.cost_gap - saving / max(self.operating_budget, 1.0), 0.0)

    def agreement(self, lead: Municipality) -> float:
        """Chance that the trust agrees to a municipality's proposal (higher with trust)."""
        return self.participation.trust_agree * (0.5 + 0.5 * lead.trust)

    def choose_partners(self, rng: np.random.Generator, kind: str,
                        network: CollaborationNetwork) -> list[Municipality]:
        """Municipalities the trust works with on a project: larger and closer-tied ones are
        likelier. A transfer is decided for them; others are invited and decide."""
        municipalities = self.municipalities
        if kind == "task_transfer":
            k = max(1, round(self.transfer_params.transfer_partners * len(municipalities)))
        else:
            k = min(len(municipalities),
                    1 + int(rng.poisson(self.transfer_params.trust_partner_mean)))
        weights = self._partner_size * (network.trust_ties(self) + 0.05)
        chosen = [municipalities[i] for i in weighted_sample(rng, weights, k)]
        if kind == "task_transfer":
            return chosen
        return [m for m in chosen if m.accepts(rng)]

    def prepare_proposals(self, rng: np.random.Generator, board: CollaborativeBoard) -> None:
        """Open call: the trust leads proposals (more when more money is on offer), with the
        municipalities it works most with."""
        # beyond e**50 the cap of max_proposals binds anyway (and exp would overflow)
        mean = self.transfer_params.proposals * math.exp(
            min(self.participation.apply_money * self.money_on_offer(board), 50.0))
        for _ in range(min(int(rng.poisson(mean)), self.participation.max_proposals)):
            kind = self.choose_type(rng, board.call_earmark)
            partners = self.choose_partners(rng, kind, board.network)
            if not partners:
                continue
            budget = self.request_budget(rng, len(partners), self.ask_scale(board))
            board.receive(Project(community=self.community, lead=self, partners=partners,
                                  type=kind, budget=budget, duration=self.draw_duration(rng),
                                  quality=self.proposal_quality(rng), voluntary=True))


class Coordinator(Agent):
    """Inter-municipal coordinator (seed 001): a catalyst that supports small municipalities."""

    kind = "coordinator"

    def __init__(self, model: Model, community: str, strength: float) -> None:
        super().__init__(model)
        self.community = community
        self.strength = strength

    def support(self, municipalities: list[Municipality]) -> None:
        """Lower small municipalities' cost of taking part and raise their voice."""
        for m in municipalities:
            if m.size_class == "small":
                m.support = self.strength
                if m.seats == 0:
                    m.voice = max(m.voice, 0.5 * self.strength)
