"""HealthSystem: municipalities and health trusts collaborate in health communities and share
the RS grant, year by year.

Each health community (helsefellesskap) has one health trust (helseforetak), its municipalities
(kommuner), a strategic collaborative board (SSU) and, as a lever, an inter-municipal
coordinator. Every year needs grow, the trust may put services up for transfer, the board
allocates the RS grant by the design in use, projects act, staff move between employers, practice
spreads along ties, ties and trust update, and data are collected. See docs/ODD.md.
"""

from __future__ import annotations

import inspect
import logging

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network

from helsesim import data, reporters
from helsesim.agents import (
    PROFESSIONS,
    CollaborativeBoard,
    Coordinator,
    HealthTrust,
    Municipality,
    logistic,
    set_vacancy_shares,
)
from helsesim.allocation import make_design
from helsesim.config import SimConfig
from helsesim.labour import Flows, labour_years
from helsesim.network import build_network, regional_groups, trust_node

logging.getLogger("MESA").setLevel(logging.WARNING)

NATIONAL_POPULATION = 5_550_203  # 1 Jan 2024, Statistics Norway (anchors-domain §1.3)
_NETWORK_TAKES_LAYOUT = "layout" in inspect.signature(Network.__init__).parameters


class HealthSystem(mesa.Model):
    """One or more health communities over a common collaboration network.

    Args:
        cfg: a validated :class:`~helsesim.config.SimConfig`.
    """

    #: The yearly schedule: one step is one year (model brief §3).
    PHASES = ("grow_needs", "review_costs", "allocate", "run_projects", "labour_market",
              "spread_knowledge", "update_ties", "update_trust", "collect")

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg, self.p = cfg, cfg.params
        # independent streams per process (common random numbers): changing the allocation
        # design does not shift the draws of initialisation or the labour market
        streams = np.random.SeedSequence(cfg.seed).spawn(4)
        self.rng_init, self.rng_alloc, self.rng_projects, self.rng_labour = (
            np.random.default_rng(s) for s in streams)
        self.design = make_design(cfg.allocation.design)
        self.year = 0
        sc = cfg.scenario
        self.communities, land = data.load_scenario(
            sc.name, sc.n_municipalities, sc.synthetic_size_median, sc.synthetic_size_sigma,
            sc.synthetic_area_km, rng=self.rng_init)
        self.graph = build_network(self.communities, land, self.p.network,
                                   seed=int(self.rng_init.integers(2**31)))
        kw = {"layout": None} if _NETWORK_TAKES_LAYOUT else {}
        self.grid = Network(self.graph, capacity=1, random=self.random, **kw)
        self._agent_at: dict = {}
        self.edges = list(self.graph.edges(data=True))  # (u, v, attributes), in creation order
        self._edge_cache: dict = {}
        self._tie_cache: dict = {}  # agent -> its municipal ties (municipal_ties)
        self._moved_ties: dict = {}  # (u, v) -> edge attributes of ties off their base
        self._edge_version: dict = {}  # community -> edges added by projects
        self.boards: dict[str, CollaborativeBoard] = {}
        budgets = self._community_budgets()
        for comm in self.communities:
            self._build_community(comm, budgets[comm.key])
        self._pool_workforce()
        self.projects: list = []
        self.flows: dict[str, Flows] = {c.key: Flows() for c in self.communities}
        self.new_projects: list = []  # funded this year
        self.active_projects: list = []  # funded and not yet ended
        self.ended_projects: list = []  # ended (implemented or failed) this year
        self.fading_projects: list = []  # recruitment projects whose effect fades
        self._municipality_years: list[dict] = []  # agent-level data, one dict of columns a year
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters.MODEL_REPORTERS,
            tables={"communities": reporters.COMMUNITY_COLUMNS},
        )
        self.collect()

    # -- construction ---------------------------------------------------------------------------
    def _community_budgets(self) -> dict[str, float]:
        sc = self.cfg.scenario
        pops = {c.key: float(c.municipalities["population"].sum()) for c in self.communities}
        if sc.name != "norway":
            key = self.communities[0].key
            if sc.budget is not None:
                return {key: float(sc.budget)}
            return {key: sc.national_budget * pops[key] / NATIONAL_POPULATION}
        total = sc.national_budget if sc.budget is None else float(sc.budget)
        if sc.community_key == "equal":
            w = {k: 1.0 for k in pops}
        elif sc.community_key == "need_weighted":  # positions needed: more per head if small
            e = self.p.labour.staffing_elasticity
            w = {c.key: float(((c.municipalities["population"] / 10_000) ** e
                               * c.municipalities["population"]).sum())
                 for c in self.communities}
        else:
            w = pops
        s = sum(w.values())
        return {k: total * v / s for k, v in w.items()}

    def _build_community(self, comm, budget: float) -> None:
        munis = []
        for row, km in zip(comm.rows, comm.hospital_km.tolist(), strict=True):
            m = Municipality(self, self.grid[row.municipality_id], comm.key, row, km, self.p)
            self._agent_at[row.municipality_id] = m
            munis.append(m)
        t = HealthTrust(self, self.grid[trust_node(comm.key)], comm.key, comm.trust_name,
                        sum(m.population for m in munis), self.p)
        self._agent_at[trust_node(comm.key)] = t
        regions = regional_groups(self.graph, [m.municipality_id for m in munis],
                                  self.p.board.n_regions)
        board = CollaborativeBoard(self, comm.key, t, munis, regions, budget, self.rng_init)
        self.boards[comm.key] = board
        if self.cfg.levers.capacity_support > 0:
            Coordinator(self, comm.key, self.cfg.levers.capacity_support).support(munis)

    def _pool_workforce(self) -> None:
        """One array of positions and one of staff for every employer of every community
        (each board's block a view), so that the labour market moves all at once."""
        boards = list(self.boards.values())
        self.positions = np.concatenate([b.positions for b in boards])
        self.filled = np.concatenate([b.filled for b in boards])
        sizes = [len(b.employers) for b in boards]
        self._labour_starts = np.cumsum([0, *sizes[:-1]])
        for b, start, size in zip(boards, self._labour_starts.tolist(), sizes, strict=True):
            b.bind_workforce(self.positions[start:start + size],
                             self.filled[start:start + size])
        self._employers = [e for b in boards for e in b.employers]
        self._is_trust = np.array([e.kind == "trust" for e in self._employers])
        self._refresh_vacancies()

    def agent_at(self, node):
        return self._agent_at.get(node)

    @staticmethod
    def node_of(agent) -> str:
        return agent.node

    @property
    def municipalities(self):
        return self.agents_by_type[Municipality]

    @property
    def trusts(self):
        return self.agents_by_type[HealthTrust]

    # -- schedule ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One year: the named phases in order."""
        self.year += 1
        for phase in self.PHASES:
            getattr(self, phase)()

    def run(self, years: int | None = None) -> HealthSystem:
        for _ in range(self.cfg.years if years is None else years):
            self.step()
        return self

    def grow_needs(self) -> None:
        """Ageing: positions needed grow every year."""
        self.positions *= 1.0 + self.p.labour.need_growth  # in place: boards' blocks are views
        self._refresh_vacancies()

    def review_costs(self) -> None:
        """Each trust, under cost pressure, may put a service up for transfer."""
        self.trusts.do("review_costs", self.rng_alloc)

    def allocate(self) -> None:
        """Each board allocates its budget by the design in use; projects are funded."""
        self.new_projects = []
        for board in self.boards.values():
            funded = self.design.allocate(board, board.budget, self.rng_alloc)
            spent = sum(pr.budget for pr in funded)
            if spent > board.budget * (1 + 1e-9):
                raise RuntimeError(f"design {self.design.name} overspent in {board.community}")
            for pr in funded:
                self._fund(board, pr)

    def _fund(self, board, pr) -> None:
        """Record a funded project: attribute its money to the parties, count experience."""
        pj = self.p.project
        pr.project_id, pr.year, pr.status = len(self.projects), self.year, "active"
        ms = pr.municipalities
        if not pr.trust_party:
            tshare = 0.0
        elif pr.lead.kind == "trust":
            tshare = pj.trust_benefit_own
        else:
            tshare = pj.trust_benefit_partner
        benefit = {}
        if tshare > 0:
            benefit[board.trust] = pr.budget * tshare
        muni_money = pr.budget * (1 - tshare)
        partners = list(pr.partners)
        if pr.lead.kind == "municipality":
            lead_part = muni_money if not partners else muni_money * pj.lead_benefit
            benefit[pr.lead] = lead_part
            muni_money -= lead_part
        if partners:
            pop = sum(m.population for m in partners)
            for m in partners:
                benefit[m] = benefit.get(m, 0.0) + muni_money * m.population / pop
        elif pr.lead.kind == "trust":  # no municipality took part: the money stays with the trust
            benefit[board.trust] = benefit.get(board.trust, 0.0) + muni_money
        pr.benefit = benefit
        pr.first_timers = {m for m in ms if m.experience == 0}
        for a, b in benefit.items():
            a.benefit += b
        board.municipal_money += sum(b for a, b in benefit.items() if a.kind == "municipality")
        pr.lead.projects_led += 1
        for m in ms:
            m.experience += 1
            m.active_year = self.year
            if m is not pr.lead:
                m.projects_joined += 1
        board.trust.experience += 1
        self.projects.append(pr)
        self.new_projects.append(pr)
        self.active_projects.append(pr)

    def run_projects(self) -> None:
        """Active projects act; those in their last year are implemented or fail, and
        implemented ones survive the end of funding or not (anchoring, capacity, partners)."""
        pj, rng = self.p.project, self.rng_projects
        for pr in self.active_projects:
            ms = pr.municipalities
            for m in ms:
                m.active_year = self.year
            if pr.type == "competence":
                for a in ms:
                    a.knowledge += pj.competence_knowledge * (1 - a.knowledge)
            elif pr.type == "recruitment" and pr.year == self.year:
                # seed 004: single measures help little; long, coordinated work helps more
                gain = pj.recruitment_effect * (pr.duration / 3) ** 0.5 * (
                    1 + 0.5 * min(len(ms) - 1, 4) / 4)
                for a in pr.parties(self.boards[pr.community].trust):
                    a.attractiveness_bonus += gain
                pr.gain = gain
            if pr.end_year != self.year:
                continue
            anch = np.mean([m.anchoring for m in ms]) if ms else 0.7
            x = (pj.implement_intercept + pj.implement_anchoring * anch
                 + pj.implement_capacity * np.log(max(pr.lead.capacity, 1e-9))
                 - pj.coordination_cost * len(pr.partners))
            if rng.random() < logistic(x):
                pr.status = "implemented"
                pr.survives = bool(rng.random() < logistic(
                    pj.survive_intercept + pj.survive_anchoring * anch
                    + pj.survive_capacity * np.log(max(pr.lead.capacity, 1e-9))))
                self._implement(pr)
            else:
                pr.status = "failed"
            if pr.type == "recruitment" and not pr.survives:
                self.fading_projects.append(pr)
        self.ended_projects = [pr for pr in self.active_projects if pr.status != "active"]
        self.active_projects = [pr for pr in self.active_projects if pr.status == "active"]

    def _implement(self, pr) -> None:
        pj, p = self.p.project, self.p
        trust = self.boards[pr.community].trust
        for a, b in pr.benefit.items():
            bonus = pj.first_timer_gain if a in pr.first_timers else 0.0
            a.realised_benefit += b * (1 + bonus)
        if pr.type == "service_development":
            for m in pr.municipalities:
                m.service_level += pj.service_level_gain * (1.0 if pr.survives else 0.5)
        elif pr.type == "task_transfer":
            trust.transfers += 1
            ms = pr.municipalities
            pop = sum(m.population for m in ms)
            staff = p.trust.transfer_staff_per_1000 * pop / 1000
            moved = min(staff, trust.positions[0] * 0.5)
            trust.positions[0] -= moved
            for m in ms:
                cost = p.trust.transfer_cost_per_capita * m.population
                m.services_taken += 1
                m.shift_cost += cost
                m.shift_compensation += self.cfg.levers.compensation * cost
                m.positions[0] += moved * m.population / pop
            self.boards[pr.community].refresh_vacancies()

    def labour_market(self) -> None:
        """Staff quit, leave or move; job seekers choose employers by attractiveness."""
        lp = self.p.labour
        pj = self.p.project
        for pr in self.fading_projects:  # recruitment effects fade unless the project lives on
            if pr.end_year < self.year:
                loss = pr.gain * (1 - pj.recruitment_persistence)
                for a in pr.parties(self.boards[pr.community].trust):
                    a.attractiveness_bonus = max(a.attractiveness_bonus - loss, 0.0)
                pr.gain -= loss
        attract = np.array([e.attractiveness(lp) for e in self._employers])
        new, flows = labour_years(self.positions, self.filled, attract, self._is_trust, lp,
                                  self.rng_labour, self._labour_starts)
        self.filled[:] = new  # in place: the boards' blocks and employers' rows are views
        self._refresh_vacancies()
        self.flows = dict(zip(self.boards, flows, strict=True))

    def _refresh_vacancies(self) -> None:
        """Every employer's vacancy share after positions or staff changed."""
        set_vacancy_shares(self._employers, self.positions, self.filled)

    def spread_knowledge(self) -> None:
        """Practice spreads along ties, decaying with distance; a shared knowledge base lets
        everyone draw on the community's best practice (a lever)."""
        npar = self.p.network
        kb = self.cfg.levers.knowledge_base
        for board in self.boards.values():
            ms = board.municipalities
            k = np.array([m.knowledge for m in ms])
            i, j, edges, dist_w = self._muni_edges(board)
            w = np.array([e["tie"] for e in edges]) * dist_w
            pull = (np.bincount(i, w * np.maximum(k[j] - k[i], 0), len(ms))
                    + np.bincount(j, w * np.maximum(k[i] - k[j], 0), len(ms)))
            wsum = np.bincount(i, w, len(ms)) + np.bincount(j, w, len(ms))
            absorb = np.array([m.capacity / (1 + m.capacity) for m in ms])
            gain = npar.spread_rate * absorb * pull / np.maximum(wsum, 1.0)
            gain += kb * npar.spread_rate * np.maximum(k.max() - k, 0.0)
            new = np.minimum(1.0, k * (1 - npar.knowledge_decay) + gain)
            for m, v in zip(ms, new, strict=True):
                m.knowledge = float(v)

    def municipal_ties(self, agent):
        """Municipalities of the agent's community tied to it, with the edges' attribute dicts,
        in the graph's order (built once; :meth:`update_ties` appends the ties projects add,
        as the graph does)."""
        ties = self._tie_cache.get(agent)
        if ties is None:
            cands, edges = [], []
            for nb, e in self.graph[agent.node].items():
                other = self._agent_at.get(nb)
                if (other is not None and other.kind == "municipality"
                        and other.community == agent.community):
                    cands.append(other)
                    edges.append(e)
            ties = self._tie_cache[agent] = (cands, edges)
        return ties

    def _muni_edges(self, board):
        """Ties between a community's municipalities as index arrays (cached until the graph
        gains an edge): (i, j, edge attribute dicts, distance weights)."""
        n_edges = self._edge_version.get(board.community, 0)
        cached = self._edge_cache.get(board.community)
        if cached is not None and cached[0] == n_edges:
            return cached[1]
        ms = board.municipalities
        idx = {self.node_of(m): n for n, m in enumerate(ms)}
        ii, jj, edges, dw = [], [], [], []
        for a, m in enumerate(ms):
            for nb, e in self.graph[self.node_of(m)].items():
                b = idx.get(nb)
                if b is not None and b > a:
                    d = np.hypot(m.x_km - ms[b].x_km, m.y_km - ms[b].y_km)
                    ii.append(a)
                    jj.append(b)
                    edges.append(e)
                    dw.append(np.exp(-d / self.p.network.distance_decay_km))
        out = (np.array(ii, dtype=np.int64), np.array(jj, dtype=np.int64), edges, np.array(dw))
        self._edge_cache[board.community] = (n_edges, out)
        return out

    def update_ties(self) -> None:
        """Joint work in active projects strengthens ties; otherwise they decay to their base.

        A project ties its lead to each other party, and the trust to each municipality (a
        star, not every pair: in a community-wide project the partners work through the lead).
        """
        npar = self.p.network
        joint: dict = {}
        for pr in self.active_projects + self.ended_projects:  # working together this year
            trust = self.boards[pr.community].trust
            lead = self.node_of(pr.lead)
            pairs = [(lead, self.node_of(a)) for a in pr.parties(trust) if a is not pr.lead]
            if pr.trust_party:
                t = self.node_of(trust)
                pairs += [(t, self.node_of(m)) for m in pr.municipalities]
            # each tie once per project (the lead-trust pair is in both stars); sorted, since
            # set order varies with PYTHONHASHSEED
            for key in sorted({(u, v) if u <= v else (v, u) for u, v in pairs if u != v}):
                joint[key] = joint.get(key, 0) + 1
        for u, v in joint:
            if not self.graph.has_edge(u, v):
                self.graph.add_edge(u, v, kind="project", tie=0.0)
                e = self.graph.edges[u, v]
                self.edges.append((u, v, e))
                a, b = self._agent_at[u], self._agent_at[v]
                for x, y in ((a, b), (b, a)):
                    self._edge_version[x.community] = self._edge_version.get(x.community, 0) + 1
                    ties = self._tie_cache.get(x)
                    if (ties is not None and y.kind == "municipality"
                            and y.community == x.community):
                        ties[0].append(y)
                        ties[1].append(e)
        base = {"neighbour": npar.tie_neighbour, "distance": npar.tie_neighbour,
                "trust": npar.tie_trust, "project": 0.0}
        # only ties that joint work ever moved off their base change: the others stay at base
        for key in joint:
            self._moved_ties.setdefault(key, self.graph.edges[key])
        for key, e in self._moved_ties.items():
            w = e["tie"] - npar.tie_decay * (e["tie"] - base[e["kind"]])
            n = joint.get(key, 0)
            if n:
                w += (1 - w) * (1 - (1 - npar.tie_gain) ** n)
            e["tie"] = float(min(max(w, 0.0), 1.0))

    def update_trust(self) -> None:
        """Municipalities' trust moves towards perceived fairness."""
        for board in self.boards.values():  # fair share: the municipal money split per capita
            for m in board.municipalities:
                m.fair_share = board.municipal_money * m.population / board.population
        self.municipalities.do("update_trust", self.p.trust_update)

    def collect(self) -> None:
        """Record the year's outcomes (years, communities, municipalities)."""
        snap = reporters.Snapshot(self)
        self._municipality_years.append(reporters.municipality_columns(self, snap))
        self.year_row = reporters.outcome_rows(self, snap, by_community=False)[0]
        self.datacollector.collect(self)
        if len(self.boards) == 1:  # the community's row is the scenario's
            rows = [{"community": snap.keys[0], **self.year_row}]
        else:
            rows = reporters.outcome_rows(self, snap, by_community=True)
        for row in rows:
            self.datacollector.add_table_row("communities", row)

    # -- tables ----------------------------------------------------------------------------------
    def table_columns(self) -> dict[str, dict]:
        """The run's tables as columns, ``{table: {column: values}}``, without building data
        frames (what a sweep stores): years, projects, municipalities, communities."""
        dc = self.datacollector
        return {"years": dc.model_vars, "projects": reporters.projects_columns(self),
                "municipalities": reporters.municipalities_columns(self._municipality_years),
                "communities": dc.tables["communities"]}

    def years_table(self) -> pd.DataFrame:
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        return df

    def municipalities_table(self) -> pd.DataFrame:
        return reporters.municipalities_frame(self._municipality_years)

    def communities_table(self) -> pd.DataFrame:
        return self.datacollector.get_table_dataframe("communities")

    def projects_table(self) -> pd.DataFrame:
        return reporters.projects_frame(self)


__all__ = ["HealthSystem", "PROFESSIONS"]
