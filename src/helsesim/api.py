"""The one-call API: ``helsesim.simulate(...)`` runs one simulation and returns its tables."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helsesim.config import ConfigError, SimConfig, apply_overrides, validate

if TYPE_CHECKING:
    from helsesim.model import HealthSystem


@dataclass
class Result:
    """Tables of one run.

    Attributes:
        years: one row per year (year 0 is the initial state): outcomes of the whole scenario.
        projects: one row per funded project.
        municipalities: one row per municipality per year: state variables and benefits.
        communities: one row per health community per year (the year columns, per community).
        summary: end-of-run outcomes.
        config: the validated configuration that produced them.
    """

    years: pd.DataFrame
    projects: pd.DataFrame
    municipalities: pd.DataFrame
    communities: pd.DataFrame
    summary: dict
    config: SimConfig = field(repr=False)


def build_config(scenario: str | dict | None = None, allocation: str | dict | None = None,
                 seed: int | None = None, years: int | None = None,
                 config: SimConfig | None = None, **overrides: object) -> SimConfig:
    """A validated config from keyword arguments (see :func:`simulate`)."""
    cfg = config if config is not None else SimConfig()
    if not isinstance(cfg, SimConfig):
        raise ConfigError(f"config: expected a SimConfig, got {type(cfg).__name__}")
    direct = {}
    if isinstance(scenario, dict):
        direct["scenario"] = scenario
    elif scenario is not None:
        direct["scenario.name"] = scenario
    if isinstance(allocation, str):
        direct["allocation.design"] = allocation
    elif isinstance(allocation, dict):
        direct["allocation"] = allocation
    elif allocation is not None:
        raise ConfigError(f"allocation: expected a design name or a mapping, got "
                          f"{type(allocation).__name__}")
    if seed is not None:
        direct["seed"] = seed
    if years is not None:
        direct["years"] = years
    return validate(apply_overrides(cfg, {**direct, **overrides}))


def run_tables(cfg: SimConfig) -> tuple[dict[str, dict], dict]:
    """Run one validated configuration; its tables as columns (``{table: {column: values}}``,
    no data frames: what a sweep stores) and its summary.

    Raises:
        ConfigError: the horizon is beyond what the model can compute (before the first year).
        NonFiniteOutput: an outcome came out infinite (a safety net behind the bounds).
    """
    with collector_paused():
        tables, result = _run_model(cfg)
    check_finite(tables, result)
    return tables, result


def _run_model(cfg: SimConfig) -> tuple[dict[str, dict], dict]:
    from helsesim.model import HealthSystem  # mesa is imported only when a model runs
    from helsesim.outcomes import summary

    model = HealthSystem(cfg)
    try:
        check_horizon(model, cfg)
        model.run()
        tables = model.table_columns()
        result = summary(tables)
    finally:
        _release(model)
    return tables, result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a model without Python's cyclic garbage collector, then collect its youngest
    generation once (results are unaffected: the collector frees memory, it decides nothing).

    A run allocates enough containers (agents, projects, their dicts) that the collector
    would examine them twice on their way to the oldest generation and, every few national
    runs, traverse every object of the process (pandas, scipy, ...): ~30 ms of a 0.3 s norway
    run. Paused, the run's objects stay in the youngest generation, and one collection at the
    end examines them once and frees the finished model (a cycle: the model and its agents),
    so memory does not grow from run to run. Left as it was if the caller had disabled it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def check_horizon(model: HealthSystem, cfg: SimConfig) -> None:
    """Refuse, before the first year, a horizon the model cannot compute.

    Positions grow by ``need_growth`` every year (a task transfer moves positions within a
    community, never adds any). The job seekers of one community and profession are at most
    its staff (no more than its rounded positions) plus the year's entrants (Poisson, mean
    ``inflow_rate`` x positions; bounded here at 10 standard deviations), and must stay below
    the labour market's limit (``labour_market.MAX_SEEKERS``: it draws one uniform per job seeker
    and round).

    Raises:
        ConfigError: naming ``years`` and the most years this scenario allows.
    """
    from helsesim.model.labour_market import MAX_SEEKERS

    lp = cfg.params.labour
    growth = max(1.0, 1.0 + lp.need_growth)
    workforce = model.workforce
    blocks = np.append(workforce.starts, len(workforce.employers))
    largest, where = 0.0, ""
    for key, start, end in zip(model.boards, blocks[:-1], blocks[1:], strict=True):
        per_profession = workforce.positions[start:end].sum(axis=0)
        if per_profession.max() > largest:
            largest, where = float(per_profession.max()), key
    n_employers = int(np.diff(blocks).max())

    def pool(years: int) -> float:
        positions = largest * growth**years
        entrants = lp.inflow_rate * positions
        return positions + n_employers + entrants + 10 * math.sqrt(entrants) + 10

    if pool(cfg.years) < MAX_SEEKERS:
        return
    if pool(0) >= MAX_SEEKERS:
        raise ConfigError(f"scenario: the largest labour pool ({where}: {largest:,.0f} "
                          f"positions of one profession) is beyond what the model can compute "
                          f"(job seekers of one community and profession must stay below "
                          f"{MAX_SEEKERS:.0e}, the labour market's limit: one random draw per "
                          "job seeker)")
    most = math.floor(math.log((MAX_SEEKERS - n_employers - 10 * math.sqrt(
        MAX_SEEKERS) - 10) / (largest * (1 + lp.inflow_rate))) / math.log(growth))
    while most > 0 and pool(most) >= MAX_SEEKERS:
        most -= 1
    raise ConfigError(f"years: got {cfg.years}; allowed here: <= {most}: positions grow by "
                      f"need_growth={lp.need_growth} a year, and by then the job seekers of one "
                      f"community and profession ({where}: {largest:,.0f} positions at the "
                      f"start) would pass {MAX_SEEKERS:.0e}, the labour market's limit (one "
                      "random draw per job seeker)")


def check_computable(cfg: SimConfig) -> None:
    """:func:`check_horizon` for a validated configuration (builds the model, runs no year)."""
    from helsesim.model import HealthSystem

    model = HealthSystem(cfg)
    try:
        check_horizon(model, cfg)
    finally:
        _release(model)


def summary_keys() -> frozenset[str]:
    """The keys of ``Result.summary`` (the outcome registry's summary keys)."""
    from helsesim.outcomes import SUMMARY_KEYS

    return frozenset(SUMMARY_KEYS)


class NonFiniteOutput(ValueError):
    """A run produced an infinite value: a combination of extreme parameters overflowed."""


def check_finite(tables: dict[str, dict], summary: dict) -> None:
    """Raise NonFiniteOutput if an outcome or a number in a table is infinite (NaN is allowed:
    it marks an undefined outcome, e.g. the vacancy rate of a size class with no members)."""
    bad = [k for k, v in summary.items() if isinstance(v, float) and math.isinf(v)]
    for name, columns in tables.items():
        for column, values in columns.items():
            arr = values if isinstance(values, np.ndarray) else None
            if arr is None and len(values) and isinstance(values[0], float):
                arr = np.asarray(values, dtype=float)
            if arr is not None and arr.dtype.kind == "f" and np.isinf(arr).any():
                bad.append(f"{name}.{column}")
    if bad:
        raise NonFiniteOutput(f"the run produced infinite values ({', '.join(bad[:5])}); a "
                              "combination of extreme parameters overflowed: bring them "
                              "closer to their defaults")


def run_config(cfg: SimConfig) -> Result:
    """Run one validated configuration."""
    from helsesim.outcomes.tables import frames

    tables, summary = run_tables(cfg)
    return Result(**frames(tables), summary=summary, config=cfg)


def _release(model: HealthSystem) -> None:
    """Let the model be garbage-collected: Mesa 3.3's class-level ``Agent._ids`` keeps every
    model ever made alive (fixed in Mesa 3.4.2), so a loop of runs grew by ~0.2 MB a run."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def simulate(scenario: str = "nordland", allocation: str | dict = "open_call", seed: int = 1,
             years: int = 10, **overrides: object) -> Result:
    """Run one simulation.

    Args:
        scenario: ``nordland`` (default), a health community key (``st_olavs``), ``norway`` or
            ``synthetic``.
        allocation: a design name (``open_call``, ``governance_led``, ``two_stream``,
            ``per_capita``, ``lottery``) or a mapping of the ``allocation`` group.
        seed: seed of the run.
        years: simulated years.
        **overrides: any parameter by its name in the Hydra configuration: a leaf name
            (``compensation=0.5``, ``budget=7e6``), a group mapping
            (``levers={"compensation": 0.5}``) or, through ``**{"levers.compensation": 0.5}``,
            a dotted path.

    Raises:
        ConfigError: a parameter is unknown, of the wrong type or out of range; the message
            names it and what is allowed.
    """
    return run_config(build_config(scenario, allocation, seed, years, **overrides))
