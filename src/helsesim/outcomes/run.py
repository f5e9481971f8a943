"""Run outcomes: one value per run, computed from the run's tables.

Every function here reads only the tables a run returns and a job stores (years, projects,
municipalities), so the summary of a run is the same whether it is computed at the end of the
run or later from a job's parquet files (:func:`recompute`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from helsesim.outcomes.registry import Outcome, collect
from helsesim.outcomes.tables import LEAD_CLASSES, SIZE_CLASSES

Columns = Mapping[str, Sequence]
NAN = float("nan")


class RunTables:
    """A run's tables (each a mapping of columns: data frames or dicts of lists or arrays)."""

    def __init__(self, years: Columns, projects: Columns, municipalities: Columns) -> None:
        self.years, self.projects, self.municipalities = years, projects, municipalities

    def year_column(self, name: str) -> np.ndarray:
        return np.asarray(self.years[name])

    def project_column(self, name: str, dtype: type | None = None) -> np.ndarray:
        return np.asarray(self.projects[name], dtype=dtype)

    @cached_property
    def budget(self) -> np.ndarray:
        return self.project_column("budget", float)

    @cached_property
    def n_projects(self) -> int:
        return len(self.budget)

    @cached_property
    def status(self) -> np.ndarray:
        return self.project_column("status", object)

    @cached_property
    def members(self) -> dict[str, np.ndarray]:
        """Each municipality's first-year and last-year rows, in board order (community by
        community, then by ``municipality_id``, the order of the data)."""
        year = np.asarray(self.municipalities["year"])
        ids = np.asarray(self.municipalities["municipality_id"], dtype=str)
        community = np.asarray(self.municipalities["community"], dtype=str)

        def rows(at: int) -> np.ndarray:
            sel = np.flatnonzero(year == at)
            return sel[np.lexsort((ids[sel], community[sel]))]

        first, last = rows(int(year.min())), rows(int(year.max()))

        def col(name: str) -> np.ndarray:
            return np.asarray(self.municipalities[name])

        return {"initial_experience": col("experience")[first],
                "projects": col("projects_led")[last] + col("projects_joined")[last],
                "size_class": np.asarray(self.municipalities["size_class"], dtype=object)[last],
                "community": community[last]}

    @cached_property
    def n_members(self) -> int:
        """Municipalities and trusts (one per community)."""
        return len(self.members["size_class"]) + self.n_boards

    @cached_property
    def n_boards(self) -> int:
        return len(set(self.members["community"].tolist()))


def share(mask: np.ndarray) -> float:
    """Share of True (NaN when empty)."""
    return float(np.mean(mask)) if np.size(mask) else NAN


def total_funded(t: RunTables) -> float:
    return float(t.budget.sum())


def total_budget(t: RunTables) -> float:
    return float(t.year_column("budget")[1:].sum())


def mean_project_budget(t: RunTables) -> float:
    return float(t.budget.mean()) if t.n_projects else NAN


def median_project_budget(t: RunTables) -> float:
    return float(np.median(t.budget)) if t.n_projects else NAN


def mean_partners(t: RunTables) -> float:
    return float(t.project_column("n_partners").mean()) if t.n_projects else NAN


def recruitment_project_share(t: RunTables) -> float:
    return share(t.project_column("type", object) == "recruitment")


def _lead_share(lead_class: str) -> Callable[[RunTables], float]:
    return lambda t: share(t.project_column("lead_class", object) == lead_class)


def member_share_trust(t: RunTables) -> float:
    return t.n_boards / t.n_members


def _member_share(size: str) -> Callable[[RunTables], float]:
    return lambda t: int(np.sum(t.members["size_class"] == size)) / t.n_members


def _participation_rate(size: str) -> Callable[[RunTables], float]:
    return lambda t: float(np.mean(t.year_column(f"participation_{size}")[1:]))


def implementation_rate(t: RunTables) -> float:
    done = (t.status == "implemented") | (t.status == "failed")
    return share(t.status[done] == "implemented")


def survival_rate(t: RunTables) -> float:
    return share(t.project_column("survives")[t.status == "implemented"])


def multi_municipality_share(t: RunTables) -> float:
    return share(t.project_column("n_municipalities") > 1)


def matthew_correlation(t: RunTables) -> float:
    """Do the initially experienced keep joining (P6)?"""
    initial = t.members["initial_experience"].astype(float)
    joined = t.members["projects"].astype(float)
    if initial.std() > 0 and joined.std() > 0:
        return float(np.corrcoef(initial, joined)[0, 1])
    return NAN


def net_inflow(t: RunTables) -> float:
    """Staff gained from outside the communities minus staff who left them or the sector."""
    return float(np.sum(t.year_column("moves_entrants_hired"))
                 - np.sum(t.year_column("moves_left_community"))
                 - np.sum(t.year_column("moves_exits")))


def spent_share(t: RunTables) -> float:
    """Money committed over money granted, years 1..T (carried-over money counts once)."""
    granted = total_budget(t)
    return total_funded(t) / granted if granted > 0 else NAN


def oversubscription(t: RunTables) -> float:
    """Median over the years with an open call of money asked / money offered."""
    offered = t.year_column("call_money")[1:].astype(float)
    asked = t.year_column("money_asked")[1:].astype(float)
    years = offered > 0
    return float(np.median(asked[years] / offered[years])) if years.any() else NAN


def money_share_trust(t: RunTables) -> float:
    money = t.budget.sum()
    return float(t.project_column("benefit_trust", float).sum() / money) if money > 0 else NAN


def coordination_share(t: RunTables) -> float:
    """Share of the project money spent on coordinating the parties (seed 003)."""
    money = t.budget.sum()
    spent = (t.project_column("coordination", float) * t.project_column("duration")).sum()
    return float(spent / money) if money > 0 else NAN


def retention_fte_years(t: RunTables) -> float:
    return float(t.year_column("retention_fte")[1:].sum())


#: P5 is measured, as seed 002 does, over a window of this many years (or the run, if shorter).
PARTICIPATION_WINDOW = 5


def _participation_ever(size: str) -> Callable[[RunTables], float]:
    def ever(t: RunTables) -> float:
        year = np.asarray(t.municipalities["year"])
        at = min(PARTICIPATION_WINDOW, int(year.max()))
        rows = (year == at) & (np.asarray(t.municipalities["size_class"], dtype=object) == size)
        return share(np.asarray(t.municipalities["voluntary_projects"])[rows] > 0)
    return ever


def _info_gap(size: str) -> Callable[[RunTables], float]:
    def gap(t: RunTables) -> float:
        year = np.asarray(t.municipalities["year"])
        rows = (year == year.max()) & (
            np.asarray(t.municipalities["size_class"], dtype=object) == size)
        n = np.asarray(t.municipalities["partner_years"])[rows].sum()
        info = np.asarray(t.municipalities["partner_information"], dtype=float)[rows].sum()
        return float(1 - info / n) if n > 0 else NAN
    return gap


def _proposal_share(lead_class: str) -> Callable[[RunTables], float]:
    def proposal_share(t: RunTables) -> float:
        counts = {c: t.year_column(f"proposals_{c}")[1:].sum() for c in LEAD_CLASSES}
        total = sum(counts.values())
        return float(counts[lead_class] / total) if total > 0 else NAN
    return proposal_share


def years(t: RunTables) -> int:
    return int(t.year_column("year")[-1])


def _size_outcomes(size: str) -> list[Outcome]:
    return [
        Outcome(f"member_share_{size}", f"{size.capitalize()} municipalities' share of members",
                "share of members", "neither", "run", _member_share(size),
                f"share of the members (municipalities and trusts) that are {size} "
                "municipalities; the reference for P2", basis="fixed", theme="Equity"),
        Outcome(f"participation_rate_{size}", f"{size.capitalize()} municipalities taking part "
                "in a project, per year", f"share of {size} municipalities", "higher", "run",
                _participation_rate(size), f"mean over years 1…T of `participation_{size}` "
                "(P5)", basis="mean", theme="Participation",
                headline=8 if size == "small" else None),
    ]


_PROJECTS = "share of projects"

OUTCOMES: dict[str, Outcome] = collect([
    Outcome("n_projects", "Funded projects over the run", "projects", "neither", "run",
            lambda t: t.n_projects, "number of funded projects", basis="run", theme="Projects",
            headline=9),
    Outcome("total_funded", "RS money granted over the run", "NOK", "neither", "run",
            total_funded, "money funded in years 1…T", basis="run", theme="Projects",
            scale=1e-6, shown_unit="MNOK"),
    Outcome("total_budget", "RS money available over the run", "NOK", "neither", "run",
            total_budget, "money available in years 1…T", basis="run", theme="Projects",
            scale=1e-6, shown_unit="MNOK"),
    Outcome("mean_project_budget", "Mean budget of a funded project", "NOK", "neither", "run",
            mean_project_budget, "mean budget of funded projects (NaN without projects; P3)",
            basis="run", theme="Projects", scale=1e-6, shown_unit="MNOK"),
    Outcome("median_project_budget", "Median budget of a funded project", "NOK", "neither",
            "run", median_project_budget, "median budget of funded projects (P3)", basis="run",
            theme="Projects", scale=1e-6, shown_unit="MNOK"),
    Outcome("mean_partners", "Mean municipal partners per project", "partners", "neither",
            "run", mean_partners, "mean number of municipal partners per project (the lead "
            "and the trust not counted)", basis="run", theme="Collaboration"),
    Outcome("recruitment_project_share", "Share of funded projects aimed at recruitment",
            _PROJECTS, "higher", "run", recruitment_project_share, "share of funded projects "
            "of type `recruitment` (P1)", basis="run", theme="Recruitment", headline=6),
    *(Outcome(f"lead_share_{c}", f"Share of projects led by the {c}" + (
        "" if c == "trust" else " municipalities"), _PROJECTS, "neither", "run", _lead_share(c),
        f"share of funded projects led by the {c}" + ("" if c == "trust" else
                                                      " municipalities") +
        " (NaN without projects; P2)", basis="run", theme="Equity")
      for c in LEAD_CLASSES),
    Outcome("member_share_trust", "The trusts' share of members", "share of members",
            "neither", "run", member_share_trust, "share of the members (municipalities and "
            "trusts) that are trusts; the reference for P2", basis="fixed", theme="Equity"),
    *(o for size in SIZE_CLASSES for o in _size_outcomes(size)),
    Outcome("implementation_rate", "Finished projects that were implemented", _PROJECTS,
            "higher", "run", implementation_rate, "implemented / (implemented + failed) "
            "projects; projects still running at the end are left out (P7)", basis="run",
            theme="Projects"),
    Outcome("survival_rate", "Implemented projects that survive the end of funding",
            "share of implemented projects", "higher", "run", survival_rate,
            "share of implemented projects that survive the end of funding (P7)", basis="run",
            theme="Projects"),
    Outcome("multi_municipality_share", "Projects with more than one municipality", _PROJECTS,
            "neither", "run", multi_municipality_share, "share of projects with more than one "
            "municipal party", basis="run", theme="Collaboration"),
    Outcome("matthew_correlation", "Correlation of initial experience and later projects",
            "Pearson r", "lower", "run", matthew_correlation, "Pearson correlation, across "
            "municipalities, between initial experience and projects led + joined (P6); NaN if "
            "either has no variance (e.g. under `per_capita`)", basis="run",
            theme="Participation"),
    Outcome("net_inflow", "Net inflow of staff over the run", "FTE", "higher", "run",
            net_inflow, "staff hired from outside the community (graduates, immigrants, "
            "returners) minus staff who left for the rest of the country or left the sector, "
            "summed over years 1…T and communities (`moves_entrants_hired` − "
            "`moves_left_community` − `moves_exits`); equals the change in the communities' "
            "staff over the run (7.10)", basis="run", theme="Recruitment"),
    Outcome("spent_share", "Share of the RS money committed to projects", "share of money",
            "higher", "run", spent_share, "money funded / money granted over years 1…T "
            "(`total_funded` / `total_budget`; carried-over money counts once)", basis="run",
            theme="Projects"),
    Outcome("oversubscription", "Money asked over money offered in open calls",
            "ratio", "neither", "run", oversubscription, "median over the years with an open "
            "call of `money_asked` / `call_money` (NaN without a call)", basis="run",
            theme="Projects"),
    Outcome("money_share_trust", "The trust's share of the RS money", "share of money",
            "neither", "run", money_share_trust, "money attributed to the trust(s) / money "
            "funded, over the run's projects (7.8)", basis="run", theme="Equity"),
    Outcome("coordination_share", "Share of project money spent on coordination",
            "share of money", "lower", "run", coordination_share, "coordination NOK "
            "(7.9) over the projects' lives / their budgets", basis="run",
            theme="Collaboration"),
    Outcome("retention_fte_years", "Staff-years whose quit hazard projects removed",
            "FTE-years", "higher", "run", retention_fte_years, "`retention_fte` summed over "
            "years 1…T", basis="run", theme="Recruitment"),
    *(Outcome(f"participation_ever_{size}", f"{size.capitalize()} municipalities that took "
              "part voluntarily", f"share of {size} municipalities", "higher", "run",
              _participation_ever(size), f"share of the {size} municipalities that led or "
              f"joined by choice (open-call proposals) at least one funded project in years "
              f"1…{PARTICIPATION_WINDOW} (P5, measured as seed 002 does; the run if shorter)",
              basis="run", theme="Participation")
      for size in SIZE_CLASSES),
    *(Outcome(f"info_gap_{size}_partners", f"Information {size} partners lack",
              "information (0-1)", "lower", "run", _info_gap(size), f"1 - the mean "
              f"information of the {size} municipalities over their project-years as a "
              "partner (7.9; seed 003; NaN if none)", basis="run", theme="Collaboration")
      for size in SIZE_CLASSES),
    *(Outcome(f"proposal_share_{c}", f"Share of proposals made by the {c}" + (
        "" if c == "trust" else " municipalities"), "share of proposals", "neither", "run",
        _proposal_share(c), "share of the open-call proposals, agenda items and transfer "
        f"proposals of years 1…T made by the {c}" + ("" if c == "trust" else
                                                    " municipalities"),
        basis="run", theme="Equity")
      for c in LEAD_CLASSES),
    Outcome("years", "Simulated years", "years", "neither", "run", years,
            "number of simulated years", basis="count"),
])


def run_summary(t: RunTables, year_outcomes: Mapping[str, Outcome]) -> dict[str, float]:
    """A run's summary: the final-year value of every year outcome marked ``in_summary``, then
    every run outcome, in registry order."""
    out: dict[str, float] = {k: float(t.year_column(k)[-1])
                             for k, o in year_outcomes.items() if o.in_summary}
    for k, o in OUTCOMES.items():
        out[k] = o.compute(t)
    return out


def job_summaries(tables: Mapping[str, pd.DataFrame], year_outcomes: Mapping[str, Outcome]
                  ) -> pd.DataFrame:
    """The summary of every run of a job, recomputed from its tables (years, projects,
    municipalities, each with a ``run_id`` column), one row per run, indexed by ``run_id``."""
    def by_run(name: str, order: list[str]) -> dict:
        df = tables[name].sort_values(["run_id", *order], kind="stable")
        return {k: g for k, g in df.groupby("run_id", sort=True)}

    years_of = by_run("years", ["year"])
    projects_of = by_run("projects", ["project_id"])
    municipalities_of = by_run("municipalities", ["year", "municipality_id"])
    empty = tables["projects"].iloc[:0]
    rows = {rid: run_summary(RunTables(y, projects_of.get(rid, empty), municipalities_of[rid]),
                             year_outcomes)
            for rid, y in years_of.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("run_id")
