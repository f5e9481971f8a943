"""Targets as data: the seeds' empirical patterns as summary statistics of a run.

The targets themselves (value or bounds, tolerance, source seed file and line, scenario, role)
are data in ``conf/targets/seeds.yaml``; this module holds one function per statistic
(:data:`STATISTICS`, keyed by the target's name), each computed from a run's tables (years,
projects, municipalities, communities), so the same function serves a calibration particle, a
posterior predictive check and any job folder (:func:`job_statistics`).

A target whose statistic needs an output the model does not produce yet lists it under
``needs``; it is skipped, with that list, until the output exists (:func:`select`), never
silently. Targets that are not a statistic of one run (a contrast of two designs, a paired
perturbation) or whose output has no agreed form yet (host arrangements, partners'
information) have no function here and list what they need; they are reported as skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NAN = float("nan")
#: What a statistic that cannot be computed in a run (e.g. no projects) adds to the distance,
#: in tolerances.
NAN_PENALTY = 10.0
#: Projects whose parties were assigned, not volunteers: governance-developed, per-capita and
#: task transfers (targets.md T1).
ASSIGNED_STREAMS = ("governance_led", "per_capita")
ASSIGNED_TYPES = ("task_transfer",)
#: The window of "ever took part" (targets.md T1: W = 5).
WINDOW = 5


@dataclass
class Run:
    """One run's tables (data frames), and the target set's groups (e.g. regions)."""

    years: pd.DataFrame
    projects: pd.DataFrame
    municipalities: pd.DataFrame
    communities: pd.DataFrame | None = None
    groups: Mapping = field(default_factory=dict)

    @property
    def final(self) -> pd.Series:
        return self.years.sort_values("year").iloc[-1]

    def year(self, y: int) -> pd.Series:
        rows = self.years[self.years["year"] == y]
        return rows.iloc[0] if len(rows) else pd.Series(dtype=float)

    @property
    def size_of(self) -> pd.Series:
        """Size class of each municipality, by id."""
        m = self.municipalities
        first = m[m["year"] == m["year"].min()]
        return first.set_index(first["municipality_id"].astype(str))["size_class"]

    def voluntary_parties(self, last_year: int | None = None) -> pd.DataFrame:
        """(year, municipality_id) of every voluntary party to a funded project: the lead
        municipality and the partners who accepted, of projects neither governance-developed,
        per capita nor task transfers."""
        p = self.projects
        p = p[~p["stream"].isin(ASSIGNED_STREAMS) & ~p["type"].isin(ASSIGNED_TYPES)]
        if last_year is not None:
            p = p[(p["year"] >= 1) & (p["year"] <= last_year)]
        rows = []
        for year, lead, lead_class, partners in zip(p["year"], p["lead_id"], p["lead_class"],
                                                    p["partners"], strict=True):
            ids = [x for x in str(partners).split(";") if x]
            if lead_class != "trust":
                ids.append(str(lead))
            rows += [(int(year), i) for i in ids]
        return pd.DataFrame(rows, columns=["year", "municipality_id"]).drop_duplicates()


def _ratio(a: float, b: float) -> float:
    return a / b if b and np.isfinite(a) and np.isfinite(b) else NAN


def _participation_ever(classes: tuple[str, ...]) -> Callable[[Run], float]:
    def stat(run: Run) -> float:
        size = run.size_of
        members = size[size.isin(classes)].index
        if not len(members):
            return NAN
        took_part = set(run.voluntary_parties(WINDOW)["municipality_id"])
        return float(np.mean([m in took_part for m in members]))
    return stat


def participation_order(run: Run) -> float:
    return (_participation_ever(("large",))(run) - _participation_ever(("small",))(run))


def recruitment_project_share(run: Run) -> float:
    p = run.projects
    return float(np.mean(p["type"] == "recruitment")) if len(p) else NAN


def _member_share(run: Run, cls: str) -> float:
    size = run.size_of
    n_trusts = run.municipalities["community"].nunique()
    n = len(size) + n_trusts
    return (n_trusts if cls == "trust" else int((size == cls).sum())) / n


def _lead_ratio(cls: str) -> Callable[[Run], float]:
    def stat(run: Run) -> float:
        p = run.projects
        if not len(p):
            return NAN
        return _ratio(float(np.mean(p["lead_class"] == cls)), _member_share(run, cls))
    return stat


def project_size_north_vs_small_regions(run: Run) -> float:
    groups = run.groups.get("regions", {})
    p = run.projects
    north = p[p["community"].isin(groups.get("north", []))]["budget"]
    small = p[p["community"].isin(groups.get("often_small", []))]["budget"]
    if not len(north) or not len(small):
        return NAN
    return _ratio(float(north.median()), float(small.median()))


def share_high_trust(run: Run) -> float:
    return float(run.final["share_high_trust"])


def _vacancy_ratio(at: str) -> Callable[[Run], float]:
    def stat(run: Run) -> float:
        row = run.final if at == "final" else run.year(2)
        if row.empty:
            return NAN
        return _ratio(float(row["vacancy_rate_small"]), float(row["vacancy_rate_large"]))
    return stat


def vacancy_ratio_small_large_doctors(run: Run) -> float:
    m = run.municipalities
    last = m[m["year"] == m["year"].max()]
    by = last.groupby("size_class")[["positions_doctor", "filled_doctor"]].sum()
    if "small" not in by.index or "large" not in by.index:
        return NAN
    vac = 1 - by["filled_doctor"] / by["positions_doctor"]
    return _ratio(float(vac["small"]), float(vac["large"]))


def vacancy_ratio_centrality(run: Run) -> float:
    m = run.municipalities
    last = m[m["year"] == m["year"].max()]
    remote = last["centrality"] >= 5
    vac = 1 - last["filled_nurse"] / last["positions_nurse"]
    return _ratio(float(vac[remote].mean()), float(vac[~remote].mean()))


def vacancy_level_year1(run: Run) -> float:
    row = run.year(1)
    return float(row["vacancy_rate"]) if not row.empty else NAN


def vacancy_level_year10(run: Run) -> float:
    return float(run.final["vacancy_rate"])


def vacancy_order_professions(run: Run) -> float:
    y = run.years[run.years["year"].isin([1, 2])]
    return float((y["vacancy_rate_nurse"] - y["vacancy_rate_health_worker"]).mean())


def _mean_over_years(column: str, per: str | None = None) -> Callable[[Run], float]:
    def stat(run: Run) -> float:
        y = run.years[run.years["year"] >= 1]
        num = y[column].to_numpy(float)
        if per is None:
            return float(np.mean(num))
        return _ratio(float(num.sum()), float(y[per].to_numpy(float).sum()))
    return stat


def moves_exceed_exits(run: Run) -> float:
    y = run.years[run.years["year"] >= 1]
    moves = (y["moves_trust_to_municipality"] + y["moves_municipality_to_trust"]
             + y["moves_municipality_to_municipality"]).sum()
    return _ratio(float(moves), float(y["moves_exits"].sum()))


def participation_dispersion(run: Run) -> float:
    """D = Var_i(x_i) / sum_t p_t (1 - p_t) (targets.md T11)."""
    years = sorted(y for y in run.years["year"] if y >= 1)
    members = list(run.size_of.index)
    parties = run.voluntary_parties()
    if not members or not years:
        return NAN
    active = pd.crosstab(parties["municipality_id"], parties["year"]).reindex(
        index=members, columns=years, fill_value=0).clip(upper=1)
    p = active.mean(axis=0)
    denominator = float((p * (1 - p)).sum())
    return _ratio(float(active.sum(axis=1).var(ddof=0)), denominator)


def matthew_partial_correlation(run: Run) -> float:
    """Partial correlation of initial experience with projects led + joined, given log
    capacity (least squares residuals)."""
    m = run.municipalities
    first = m[m["year"] == m["year"].min()].set_index("municipality_id")
    last = m[m["year"] == m["year"].max()].set_index("municipality_id").reindex(first.index)
    x = first["experience"].to_numpy(float)
    y = (last["projects_led"] + last["projects_joined"]).to_numpy(float)
    z = np.column_stack([np.ones(len(first)), np.log(first["capacity"].to_numpy(float))])
    rx = x - z @ np.linalg.lstsq(z, x, rcond=None)[0]
    ry = y - z @ np.linalg.lstsq(z, y, rcond=None)[0]
    if rx.std() == 0 or ry.std() == 0:
        return NAN
    return float(np.corrcoef(rx, ry)[0, 1])


def implementation_rate(run: Run) -> float:
    s = run.projects["status"]
    done = s.isin(["implemented", "failed"])
    return float(np.mean(s[done] == "implemented")) if done.any() else NAN


def survival_rate(run: Run) -> float:
    p = run.projects[run.projects["status"] == "implemented"]
    return float(np.mean(p["survives"].astype(bool))) if len(p) else NAN


def _oversubscription(above: float | None = None) -> Callable[[Run], float]:
    """Money asked / money offered in the open calls (``money_asked`` / ``call_money``, the
    model's ``oversubscription`` outcome per year), over years 1..T with a call: the median, or
    the share of those years above ``above``."""
    def stat(run: Run) -> float:
        y = run.years[(run.years["year"] >= 1) & (run.years["call_money"] > 0)]
        if not len(y):
            return NAN
        v = y["money_asked"].to_numpy(float) / y["call_money"].to_numpy(float)
        return float(np.mean(v > above)) if above is not None else float(np.median(v))
    return stat


def budget_ostfold(run: Run) -> float:
    c = run.communities
    if c is None:
        return NAN
    row = c[(c["community"] == "ostfold") & (c["year"] == 1)]
    return float(row["budget"].iloc[0]) if len(row) else NAN


def share_critical(run: Run) -> float:
    """Share of municipalities whose perceived fairness is below the baseline at the end
    (needs the municipalities column ``perceived_fairness_gap``: fairness − baseline)."""
    m = run.municipalities
    last = m[m["year"] == m["year"].max()]
    return float(np.mean(last["perceived_fairness_gap"] < 0))


def partners_reduce_implementation(run: Run) -> float:
    """Rank correlation, over the run's finished projects, of the number of municipal members
    with implementation (a per-run stand-in for the pooled logistic regression of targets.md
    T13a; not adjusted for capacity or trust-led)."""
    from scipy.stats import spearmanr

    p = run.projects[run.projects["status"].isin(["implemented", "failed"])]
    done = (p["status"] == "implemented").to_numpy(float)
    members = p["n_municipalities"].to_numpy(float)
    if len(p) < 3 or done.std() == 0 or members.std() == 0:
        return NAN
    return float(spearmanr(members, done).statistic)


#: One function per statistic, by target name (conf/targets/*.yaml).
STATISTICS: dict[str, Callable[[Run], float]] = {
    "participation_ever_small": _participation_ever(("small",)),
    "participation_ever_medium": _participation_ever(("medium",)),
    "participation_ever_large": _participation_ever(("large",)),
    "participation_ever_5000_plus": _participation_ever(("medium", "large")),
    "participation_order": participation_order,
    "recruitment_project_share": recruitment_project_share,
    "lead_ratio_trust": _lead_ratio("trust"),
    "lead_ratio_large": _lead_ratio("large"),
    "lead_ratio_small": _lead_ratio("small"),
    "project_size_north_vs_small_regions": project_size_north_vs_small_regions,
    "share_high_trust": share_high_trust,
    "share_critical": share_critical,
    "vacancy_ratio_small_large": _vacancy_ratio("final"),
    "vacancy_ratio_small_large_year2": _vacancy_ratio("year2"),
    "vacancy_ratio_small_large_doctors": vacancy_ratio_small_large_doctors,
    "vacancy_ratio_centrality": vacancy_ratio_centrality,
    "vacancy_level_year1": vacancy_level_year1,
    "vacancy_level_year10": vacancy_level_year10,
    "vacancy_order_professions": vacancy_order_professions,
    "nurse_quit_rate": _mean_over_years("quits_nurse_municipal", per="staff_nurse_municipal"),
    "exit_rate": _mean_over_years("moves_exits", per="staff_fte"),
    "moves_exceed_exits": moves_exceed_exits,
    "entrant_rate": _mean_over_years("moves_entrants_hired", per="positions_fte"),
    "participation_dispersion": participation_dispersion,
    "matthew_partial_correlation": matthew_partial_correlation,
    "implementation_rate": implementation_rate,
    "survival_rate": survival_rate,
    "partners_reduce_implementation": partners_reduce_implementation,
    "oversubscription_median": _oversubscription(),
    "oversubscription_years_above_one": _oversubscription(above=1.0),
    "budget_ostfold": budget_ostfold,
}


# --- targets --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A target as the distance uses it (from a :class:`~helsesim.analysis.schema.TargetSpec`,
    for one design)."""

    name: str
    design: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    tolerance: float
    role: str
    status: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        """The distance term's name: ``name@design``."""
        return f"{self.name}@{self.design}"

    def excess(self, x: float) -> float:
        """How far ``x`` misses the target, in its own unit (0 when met)."""
        if self.kind == "value":
            return abs(x - float(self.value))  # type: ignore[arg-type]
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return max(lo - x, 0.0) + max(x - hi, 0.0)

    def term(self, x: float) -> float:
        """The scaled distance term: excess / tolerance (:data:`NAN_PENALTY` for NaN)."""
        if not np.isfinite(x):
            return NAN_PENALTY
        return self.excess(x) / self.tolerance

    def met(self, x: float) -> bool:
        if not np.isfinite(x):
            return False
        if self.kind == "value":
            return self.excess(x) <= self.tolerance
        return self.excess(x) == 0.0

    def describe(self) -> str:
        if self.kind == "value":
            return f"{_fmt(self.value)} ± {_fmt(self.tolerance)}"
        lo, hi = _fmt(self.low), _fmt(self.high)
        if self.low is not None and self.high is not None:
            return f"[{lo}, {hi}]"
        return f"≥ {lo}" if self.low is not None else f"≤ {hi}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.3g}" if abs(x) < 1e5 else f"{x:.3e}"


def _source_text(source: Iterable) -> str:
    out = []
    for s in source or []:
        s = dict(s)
        where = s.get("lines") or s.get("where") or ""
        out.append(f"{s.get('file', '')}:{where}" if where else str(s.get("file", "")))
    return "; ".join(out)


@dataclass
class Selection:
    """The targets a calibration uses, and every target it leaves out with the reason."""

    used: list[Target]
    skipped: list[tuple[str, str]]


def select(specs: Iterable, scenario: str, designs: list[str],
           available: set[str] | None = None, roles: tuple[str, ...] = ("distance",)
           ) -> Selection:
    """The targets for ``scenario`` and the designs run, in ``roles``; each target left out is
    listed with why (another scenario or design, another role, an output the model does not
    produce yet, no statistic function).

    ``available``: the columns of the run tables (None: do not check ``needs``).
    """
    used, skipped = [], []
    for spec in specs:
        name = spec.name
        if spec.role not in roles:
            skipped.append((name, f"role {spec.role} (reported, not fitted)"))
            continue
        if spec.scenario and scenario not in spec.scenario:
            skipped.append((name, f"measured in {', '.join(spec.scenario)}, not {scenario}"))
            continue
        missing = [n for n in spec.needs if available is None or n not in available]
        if spec.needs and (available is None or missing):
            skipped.append((name, "needs what the model does not provide yet: "
                                  + ", ".join(missing or list(spec.needs))))
            continue
        if name not in STATISTICS:
            skipped.append((name, "no statistic function in helsesim.analysis.targets"))
            continue
        ds = [d for d in (spec.design or designs) if d in designs]
        if not ds:
            skipped.append((name, f"measured under {', '.join(spec.design)}; the calibration "
                                  f"runs {', '.join(designs)}"))
            continue
        bounds = list(spec.bounds) + [None, None]
        tol = spec.tolerance
        if tol is None or not tol > 0:
            tol = 1.0
        for d in ds:
            used.append(Target(name, d, spec.kind, spec.value,
                               None if bounds[0] is None else float(bounds[0]),
                               None if bounds[1] is None else float(bounds[1]), float(tol),
                               spec.role, spec.status, _source_text(spec.source)))
    return Selection(used, skipped)


def table_columns(tables: Mapping[str, pd.DataFrame]) -> set[str]:
    """Every column of a job's run tables (what ``needs`` is checked against)."""
    cols: set[str] = set()
    for name in ("years", "projects", "municipalities", "communities"):
        t = tables.get(name) if hasattr(tables, "get") else None
        if t is not None:
            cols |= set(t.columns)
    return cols


def job_statistics(tables: Mapping[str, pd.DataFrame], names: Iterable[str],
                   groups: Mapping | None = None) -> pd.DataFrame:
    """The statistics ``names`` of every run of a job (its years, projects, municipalities and
    communities tables), one row per run: run_id, arm, design, seed, then one column each."""
    names = list(dict.fromkeys(names))

    def by_run(name: str) -> dict:
        t = tables.get(name) if hasattr(tables, "get") else None
        if t is None:
            return {}
        return dict(tuple(t.groupby("run_id", sort=True)))

    years, projects = by_run("years"), by_run("projects")
    munis, comms = by_run("municipalities"), by_run("communities")
    empty = tables["projects"].iloc[:0]
    rows = []
    for rid, y in years.items():
        run = Run(y, projects.get(rid, empty), munis[rid], comms.get(rid), groups or {})
        first = y.iloc[0]
        row = dict(run_id=rid, arm=first["arm"], design=first["design"], seed=first["seed"])
        for n in names:
            row[n] = float(STATISTICS[n](run))
        rows.append(row)
    return pd.DataFrame(rows, columns=["run_id", "arm", "design", "seed", *names])
