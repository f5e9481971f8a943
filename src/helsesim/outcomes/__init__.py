"""Outcomes of helsesim: one registry, the metrics, and the functions that compute them.

:data:`OUTCOMES` maps every outcome's name to its :class:`Outcome` (label, unit, direction,
level, the function that computes it). Everything else that names outcomes is derived from it:
the year tables' columns (:data:`YEAR_COLUMNS`), the summary keys (:data:`SUMMARY_KEYS`), the
default outcomes of an experiment (:data:`DEFAULT_OUTCOMES`), the time-series figure
(:data:`TIME_SERIES`), labels in figures and reports (:func:`outcome_info`) and the outcome
tables of docs/ODD.md. A new outcome is one entry and one function in
:mod:`~helsesim.outcomes.yearly` (a value per year) or :mod:`~helsesim.outcomes.run` (a value
per run).

Nothing here imports the model: outcomes are functions of the state arrays and tables the
model hands over, so they can be recomputed from a job's parquet files (:func:`recompute`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helsesim.outcomes import run, yearly
from helsesim.outcomes.registry import Outcome, collect, unknown
from helsesim.outcomes.run import RunTables
from helsesim.outcomes.state import YearState
from helsesim.outcomes.yearly import year_rows

#: Every outcome by name: the year outcomes in column order, then the run outcomes.
OUTCOMES: dict[str, Outcome] = collect([*yearly.OUTCOMES.values(), *run.OUTCOMES.values()])
#: Columns of the years table (the communities table has ``community`` first).
YEAR_COLUMNS: list[str] = ["year", *yearly.OUTCOMES]
COMMUNITY_COLUMNS: list[str] = ["community", *YEAR_COLUMNS]
#: Keys of a run's summary, in order.
SUMMARY_KEYS: list[str] = [k for k, o in yearly.OUTCOMES.items() if o.in_summary] + list(
    run.OUTCOMES)
#: Outcomes an experiment reports unless it lists others (the headline outcomes, in rank order).
DEFAULT_OUTCOMES: list[str] = sorted((k for k, o in OUTCOMES.items() if o.headline),
                                     key=lambda k: OUTCOMES[k].headline or 0)
#: The default outcomes that have a yearly column: the panels of the time-series figure.
TIME_SERIES: list[str] = [k for k in DEFAULT_OUTCOMES if k in yearly.OUTCOMES]


def outcome_info(name: str) -> Outcome:
    """The registry's entry of an outcome (a bare entry, its name as label, when it has none)."""
    return OUTCOMES.get(name) or unknown(name)


def summary(tables: Mapping[str, Mapping]) -> dict[str, float]:
    """A run's summary from its tables (``years``, ``projects``, ``municipalities``: data frames
    or mappings of columns)."""
    return run.run_summary(RunTables(tables["years"], tables["projects"],
                                     tables["municipalities"]), yearly.OUTCOMES)


def recompute(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every run's summary recomputed from a job's tables (as read from its parquet files),
    one row per run, indexed by ``run_id``."""
    return run.job_summaries(tables, yearly.OUTCOMES)


__all__ = ["OUTCOMES", "Outcome", "YEAR_COLUMNS", "COMMUNITY_COLUMNS", "SUMMARY_KEYS",
           "DEFAULT_OUTCOMES", "TIME_SERIES", "YearState", "year_rows", "RunTables",
           "outcome_info", "summary", "recompute"]
