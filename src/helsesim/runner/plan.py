"""The plan of a job: its arms x paired seeds, every arm's configuration validated before any
run starts.

An *arm* is one configuration of the model: an allocation design (``experiment.designs``) or a
named change to the job's configuration (``experiment.arms``). Replicate ``i`` of every arm runs
with seed ``seed + i``, so arms are compared on paired runs (common random numbers).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from helsesim import api, data
from helsesim.config import MAX_SEED, ConfigError, SimConfig, check_fields, validate
from helsesim.hydra_schema import ExperimentConfig, HelsesimConfig
from helsesim.runner import execute
from helsesim.runner.compose import sim_config, to_schema
from helsesim.runner.tables import flat_inputs

#: Most runs in one job: a plan of a million runs takes about 0.3 GB and 3 s to make.
MAX_RUNS = 1_000_000
#: What ``experiment.name`` may be: a plain folder name under results/.
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of the experiment.

    The arm's configuration and inputs are shared by the arm's runs, not copied per run (a plan
    of 10,000 runs would otherwise hold 10,000 configurations); :attr:`config` and
    :attr:`inputs` give this run's, with its seed.
    """

    run_id: int
    experiment: str
    arm: str
    replicate: int
    seed: int
    root_seed: int
    arm_config: SimConfig = field(repr=False)
    #: The arm's inputs as columns of the runs table (:func:`~helsesim.runner.tables.
    #: flat_inputs`).
    arm_inputs: dict | None = field(default=None, repr=False, compare=False)

    @property
    def config(self) -> SimConfig:
        """This run's configuration: the arm's with this run's seed (its groups are shared with
        the arm's: a run never changes its configuration, which a test checks)."""
        return dataclasses.replace(self.arm_config, seed=self.seed)

    @property
    def inputs(self) -> dict | None:
        """This run's inputs as columns of the runs table."""
        return None if self.arm_inputs is None else {**self.arm_inputs, "seed": self.seed}

    @property
    def key(self) -> dict:
        """The key columns of this run's rows."""
        return dict(run_id=self.run_id, experiment=self.experiment, arm=self.arm,
                    design=self.arm_config.allocation.design, replicate=self.replicate,
                    seed=self.seed, root_seed=self.root_seed)


@dataclass
class Plan:
    """Arms (in order), their configurations, the baseline and every run."""

    name: str
    arms: list[str]
    arm_configs: dict[str, SimConfig]
    arm_changes: dict[str, dict]
    baseline: str
    outcomes: list[str]
    seeds: list[int]
    runs: list[RunSpec]
    config: HelsesimConfig = field(repr=False)

    def info(self) -> dict:
        """The experiment's description stored in the manifest."""
        base = self.arm_configs[self.arms[0]]
        return dict(name=self.name, description=self.config.experiment.description,
                    arms=self.arms, baseline=self.baseline,
                    designs={a: c.allocation.design for a, c in self.arm_configs.items()},
                    arm_changes=self.arm_changes, outcomes=self.outcomes,
                    scenario=base.scenario.name, years=base.years, n_seeds=len(self.seeds),
                    root_seed=self.config.seed, n_runs=len(self.runs))


def plan_experiment(cfg: DictConfig | HelsesimConfig) -> Plan:
    """Check the experiment and list its runs; every arm's configuration is validated here, so
    a bad arm fails before any run starts.

    Raises:
        ConfigError: naming the experiment field or the arm and parameter at fault.
        DataError: the shipped data are corrupt or were edited.
    """
    h = to_schema(cfg)
    exp = h.experiment
    data.check_data()
    check_fields(exp, "experiment.", HelsesimConfig)  # types, bounds, choices
    execute.check_execution(exp)  # start method, backend, workers
    _check_job(h)
    base = sim_config(h)
    validate(copy.deepcopy(base))  # an error in the job's own configuration names no arm
    changes = arm_changes(exp)
    arm_configs = _arm_configs(base, changes)
    if not changes:  # one arm: the job's configuration, named after its design
        changes = {base.allocation.design: {}}
    arms = list(arm_configs)
    baseline = exp.baseline
    if baseline is None:
        baseline = "open_call" if "open_call" in arms else arms[0]
    elif baseline not in arms:
        raise ConfigError(f"experiment.baseline: got {baseline!r}; allowed: {', '.join(arms)}")
    arms = [baseline] + [a for a in arms if a != baseline]
    n_runs = len(arms) * exp.n_seeds
    if n_runs > MAX_RUNS:
        raise ConfigError(f"experiment.n_seeds: {len(arms)} arms x {exp.n_seeds:,} seeds = "
                          f"{n_runs:,} runs; allowed: at most {MAX_RUNS:,} runs in one job "
                          "(split the sweep into jobs with other seeds)")
    _check_outcomes(exp.outcomes)
    _check_horizons(arm_configs, h.seed)
    seeds = [h.seed + i for i in range(exp.n_seeds)]
    runs = []
    for arm in arms:
        inputs = flat_inputs(arm_configs[arm])
        for i, s in enumerate(seeds):
            runs.append(RunSpec(len(runs), exp.name, arm, i, s, h.seed, arm_configs[arm],
                                inputs))
    return Plan(exp.name, arms, arm_configs, changes, baseline, list(exp.outcomes), seeds,
                runs, h)


def _check_job(h: HelsesimConfig) -> None:
    """The job's name (a folder under results/) and its seeds (64-bit integers)."""
    exp = h.experiment
    if not RUN_NAME.fullmatch(exp.name) or ".." in exp.name:
        raise ConfigError(f"experiment.name: got {exp.name!r}; allowed: a plain folder name "
                          "(letters, digits, '_', '-', '.'; no '/' or '..'): results go to "
                          "results/<name>/")
    if h.seed + exp.n_seeds - 1 > MAX_SEED:
        raise ConfigError(f"seed: got {h.seed} with experiment.n_seeds={exp.n_seeds}; allowed: "
                          f"seed + n_seeds - 1 <= 2**63 - 1 (seeds are 64-bit integers)")


def arm_changes(exp: ExperimentConfig) -> dict[str, dict]:
    """Each arm's changes to the job's configuration, from ``designs`` or ``arms`` ({} for a
    job of one arm)."""
    from helsesim.allocation import DESIGNS

    if exp.designs and exp.arms:
        raise ConfigError("experiment: set either `designs` or `arms`, not both")
    if exp.designs:
        names = []
        for d in exp.designs:
            names += list(DESIGNS) if d == "all" else [d]
        if len(set(names)) != len(names):
            raise ConfigError(f"experiment.designs: a design is listed twice: {names}")
        return {d: {"allocation": {"design": d}} for d in names}
    if exp.arms:
        bad = [k for k, v in exp.arms.items() if v is not None and not isinstance(v, dict)]
        if bad:
            raise ConfigError(f"experiment.arms.{bad[0]}: expected a mapping of changes, e.g. "
                              "{levers: {compensation: 1.0}}, or {} for no change")
        return {str(k): dict(v or {}) for k, v in exp.arms.items()}
    return {}


def _arm_configs(base: SimConfig, changes: dict[str, dict]) -> dict[str, SimConfig]:
    """Every arm's validated configuration (the job's own when it has no arms).

    Raises:
        ConfigError: naming the arm, its changes and the parameter at fault.
    """
    if not changes:
        return {base.allocation.design: validate(base)}
    arm_configs: dict[str, SimConfig] = {}
    structured = OmegaConf.structured(base)
    for arm, delta in changes.items():
        try:
            merged = OmegaConf.merge(structured, delta)
            arm_cfg = OmegaConf.to_object(merged)
            validate(arm_cfg)
        except (OmegaConfBaseException, ConfigError) as e:
            msg = str(e).splitlines()[0]
            raise ConfigError(f"experiment arm {arm!r} ({delta}): {msg}") from e
        arm_configs[arm] = arm_cfg
    return arm_configs


def _check_outcomes(outcomes: list[str]) -> None:
    known = api.summary_keys()
    unknown = [o for o in outcomes if o not in known]
    if unknown:
        raise ConfigError(f"experiment.outcomes: unknown {unknown}; allowed: the keys of "
                          f"Result.summary: {', '.join(sorted(known))}")


def _check_horizons(arm_configs: dict[str, SimConfig], seed: int) -> None:
    """Every arm's horizon is one the model can compute (see :func:`api.check_horizon`)."""
    for arm, arm_cfg in arm_configs.items():
        try:
            api.check_computable(dataclasses.replace(arm_cfg, seed=seed))
        except ConfigError as e:
            raise ConfigError(f"{e}" if len(arm_configs) == 1 else
                              f"experiment arm {arm!r}: {e}") from None
