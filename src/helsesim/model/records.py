"""What the model records: each year's state handed to the outcome registry, and the tables.

:class:`Recorder` reads the model once per collection into a
:class:`~helsesim.outcomes.YearState` (arrays in board order) and keeps the tables as columns:
years and communities (the year outcomes of :mod:`helsesim.outcomes.yearly`, computed for all
pending years at once when the tables are read), municipalities (state variables per year) and,
at the end, projects. It keeps its own caches; it writes nothing
into the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from helsesim.outcomes import COMMUNITY_COLUMNS, YEAR_COLUMNS, YearState
from helsesim.outcomes.state import FLOW_KEYS
from helsesim.outcomes.tables import (
    LEAD_CLASSES,
    PROJECT_COLUMNS,
    SIZE_CLASSES,
    STATIC_COLUMNS,
    municipalities_columns,
    typed_columns,
)
from helsesim.outcomes.yearly import years_columns

if TYPE_CHECKING:
    from helsesim.model.agents import Municipality
    from helsesim.model.health_system import HealthSystem
    from helsesim.model.projects import Project


def lead_class(project: Project) -> str:
    return "trust" if project.lead.kind == "trust" else project.lead.size_class


class Recorder:
    """The tables of one run, filled by :meth:`collect` (year 0 and the end of every year)."""

    def __init__(self, model: HealthSystem) -> None:
        self.keys = list(model.boards)
        self.code = {k: i for i, k in enumerate(self.keys)}
        boards = list(model.boards.values())
        self.municipalities: list[Municipality] = [m for b in boards for m in b.municipalities]
        ms = self.municipalities
        self._years: dict[str, list] = {c: [] for c in YEAR_COLUMNS}
        self._communities: dict[str, list] = {c: [] for c in COMMUNITY_COLUMNS}
        #: States collected whose year rows are not computed yet (:meth:`_flush`).
        self._pending: list[YearState] = []
        self.municipality_years: list[dict] = []
        # what does not change during a run, read once
        self._static = {c: [getattr(m, c) for m in ms] for c in STATIC_COLUMNS}
        self._group = np.array([self.code[m.community] for m in ms], dtype=np.int64)
        self._population = np.array([m.population for m in ms], dtype=float)
        self._size = np.array([SIZE_CLASSES.index(m.size_class) for m in ms], dtype=np.int64)
        self._municipal_rows = ~model.workforce.is_trust
        self._node_group = {a.node: self.code[a.community]
                            for b in boards for a in (b.trust, *b.municipalities)}
        self._edge_groups = np.zeros(0, dtype=np.int64)

    def state(self, model: HealthSystem) -> YearState:
        """The year's state as arrays (municipalities and trusts in board order)."""
        ms = self.municipalities
        boards = model.boards.values()
        workforce, portfolio = model.workforce, model.portfolio
        edges = model.network.edges
        if len(self._edge_groups) != len(edges):  # groups of the ties added since
            known = self._edge_groups.tolist()
            for u, v, _ in edges[len(known):]:
                gu, gv = self._node_group[u], self._node_group[v]
                known.append(gu if gu == gv else -1)
            self._edge_groups = np.array(known, dtype=np.int64)
        trusts = workforce.is_trust
        municipal = self._municipal_rows
        return YearState(
            year=model.year, communities=self.keys, municipality_community=self._group,
            population=self._population, size=self._size,
            benefit=np.array([m.benefit for m in ms], dtype=float),
            trust=np.array([m.trust for m in ms], dtype=float),
            knowledge=np.array([m.knowledge for m in ms], dtype=float),
            shift_cost=np.array([m.shift_cost for m in ms], dtype=float),
            uncompensated=np.array([m.uncompensated_shift for m in ms], dtype=float),
            active=np.array([m.active_year == model.year for m in ms], dtype=float),
            municipal_positions=np.round(workforce.positions[municipal]),
            municipal_staff=workforce.filled[municipal].astype(float),
            trust_positions=np.round(workforce.positions[trusts]),
            trust_staff=workforce.filled[trusts].astype(float),
            transfers=np.array([b.trust.transfers for b in boards], dtype=float),
            edge_community=self._edge_groups,
            tie=np.array([e["tie"] for _, _, e in edges], dtype=float),
            board_budget=np.array([b.budget for b in boards], dtype=float),
            board_influence=np.array([[b.influence_concentration,
                                       *b.influence_by_class.values()] for b in boards],
                                     dtype=float),
            board_flows=np.array([[getattr(workforce.flows[k], f) for f in FLOW_KEYS]
                                  for k in self.keys], dtype=float),
            board_money=np.array([[b.available, b.call_money, b.money_asked,
                                   b.trust.cost_pressure,
                                   *(b.proposals_by_class[c] for c in LEAD_CLASSES)]
                                  for b in boards], dtype=float),
            board_retention_fte=np.add.reduceat(
                workforce.retention * workforce.filled.sum(axis=1), workforce.starts),
            new_community=self._project_groups(portfolio.new),
            new_budget=np.array([pr.budget for pr in portfolio.new], dtype=float),
            new_recruitment=np.array([pr.type == "recruitment" for pr in portfolio.new],
                                     dtype=float),
            running_community=self._project_groups(portfolio.active))

    def _project_groups(self, projects: list[Project]) -> np.ndarray:
        return np.array([self.code[pr.community] for pr in projects], dtype=np.int64)

    def collect(self, model: HealthSystem) -> None:
        """Record the year: every municipality's state, and the year's state for its outcome
        rows (computed when the tables are read, all pending years in one pass)."""
        state = self.state(model)
        self.municipality_years.append(self._municipality_columns(model, state))
        self._pending.append(state)

    @property
    def years(self) -> dict[str, list]:
        """The years table as columns (one row per year collected)."""
        self._flush()
        return self._years

    @property
    def communities(self) -> dict[str, list]:
        """The communities table as columns (one row per community and year collected)."""
        self._flush()
        return self._communities

    def _flush(self) -> None:
        """The outcome rows of the years collected since the last read, in one grouped pass over
        their states (the same values as year by year: ``yearly.years_rows``)."""
        if not self._pending:
            return
        states, self._pending = self._pending, []
        years = years_columns(states, by_community=False)
        for c, values in years.items():
            self._years[c].extend(values)
        if len(self.keys) == 1:  # the community's rows are the scenario's
            communities = {"community": [self.keys[0]] * len(states), **years}
        else:
            communities = years_columns(states, by_community=True)
        for c in COMMUNITY_COLUMNS:
            self._communities[c].extend(communities[c])

    def _municipality_columns(self, model: HealthSystem, state: YearState
                              ) -> dict[str, np.ndarray | list]:
        """This year's state of every municipality as columns (agent-level data kept as arrays:
        cheaper than one reporter call per agent and column)."""
        ms = self.municipalities
        workforce, municipal = model.workforce, self._municipal_rows
        positions, filled = workforce.positions[municipal], workforce.filled[municipal]

        def col(attr: str) -> list:
            return [getattr(m, attr) for m in ms]

        return {
            "year": np.full(len(ms), model.year), **self._static,
            "population": state.population, "experience": col("experience"),
            "trust": state.trust, "knowledge": state.knowledge,
            "service_level": col("service_level"), "services_taken": col("services_taken"),
            "shift_cost": state.shift_cost, "shift_compensation": col("shift_compensation"),
            "benefit": state.benefit, "benefit_per_capita": state.benefit / state.population,
            "realised_benefit": col("realised_benefit"), "projects_led": col("projects_led"),
            "projects_joined": col("projects_joined"), "active": state.active.astype(bool),
            "attractiveness": workforce.attractiveness()[municipal],
            "vacancy_rate": [workforce.vacancy_shares[m.employer_index] for m in ms],
            "positions_nurse": positions[:, 0], "positions_doctor": positions[:, 1],
            "positions_health_worker": positions[:, 2], "filled_nurse": filled[:, 0],
            "filled_doctor": filled[:, 1], "filled_health_worker": filled[:, 2],
            "voluntary_projects": col("voluntary_projects"), "information": col("information"),
            "partner_years": col("partner_years"),
            "partner_information": col("partner_information"),
            "influence": [model.boards[m.community].influence(m) for m in ms],
        }

    def projects_columns(self, model: HealthSystem) -> dict:
        """The projects table as columns (text as lists, the others as arrays of their dtype)."""
        prs = model.portfolio.projects
        trusts = {k: b.trust for k, b in model.boards.items()}
        return typed_columns({
            "project_id": [pr.project_id for pr in prs],
            "community": [pr.community for pr in prs],
            "year": [pr.year for pr in prs],
            "stream": [pr.stream for pr in prs],
            "type": [pr.type for pr in prs],
            "lead_id": [pr.lead.node for pr in prs],
            "lead_name": [pr.lead.name for pr in prs],
            "lead_class": [lead_class(pr) for pr in prs],
            "partners": [";".join(m.municipality_id for m in pr.partners) for pr in prs],
            "n_partners": [len(pr.partners) for pr in prs],
            "n_municipalities": [len(pr.municipalities) for pr in prs],
            "trust_party": [pr.trust_party for pr in prs],
            "budget": [pr.budget for pr in prs],
            "duration": [pr.duration for pr in prs],
            "end_year": [pr.end_year for pr in prs],
            "quality": [pr.quality for pr in prs],
            "score": [pr.score for pr in prs],
            "status": [pr.status for pr in prs],
            "survives": [pr.survives for pr in prs],
            "benefit_trust": [pr.benefit.get(trusts[pr.community], 0.0) for pr in prs],
            "benefit_municipalities": [sum(b for a, b in pr.benefit.items()
                                           if a.kind == "municipality") for pr in prs],
            "n_first_timers": [len(pr.first_timers) for pr in prs],
            "coordination": [pr.coordination for pr in prs],
            "compensation_share": [pr.compensation_share if pr.type == "task_transfer"
                                   else float("nan") for pr in prs],
        }, PROJECT_COLUMNS)

    def table_columns(self, model: HealthSystem) -> dict[str, dict]:
        """The run's tables as columns, ``{table: {column: values}}``: years, projects,
        municipalities, communities."""
        return {"years": self.years, "projects": self.projects_columns(model),
                "municipalities": municipalities_columns(self.municipality_years),
                "communities": self.communities}
