"""Run an experiment: arms x paired seeds, in parallel, into tidy tables, figures and a summary.

:func:`run_experiment` is the plain function behind the ``helsesim`` console script; tests and
notebooks call it with a composed configuration (:func:`compose_config`)::

    from helsesim.experiment import compose_config, run_experiment
    cfg = compose_config(["experiment=way_forward", "experiment.n_seeds=5"])
    res = run_experiment(cfg, out_dir="results/my_try")
    res.tables["runs"]

An *arm* is one configuration of the model: an allocation design (``experiment.designs``) or a
named change to the job's configuration (``experiment.arms``). Replicate ``i`` of every arm runs
with seed ``seed + i``, so arms are compared on paired runs. Runs are independent and
deterministic, so a parallel run gives the same tables as a serial one, bit for bit.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import dataclasses
import logging
import math
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from helsesim import results
from helsesim.config import ConfigError, SimConfig, validate
from helsesim.hydra_schema import HelsesimConfig, register_configs

log = logging.getLogger(__name__)

#: The Hydra configuration folder of a source checkout (``pip install -e .``).
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


# --- configuration --------------------------------------------------------------------------------

def compose_config(overrides: list[str] | tuple[str, ...] = (), config_name: str = "config"
                   ) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides, as the ``helsesim`` command does.

    Raises:
        hydra.errors.ConfigCompositionException: a key is misspelt or a value has the wrong type.
    """
    from hydra import compose, initialize_config_dir

    if not (CONF_DIR / f"{config_name}.yaml").exists():
        raise ConfigError(f"Hydra configuration {CONF_DIR / config_name}.yaml not found: the "
                          "conf/ folder lives in the helsesim repository (pip install -e .)")
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def to_schema(cfg: DictConfig | HelsesimConfig) -> HelsesimConfig:
    """The typed configuration object of a composed DictConfig (a copy)."""
    if isinstance(cfg, HelsesimConfig):
        return copy.deepcopy(cfg)
    if isinstance(cfg, DictConfig):
        cfg = copy.deepcopy(cfg)
        if "hydra" in cfg:
            with _writable(cfg):
                del cfg["hydra"]
        obj = OmegaConf.to_object(cfg)
        if not isinstance(obj, HelsesimConfig):
            raise ConfigError("the configuration was not composed from helsesim's schema "
                              "(conf/config.yaml must start with `base_config`)")
        return obj
    raise ConfigError(f"expected a composed configuration, got {type(cfg).__name__}")


@contextlib.contextmanager
def _writable(cfg: DictConfig):
    """Lift OmegaConf's struct and read-only flags inside the block."""
    with read_write(cfg), open_dict(cfg):
        yield cfg


def sim_config(cfg: HelsesimConfig) -> SimConfig:
    """The simulation part of a job's configuration."""
    return SimConfig(**{f.name: copy.deepcopy(getattr(cfg, f.name))
                        for f in dataclasses.fields(SimConfig)})


def overridden_design(task_overrides: list[str]) -> bool:
    """Whether Hydra overrides choose the allocation design (``allocation=...``,
    ``allocation.design=...``)."""
    for ov in task_overrides:
        key = ov.split("=", 1)[0].lstrip("+~")
        if key in ("allocation", "allocation.design"):
            return True
    return False


def restrict_to_design(cfg: DictConfig, task_overrides: list[str]) -> bool:
    """If the command line chooses a design, run only that design instead of the experiment's
    ``designs`` list, so ``helsesim -m allocation=open_call,governance_led`` gives one design
    per job. Returns whether the configuration changed."""
    if not cfg.experiment.designs or not overridden_design(task_overrides):
        return False
    with _writable(cfg):
        cfg.experiment.designs = [cfg.allocation.design]
    return True


# --- the plan: arms x seeds -------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """One run of the experiment."""

    run_id: int
    experiment: str
    arm: str
    replicate: int
    seed: int
    root_seed: int
    config: SimConfig = field(repr=False)

    @property
    def key(self) -> dict:
        return dict(run_id=self.run_id, experiment=self.experiment, arm=self.arm,
                    design=self.config.allocation.design, replicate=self.replicate,
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


def _arm_changes(exp) -> dict[str, dict]:
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


def plan_experiment(cfg: DictConfig | HelsesimConfig) -> Plan:
    """Check the experiment and list its runs; every arm's configuration is validated here, so
    a bad arm fails before any run starts.

    Raises:
        ConfigError: naming the experiment field or the arm and parameter at fault.
    """
    h = to_schema(cfg)
    exp = h.experiment
    if exp.n_seeds < 1:
        raise ConfigError(f"experiment.n_seeds: got {exp.n_seeds}; allowed: >= 1")
    if exp.n_jobs == 0 or exp.n_jobs < -1:
        raise ConfigError(f"experiment.n_jobs: got {exp.n_jobs}; allowed: -1 (all cores) or a "
                          "number of processes >= 1")
    base = sim_config(h)
    validate(copy.deepcopy(base))  # an error in the job's own configuration names no arm
    changes = _arm_changes(exp)
    arm_configs: dict[str, SimConfig] = {}
    if not changes:  # one arm: the job's configuration, named after its design
        arm_configs[base.allocation.design] = validate(base)
        changes = {base.allocation.design: {}}
    else:
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
    arms = list(arm_configs)
    baseline = exp.baseline
    if baseline is None:
        baseline = "open_call" if "open_call" in arms else arms[0]
    elif baseline not in arms:
        raise ConfigError(f"experiment.baseline: got {baseline!r}; allowed: {', '.join(arms)}")
    arms = [baseline] + [a for a in arms if a != baseline]
    seeds = [h.seed + i for i in range(exp.n_seeds)]
    runs = []
    for arm in arms:
        for i, s in enumerate(seeds):
            c = copy.deepcopy(arm_configs[arm])
            c.seed = s
            runs.append(RunSpec(len(runs), exp.name, arm, i, s, h.seed, c))
    return Plan(exp.name, arms, arm_configs, changes, baseline, list(exp.outcomes), seeds,
                runs, h)


# --- execution ---------------------------------------------------------------------------------

def resolve_n_jobs(n_jobs: int, n_runs: int) -> int:
    """Worker processes to use: -1 = every core this process may use; never more than runs."""
    if n_jobs == -1:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_jobs = os.cpu_count() or 1
    return max(1, min(n_jobs, n_runs))


def _init_worker() -> None:
    """Start of a worker process: quiet Mesa, import the model once."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    import helsesim.model  # noqa: F401  (imports mesa: ~1 s, once per worker)


_POOL: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool with ``workers`` processes, kept for the next job of this process.

    Starting a worker costs ~1-2 s (it imports mesa), so the jobs of a Hydra multirun, which run
    one after another in one process, share the pool. Workers are started with ``spawn``: clean
    on every platform (no forked locks or threads). The pool is shut down at exit.
    """
    pool = _POOL.get(workers)
    if pool is None or getattr(pool, "_broken", False):
        shutdown_pools()
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   initializer=_init_worker)
        _POOL[workers] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the worker processes kept by :func:`_pool`."""
    while _POOL:
        _, pool = _POOL.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def run_one(spec: RunSpec) -> dict:
    """Run one configuration; a failure is recorded as data (status, traceback), so one bad
    run does not end the other runs of a sweep."""
    from helsesim.api import run_config

    try:
        res = run_config(spec.config)
    except Exception:  # noqa: BLE001 - recorded in the runs table and reported
        return results.failed_run(spec.key, spec.config, traceback.format_exc())
    return results.tidy_run(spec.key, spec.config, res)


def execute(runs: list[RunSpec], n_jobs: int = -1, chunk_size: int = 0, progress: bool = True,
            desc: str = "runs") -> list[dict]:
    """Run every spec, in worker processes when ``n_jobs != 1``; outputs in run order."""
    workers = resolve_n_jobs(n_jobs, len(runs))
    bar = tqdm(total=len(runs), desc=desc, unit="run", disable=not progress, file=sys.stderr,
               mininterval=0.5, dynamic_ncols=True)
    outputs = []
    with bar:
        if workers == 1:
            for spec in runs:
                outputs.append(run_one(spec))
                bar.update()
        else:
            chunk = chunk_size or max(1, math.ceil(len(runs) / (workers * 4)))
            for out in _pool(workers).map(run_one, runs, chunksize=chunk):
                outputs.append(out)
                bar.update()
    return sorted(outputs, key=lambda o: o["runs"]["run_id"])


@dataclass
class ExperimentResult:
    """Tables of an experiment, its plan and manifest, and where they were written."""

    tables: dict[str, pd.DataFrame]
    plan: Plan
    manifest: dict
    out_dir: Path | None = None

    @property
    def failed(self) -> pd.DataFrame:
        runs = self.tables["runs"]
        return runs[runs["status"] != "ok"]


def run_experiment(cfg: DictConfig | HelsesimConfig, out_dir: str | Path | None = None, *,
                   command: list[str] | None = None, overrides: list[str] | None = None
                   ) -> ExperimentResult:
    """Run an experiment and, if ``out_dir`` is given, write its tables, manifest, figures and
    summary.md there.

    Args:
        cfg: a configuration composed from ``conf/`` (:func:`compose_config`) or a
            :class:`~helsesim.hydra_schema.HelsesimConfig`.
        out_dir: the job folder; None keeps everything in memory.
        command: the command line recorded in the manifest (default: ``sys.argv``).
        overrides: the Hydra overrides recorded in the manifest.

    Raises:
        ConfigError: the experiment or one of its arms is invalid (before any run).
        RuntimeError: every run failed (the first traceback is in the message).
    """
    t0 = time.perf_counter()
    plan = plan_experiment(cfg)
    exp = plan.config.experiment
    workers = resolve_n_jobs(exp.n_jobs, len(plan.runs))
    log.info("%s: %d arms x %d seeds = %d runs of %s, %d years, on %d process%s",
             plan.name, len(plan.arms), len(plan.seeds), len(plan.runs),
             plan.info()["scenario"], plan.info()["years"], workers,
             "" if workers == 1 else "es")
    outputs = execute(plan.runs, exp.n_jobs, exp.chunk_size, exp.progress, desc=plan.name)
    t_runs = time.perf_counter() - t0
    tables = results.assemble(outputs)
    failed = tables["runs"][tables["runs"]["status"] != "ok"]
    if len(failed) == len(tables["runs"]):
        raise RuntimeError(f"all {len(failed)} runs failed; the first:\n{failed['error'].iloc[0]}")
    if len(failed):
        log.error("%d of %d runs failed (see the `error` column of runs.parquet); the first:\n%s",
                  len(failed), len(tables["runs"]), failed["error"].iloc[0])
    unknown = [o for o in plan.outcomes if o not in tables["runs"]]
    if unknown:
        raise ConfigError(f"experiment.outcomes: unknown {unknown}; allowed: the keys of "
                          "Result.summary, e.g. gini_benefit_per_capita, vacancy_rate")
    tables["summary"] = results.summarise(tables["runs"], plan.outcomes, plan.arms)
    tables["differences"] = results.paired_differences(tables["runs"], plan.outcomes,
                                                       plan.arms, plan.baseline)
    seeds = [dict(replicate=i, seed=s) for i, s in enumerate(plan.seeds)]
    timings = {"runs": round(t_runs, 3), "workers": workers}
    manifest = results.build_manifest(dataclasses.asdict(plan.config), plan.info(), seeds,
                                      command=command, overrides=overrides, timings=timings)
    res = ExperimentResult(tables, plan, manifest)
    if out_dir is not None:
        from helsesim import report

        out = Path(out_dir)
        results.write_tables(out, tables)
        results.write_manifest(out, manifest)
        t1 = time.perf_counter()
        report.make_report(out, tables, manifest, figures=exp.figures)
        timings["report"] = round(time.perf_counter() - t1, 3)
        timings["total"] = round(time.perf_counter() - t0, 3)
        results.write_manifest(out, manifest)
        res.out_dir = out
        log.info("%s: wrote tables, figures and summary.md to %s in %.1f s", plan.name, out,
                 timings["total"])
    return res


# --- reference experiments (CI) ----------------------------------------------------------------

#: Small fixed-seed versions of the shipped experiments. Their expected results are committed
#: under results/reference/<name>/; tests/test_reference.py reruns them and requires equality;
#: ``python scripts/regenerate_reference.py`` rewrites them on purpose.
REFERENCES: dict[str, list[str]] = {
    "compare_allocation": ["experiment=compare_allocation", "experiment.n_seeds=3", "years=5"],
    "way_forward": ["experiment=way_forward", "experiment.n_seeds=2", "years=5"],
    "national": ["experiment=national", "experiment.n_seeds=1", "years=3"],
}
REFERENCE_DIR = CONF_DIR.parent / "results" / "reference"
#: How reference runs are executed: serially, in this process, without figures. The results
#: do not depend on these (parallel == serial), so they are not part of the reference.
REFERENCE_RUN = ["experiment.n_jobs=1", "experiment.progress=false", "experiment.figures=false"]
#: Floats are written with 17 significant digits, enough to read back the same double.
REFERENCE_FLOAT = "%.17g"


def reference_tables(res: ExperimentResult) -> dict[str, pd.DataFrame]:
    """The compared part of a reference experiment: every run's keys and outcomes (``runs``)
    and the medians and intervals per arm (``summary``)."""
    runs = res.tables["runs"]
    inputs = set(results.flat_inputs(SimConfig()))
    keys = ["run_id", "arm", "design", "replicate", "seed", "status"]
    outcomes = [c for c in runs.columns if c not in inputs and c not in results.RUN_KEYS]
    return {"runs": runs[keys + outcomes], "summary": res.tables["summary"]}


def to_reference_csv(df: pd.DataFrame) -> str:
    """A table as the CSV text stored under results/reference/."""
    return df.to_csv(index=False, float_format=REFERENCE_FLOAT, lineterminator="\n")


def run_reference(overrides: list[str]) -> tuple[ExperimentResult, dict[str, pd.DataFrame]]:
    """Run a reference experiment from its overrides."""
    res = run_experiment(compose_config([*overrides, *REFERENCE_RUN]))
    return res, reference_tables(res)
