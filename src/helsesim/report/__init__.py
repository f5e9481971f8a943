"""Reports of experiments: summary.md (opening with the decision brief), figures and tables of a
job folder, and the gathering of a Hydra multirun into one report.

``helsesim-report PATH`` accepts

* a job folder (``results/<experiment>/<time>``): redraws its figures and summary.md;
* a multirun folder (``results/multirun/<time>``, one sub-folder per job): gathers every job into
  the same tables, figures and summary.md as a single job, written at the multirun folder's
  root. Each job becomes an arm named by the overrides that differ between jobs (e.g.
  ``governance_led, compensation=0.5``); runs stay paired by seed.

``--baseline ARM`` and ``--baseline-per-design [LEVEL]`` write the report against another
baseline to a sub-folder (:mod:`helsesim.report.command`). After ``helsesim -m ...`` the
gathering runs by itself (:class:`GatherCallback`).

Modules: :mod:`~helsesim.report.summary` (summary.md), :mod:`~helsesim.report.figures` (which
figures), :mod:`~helsesim.report.plots` (figures from data frames), :mod:`~helsesim.report.maps`
(map data and maps), :mod:`~helsesim.report.communities` (per-community answers),
:mod:`~helsesim.report.dose` (numeric levers as dose–response), :mod:`~helsesim.report.context`
(what a report draws on), :mod:`~helsesim.report.gather` (multiruns),
:mod:`~helsesim.report.command` (the command and the Hydra callback).
"""

from helsesim.outcomes import TIME_SERIES
from helsesim.report.command import GatherCallback, main, report_path, summarise_tables
from helsesim.report.figures import draw_figures
from helsesim.report.gather import gather, job_dirs, job_labels
from helsesim.report.maps import (
    MAP_COLUMNS,
    STATIC_COLUMNS,
    TIE_COLUMNS,
    final_year,
    map_nodes,
    positions,
    project_ties,
    tie_counts,
)
from helsesim.report.summary import SEED_NOISE_NOTE, make_report, render_summary

__all__ = ["GatherCallback", "MAP_COLUMNS", "SEED_NOISE_NOTE", "STATIC_COLUMNS", "TIE_COLUMNS",
           "TIME_SERIES", "draw_figures", "final_year", "gather", "job_dirs", "job_labels",
           "main", "make_report", "map_nodes", "positions", "project_ties", "render_summary",
           "report_path", "summarise_tables", "tie_counts"]
