"""What the app shows of an analysis (the brief, the side-by-side table, the figures, the files
to download) and of one run stepped year by year (Mesa's step mode)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from helsesim import brief
from helsesim.api import build_config
from helsesim.app.adapter.runs import Analysis, Setup, arm_changes
from helsesim.outcomes import Outcome, outcome_info
from helsesim.report import maps, plots
from helsesim.runner import results

if TYPE_CHECKING:  # imported when the step model is made (see step_model_class)
    from helsesim.model import HealthSystem


def brief_markdown(analysis: Analysis) -> str:
    """The decision brief of an analysis (markdown)."""
    return brief.brief_markdown(analysis.tables, baseline=analysis.baseline,
                                outcomes=analysis.outcomes, heading="### Decision brief")


@dataclass(frozen=True)
class Row:
    """One outcome of the side-by-side table, formatted: values as (median, "[q05, q95]") in
    the outcome's unit."""

    outcome: str
    label: str
    unit: str
    better: str | None
    baseline: tuple[str, str]
    arm: tuple[str, str]
    difference: tuple[str, str]
    seeds_better: str


def _cell(r: pd.Series, info: Outcome, fmt: Callable[[float, Outcome, bool], str]
          ) -> tuple[str, str]:
    return (fmt(float(r["median"]), info, False),
            f"[{fmt(float(r['q05']), info, False)}, {fmt(float(r['q95']), info, False)}]")


def side_by_side(analysis: Analysis) -> list[Row]:
    """Median and 90 % interval of each outcome for both arms, and the paired difference."""
    arm, base = analysis.arms[1], analysis.baseline
    s = analysis.tables["summary"]
    d = analysis.tables["differences"]
    rows = []
    for o in analysis.outcomes:
        info = outcome_info(o)
        so = s[s["outcome"] == o].set_index("arm")
        do = d[(d["outcome"] == o) & (d["arm"] == arm)]
        if base not in so.index or arm not in so.index:
            continue
        diff, better = ("–", ""), "–"
        if len(do) and int(do["n_pairs"].iloc[0]):
            r = do.iloc[0]
            diff = _cell(r, info, brief.change)
            if info.better:
                share = r["share_lower"] if info.better == "lower" else r["share_higher"]
                better = f"{round(share * r['n_pairs'])} of {int(r['n_pairs'])}"
        unit = brief.unit_of(info)
        rows.append(Row(o, info.label, unit, info.better,
                        _cell(so.loc[base], info, brief.level),
                        _cell(so.loc[arm], info, brief.level), diff, better))
    return rows


def _note(analysis: Analysis) -> str:
    s = analysis.setup
    return (f"{s.community}: {s.years} years, {s.n_seeds} paired seeds from seed {s.seed}; "
            "helsesim app.")


def map_figure(analysis: Analysis) -> Figure:
    """Where the money went and the collaboration ties, one panel per arm (a matplotlib
    Figure)."""
    nodes, ties = _map_data(analysis.tables["municipalities"],  # the last year only
                            analysis.tables["projects"], analysis.tables["runs"])
    single = nodes["community"].nunique() == 1
    arms = analysis.arms[::-1]  # the design first, the baseline beside it
    return maps.plot_map(nodes, ties, arms, title="Where the money went and who worked "
                             "together", note=_note(analysis), label_largest=3 if single else 0)


def time_series_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    return plots.plot_time_series(analysis.tables["years"], outcomes, analysis.arms,
                                     analysis.baseline, title="Outcomes over time",
                                     note=_note(analysis))


def distribution_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    outcomes = [o for o in outcomes if o in analysis.tables["runs"]]
    return plots.plot_outcome_distributions(
        results.ok_runs(analysis.tables["runs"]), outcomes, analysis.arms, analysis.baseline,
        title="End-of-run outcomes", note=_note(analysis))


def differences_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    return plots.plot_paired_differences(
        analysis.tables["differences"], outcomes, analysis.arms, analysis.baseline,
        title=f"Paired differences against {analysis.baseline}", note=_note(analysis))


def download_files(analysis: Analysis) -> dict[str, Path]:
    """Files of the job folder a user can download: tables, summary and manifest."""
    job = analysis.job_dir
    names = [*(f"{t}.parquet" for t in ("summary", "differences", *results.TABLES)),
             "summary.md", "manifest.json"]
    return {n: job / n for n in names if (job / n).exists()}


# --- step mode: one run, year by year ---------------------------------------------------------

def step_model_class() -> type[HealthSystem]:
    """A HealthSystem that stops (``running = False``) after its configured years, so that Mesa's
    play button stops there."""
    from helsesim.model import HealthSystem

    class SteppedHealthSystem(HealthSystem):
        def step(self) -> None:
            super().step()
            self.running = self.year < self.horizon

    return SteppedHealthSystem


def step_parameters(setup: Setup) -> dict:
    """Keyword arguments that make the step model: the design arm's configuration with the first
    seed (the run the experiment's replicate 0 of that arm is)."""
    arm = arm_changes(setup)[setup.arms()[0]]
    flat = {f"{g}.{k}": v for g, vs in arm.items() for k, v in vs.items()}
    cfg = build_config(setup.community, setup.design, setup.seed, setup.years, **{
        k: v for k, v in flat.items() if k != "allocation.design"})
    return {"cfg": cfg}


def step_state(model: HealthSystem) -> dict:
    """The tables of a step model so far: years, municipalities (this year), projects."""
    tables = model.tables()
    years = tables["years"]
    munis = tables["municipalities"]
    munis = munis[munis["year"] == model.year].assign(run_id=0, arm="this run")
    projects = tables["projects"].assign(arm="this run")
    runs = pd.DataFrame({"run_id": [0], "arm": ["this run"], "status": ["ok"]})
    return {"years": years.assign(run_id=0, arm="this run"), "municipalities": munis,
            "projects": projects, "runs": runs, "year": model.year, "final": model.horizon}


def _map_data(last_year: pd.DataFrame, projects: pd.DataFrame, runs: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's nodes (benefit per inhabitant at the end, by arm) and ties (mean joint
    projects per finished run of each arm), as the report draws them."""
    statics = last_year[["municipality_id", "name", "community", "population"]
                        ].drop_duplicates("municipality_id")
    benefits = last_year[["arm", "municipality_id", "benefit_per_capita"]]
    finished = runs[runs["status"] == "ok"].groupby("arm").size()
    return (maps.map_nodes(benefits, statics, maps.positions()),
            maps.project_ties(projects, finished))


def step_map_figure(state: dict, title: str) -> Figure:
    nodes, ties = _map_data(state["municipalities"], state["projects"], state["runs"])
    single = nodes["community"].nunique() == 1
    return maps.plot_map(nodes, ties, ["this run"], title=title,
                             note="Benefit received and ties from projects funded so far.",
                             label_largest=3 if single else 0)


def step_series_figure(state: dict, outcomes: list[str]) -> Figure:
    return plots.plot_time_series(state["years"], outcomes, ["this run"], None,
                                     title="This run so far")
