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
    """The state of every municipality, trust and tie as arrays, taken once per collection so
    that national and per-community outcomes are cheap masks over the same arrays."""

    def __init__(self, model) -> None:
        ms = list(model.municipalities)
        ts = list(model.trusts)
        self.year = model.year
        self.m_comm = np.array([m.community for m in ms])
        self.pop = np.array([m.population for m in ms], dtype=float)
        self.size = np.array([m.size_class for m in ms])
        self.benefit = np.array([m.benefit for m in ms], dtype=float)
        self.trust = np.array([m.trust for m in ms], dtype=float)
        self.knowledge = np.array([m.knowledge for m in ms], dtype=float)
        self.shift = np.array([m.shift_cost for m in ms], dtype=float)
        self.uncomp = np.array([m.uncompensated_shift for m in ms], dtype=float)
        self.active = np.array([m.active_year == model.year for m in ms])
        self.m_pos = np.round(np.array([m.positions for m in ms]))
        self.m_filled = np.array([m.filled for m in ms], dtype=float)
        self.t_comm = np.array([t.community for t in ts])
        self.t_pos = np.round(np.array([t.positions for t in ts]))
        self.t_filled = np.array([t.filled for t in ts], dtype=float)
        self.transfers = np.array([t.transfers for t in ts])
        comm_of = {model.node_of(a): a.community for a in [*ms, *ts]}
        eu, ev, tie = [], [], []
        for u, v, e in model.graph.edges(data=True):
            eu.append(comm_of[u])
            ev.append(comm_of[v])
            tie.append(e["tie"])
        self.e_comm = np.where(np.array(eu) == np.array(ev), np.array(eu), "")
        self.tie = np.array(tie, dtype=float)


def _vac(pos, filled) -> float:
    return metrics.vacancy_rate(pos, filled) if pos.sum() > 0 else float("nan")


def _mean(x) -> float:
    return float(x.mean()) if x.size else float("nan")


def state_outcomes(model, snap: Snapshot, community: str | None = None) -> dict[str, float]:
    """State at the time of collection (cumulative benefit; current staff, trust, ties)."""
    s = snap
    mm = np.ones(s.pop.size, bool) if community is None else s.m_comm == community
    tm = np.ones(s.t_comm.size, bool) if community is None else s.t_comm == community
    em = s.e_comm != "" if community is None else s.e_comm == community
    boards = [b for k, b in model.boards.items() if community is None or k == community]
    g, p, size = s.benefit[mm], s.pop[mm], s.size[mm]
    out = dict(gini_benefit_per_capita=metrics.gini(g / p, p),
               theil_benefit_per_capita=metrics.theil(g / p, p),
               hoover_benefit=metrics.hoover(g, p),
               small_representation_ratio=metrics.representation_ratio(g, p, size == "small"))
    mpos, mfil, tpos, tfil = s.m_pos[mm], s.m_filled[mm], s.t_pos[tm], s.t_filled[tm]
    out["vacancy_rate"] = _vac(np.concatenate([mpos, tpos]), np.concatenate([mfil, tfil]))
    for c in SIZE_CLASSES:
        out[f"vacancy_rate_{c}"] = _vac(mpos[size == c], mfil[size == c])
    out["vacancy_rate_trust"] = _vac(tpos, tfil)
    for j, prof in enumerate(("nurse", "doctor", "health_worker")):
        out[f"vacancy_rate_{prof}"] = _vac(np.append(mpos[:, j], tpos[:, j]),
                                           np.append(mfil[:, j], tfil[:, j]))
    trust = s.trust[mm]
    out["mean_trust"] = _mean(trust)
    out["share_high_trust"] = _mean(trust >= 0.6)
    out["decision_equity_sd"] = float(trust.std())
    for c in SIZE_CLASSES:
        out[f"mean_trust_{c}"] = _mean(trust[size == c])
    out["mean_tie_strength"] = _mean(s.tie[em])
    out["mean_knowledge"] = _mean(s.knowledge[mm])
    out["task_transfers"] = int(s.transfers[tm].sum())
    out["task_shift_cost"] = float(s.shift[mm].sum())
    out["uncompensated_task_shift_cost"] = float(s.uncomp[mm].sum())
    for c in SIZE_CLASSES:
        pop = p[size == c].sum()
        out[f"shift_burden_per_capita_{c}"] = (float(s.uncomp[mm][size == c].sum() / pop)
                                               if pop else float("nan"))
    out["influence_concentration"] = float(np.mean(
        [metrics.concentration(list(b.weights.values())) for b in boards]))
    infl = {c: 0.0 for c in LEAD_CLASSES}
    for b in boards:
        for a, w in b.weights.items():
            infl["trust" if a.kind == "trust" else a.size_class] += w / b.total_weight
    for c in LEAD_CLASSES:
        out[f"influence_share_{c}"] = infl[c] / max(len(boards), 1)
    flows = [model.flows[b.community] for b in boards]
    for k in ("trust_to_municipality", "municipality_to_trust", "municipality_to_municipality",
              "trust_to_trust", "exits", "entrants_hired"):
        out[f"moves_{k}"] = int(sum(getattr(f, k) for f in flows))
    return out


def year_flow_outcomes(model, snap: Snapshot, community: str | None = None
                       ) -> dict[str, float]:
    """This year's new projects and participation."""
    new = [pr for pr in model.new_projects if community is None or pr.community == community]
    mm = np.ones(snap.pop.size, bool) if community is None else snap.m_comm == community
    out = dict(budget=float(sum(b.budget for k, b in model.boards.items()
                                if community is None or k == community)),
               n_new_projects=len(new),
               funded_amount=float(sum(pr.budget for pr in new)),
               n_active_projects=sum(pr.status == "active" for pr in model.projects
                                     if community is None or pr.community == community))
    out["recruitment_share_new"] = (sum(pr.type == "recruitment" for pr in new) / len(new)
                                    if new else float("nan"))
    for c in SIZE_CLASSES:
        out[f"participation_{c}"] = _mean(snap.active[mm][snap.size[mm] == c])
    return out


def outcomes(model, snap: Snapshot, community: str | None = None) -> dict:
    """The year row: of the whole scenario, or of one community."""
    row = {"community": community} if community is not None else {}
    return {**row, "year": model.year, **year_flow_outcomes(model, snap, community),
            **state_outcomes(model, snap, community)}


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


MUNICIPALITY_REPORTERS = {
    "year": lambda a: a.model.year,
    "municipality_id": "municipality_id",
    "name": "name",
    "community": "community",
    "population": "population",
    "size_class": "size_class",
    "capacity": "capacity",
    "anchoring": "anchoring",
    "experience": "experience",
    "trust": "trust",
    "knowledge": "knowledge",
    "service_level": "service_level",
    "services_taken": "services_taken",
    "shift_cost": "shift_cost",
    "shift_compensation": "shift_compensation",
    "benefit": "benefit",
    "benefit_per_capita": lambda a: a.benefit / a.population,
    "realised_benefit": "realised_benefit",
    "projects_led": "projects_led",
    "projects_joined": "projects_joined",
    "active": lambda a: a.active_year == a.model.year,
    "seats": "seats",
    "voice": "voice",
    "attractiveness": lambda a: a.attractiveness(a.model.p.labour),
    "vacancy_rate": "vacancy_share",
    "positions_nurse": lambda a: float(a.positions[0]),
    "positions_doctor": lambda a: float(a.positions[1]),
    "positions_health_worker": lambda a: float(a.positions[2]),
    "filled_nurse": lambda a: int(a.filled[0]),
    "filled_doctor": lambda a: int(a.filled[1]),
    "filled_health_worker": lambda a: int(a.filled[2]),
}


def projects_frame(model) -> pd.DataFrame:
    """One row per funded project."""
    rows = []
    for pr in model.projects:
        trust = model.boards[pr.community].trust
        ms = pr.municipalities
        rows.append(dict(
            project_id=pr.project_id, community=pr.community, year=pr.year, stream=pr.stream,
            type=pr.type, lead_id=model.node_of(pr.lead), lead_name=pr.lead.name,
            lead_class=lead_class(pr),
            partners=";".join(m.municipality_id for m in pr.partners),
            n_partners=len(pr.partners), n_municipalities=len(ms), trust_party=pr.trust_party,
            budget=pr.budget, duration=pr.duration, end_year=pr.end_year,
            quality=pr.quality, score=pr.score, status=pr.status, survives=pr.survives,
            benefit_trust=pr.benefit.get(trust, 0.0),
            benefit_municipalities=sum(b for a, b in pr.benefit.items()
                                       if a.kind == "municipality"),
            n_first_timers=len(pr.first_timers)))
    return pd.DataFrame(rows, columns=list(PROJECT_COLUMNS)).astype(PROJECT_COLUMNS)


#: Columns of the projects table and their dtypes (also when no project was funded).
PROJECT_COLUMNS = {
    "project_id": "int64", "community": "object", "year": "int64", "stream": "object",
    "type": "object", "lead_id": "object", "lead_name": "object", "lead_class": "object",
    "partners": "object", "n_partners": "int64", "n_municipalities": "int64",
    "trust_party": "bool", "budget": "float64", "duration": "int64", "end_year": "int64",
    "quality": "float64", "score": "float64", "status": "object", "survives": "bool",
    "benefit_trust": "float64", "benefit_municipalities": "float64", "n_first_timers": "int64",
}


def summary(model, years: pd.DataFrame, projects: pd.DataFrame,
            munis: pd.DataFrame) -> dict[str, float]:
    """End-of-run outcomes: final state, totals over the run, and means over years."""
    last = years.iloc[-1]
    out = {k: (float(last[k]) if pd.notna(last[k]) else float("nan"))
           for k in YEAR_COLUMNS if k not in ("year", "budget", "n_new_projects",
                                               "funded_amount", "n_active_projects",
                                               "recruitment_share_new")
           and not k.startswith("participation_")}
    run = years[years["year"] > 0]
    n = len(projects)
    out["n_projects"] = n
    out["total_funded"] = float(projects["budget"].sum()) if n else 0.0
    out["total_budget"] = float(run["budget"].sum())
    out["mean_project_budget"] = float(projects["budget"].mean()) if n else float("nan")
    out["median_project_budget"] = float(projects["budget"].median()) if n else float("nan")
    out["mean_partners"] = float(projects["n_partners"].mean()) if n else float("nan")
    out["recruitment_project_share"] = (float((projects["type"] == "recruitment").mean())
                                        if n else float("nan"))
    for c in LEAD_CLASSES:
        out[f"lead_share_{c}"] = float((projects["lead_class"] == c).mean()) if n else float("nan")
    ms = list(model.municipalities)
    n_members = len(ms) + len(model.boards)
    out["member_share_trust"] = len(model.boards) / n_members
    for size in SIZE_CLASSES:
        out[f"member_share_{size}"] = sum(m.size_class == size for m in ms) / n_members
        out[f"participation_rate_{size}"] = float(run[f"participation_{size}"].mean())
    done = projects[projects["status"].isin(["implemented", "failed"])]
    out["implementation_rate"] = (float((done["status"] == "implemented").mean())
                                  if len(done) else float("nan"))
    impl = done[done["status"] == "implemented"]
    out["survival_rate"] = float(impl["survives"].mean()) if len(impl) else float("nan")
    out["multi_municipality_share"] = (float((projects["n_municipalities"] > 1).mean())
                                       if n else float("nan"))
    # Matthew effect (P6): do the initially experienced keep joining?
    init = np.array([m.initial_experience for m in ms], dtype=float)
    joined = np.array([m.projects_led + m.projects_joined for m in ms], dtype=float)
    out["matthew_correlation"] = (float(np.corrcoef(init, joined)[0, 1])
                                  if init.std() > 0 and joined.std() > 0 else float("nan"))
    out["years"] = int(years["year"].max())
    return out
