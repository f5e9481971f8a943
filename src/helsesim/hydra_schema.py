"""The top-level Hydra schema: :class:`~helsesim.config.SimConfig` plus an ``experiment`` group.

Every simulation default lives in ``config.py``; this module only adds what an *experiment*
needs (which arms, how many paired seeds, how many workers) and registers the result with
Hydra's ConfigStore as ``base_config``, the first entry of ``conf/config.yaml``'s defaults list.
Because the schema is typed, a misspelt key or a value of the wrong type fails when Hydra
composes the configuration, before any run starts.

In an experiment the top-level ``seed`` is the *root* seed: replicate ``i`` of every arm runs
with seed ``seed + i`` (paired seeds, common random numbers), so ``experiment.n_seeds=1``
reproduces ``helsesim.simulate(seed=seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from helsesim.analysis import ANALYSES
from helsesim.analysis.schema import CalibrationConfig, Question, TargetsConfig
from helsesim.config import SimConfig, p
from helsesim.outcomes import DEFAULT_OUTCOMES


@dataclass
class ExperimentConfig:
    """What one job runs: arms (allocation designs or named lever bundles) x paired seeds."""

    name: str = p("custom", "-", "-", "Name of the experiment: the `experiment` column and the "
                  "results folder `results/<name>/<time>`.")
    description: str = p("", "-", "-", "The question the experiment answers (for summary.md).")
    designs: list[str] = p([], "-", "-", "One arm per allocation design; `all` stands for every "
                           "design in `helsesim.allocation.DESIGNS`. Leave empty to use `arms`.")
    arms: dict[str, Any] = p({}, "-", "-", "Named arms as changes to the job's configuration, "
                             "e.g. `{capacity_support: {levers: {capacity_support: 1.0}}}`; "
                             "`{}` is the job's configuration itself. Used when `designs` is "
                             "empty; with both empty the job has one arm.")
    baseline: str | None = p(None, "-", "-", "Arm the paired differences are taken against. "
                             "Empty: `open_call` if it is an arm, else the first arm.",
                             allow_none=True)
    n_seeds: int = p(30, "runs per arm", "-", "Replicates per arm; replicate i runs with seed "
                     "`seed + i` in every arm.", lo=1, hi=1_000_000)
    n_jobs: int = p(-1, "processes", "-", "Worker processes for the replications; -1 = all "
                    "cores, 1 = serial in this process.", lo=-1, hi=1024)
    chunk_size: int = p(0, "runs", "-", "Runs sent to a worker at a time, and saved together "
                        "as one part of the job folder; 0 = automatic (at most 50, shrinking "
                        "towards the end of the job so that workers finish together).", lo=0,
                        hi=1000)
    backend: str = p("local", "-", "-", "Where the runs go: `local` (processes on this "
                     "machine) or `ray` (a Ray cluster; `pip install 'helsesim[ray]'`).",
                     choices=("local", "ray"))
    start_method: str = p("auto", "-", "-", "How local worker processes start: `auto` forks "
                          "them on Linux while no other Python thread runs (milliseconds, the "
                          "model already imported), else a `forkserver`, and elsewhere uses the "
                          "platform's default; or `fork`, `forkserver`, `spawn` as in "
                          "`multiprocessing`.",
                          choices=("auto", "fork", "forkserver", "spawn"))
    ray_address: str | None = p(None, "-", "-", "With `backend=ray`: the cluster to use, "
                                "`auto` (started with `ray start` on this machine) or "
                                "`host:port`; empty: start Ray on this machine (127.0.0.1, "
                                "`n_jobs` CPUs).", allow_none=True)
    overwrite: bool = p(False, "-", "-", "Replace results that the job folder holds from "
                        "another helsesim version or configuration (else the job refuses to "
                        "start). Results of the same job are never replaced: it resumes.")
    progress: bool = p(True, "-", "-", "Show a progress bar.")
    figures: bool = p(True, "-", "-", "Draw the figures (PNG) into `figures/`.")
    outcomes: list[str] = p(DEFAULT_OUTCOMES, "-", "-", "End-of-run outcomes (keys of "
                            "`Result.summary`) in summary.md and the distribution figures.")
    # --- the researcher's workbench (helsesim.analysis; experiments/<analysis>/README.md) ---
    analysis: str = p("none", "-", "-", "An analysis around the runs: `sensitivity` (Morris, "
                      "then Sobol), `calibrate` (ABC-SMC to `targets`), `robustness` (every "
                      "design over plausible worlds); `none` runs the arms as they are.",
                      choices=("none", *ANALYSES))
    parameters: list[str] = p([], "-", "-", "Parameters an analysis varies (dotted paths or "
                              "leaf names, each with a plausible range); empty: every "
                              "uncertainty with a range.")
    n_trajectories: int = p(10, "trajectories", "-", "Morris: trajectories (points = "
                            "trajectories x (parameters + 1)).", lo=2, hi=10_000)
    morris_levels: int = p(4, "levels", "-", "Morris: grid levels.", lo=2, hi=100)
    top_k: int = p(10, "parameters", "-", "Sobol: the parameters with the largest Morris mu* "
                   "(over the experiment's outcomes) analysed by Sobol; 0 skips Sobol.",
                   lo=0, hi=1000)
    n_base: int = p(64, "samples", "-", "Sobol: base sample N (points = N x (k + 2); a power "
                    "of 2).", lo=2, hi=1_000_000)
    population_size: int = p(100, "particles", "-", "ABC-SMC: particles per generation.",
                             lo=2, hi=1_000_000)
    max_generations: int = p(6, "generations", "-", "ABC-SMC: most generations (a resumed "
                             "job runs only the missing ones).", lo=1, hi=1000)
    n_predictive: int = p(30, "particles", "-", "Calibration: posterior particles run again "
                          "(with new seeds) for the posterior predictive check.", lo=0,
                          hi=100_000)
    n_worlds: int = p(64, "worlds", "-", "Robustness: plausible worlds (parameter sets).",
                      lo=2, hi=1_000_000)
    worlds: str = p("lhs", "-", "-", "Robustness: worlds from a Latin hypercube over the "
                    "plausible ranges (`lhs`) or drawn from a calibration's posterior "
                    "(`posterior`, see `posterior`).", choices=("lhs", "posterior"))
    posterior: str | None = p(None, "-", "-", "Robustness with `worlds=posterior`: the "
                              "posterior.parquet of a calibration job.", allow_none=True)
    questions: list[Question] = p([Question()], "-", "-", "Robustness: scenario-discovery "
                                  "questions (PRIM): in which worlds does `design` beat "
                                  "`rival` on `outcome`?")


@dataclass
class HelsesimConfig(SimConfig):
    """A Hydra job: one simulation configuration (inherited) plus the experiment around it."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    #: Targets of a calibration (``targets=seeds`` or ``targets=synthetic``; empty otherwise).
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    #: Parameters a calibration fits (``calibration=default``; empty otherwise).
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)


#: The scenario of ``conf/config.yaml``'s defaults list.
DEFAULT_SCENARIO = "nordland"


def register_configs() -> None:
    """Register the schema as ``base_config``, and every health community as an option of the
    ``scenario`` group (``scenario=helgeland``), from the one list of them in
    :func:`helsesim.data.community_names` (idempotent). ``conf/scenario/`` holds the other
    scenarios (``norway``, ``synthetic``). When the data cannot be read, only the default
    (``conf/config.yaml``'s) is registered, so that the data check says why before any run."""
    from helsesim.data import DataError, community_names

    store = ConfigStore.instance()
    store.store(name="base_config", node=HelsesimConfig)
    try:
        keys = community_names()
    except DataError:  # the default still composes; the data check names the problem
        keys = [DEFAULT_SCENARIO]
    for key in keys:
        store.store(group="scenario", name=key, node={"name": key}, provider="helsesim")
