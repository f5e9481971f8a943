"""Which figures a report draws from a job's tables, with their titles and captions.

Only the columns each figure needs are read, and the projects are counted in batches, so the
memory a report takes hardly grows with the number of runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from helsesim.outcomes import TIME_SERIES
from helsesim.report import communities, dose, maps, plots
from helsesim.report.context import Context
from helsesim.runner import results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

TRADEOFF = ("gini_benefit_per_capita", "vacancy_rate_small")
#: The outcomes of the figure of medians per community (the table has every headline outcome).
COMMUNITY_OUTCOMES = ["gini_benefit_per_capita", "vacancy_rate_small", "mean_trust"]
COMMUNITY_COLUMNS = ["run_id", "arm", "year", "community", *COMMUNITY_OUTCOMES]


def captions(ctx: Context) -> dict[str, str]:
    """What each figure shows (file name -> caption in summary.md), naming the scenario run."""
    lever = ctx.lever.path if ctx.lever else "the lever"
    return {
        "outcomes_by_arm": "End-of-run outcomes by arm: equity, task shifting, recruitment and "
                           "more.",
        "paired_differences": f"Paired differences against `{ctx.info['baseline']}`, with 90 % "
                              "intervals.",
        "tradeoff_equity_recruitment": "Trade-off between equity (Gini of benefit per "
                                       "inhabitant) and recruitment (vacancy rate in small "
                                       "municipalities).",
        "time_series": "Outcomes year by year: medians with 90 % bands.",
        "map": f"Map of {ctx.scenario}: where the money went and the collaboration ties.",
        "communities": "Outcomes per health community (final year).",
        "community_winners": "Map of the best design in each health community, per outcome "
                             "(filled: a clear lead; ring: within seed noise).",
        "dose_response": f"Dose–response: outcomes against {lever}, one line per design, with "
                         "90 % bands.",
        "dose_differences": f"The effect of {lever} within each design: each value minus the "
                            "design's baseline value in the same seed.",
    }


def _map(tables: Mapping[str, pd.DataFrame], ctx: Context, title: str) -> Figure | None:
    runs = ctx.runs
    benefits = results.read_table(tables, "municipalities", maps.MAP_COLUMNS, last_year=True,
                                  categories=True)
    if benefits is None or not len(benefits) or not len(runs):
        return None
    statics = results.read_table(tables, "municipalities", ["run_id", "year",
                                                            *maps.STATIC_COLUMNS],
                                 last_year=True, run_ids=[int(runs["run_id"].iloc[0])])
    nodes = maps.map_nodes(benefits, statics, maps.positions())
    del benefits
    if not len(nodes):
        log.info("no municipality positions for this scenario: no map")
        return None
    single = nodes["community"].nunique() == 1
    ties = maps.project_ties(results.iter_table(tables, "projects", maps.TIE_COLUMNS),
                             runs.groupby("arm").size())
    return maps.plot_map(nodes, ties, ctx.info["arms"], title=title, note=ctx.note(),
                         label_largest=3 if single else 0)


def draw_figures(tables: Mapping[str, pd.DataFrame], ctx: Context,
                 per_design: bool = False) -> Iterator[tuple[str, Figure]]:
    """Every figure that the tables allow, with its file name (without extension), one at a
    time (the caller saves it before the next is drawn). ``per_design``: the report of each
    design against its own baseline level (the dose–response figures only)."""
    info, runs, note = ctx.info, ctx.runs, ctx.note()
    arms, baseline = info["arms"], info["baseline"]
    name = f"{info['name']} in {ctx.scenario}"
    outcomes = ctx.outcomes
    lever = ctx.lever
    if lever is not None and ctx.dose is not None:
        baselines = ctx.line_baselines or lever.baselines()
        summary = tables.get("summary")
        if lever.n_levels >= dose.MIN_LEVELS and summary is not None:
            yield "dose_response", dose.plot_dose_response(
                summary, lever, outcomes, title=f"{name}: outcomes against {lever.path}",
                note=note)
        yield "dose_differences", dose.plot_dose_differences(
            ctx.dose, lever, baselines, outcomes,
            title=f"{name}: the effect of {lever.path} within each design", note=note)
    if per_design:
        return
    yield "outcomes_by_arm", plots.plot_outcome_distributions(
        runs, outcomes, arms, baseline, title=f"{name}: end-of-run outcomes by arm", note=note)
    diffs = tables.get("differences")
    if diffs is not None and len(diffs) and len(arms) > 1:
        yield "paired_differences", plots.plot_paired_differences(
            diffs, outcomes, arms, baseline,
            title=f"{name}: paired differences against {baseline}", note=note)
    if all(k in runs for k in TRADEOFF):
        yield "tradeoff_equity_recruitment", plots.plot_tradeoff(
            runs, arms, *TRADEOFF, baseline=baseline, title=f"{name}: equity vs recruitment",
            note=note)
    years = results.read_table(tables, "years", ["run_id", "arm", "year", *TIME_SERIES])
    if years is not None and len(years):
        yield "time_series", plots.plot_time_series(
            years, TIME_SERIES, arms, baseline, title=f"{name}: outcomes over time", note=note)
    del years
    fig = _map(tables, ctx, f"{name}: where the money went and who worked together")
    if fig is not None:
        yield "map", fig
    comms = results.read_table(tables, "communities", COMMUNITY_COLUMNS, last_year=True)
    if comms is not None and len(comms) and comms["community"].nunique() > 1:
        yield "communities", plots.plot_communities(
            comms, COMMUNITY_OUTCOMES, arms, baseline,
            title=f"{name}: outcomes by health community", note=note)
    if ctx.communities is not None and len(ctx.communities):
        table = ctx.communities
        munis = communities.municipalities_of(table["community"].unique())
        yield "community_winners", maps.plot_winner_map(
            munis, communities.winners(table), list(dict.fromkeys(table["outcome"])), arms,
            baseline, title=f"{name}: the best design in each health community", note=note)
