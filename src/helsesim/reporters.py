"""What is recorded each year: DataCollector reporters that call the pure metric functions,
and the tables and end-of-run summary built from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helsesim import metrics

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


def _ratio(num, den):
    """num / den where den > 0, else NaN."""
    return np.divide(num, den, out=np.full(np.shape(den), np.nan), where=den > 0)


def _state_columns(model, s: Snapshot, mg, tg, eg, n: int, boards_of) -> dict[str, np.ndarray]:
    """State outcomes (cumulative benefit; current staff, trust, ties) for n groups."""
    S = len(SIZE_CLASSES)

    def bc(groups, values, size=n):
        return np.bincount(groups, weights=values, minlength=size)

    y = s.benefit / s.pop
    out = dict(gini_benefit_per_capita=metrics.gini_by_group(y, s.pop, mg, n),
               theil_benefit_per_capita=metrics.theil_by_group(y, s.pop, mg, n),
               hoover_benefit=metrics.hoover_by_group(s.benefit, s.pop, mg, n),
               small_representation_ratio=metrics.representation_ratio_by_group(
                   s.benefit, s.pop, s.size == 0, mg, n))
    mpos, mfil = s.m_pos.sum(axis=1), s.m_filled.sum(axis=1)
    tpos, tfil = s.t_pos.sum(axis=1), s.t_filled.sum(axis=1)
    pos_g, fil_g = bc(mg, mpos) + bc(tg, tpos), bc(mg, mfil) + bc(tg, tfil)
    out["vacancy_rate"] = 1 - _ratio(fil_g, pos_g)
    gs = mg * S + s.size
    pos_gs = bc(gs, mpos, n * S).reshape(n, S)
    fil_gs = bc(gs, mfil, n * S).reshape(n, S)
    for c, name in enumerate(SIZE_CLASSES):
        out[f"vacancy_rate_{name}"] = 1 - _ratio(fil_gs[:, c], pos_gs[:, c])
    out["vacancy_rate_trust"] = 1 - _ratio(bc(tg, tfil), bc(tg, tpos))
    for j, prof in enumerate(("nurse", "doctor", "health_worker")):
        p = bc(mg, s.m_pos[:, j]) + bc(tg, s.t_pos[:, j])
        f = bc(mg, s.m_filled[:, j]) + bc(tg, s.t_filled[:, j])
        out[f"vacancy_rate_{prof}"] = 1 - _ratio(f, p)
    cnt = bc(mg, None)
    mean_t = _ratio(bc(mg, s.trust), cnt)
    out["mean_trust"] = mean_t
    out["share_high_trust"] = _ratio(bc(mg, (s.trust >= 0.6).astype(float)), cnt)
    var = _ratio(bc(mg, s.trust ** 2), cnt) - mean_t ** 2
    out["decision_equity_sd"] = np.sqrt(np.maximum(var, 0.0))
    cnt_gs = bc(gs, None, n * S).reshape(n, S)
    trust_gs = bc(gs, s.trust, n * S).reshape(n, S)
    for c, name in enumerate(SIZE_CLASSES):
        out[f"mean_trust_{name}"] = _ratio(trust_gs[:, c], cnt_gs[:, c])
    ok = eg >= 0
    out["mean_tie_strength"] = np.nan_to_num(_ratio(bc(eg[ok], s.tie[ok]), bc(eg[ok], None)))
    out["mean_knowledge"] = _ratio(bc(mg, s.knowledge), cnt)
    out["task_transfers"] = bc(tg, s.transfers)
    out["task_shift_cost"] = bc(mg, s.shift)
    out["uncompensated_task_shift_cost"] = bc(mg, s.uncomp)
    unc_gs = bc(gs, s.uncomp, n * S).reshape(n, S)
    pop_gs = bc(gs, s.pop, n * S).reshape(n, S)
    for c, name in enumerate(SIZE_CLASSES):
        out[f"shift_burden_per_capita_{name}"] = _ratio(unc_gs[:, c], pop_gs[:, c])
    influence = getattr(model, "_board_influence", None)
    if influence is None:  # the boards' seats and weights are fixed at initialisation
        influence = model._board_influence = [board_influence(b) for b in model.boards.values()]
    per_board = np.array([[*infl, *(getattr(model.flows[b.community], k) for k in FLOW_KEYS)]
                          for b, infl in zip(model.boards.values(), influence, strict=True)],
                         dtype=float)
    bg = boards_of
    nb = bc(bg, None)
    out["influence_concentration"] = _ratio(bc(bg, per_board[:, 0]), nb)
    for i, c in enumerate(LEAD_CLASSES):
        out[f"influence_share_{c}"] = _ratio(bc(bg, per_board[:, 1 + i]), nb)
    for i, k in enumerate(FLOW_KEYS):
        out[f"moves_{k}"] = bc(bg, per_board[:, 1 + len(LEAD_CLASSES) + i]).astype(np.int64)
    out["task_transfers"] = out["task_transfers"].astype(np.int64)
    return out


def board_influence(board) -> list[float]:
    """A board's influence concentration and the vote shares of the trust and of each size
    class (in LEAD_CLASSES order)."""
    infl = {c: 0.0 for c in LEAD_CLASSES}
    for a, w in board.weights.items():
        infl["trust" if a.kind == "trust" else a.size_class] += w / board.total_weight
    return [metrics.concentration(list(board.weights.values())), *(infl[c] for c in LEAD_CLASSES)]


FLOW_KEYS = ("trust_to_municipality", "municipality_to_trust", "municipality_to_municipality",
             "trust_to_trust", "exits", "entrants_hired")


def _flow_columns(model, s: Snapshot, mg, n: int, group_of_community) -> dict[str, np.ndarray]:
    """This year's new projects and participation for n groups."""
    S = len(SIZE_CLASSES)
    budget, n_new, funded = np.zeros(n), np.zeros(n, np.int64), np.zeros(n)
    n_active, n_rec = np.zeros(n, np.int64), np.zeros(n)
    for key, b in model.boards.items():
        budget[group_of_community[key]] += b.budget
    for pr in model.new_projects:
        g = group_of_community[pr.community]
        n_new[g] += 1
        funded[g] += pr.budget
        n_rec[g] += pr.type == "recruitment"
    for pr in model.active_projects:
        n_active[group_of_community[pr.community]] += 1
    out = dict(budget=budget, n_new_projects=n_new, funded_amount=funded,
               n_active_projects=n_active, recruitment_share_new=_ratio(n_rec, n_new))
    gs = mg * S + s.size
    act = np.bincount(gs, weights=s.active, minlength=n * S).reshape(n, S)
    cnt = np.bincount(gs, minlength=n * S).reshape(n, S)
    for c, name in enumerate(SIZE_CLASSES):
        out[f"participation_{name}"] = _ratio(act[:, c], cnt[:, c])
    return out


def outcome_rows(model, snap: Snapshot, by_community: bool) -> list[dict]:
    """The year's outcome rows: one for the whole scenario, or one per community."""
    s = snap
    if by_community:
        n, mg, tg, eg = len(s.keys), s.m_group, s.t_group, s.e_group
        group_of = {k: i for i, k in enumerate(s.keys)}
        labels = [{"community": k} for k in s.keys]
    else:
        n, mg, tg = 1, np.zeros_like(s.m_group), np.zeros_like(s.t_group)
        eg = np.where(s.e_group >= 0, 0, -1)
        group_of = {k: 0 for k in s.keys}
        labels = [{}]
    cols = {**_flow_columns(model, s, mg, n, group_of),
            **_state_columns(model, s, mg, tg, eg, n, tg)}
    values = [np.asarray(cols[k]).tolist() for k in YEAR_COLUMNS[1:]]  # Python int or float
    return [{**label, "year": model.year, **dict(zip(YEAR_COLUMNS[1:], row, strict=True))}
            for label, row in zip(labels, zip(*values, strict=True), strict=True)]


# DataCollector wants one callable per column: the model computes the year row once per
# collection (``model.year_row``) and each reporter reads its column from it.
def _reporter(col):
    return lambda m: m.year_row[col]


def _columns() -> list[str]:
    return ["year", "budget", "n_new_projects", "funded_amount", "n_active_projects",
            "recruitment_share_new", "participation_small", "participation_medium",
            "participation_large", "gini_benefit_per_capita", "theil_benefit_per_capita",
            "hoover_benefit", "small_representation_ratio", "vacancy_rate",
            "vacancy_rate_small", "vacancy_rate_medium", "vacancy_rate_large",
            "vacancy_rate_trust", "vacancy_rate_nurse", "vacancy_rate_doctor",
            "vacancy_rate_health_worker", "mean_trust", "share_high_trust",
            "decision_equity_sd", "mean_trust_small", "mean_trust_medium", "mean_trust_large",
            "mean_tie_strength", "mean_knowledge", "task_transfers", "task_shift_cost",
            "uncompensated_task_shift_cost", "shift_burden_per_capita_small",
            "shift_burden_per_capita_medium", "shift_burden_per_capita_large",
            "influence_concentration", "influence_share_trust", "influence_share_large",
            "influence_share_medium", "influence_share_small",
            "moves_trust_to_municipality", "moves_municipality_to_trust",
            "moves_municipality_to_municipality", "moves_trust_to_trust", "moves_exits",
            "moves_entrants_hired"]


YEAR_COLUMNS = _columns()
MODEL_REPORTERS = {c: _reporter(c) for c in YEAR_COLUMNS}
COMMUNITY_COLUMNS = ["community"] + YEAR_COLUMNS


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


#: The end-of-run outcomes every run reports at the least (the core-model issue's list).
CORE_SUMMARY_KEYS = (
    "gini_benefit_per_capita", "theil_benefit_per_capita", "hoover_benefit",
    "small_representation_ratio", "lead_share_trust", "lead_share_large", "lead_share_small",
    "n_projects", "mean_project_budget", "recruitment_project_share", "task_transfers",
    "task_shift_cost", "uncompensated_task_shift_cost", "vacancy_rate", "vacancy_rate_small",
    "vacancy_rate_large", "vacancy_rate_trust", "mean_trust", "mean_trust_small",
    "mean_tie_strength", "participation_rate_small", "participation_rate_medium",
    "participation_rate_large",
)


def summary(model, years, projects) -> dict[str, float]:
    """End-of-run outcomes: final state, totals over the run, and means over years.

    ``years`` and ``projects`` are the tables, as data frames or as columns."""
    nan = float("nan")
    last = model.year_row  # the final year's row, as collected
    out = {k: float(last[k]) for k in YEAR_COLUMNS
           if k not in ("year", "budget", "n_new_projects", "funded_amount",
                        "n_active_projects", "recruitment_share_new")
           and not k.startswith("participation_")}
    run = {c: np.asarray(years[c])[1:] for c in ("budget", *(f"participation_{s}"
                                                             for s in SIZE_CLASSES))}
    budget = np.asarray(projects["budget"], dtype=float)
    kind = np.asarray(projects["type"], dtype=object)
    lead = np.asarray(projects["lead_class"], dtype=object)
    status = np.asarray(projects["status"], dtype=object)
    n = len(budget)

    def share(mask) -> float:
        return float(np.mean(mask)) if np.size(mask) else nan

    out["n_projects"] = n
    out["total_funded"] = float(budget.sum())
    out["total_budget"] = float(run["budget"].sum())
    out["mean_project_budget"] = float(budget.mean()) if n else nan
    out["median_project_budget"] = float(np.median(budget)) if n else nan
    out["mean_partners"] = float(np.asarray(projects["n_partners"]).mean()) if n else nan
    out["recruitment_project_share"] = share(kind == "recruitment")
    for c in LEAD_CLASSES:
        out[f"lead_share_{c}"] = share(lead == c)
    ms = [m for b in model.boards.values() for m in b.municipalities]
    n_members = len(ms) + len(model.boards)
    out["member_share_trust"] = len(model.boards) / n_members
    for size in SIZE_CLASSES:
        out[f"member_share_{size}"] = sum(m.size_class == size for m in ms) / n_members
        out[f"participation_rate_{size}"] = float(np.mean(run[f"participation_{size}"]))
    done = (status == "implemented") | (status == "failed")
    out["implementation_rate"] = share(status[done] == "implemented")
    out["survival_rate"] = share(np.asarray(projects["survives"])[status == "implemented"])
    out["multi_municipality_share"] = share(np.asarray(projects["n_municipalities"]) > 1)
    # Matthew effect (P6): do the initially experienced keep joining?
    init = np.array([m.initial_experience for m in ms], dtype=float)
    joined = np.array([m.projects_led + m.projects_joined for m in ms], dtype=float)
    out["matthew_correlation"] = (float(np.corrcoef(init, joined)[0, 1])
                                  if init.std() > 0 and joined.std() > 0 else nan)
    out["years"] = int(model.year)
    return out
