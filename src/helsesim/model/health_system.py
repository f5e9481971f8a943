"""HealthSystem: municipalities and health trusts collaborate in health communities and share
the RS grant, year by year.

Each health community (helsefellesskap) has one health trust (helseforetak), its municipalities
(kommuner), a strategic collaborative board (SSU) and, as a lever, an inter-municipal
coordinator. The model is the yearly schedule over the processes that own the shared state:
the :class:`~helsesim.model.workforce.Workforce` (positions, staff, the labour market), the
:class:`~helsesim.model.network.CollaborationNetwork` (ties, knowledge spread) and the
:class:`~helsesim.model.portfolio.ProjectPortfolio` (funded projects), with the allocation design
and the levers built from the configuration once, here. See docs/ODD.md.
"""

from __future__ import annotations

import logging

import mesa
import pandas as pd

from helsesim import data
from helsesim.config import SimConfig
from helsesim.model.agents import HealthTrust, Municipality
from helsesim.model.allocation import make_design
from helsesim.model.community import build_community, community_budgets
from helsesim.model.levers import Levers
from helsesim.model.network import CollaborationNetwork, build_network
from helsesim.model.portfolio import ProjectPortfolio
from helsesim.model.records import Recorder
from helsesim.model.workforce import Workforce
from helsesim.outcomes.tables import frames

logging.getLogger("MESA").setLevel(logging.WARNING)


class HealthSystem(mesa.Model):
    """One or more health communities over a common collaboration network.

    Args:
        cfg: a validated :class:`~helsesim.config.SimConfig`. It is read here only: every
            process, design and lever gets its parameters when it is built.
    """

    #: The yearly schedule: one step is one year (model brief §3).
    PHASES = ("grow_needs", "review_costs", "negotiate_transfers", "allocate", "run_projects",
              "labour_market", "spread_knowledge", "update_ties", "update_influence",
              "update_trust", "collect")

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        # Mesa's seeded generator is the root of independent streams, one per process (common
        # random numbers): changing the allocation design does not shift the draws of
        # initialisation, of implementation or of the labour market. A new process gets a new
        # stream at the end (the first ones stay the same streams).
        rng_init, self.rng_alloc, rng_projects, rng_labour, rng_host = self.rng.spawn(5)
        params, scenario = cfg.params, cfg.scenario
        self.horizon = cfg.years
        self.year = 0
        self.levers = Levers(cfg.levers)
        self.design = make_design(cfg.allocation, self.levers.earmark)
        self.carry_over_share = cfg.allocation.carry_over_share
        communities, land = data.load_scenario(
            scenario.name, scenario.n_municipalities, scenario.synthetic_size_median,
            scenario.synthetic_size_sigma, scenario.synthetic_area_km, rng=rng_init)
        self.network = CollaborationNetwork(
            build_network(communities, land, params.network,
                          seed=int(rng_init.integers(2**31))), params.network, self.levers)
        budgets = community_budgets(scenario, communities, params.labour.staffing_elasticity)
        self.boards = {c.key: build_community(self, c, budgets[c.key], params, self.levers,
                                              self.network, rng_init) for c in communities}
        self.workforce = Workforce({k: [b.trust, *b.municipalities]
                                    for k, b in self.boards.items()}, params.labour, rng_labour)
        self.portfolio = ProjectPortfolio(params.project, params.trust, params.host,
                                          self.levers, self.workforce,
                                          self.trusts_by_community, rng_projects, rng_host)
        self.records = Recorder(self)
        self.collect()

    @property
    def municipalities(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[Municipality]

    @property
    def trusts(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[HealthTrust]

    @property
    def trusts_by_community(self) -> dict[str, HealthTrust]:
        return {k: b.trust for k, b in self.boards.items()}

    # -- schedule ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One year: the named phases in order."""
        self.year += 1
        for phase in self.PHASES:
            getattr(self, phase)()

    def run(self, years: int | None = None) -> HealthSystem:
        for _ in range(self.horizon if years is None else years):
            self.step()
        return self

    def grow_needs(self) -> None:
        """Ageing: positions needed grow every year."""
        self.workforce.grow_needs()

    def review_costs(self) -> None:
        """Each trust, under cost pressure, may put a service up for transfer."""
        self.trusts.do("review_costs", self.rng_alloc)

    def negotiate_transfers(self) -> None:
        """The year's money (grant plus carry-over) is set. A trust that puts a service up for
        transfer names the municipalities to take it over; the board negotiates the share of
        its cost the trust pays and grants RS transition support off the top of the money, on
        the same terms under every design."""
        self.portfolio.start_year()
        self.committed = {}
        for key, board in self.boards.items():
            board.start_year(board.budget + board.carried)
            trust = board.trust
            spent = 0.0
            if trust.transfer_pending:
                trust.transfer_pending = False
                project = board.transfer_proposal(self.rng_alloc)
                spent = project.budget
                self.portfolio.fund(board, project, self.year)
            self.committed[key] = spent

    def allocate(self) -> None:
        """Each board allocates the rest of its money by the design in use; projects are
        funded; what is not committed carries over."""
        for key, board in self.boards.items():
            money = board.available - self.committed[key]
            funded = self.design.allocate(board, money, self.rng_alloc)
            total = sum([pr.budget for pr in funded])
            if total > money * (1 + 1e-9) + 1e-6:
                raise RuntimeError(f"design {self.design.name} overspent in {board.community}")
            for pr in funded:
                self.portfolio.fund(board, pr, self.year)
            board.end_year(self.committed[key] + total, self.carry_over_share)

    def run_projects(self) -> None:
        """Active projects act, end (implemented or failed) and survive or not."""
        self.portfolio.run(self.year)

    def labour_market(self) -> None:
        """Projects' effects on each employer are set (retention, attraction, placements,
        pools); staff quit, leave or move; job seekers choose employers."""
        self.portfolio.labour_effects(self.year)
        self.workforce.labour_market()

    def spread_knowledge(self) -> None:
        """Practice spreads along ties (and through a shared knowledge base, a lever)."""
        self.network.spread_knowledge(self.boards.values())

    def update_ties(self) -> None:
        """Joint work in this year's projects strengthens ties; the others decay to base."""
        self.network.update_ties(self.portfolio.active + self.portfolio.ended,
                                 self.trusts_by_community)

    def update_influence(self) -> None:
        """Members learn what their projects told them; influence follows experience and
        information."""
        self.municipalities.do("update_information")
        for board in self.boards.values():
            board.update_influence()

    def update_trust(self) -> None:
        """Municipalities' trust moves towards perceived fairness."""
        for board in self.boards.values():
            board.set_fair_shares()
        self.municipalities.do("update_trust")

    def collect(self) -> None:
        """Record the year's outcomes (years, communities, municipalities)."""
        self.records.collect(self)

    # -- tables ----------------------------------------------------------------------------------
    def table_columns(self) -> dict[str, dict]:
        """The run's tables as columns, ``{table: {column: values}}``, without building data
        frames (what a sweep stores): years, projects, municipalities, communities."""
        return self.records.table_columns(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tables as data frames."""
        return frames(self.table_columns())

    def years_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.records.years)
