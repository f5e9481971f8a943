"""What the app offers to choose: the communities, the designs, the levers (with the schema's
ranges and units) and the outcomes."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import pandas as pd

from helsesim import allocation, config, data
from helsesim.outcomes import DEFAULT_OUTCOMES, OUTCOMES, outcome_info
from helsesim.outcomes import TIME_SERIES as YEARLY_HEADLINE

#: Outcomes drawn over time unless the user picks others.
TIME_SERIES = list(YEARLY_HEADLINE)
#: The groups whose parameters the app offers as sliders, in order.
LEVER_GROUPS = ("levers", "scenario", "allocation")
#: Parameters of those groups that are not levers an analyst moves in the app.
NOT_LEVERS = {"scenario.name", "scenario.budget", "scenario.community_key",
              "scenario.n_municipalities", "scenario.synthetic_size_median",
              "scenario.synthetic_size_sigma", "scenario.synthetic_area_km", "allocation.design"}
#: Highest value offered for a parameter the schema bounds only from below: this many times its
#: default (the schema itself allows more; the command line reaches it).
OPEN_RANGE_FACTOR = 3.0
#: The app's bounds on the horizon and on the paired seeds of one run (the schema allows more).
MAX_YEARS = 30
MAX_SEEDS = 100


@dataclass(frozen=True)
class Community:
    """A scenario the app offers: one health community or the whole country."""

    key: str
    name: str
    trust: str
    population: int
    n_municipalities: int


def communities() -> list[Community]:
    """The 19 health communities (by name) and ``norway`` (all of them), as scenarios."""
    m = data.municipalities()
    out = []
    for key, rows in m.groupby("community", sort=True):
        out.append(Community(key, rows["health_community"].iloc[0],
                             rows["health_trust"].iloc[0], int(rows["population_2024"].sum()),
                             len(rows)))
    out.append(Community("norway", "Norway (all 19 health communities)", "19 health trusts",
                         int(m["population_2024"].sum()), len(m)))
    return out


def municipality_positions() -> pd.DataFrame:
    """Every municipality's position, population and health community (for the locator map)."""
    m = data.municipalities()
    return m[["municipality_id", "name", "lon", "lat", "population_2024", "community"]].rename(
        columns={"population_2024": "population"})


def designs() -> list[str]:
    """The allocation designs, in registry order."""
    return list(allocation.DESIGNS)


def design_doc(name: str) -> str:
    """What a design does, in one paragraph (its docstring's first)."""
    doc = inspect.cleandoc(allocation.DESIGNS[name].__doc__ or "").replace("``", "")
    return " ".join(doc.split("\n\n")[0].split())


@dataclass(frozen=True)
class Param:
    """A parameter offered as a slider or a switch, with the schema's range and unit."""

    path: str
    default: float | int | bool
    kind: str  # "float", "int" or "bool"
    unit: str
    doc: str
    lo: float | None
    hi: float | None  # the slider's upper end
    schema_hi: float | None  # the schema's (None: unbounded; the slider stops at `hi`)
    source: str = ""

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def group(self) -> str:
        return self.path.split(".", 1)[0]


def _slider_hi(default: float | int | bool, lo: float | None, hi: float | None) -> float:
    """The slider's upper end: the schema's bound, unless that is only a validity limit far
    above the default (the national grant may be up to 10**12 NOK: the slider stops at
    ``OPEN_RANGE_FACTOR`` times the default)."""
    if hi is not None and (not default or hi <= 10 * OPEN_RANGE_FACTOR * abs(float(default))):
        return hi
    base = abs(float(default)) if default else 1.0
    return max(base * OPEN_RANGE_FACTOR, (lo or 0.0) + 1.0)


def levers() -> list[Param]:
    """The levers, the national grant and the design parameters, with the schema's metadata."""
    cfg = config.SimConfig()
    out = []
    for group in LEVER_GROUPS:
        obj = getattr(cfg, group)
        for f in dataclasses.fields(obj):
            path = f"{group}.{f.name}"
            value = getattr(obj, f.name)
            if path in NOT_LEVERS or f.metadata.get("choices"):
                continue
            kind = ("bool" if isinstance(value, bool) else "int" if isinstance(value, int)
                    else "float" if isinstance(value, float) else None)
            if kind is None:
                continue
            meta = f.metadata
            lo, hi = meta.get("lo"), meta.get("hi")
            out.append(Param(path, value, kind, meta.get("unit", ""), meta.get("doc", ""),
                             lo, None if kind == "bool" else _slider_hi(value, lo, hi), hi,
                             meta.get("source", "")))
    return out


def outcome_choices() -> list[str]:
    """Outcomes a user can pick for the figures: those with display metadata."""
    return list(OUTCOMES)


def outcome_label(key: str) -> str:
    return outcome_info(key).label


def default_outcomes() -> list[str]:
    return list(DEFAULT_OUTCOMES)


