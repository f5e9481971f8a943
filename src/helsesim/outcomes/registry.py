"""What an outcome is: a name, how it is shown and judged, where it lives and how it is computed.

An :class:`Outcome` is the one home of everything the code knows about an outcome (EMA
workbench's ``ScalarOutcome``: a name, a direction, a function). Two levels exist:

* ``year``: a value per year, computed from the year's state (:mod:`helsesim.outcomes.yearly`)
  for the whole scenario (a column of the years table) and for each health community (the same
  column of the communities table). With ``in_summary`` its final-year value is also a summary
  key of the same name.
* ``run``: one value per run, computed from the run's tables (:mod:`helsesim.outcomes.run`), so
  that it can be recomputed from the parquet tables of a job.

Summary keys, the year tables' columns, labels in figures and reports, the default outcomes of
an experiment and the outcome tables of docs/ODD.md are all derived from the registry
(:data:`helsesim.outcomes.OUTCOMES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Better = Literal["lower", "higher", "neither"]
Level = Literal["year", "run"]


@dataclass(frozen=True)
class Outcome:
    """One outcome.

    Attributes:
        name: the key (a column of the year tables, a summary key, or both).
        label: a short description for figures and reports.
        unit: the unit of the stored value.
        better: which direction is better for the grant's aims, or ``neither``.
        level: ``year`` or ``run`` (see the module docstring).
        compute: year: ``f(YearGroups) -> array`` (one value per group, from sums per group
            and elementwise operations, or through ``YearGroups.each_year``); run:
            ``f(RunTables) -> number``.
        doc: the definition written in docs/ODD.md (the label when empty).
        basis: ``state`` (the level reached at the end of the year), ``flow`` (what happened
            in the year), ``fixed`` (constant during a run), ``run`` (over the run's projects),
            ``mean`` (mean over years 1..T) or ``count``.
        in_summary: a year outcome whose final-year value is a summary key.
        theme: the question it belongs to (Equity, Task shifting, Recruitment, ...).
        scale: the value shown in figures and reports is the stored value times ``scale``...
        shown_unit: ...in this unit (``unit`` when empty).
        headline: its place among the default outcomes of an experiment (None: not one).
    """

    name: str
    label: str
    unit: str
    better: Better
    level: Level
    compute: Callable[[Any], Any]
    doc: str = ""
    basis: str = "state"
    in_summary: bool = False
    theme: str = ""
    scale: float = 1.0
    shown_unit: str = ""
    headline: int | None = None

    @property
    def display_unit(self) -> str:
        """The unit of the shown value (after ``scale``)."""
        return self.shown_unit or self.unit

    @property
    def definition(self) -> str:
        return self.doc or self.label


def collect(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """Outcomes by name, in order; a name given twice is an error."""
    out: dict[str, Outcome] = {}
    for o in outcomes:
        if o.name in out:
            raise ValueError(f"outcome {o.name!r} is registered twice")
        out[o.name] = o
    return out


def unknown(name: str) -> Outcome:
    """What is shown for a key without an entry: its name as label, nothing else known."""
    def not_registered(_: object) -> None:
        raise KeyError(f"outcome {name!r} is not in the registry")

    return Outcome(name, name.replace("_", " "), "", "neither", "run", not_registered)
