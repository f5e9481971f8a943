"""What a report knows besides the summaries: the scenario's name, the runs the brief reads, the
lever of a dose–response, the per-community answers and a robustness run of the same scenario.

Computed once per report (:func:`build`), from the tables in parts, and shared by summary.md
and the figures.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helsesim import data
from helsesim.brief import GINI_COLUMN, LEFT_COLUMNS, MONEY_COLUMNS, STAFF_COLUMN, WorldsCheck
from helsesim.outcomes import outcome_info
from helsesim.report import communities, dose
from helsesim.runner import results

log = logging.getLogger(__name__)

#: The columns of the runs table that the figures, summary.md and the brief read.
RUN_COLUMNS = ["run_id", "arm", "seed", "status", "error"]
#: Besides the experiment's outcomes, the brief reads these columns of the runs table.
BRIEF_COLUMNS = ["years", *MONEY_COLUMNS.values(), STAFF_COLUMN, GINI_COLUMN]


@dataclass
class Context:
    """Everything a report draws on besides the summary and differences tables."""

    info: dict
    #: The finished runs' keys, the experiment's outcomes and the brief's columns.
    runs: pd.DataFrame
    #: Each run's final year: money available and granted (the brief's money left at the end).
    money_years: pd.DataFrame | None = None
    lever: dose.Lever | None = None
    #: Each line's baseline arm (the lever's per-design baselines), when the report uses them.
    line_baselines: dict[str, str] | None = None
    #: Paired differences against each line's baseline (the dose-response table).
    dose: pd.DataFrame | None = None
    #: Per-community differences, win counts and winners (several communities only).
    communities: pd.DataFrame | None = None
    worlds: WorldsCheck | None = None
    tables_written: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        """The scenario(s) run, as named in titles."""
        names = [s for s in str(self.info.get("scenario", "")).split(", ") if s]
        return ", ".join(data.scenario_title(s) for s in names) or "?"

    @property
    def scenario_long(self) -> str:
        names = [s for s in str(self.info.get("scenario", "")).split(", ") if s]
        return "; ".join(data.scenario_title(s, long=True) for s in names) or "?"

    @property
    def outcomes(self) -> list[str]:
        return [o for o in self.info["outcomes"] if o in self.runs]

    @property
    def headline(self) -> list[str]:
        return [o for o in self.outcomes if outcome_info(o).better in ("lower", "higher")]

    def note(self) -> str:
        """What every figure says about the run, under it."""
        info = self.info
        return (f"{info.get('name', '')}: {self.scenario}, {info.get('years')} years, "
                f"{info.get('n_seeds', '?')} paired seeds per arm.")


def _columns(tables: Mapping[str, pd.DataFrame], name: str) -> list[str]:
    if isinstance(tables, results.JobTables):
        import pyarrow.parquet as pq

        path = tables.job_dir / f"{name}.parquet"
        return pq.read_schema(path).names if path.exists() else []
    df = tables.get(name)
    return [] if df is None else list(df.columns)


def build(tables: Mapping[str, pd.DataFrame], info: dict, out_dir: Path | None = None,
          per_design: bool | float = False) -> Context:
    """The context of a report on ``tables`` for the arms and baseline of ``info``;
    ``per_design`` compares each arm with its design's baseline level of the lever (True: the
    lowest level; a number: that level).

    Raises:
        ValueError: ``per_design`` is asked for but the arms differ in no numeric input, or a
            design has no arm at the level asked for.
    """
    arms, outcomes = info["arms"], info["outcomes"]
    have = set(_columns(tables, "runs"))
    wanted = [*RUN_COLUMNS, *dict.fromkeys([*outcomes, *BRIEF_COLUMNS])]
    runs = results.ok_runs(results.read_table(tables, "runs", [c for c in wanted if c in have]))
    ctx = Context(info, runs)
    years = results.read_table(tables, "years", ["run_id", "arm", "year", *LEFT_COLUMNS],
                               last_year=True)
    if years is not None and set(LEFT_COLUMNS) <= set(years.columns):
        ctx.money_years = years[years["run_id"].isin(runs["run_id"])]
    inputs = dose.input_columns(tables)
    if len(arms) > 1 and inputs:
        ctx.lever = dose.find_lever(results.read_table(tables, "runs", ["arm", *inputs]), arms)
    if per_design is not False:
        if ctx.lever is None:
            raise ValueError("--baseline-per-design: the arms differ in no numeric input (a "
                             "lever such as levers.compensation=0,0.5,1); nothing to take a "
                             "baseline level of")
        ctx.line_baselines = ctx.lever.baselines(None if per_design is True
                                                 else float(per_design))
    if ctx.lever is not None:
        baselines = ctx.line_baselines or ctx.lever.baselines()
        ctx.dose = dose.line_differences(runs, ctx.outcomes, ctx.lever, baselines)
    comm_cols = _columns(tables, "communities")
    if "community" in comm_cols and len(arms) > 1:
        keep = communities.community_outcomes(outcomes, comm_cols)
        final = results.read_table(tables, "communities",
                                   ["run_id", "arm", "seed", "community", *keep], last_year=True)
        final = final[final["run_id"].isin(runs["run_id"])]
        if final["community"].nunique() > 1:
            ctx.communities = communities.community_differences(final, keep, arms,
                                                                info["baseline"])
    if out_dir is not None:
        ctx.worlds = find_worlds(Path(out_dir), info)
    return ctx


# --- a robustness run of the same scenario --------------------------------------------------------

def _robustness_dirs(out_dir: Path) -> list[Path]:
    """Robustness jobs where a results folder keeps them: beside the job's experiment folder
    (``results/robustness/<time>`` for ``results/<experiment>/<time>``) and in ./results."""
    roots = dict.fromkeys([out_dir.resolve().parent.parent / "robustness",
                           Path.cwd().resolve() / "results" / "robustness"])
    found = []
    for root in roots:
        if root.is_dir():
            found += [d for d in root.iterdir() if (d / "robustness.parquet").exists()
                      and (d / "analysis.json").exists()]
    return sorted(found, key=lambda d: d.name, reverse=True)  # newest first (time-named)


def find_worlds(out_dir: Path, info: dict) -> WorldsCheck | None:
    """What the newest robustness run of the same scenario (and horizon) found, or None."""
    for d in _robustness_dirs(out_dir):
        try:
            cfg = json.loads((d / "analysis.json").read_text()).get("config", {})
        except (OSError, ValueError):
            continue
        same = (str(cfg.get("scenario", {}).get("name")) == str(info.get("scenario"))
                and str(cfg.get("years")) == str(info.get("years")))
        if not same:
            continue
        table = pd.read_parquet(d / "robustness.parquet",
                                columns=["world", "design", "outcome", "beats_baseline"])
        shares = (table.dropna(subset=["beats_baseline"])
                  .groupby(["design", "outcome"])["beats_baseline"].mean()
                  .rename("share").reset_index())
        baseline = str(cfg.get("experiment", {}).get("baseline") or "open_call")
        where = os.path.relpath(d, out_dir.resolve()) if d.is_absolute() else str(d)
        log.info("the brief checks its findings over the robustness run %s", d)
        return WorldsCheck(where, int(table["world"].nunique()), baseline, shares)
    return None
