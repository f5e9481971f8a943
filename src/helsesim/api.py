"""The one-call API: ``helsesim.simulate(...)`` runs one simulation and returns its tables."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pandas as pd

from helsesim.config import ConfigError, SimConfig, apply_overrides, validate


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


def build_config(scenario: str | dict | None = None, allocation=None, seed: int | None = None,
                 years: int | None = None, config: SimConfig | None = None,
                 **overrides) -> SimConfig:
    """A validated config from keyword arguments (see :func:`simulate`)."""
    cfg = copy.deepcopy(config) if config is not None else SimConfig()
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
    apply_overrides(cfg, {**direct, **overrides})
    return validate(cfg)


def run_tables(cfg: SimConfig) -> tuple[dict[str, dict], dict]:
    """Run one validated configuration; its tables as columns (``{table: {column: values}}``,
    no data frames: what a sweep stores) and its summary."""
    from helsesim.model import HealthSystem  # mesa is imported only when a model runs
    from helsesim.outcomes import summary

    model = HealthSystem(cfg)
    try:
        model.run()
        tables = model.table_columns()
        return tables, summary(tables)
    finally:
        _release(model)


def run_config(cfg: SimConfig) -> Result:
    """Run one validated configuration."""
    from helsesim.outcomes.tables import frames

    tables, summary = run_tables(cfg)
    return Result(**frames(tables), summary=summary, config=cfg)


def _release(model) -> None:
    """Let the model be garbage-collected: Mesa 3.3's class-level ``Agent._ids`` keeps every
    model ever made alive (fixed in Mesa 3.4.2), so a loop of runs grew by ~0.2 MB a run."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def simulate(scenario: str = "nordland", allocation="open_call", seed: int = 1,
             years: int = 10, **overrides) -> Result:
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
