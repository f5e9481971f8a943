"""Agents of a health community: municipalities, the health trust, the board and a coordinator.

Behaviour lives here; the model (``model.py``) owns state shared between agents and the yearly
schedule. Every random draw uses the generator passed in by the model.
"""

from __future__ import annotations

import math

import numpy as np
from mesa import Agent
from mesa.discrete_space import FixedAgent

from helsesim.projects import PROJECT_TYPES, Project

PROFESSIONS = ("nurse", "doctor", "health_worker")


def logistic(x: float) -> float:
    # exp overflows beyond 709; the chance is 0 to double precision long before
    return 1.0 / (1.0 + math.exp(min(-x, 700.0)))


def weighted_index(rng, weights) -> int:
    """One index drawn with probability proportional to ``weights`` (inverse CDF)."""
    u = rng.random() * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def weighted_sample(rng, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct indices drawn with probability proportional to ``weights``, without
    replacement (Efraimidis & Spirakis 2006: the k largest u^(1/w)), in ascending order."""
    keys = np.log(rng.random(len(weights))) / weights
    return np.sort(np.argsort(-keys, kind="stable")[:k])


def set_vacancy_shares(employers: list, positions: np.ndarray, filled: np.ndarray) -> None:
    """Set each employer's ``vacancy_share`` from its row of ``positions`` and ``filled``:
    vacancies over rounded positions, all professions together."""
    pos = np.round(positions)
    share = np.maximum(pos - filled, 0).sum(axis=1) / np.maximum(pos.sum(axis=1), 1)
    for e, v in zip(employers, share.tolist(), strict=True):
        e.vacancy_share = v


class Employer(FixedAgent):
    """Common state of employers that compete for staff in the labour pool."""

    kind = "employer"

    def _init_workforce(self, positions: np.ndarray, fill: float) -> None:
        self.positions = positions.astype(float)  # FTE needed per profession
        self.filled = np.floor(self.positions * fill).astype(np.int64)  # FTE filled
        self.attractiveness_bonus = 0.0  # from recruitment projects
        self.vacancy_share = float("nan")  # set by the board (refresh_vacancies)


class Municipality(Employer):
    """A municipality (kommune): population, capacity, anchoring, trust, workforce, services."""

    kind = "municipality"

    def __init__(self, model, cell, community: str, row, hospital_km: float, p) -> None:
        super().__init__(model)
        self.cell = cell
        self.node = cell.coordinate  # node id in the collaboration graph
        self.community = community
        self.municipality_id: str = row.municipality_id
        self.name: str = row.name
        self.population: int = int(row.population)
        self.x_km, self.y_km = float(row.x_km), float(row.y_km)
        mp, lp = p.municipality, p.labour
        if self.population < mp.small_threshold:
            self.size_class = "small"
        elif self.population < mp.large_threshold:
            self.size_class = "medium"
        else:
            self.size_class = "large"
        rng = model.rng_init
        self.capacity = (self.population / 10_000) ** mp.capacity_elasticity
        self.log_capacity = math.log(self.capacity)
        a = mp.anchoring_mean * mp.anchoring_concentration
        self.anchoring = float(rng.beta(a, mp.anchoring_concentration - a))
        self.trust = min(max(float(rng.normal(mp.initial_trust, mp.initial_trust_sd)), 0.0), 1.0)
        self.experience = int(rng.poisson(mp.initial_experience * self.capacity))
        self.initial_experience = self.experience
        self.hospital_km = hospital_km
        per_head = (self.population / 10_000) ** lp.staffing_elasticity * self.population / 1000
        self._init_workforce(np.array([lp.nurse_per_1000, lp.doctor_per_1000,
                                       lp.health_worker_per_1000]) * per_head, lp.initial_fill)
        self.knowledge = 0.0  # share of good practices adopted (0-1)
        self.service_level = 0.0  # services developed through projects
        self.services_taken = 0  # services taken over from the trust
        self.shift_cost = 0.0  # NOK/yr of services taken over
        self.shift_compensation = 0.0  # NOK/yr paid by the trust for them
        self.benefit = 0.0  # NOK of RS money attributed, cumulative
        self.fair_share = 0.0  # NOK: the municipal money split per capita (set each year)
        self.realised_benefit = 0.0  # NOK of benefit from implemented projects, cumulative
        self.projects_led = 0
        self.projects_joined = 0
        self.active_year = -1  # last year it was party to a funded project
        self.seats = 0
        self.voice = 0.0
        self.support = 0.0  # coordinator support (0-1)
        self.region = -1

    # -- perception ----------------------------------------------------------------------------
    @property
    def uncompensated_shift(self) -> float:
        return self.shift_cost - self.shift_compensation

    def attractiveness(self, lp) -> float:
        return (lp.size_attraction * math.log(self.population / 10_000)
                - lp.remoteness_penalty * self.hospital_km / 100 + self.attractiveness_bonus)

    def _willingness(self, intercept: float, pp) -> float:
        """Logit of taking part: capacity, experience (Matthew effect), trust, cost."""
        cost = pp.apply_cost * (1.0 - self.support) / self.capacity
        return (intercept + pp.apply_capacity * self.log_capacity
                + pp.apply_experience * min(self.experience, 5)
                + pp.apply_trust * (self.trust - 0.5) - cost)

    # -- behaviour -----------------------------------------------------------------------------
    def choose_type(self, rng, pj) -> str:
        """Choose a project type from needs: recruitment grows with the own vacancy rate."""
        return PROJECT_TYPES[weighted_index(rng, (
            pj.weight_service_development, pj.weight_competence,
            pj.weight_recruitment * (1 + pj.vacancy_pull * self.vacancy_share)))]

    def prepare_proposals(self, rng, board) -> None:
        """Open call: decide whether to lead proposals, form a consortium, seek the trust."""
        p = self.model.p
        pp = p.participation
        n, will = 0, self._willingness(pp.apply_intercept, pp)
        while n < pp.max_proposals and rng.random() < logistic(will - n):
            n += 1
        for _ in range(n):
            kind = self.choose_type(rng, p.project)
            partners = self.invite_partners(rng, board)
            if rng.random() > board.trust.agreement(self, pp):
                continue  # no agreement with the trust: no proposal
            board.receive(Project(community=self.community, lead=self, partners=partners,
                                  type=kind, budget=self.request_budget(rng, len(partners)),
                                  duration=draw_duration(rng, p.project),
                                  quality=self.proposal_quality(rng)))

    def invite_partners(self, rng, board) -> list:
        """Invite neighbours in the network, stronger ties first; each decides to join."""
        pp = self.model.p.participation
        want = int(rng.poisson(pp.partner_mean * self.capacity ** pp.partner_exponent))
        if want == 0:
            return []
        cands, w = board.ties_from(self)
        if not cands:
            return []
        picks = weighted_sample(rng, w, min(want, len(cands)))
        return [cands[i] for i in picks if cands[i].accepts(rng)]

    def accepts(self, rng) -> bool:
        pp = self.model.p.participation
        return bool(rng.random() < logistic(self._willingness(pp.join_intercept, pp)))

    def request_budget(self, rng, n_partners: int) -> float:
        pj = self.model.p.project
        return float(pj.base_budget * self.capacity ** pj.budget_elasticity
                     * (1 + pj.budget_per_partner * n_partners)
                     * math.exp(pj.budget_sd * rng.standard_normal()))

    def proposal_quality(self, rng) -> float:
        """Application quality: capacity, experience, practice and coordinator support."""
        pj = self.model.p.project
        return (pj.quality_capacity * self.log_capacity
                + pj.quality_experience * min(self.experience, 5)
                + pj.quality_knowledge * self.knowledge + pj.quality_support * self.support
                + pj.quality_noise * rng.standard_normal())

    def update_trust(self, tp) -> None:
        """Trust moves towards perceived fairness: benefit vs fair share, voice, shifted cost."""
        ratio = self.benefit / self.fair_share if self.fair_share > 0 else 1.0
        shift = min(self.uncompensated_shift / self.population / tp.shift_reference, 1.0)
        perceived = (tp.fairness_baseline + tp.fairness_benefit * math.tanh(ratio - 1.0)
                     + tp.fairness_voice * (self.voice - 0.5) - tp.fairness_shift * shift)
        target = min(max(perceived, 0.0), 1.0)
        self.trust = min(max(self.trust + tp.trust_rate * (target - self.trust), 0.0), 1.0)


class HealthTrust(Employer):
    """The health trust (helseforetak): hospital staff, cost pressure, proposals."""

    kind = "trust"

    def __init__(self, model, cell, community: str, name: str, population: int, p) -> None:
        super().__init__(model)
        self.cell = cell
        self.node = cell.coordinate  # node id in the collaboration graph
        self.community = community
        self.name = name
        self.population = population  # inhabitants served
        self.capacity = (population / 10_000) ** p.municipality.capacity_elasticity
        self.experience = 0  # funded projects of its community (a count; reported only)
        lp = p.labour
        self._init_workforce(np.array([lp.hospital_nurse_per_1000, lp.hospital_doctor_per_1000,
                                       lp.hospital_health_worker_per_1000]) * population / 1000,
                             lp.initial_fill)
        self.transfer_pending = False
        self.benefit = 0.0
        self.realised_benefit = 0.0
        self.projects_led = 0
        self.transfers = 0
        self.seats = 0

    def attractiveness(self, lp) -> float:
        return lp.trust_attractiveness + self.attractiveness_bonus

    def proposal_quality(self, rng) -> float:
        pj = self.model.p.project
        return (pj.quality_capacity * math.log(self.capacity) + pj.trust_quality
                + pj.quality_noise * rng.standard_normal())

    def review_costs(self, rng) -> None:
        """Under cost pressure, the trust may put a service up for transfer this year."""
        self.transfer_pending = bool(rng.random() < self.model.p.trust.transfer_propensity)

    def agreement(self, lead: Municipality, pp) -> float:
        """Chance that the trust agrees to a municipality's proposal (higher with trust)."""
        return pp.trust_agree * (0.5 + 0.5 * lead.trust)

    def choose_type(self, rng, pj) -> str:
        if self.transfer_pending:
            self.transfer_pending = False
            return "task_transfer"
        return PROJECT_TYPES[weighted_index(rng, (
            pj.weight_service_development, pj.weight_competence,
            pj.weight_recruitment * (1 + pj.vacancy_pull * self.vacancy_share)))]

    def prepare_proposals(self, rng, board) -> None:
        """Open call: the trust leads proposals, with the municipalities it works most with."""
        p = self.model.p
        n = int(rng.poisson(p.trust.proposals)) + int(self.transfer_pending)
        for _ in range(n):
            kind = self.choose_type(rng, p.project)
            partners = board.trust_partners(rng, kind)
            if not partners:
                continue
            budget = (p.project.base_budget * self.capacity ** p.project.budget_elasticity
                      * (1 + p.project.budget_per_partner * len(partners))
                      * math.exp(p.project.budget_sd * rng.standard_normal()))
            board.receive(Project(community=self.community, lead=self, partners=partners,
                                  type=kind, budget=float(budget),
                                  duration=draw_duration(rng, p.project),
                                  quality=self.proposal_quality(rng)))


class Coordinator(Agent):
    """Inter-municipal coordinator (seed 001): a catalyst that supports small municipalities."""

    kind = "coordinator"

    def __init__(self, model, community: str, strength: float) -> None:
        super().__init__(model)
        self.community = community
        self.strength = strength

    def support(self, municipalities) -> None:
        """Lower small municipalities' cost of taking part and raise their voice."""
        for m in municipalities:
            if m.size_class == "small":
                m.support = self.strength
                if m.seats == 0:
                    m.voice = max(m.voice, 0.5 * self.strength)


class CollaborativeBoard(Agent):
    """The strategic collaborative board (SSU): seats, influence, scoring and funding.

    Seats: the trust's members; the largest municipalities; one representative (the largest)
    for each regional group of the others; seats reserved for small municipalities (a lever).
    """

    kind = "board"

    def __init__(self, model, community: str, trust: HealthTrust, municipalities: list,
                 regions: list[list[str]], budget: float, rng) -> None:
        super().__init__(model)
        self.community = community
        self.trust = trust
        self.municipalities = municipalities
        self.budget = budget  # NOK/yr
        # the community's workforce as one array per quantity; each employer's ``positions``
        # and ``filled`` are views of its row, so yearly updates are vectorized
        self.employers = [trust, *municipalities]
        self.bind_workforce(np.array([e.positions for e in self.employers]),
                            np.array([e.filled for e in self.employers]))
        self.population = sum(m.population for m in municipalities)
        self.municipal_money = 0.0  # NOK of RS money attributed to municipalities, cumulative
        self.proposals: list[Project] = []
        self._trust_ties: list | None = None  # built at first use (trust_partners)
        p, lv = model.p, model.cfg.levers
        bp = p.board
        trust.seats = bp.trust_seats
        by_id = {m.municipality_id: m for m in municipalities}
        for r, ids in enumerate(regions):
            for i in ids:
                by_id[i].region = r
        ranked = sorted(municipalities, key=lambda m: (-m.population, m.municipality_id))
        for m in ranked[: bp.large_seats]:
            m.seats = 1
        for ids in regions:  # one representative per region: its largest unseated member
            group = [by_id[i] for i in ids if not by_id[i].seats]
            if group:
                max(group, key=lambda m: (m.population, m.municipality_id)).seats = 1
        small = [m for m in municipalities if m.size_class == "small" and m.seats == 0]
        k = min(lv.reserved_small_seats, len(small))
        if k:
            for i in sorted(rng.choice(len(small), size=k, replace=False)):
                small[i].seats = 1
        for m in municipalities:
            m.voice = 1.0 if m.seats else 0.0
        self.weights = {a: self._weight(a) for a in [trust, *municipalities]}
        # the coordinator speaks for the small municipalities without a seat: up to one seat's
        # weight, shared between them (seed 001: the catalyst role)
        unseated = [m for m in municipalities if m.size_class == "small" and not m.seats]
        if lv.capacity_support > 0 and unseated:
            w = lv.capacity_support / len(unseated)
            for m in unseated:
                self.weights[m] = w
        self.total_weight = sum(self.weights.values())
        self.vote_shares = {a: w / self.total_weight for a, w in self.weights.items()}

    def _weight(self, agent) -> float:
        """Voting weight: seats, times capacity unless every seat counts the same."""
        if not agent.seats:
            return 0.0
        if self.model.cfg.levers.equal_votes:
            return float(agent.seats)
        return agent.seats * agent.capacity ** self.model.p.board.capacity_influence

    def bind_workforce(self, positions: np.ndarray, filled: np.ndarray) -> None:
        """Hold the community's workforce in these arrays (one row per employer, the trust
        first; views of the model's arrays) and make each employer's rows views of them."""
        self.positions, self.filled = positions, filled
        for i, e in enumerate(self.employers):
            e.positions, e.filled = positions[i], filled[i]

    def refresh_vacancies(self) -> None:
        """Each employer's vacancy share after positions or staff changed."""
        set_vacancy_shares(self.employers, self.positions, self.filled)

    def influence(self, agent) -> float:
        """Share of the board's votes an agent holds (0 without a seat)."""
        return self.vote_shares.get(agent, 0.0)

    # -- proposals --------------------------------------------------------------------------
    def receive(self, proposal: Project) -> None:
        self.proposals.append(proposal)

    def call_for_proposals(self, rng) -> list[Project]:
        """Open call: the municipalities (in random order) and the trust prepare proposals."""
        self.proposals = []
        for m in self.model.random.sample(self.municipalities, len(self.municipalities)):
            m.prepare_proposals(rng, self)
        self.trust.prepare_proposals(rng, self)
        out, self.proposals = self.proposals, []
        return out

    def ties_from(self, agent):
        """Municipalities of this community tied to ``agent``, with tie strengths."""
        cands, edges = self.model.municipal_ties(agent)
        return cands, np.array([e["tie"] + 1e-3 for e in edges])

    def trust_partners(self, rng, kind: str) -> list:
        """Municipalities the trust invites: larger and closer-tied ones are likelier."""
        p = self.model.p
        ms = self.municipalities
        if kind == "task_transfer":
            k = max(1, round(p.trust.transfer_partners * len(ms)))
        else:
            k = min(len(ms), 1 + int(rng.poisson(p.trust.trust_partner_mean)))
        if self._trust_ties is None:  # the trust-municipality edges (their dicts are updated)
            g, t = self.model.graph, self.trust.node
            self._trust_ties = [g.edges[t, m.node] for m in ms]
            self._root_population = np.array([m.population ** 0.5 for m in ms])
        w = self._root_population * (np.array([e["tie"] for e in self._trust_ties]) + 0.05)
        chosen = [ms[i] for i in weighted_sample(rng, w, k)]
        if kind == "task_transfer":  # transfers are decided for the municipalities
            return chosen
        return [m for m in chosen if m.accepts(rng)]

    def develop_projects(self, budget: float, rng, stream: str = "governance_led",
                         n: int | None = None, kind: str | None = None) -> list:
        """Governance-led: the board develops a few large projects on an agenda set in
        proportion to influence; the other municipalities take part as partners.

        ``n`` projects (by default 1 + Poisson, scaled to the budget) of the owners' chosen
        type, or of ``kind`` when given (an earmark)."""
        p, ac = self.model.p, self.model.cfg.allocation
        if budget <= 0:
            return []
        if n is None:
            n = 1 + int(rng.poisson(max(ac.governance_projects - 1.0, 0.0) * budget / self.budget))
        owners = [a for a in self.weights if self.weights[a] > 0]
        w = np.array([self.weights[a] for a in owners])
        picks = [owners[i] for i in rng.choice(len(owners), size=n, p=w / w.sum())]
        share = np.array([self.weights[a] for a in picks])
        projects = []
        for owner, b in zip(picks, budget * share / share.sum(), strict=True):
            ptype = kind or owner.choose_type(rng, p.project)
            others = [m for m in self.municipalities if m is not owner]
            if ptype == "task_transfer":
                partners = self.trust_partners(rng, ptype)
                partners = [m for m in partners if m is not owner]
            else:
                partners = [m for m in others if rng.random() < ac.governance_breadth]
            if owner.kind == "trust" and not partners:
                partners = [max(others or self.municipalities, key=lambda m: m.population)]
            projects.append(Project(community=self.community, lead=owner, partners=partners,
                                    type=ptype, budget=float(b),
                                    quality=owner.proposal_quality(rng), stream=stream,
                                    duration=draw_duration(rng, p.project)))
        return projects

    def score(self, proposals: list[Project], rng) -> np.ndarray:
        """Board scores: quality, priority fit, breadth, proposers' influence, levers, noise."""
        bp, lv = self.model.p.board, self.model.cfg.levers
        pop, shares = self.population, self.vote_shares
        out = np.empty(len(proposals))
        for i, pr in enumerate(proposals):
            ms = pr.municipalities
            prio = getattr(bp, f"priority_{pr.type}")
            breadth = sum(m.population for m in ms) / pop
            infl = min(1.0, sum(shares.get(a, 0.0) for a in pr.parties(self.trust)))
            small = sum(m.size_class == "small" for m in ms) / max(len(ms), 1)
            out[i] = (bp.score_quality * pr.quality + bp.score_priority * prio
                      + bp.score_breadth * breadth + bp.score_influence * infl
                      + lv.recruitment_weight * (pr.type == "recruitment")
                      + lv.equity_weight * small + bp.score_noise * rng.standard_normal())
        return out


def draw_duration(rng, pj) -> int:
    return weighted_index(rng, pj.duration_weights) + 1


__all__ = ["Municipality", "HealthTrust", "CollaborativeBoard", "Coordinator", "PROFESSIONS"]
