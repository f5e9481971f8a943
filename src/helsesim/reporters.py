"""What is recorded each year: DataCollector reporters that call the pure metric functions,
and the tables and end-of-run summary built from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helsesim.outcomes import YEAR_COLUMNS, metrics

SIZE_CLASSES = ("small", "medium", "large")
LEAD_CLASSES = ("trust", "large", "medium", "small")


def lead_class(project) -> str:
    return "trust" if project.lead.kind == "trust" else project.lead.size_class


class Snapshot:
    """The state of every municipality, trust and tie as arrays, taken once per collection.

    ``m_group``/``t_group``/``e_group`` give each municipality, trust and edge the index of its
    community in ``keys`` (edges between two communities get -1), so that the outcomes of all
    communities are computed in one grouped pass (:func:`outcome_rows`).
    """

    def __init__(self, model) -> None:
        self.keys = list(model.boards)
        code = {k: i for i, k in enumerate(self.keys)}
        boards = list(model.boards.values())
        ms = [m for b in boards for m in b.municipalities]
        self.m_group = np.array([code[m.community] for m in ms], dtype=np.int64)
        self.t_group = np.arange(len(boards), dtype=np.int64)
        self.pop = np.array([m.population for m in ms], dtype=float)
        self.size = np.array([SIZE_CLASSES.index(m.size_class) for m in ms], dtype=np.int64)
        self.benefit = np.array([m.benefit for m in ms], dtype=float)
        self.trust = np.array([m.trust for m in ms], dtype=float)
        self.knowledge = np.array([m.knowledge for m in ms], dtype=float)
        self.shift = np.array([m.shift_cost for m in ms], dtype=float)
        self.uncomp = np.array([m.uncompensated_shift for m in ms], dtype=float)
        self.active = np.array([m.active_year == model.year for m in ms], dtype=float)
        self.m_unrounded_pos = np.vstack([b.positions[1:] for b in boards])
        self.m_pos = np.round(self.m_unrounded_pos)
        self.m_filled = np.vstack([b.filled[1:] for b in boards]).astype(float)
        self.t_pos = np.round(np.vstack([b.positions[:1] for b in boards]))
        self.t_filled = np.vstack([b.filled[:1] for b in boards]).astype(float)
        self.transfers = np.array([b.trust.transfers for b in boards], dtype=float)
        edges = model.edges
        cached = getattr(model, "_edge_groups", None)
        if cached is None or len(cached) != len(edges):  # groups of edges added since
            node_group = {a.node: code[a.community] for b in boards for a in b.employers}
            known = [] if cached is None else list(cached)
            for u, v, _ in edges[len(known):]:
                gu, gv = node_group[u], node_group[v]
                known.append(gu if gu == gv else -1)
            model._edge_groups = np.array(known, dtype=np.int64)
        self.e_group = model._edge_groups
        self.tie = np.array([e["tie"] for _, _, e in edges], dtype=float)


def board_influence(board) -> list[float]:
    """A board's influence concentration and the vote shares of the trust and of each size
    class (in LEAD_CLASSES order)."""
    infl = {c: 0.0 for c in LEAD_CLASSES}
    for a, w in board.weights.items():
        infl["trust" if a.kind == "trust" else a.size_class] += w / board.total_weight
    return [metrics.concentration(list(board.weights.values())), *(infl[c] for c in LEAD_CLASSES)]


FLOW_KEYS = ("trust_to_municipality", "municipality_to_trust", "municipality_to_municipality",
             "trust_to_trust", "exits", "entrants_hired")


def outcome_rows(model, snap: Snapshot, by_community: bool) -> list[dict]:
    """The year's outcome rows: one for the whole scenario, or one per community."""
    from helsesim.outcomes import YearState, year_rows
    code = {k: i for i, k in enumerate(snap.keys)}
    influence = getattr(model, "_board_influence", None)
    if influence is None:  # the boards' seats and weights are fixed at initialisation
        influence = model._board_influence = [board_influence(b) for b in model.boards.values()]
    state = YearState(
        year=model.year, communities=snap.keys, municipality_community=snap.m_group,
        population=snap.pop, size=snap.size, benefit=snap.benefit, trust=snap.trust,
        knowledge=snap.knowledge, shift_cost=snap.shift, uncompensated=snap.uncomp,
        active=snap.active, municipal_positions=snap.m_pos, municipal_staff=snap.m_filled,
        trust_positions=snap.t_pos, trust_staff=snap.t_filled, transfers=snap.transfers,
        edge_community=snap.e_group, tie=snap.tie,
        board_budget=np.array([b.budget for b in model.boards.values()], dtype=float),
        board_influence=np.array(influence, dtype=float),
        board_flows=np.array([[getattr(model.flows[b.community], k) for k in FLOW_KEYS]
                              for b in model.boards.values()], dtype=float),
        new_community=np.array([code[pr.community] for pr in model.new_projects], dtype=np.int64),
        new_budget=np.array([pr.budget for pr in model.new_projects], dtype=float),
        new_recruitment=np.array([pr.type == "recruitment" for pr in model.new_projects],
                                 dtype=float),
        running_community=np.array([code[pr.community] for pr in model.active_projects],
                                   dtype=np.int64))
    return year_rows(state, by_community)


# DataCollector wants one callable per column: the model computes the year row once per
# collection (``model.year_row``) and each reporter reads its column from it.
def _reporter(col):
    return lambda m: m.year_row[col]


MODEL_REPORTERS = {c: _reporter(c) for c in YEAR_COLUMNS}


#: Columns of the municipalities table (one row per municipality per year) and their dtypes.
MUNICIPALITY_COLUMNS = {
    "year": "int64", "municipality_id": "str", "name": "str", "community": "str",
    "population": "int64", "size_class": "str", "capacity": "float64",
    "anchoring": "float64", "experience": "int64", "trust": "float64", "knowledge": "float64",
    "service_level": "float64", "services_taken": "int64", "shift_cost": "float64",
    "shift_compensation": "float64", "benefit": "float64", "benefit_per_capita": "float64",
    "realised_benefit": "float64", "projects_led": "int64", "projects_joined": "int64",
    "active": "bool", "seats": "int64", "voice": "float64", "attractiveness": "float64",
    "vacancy_rate": "float64", "positions_nurse": "float64", "positions_doctor": "float64",
    "positions_health_worker": "float64", "filled_nurse": "int64", "filled_doctor": "int64",
    "filled_health_worker": "int64",
}


#: Municipality attributes that do not change during a run.
STATIC_COLUMNS = ("municipality_id", "name", "community", "size_class", "capacity", "anchoring",
                  "seats", "voice")


def municipality_columns(model, snap: Snapshot) -> dict[str, np.ndarray]:
    """This year's state of every municipality as columns (agent-level data kept as arrays:
    cheaper than one reporter call per agent and column)."""
    ms = [m for b in model.boards.values() for m in b.municipalities]
    lp = model.p.labour
    pos, filled = snap.m_unrounded_pos, snap.m_filled

    def col(attr):
        return [getattr(m, attr) for m in ms]

    static = getattr(model, "_static_municipality_columns", None)
    if static is None:  # attributes fixed for the run: read once
        static = model._static_municipality_columns = {c: col(c) for c in STATIC_COLUMNS}
    return {
        "year": np.full(len(ms), model.year), **static, "population": snap.pop,
        "experience": col("experience"), "trust": snap.trust,
        "knowledge": snap.knowledge, "service_level": col("service_level"),
        "services_taken": col("services_taken"), "shift_cost": snap.shift,
        "shift_compensation": col("shift_compensation"), "benefit": snap.benefit,
        "benefit_per_capita": snap.benefit / snap.pop,
        "realised_benefit": col("realised_benefit"), "projects_led": col("projects_led"),
        "projects_joined": col("projects_joined"), "active": snap.active.astype(bool),
        "attractiveness": [m.attractiveness(lp) for m in ms],
        "vacancy_rate": col("vacancy_share"), "positions_nurse": pos[:, 0],
        "positions_doctor": pos[:, 1], "positions_health_worker": pos[:, 2],
        "filled_nurse": filled[:, 0], "filled_doctor": filled[:, 1],
        "filled_health_worker": filled[:, 2],
    }


def municipalities_columns(years: list[dict]) -> dict:
    """The municipalities table as columns (text as lists, the others as arrays of their
    dtype), from the yearly columns, sorted by year and municipality."""
    cols = {c: (np.array([v for y in years for v in y[c]], dtype=object) if t == "str"
                else np.concatenate([np.asarray(y[c], dtype=t) for y in years]))
            for c, t in MUNICIPALITY_COLUMNS.items()}
    order = np.lexsort((cols["municipality_id"].astype(str), cols["year"]))  # stable
    return {c: (v[order].tolist() if MUNICIPALITY_COLUMNS[c] == "str" else v[order])
            for c, v in cols.items()}


def municipalities_frame(years: list[dict]) -> pd.DataFrame:
    """The municipalities table, sorted by year and municipality."""
    return pd.DataFrame(municipalities_columns(years))


def frames(tables: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The tables of :meth:`HealthSystem.table_columns` as data frames."""
    return {"years": pd.DataFrame(tables["years"]),
            "projects": _projects_frame(tables["projects"]),
            "municipalities": pd.DataFrame(tables["municipalities"]),
            "communities": pd.DataFrame(tables["communities"])}


def projects_frame(model) -> pd.DataFrame:
    """One row per funded project."""
    return _projects_frame(projects_columns(model))


def _projects_frame(columns: dict) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    # text columns are inferred from their values; only empty ones need a cast (cheaper than
    # casting every column)
    untyped = {c: "str" for c, t in PROJECT_COLUMNS.items() if t == "str" and df[c].dtype != STR}
    return df.astype(untyped) if untyped else df


def projects_columns(model) -> dict:
    """The projects table as columns (text as lists, the others as arrays of their dtype)."""
    prs = model.projects
    trusts = {k: b.trust for k, b in model.boards.items()}
    cols = {
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
    }
    return {c: (v if PROJECT_COLUMNS[c] == "str" else np.asarray(v, dtype=PROJECT_COLUMNS[c]))
            for c, v in cols.items()}


#: The dtype of a text column: ``str`` in pandas 3, ``object`` before.
STR = pd.Series([], dtype="str").dtype


#: Columns of the projects table and their dtypes (also when no project was funded).
PROJECT_COLUMNS = {
    "project_id": "int64", "community": "str", "year": "int64", "stream": "str",
    "type": "str", "lead_id": "str", "lead_name": "str", "lead_class": "str",
    "partners": "str", "n_partners": "int64", "n_municipalities": "int64",
    "trust_party": "bool", "budget": "float64", "duration": "int64", "end_year": "int64",
    "quality": "float64", "score": "float64", "status": "str", "survives": "bool",
    "benefit_trust": "float64", "benefit_municipalities": "float64", "n_first_timers": "int64",
}
