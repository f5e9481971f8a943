"""Calibration with uncertainty: ABC-SMC (pyabc) of chosen parameters to the targets.

``helsesim experiment=calibrate`` fits the parameters of ``conf/calibration/<name>.yaml`` to the
targets of ``conf/targets/seeds.yaml``; ``targets=synthetic`` first makes the same statistics
from a known parameter set and fits those (recovery). See experiments/calibrate/README.md.

* Priors: each parameter's plausible range and prior shape (helsesim.config), as pyabc
  random variables.
* Distance: every target in use contributes its term, the distance from the statistic to the
  target's value or interval divided by its tolerance (:meth:`Target.term`); pyabc's p-norm
  (p = 2) adds them up. For synthetic targets the tolerance is the statistic's spread over
  seeds divided by the square root of the seeds per particle. Targets of another scenario,
  design or role, or that need outputs the model does not produce yet, are left out and
  listed in the report.
* Each particle runs ``experiment.n_seeds`` seeds of every design of the calibration with the
  runner's configurations (helsesim's single-run API), with seeds drawn anew for each
  particle, so the posterior is not fitted to particular seeds. pyabc's samplers run particles
  in parallel: worker processes (``experiment.n_jobs``), or Ray (``experiment.backend=ray``).
  The truth of synthetic targets and the posterior predictive check run through the runner
  (job folders ``truth/`` and ``predictive/``: resumable, with manifests).
* Resumable: pyabc's database ``abc.db`` in the job folder; the same command on the same folder
  continues from the last finished generation.

Writes ``posterior.parquet`` (generation, particle, weight, distance, one column per parameter),
``calibration.md`` (posterior medians and 90 % intervals, posterior/prior width, the posterior
predictive check against each target, and for synthetic targets whether each true value lies in
its 90 % interval), ``calibrated.yaml`` (posterior medians as a configuration) and figures
(drawn and written by :mod:`helsesim.analysis.calibration_report`).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from helsesim.analysis import AnalysisError, common, runs, space, targets
from helsesim.analysis.calibration_report import draw, render
from helsesim.runner.job_folder import ResultsConflict
from helsesim.runner.plan import plan_experiment

if TYPE_CHECKING:  # pyabc is imported when a calibration runs
    import pyabc
    import pyabc.sampler

log = logging.getLogger(__name__)

DB = "abc.db"
IDENTITY = "abc.json"
#: Root of the seeds of the posterior predictive runs (away from the particles' seeds).
PREDICTIVE_SEED = 10_000_000


class CalibrationConflict(ResultsConflict):
    """The job folder holds a calibration of another configuration."""


# --- the parts of the ABC --------------------------------------------------------------------

def fitted(cfg: DictConfig) -> list[space.Uncertainty]:
    names = list(cfg.calibration.parameters)
    if not names:
        raise AnalysisError("calibration.parameters: empty; list the parameters to fit "
                                 "(conf/calibration/default.yaml)")
    out = space.uncertainties(names)
    ints = [u.name for u in out if u.integer]
    if ints:
        raise AnalysisError(f"calibration.parameters: {', '.join(ints)} are integers; "
                                 "allowed: continuous parameters (ABC-SMC perturbs "
                                 "continuously)")
    return out


def prior(params: list[space.Uncertainty]) -> pyabc.Distribution:
    """The priors as a pyabc Distribution (the same scipy distributions as the ranges)."""
    import pyabc

    rvs = {}
    for u in params:
        if u.prior == "uniform":
            rvs[u.name] = pyabc.RV("uniform", u.low, u.high - u.low)
        elif u.prior == "loguniform":
            rvs[u.name] = pyabc.RV("loguniform", u.low, u.high)
        else:  # beta(a,b)
            d = u.distribution()
            rvs[u.name] = pyabc.RV("beta", *d.args)
    return pyabc.Distribution(**rvs)


def arms_of(params: dict, designs: list[str], prefix: str = "particle") -> dict[str, dict]:
    delta = space.changes(params)
    return {f"{prefix}:{d}": space.with_design(delta, d) for d in designs}


def particle_config(cfg: DictConfig) -> DictConfig:
    """The job's configuration as a particle runs it: serially in the sampler's worker, no
    progress bar, no figures."""
    sub = copy.deepcopy(cfg)
    with read_write(sub), open_dict(sub):
        sub.experiment.n_jobs = 1
        sub.experiment.progress = False
        sub.experiment.backend = "local"
    return sub


def table_columns() -> set[str]:
    """The columns of a run's tables, from their schemas (what a target's ``needs`` is checked
    against): a new output of the model enables the targets that need it."""
    from helsesim.outcomes import COMMUNITY_COLUMNS, YEAR_COLUMNS
    from helsesim.outcomes.tables import MUNICIPALITY_COLUMNS, PROJECT_COLUMNS

    return {*YEAR_COLUMNS, *COMMUNITY_COLUMNS, *MUNICIPALITY_COLUMNS, *PROJECT_COLUMNS}


def mean_statistics(tables: Mapping[str, pd.DataFrame], used: list[targets.Target],
                    groups: dict) -> dict[str, float]:
    """Each target's statistic, the mean over the paired seeds of its design."""
    stats = targets.job_statistics(tables, {t.name for t in used}, groups)
    by_design = stats.groupby("design").mean(numeric_only=True)
    return {t.key: float(by_design.loc[t.design, t.name]) if t.design in by_design.index
            else math.nan for t in used}


class ParticleModel:
    """pyabc's model: a particle's parameters -> the scaled distance terms of the targets.

    Each call runs the calibration's designs x ``n_seeds`` seeds, new seeds for every particle
    (:meth:`first_seed`), with
    helsesim's single-run API (:func:`helsesim.run_config`; pyabc's sampler runs particles in
    parallel), and computes the targets' statistics from the runs' tables. The configurations
    are the runner's (planned once by :func:`helsesim.runner.plan_experiment`), so a
    particle runs exactly what a job with the same arm would run.
    """

    def __init__(self, cfg: DictConfig, used: list[targets.Target], designs: list[str],
                 groups: dict) -> None:
        plan = plan_experiment(runs.stage_config(particle_config(cfg), "particle",
                                                 arms_of({}, designs)))
        self.base = {plan.arm_configs[a].allocation.design: plan.arm_configs[a]
                     for a in plan.arms}
        self.n_seeds = int(cfg.experiment.n_seeds)
        self.seed = int(cfg.seed)
        self.used, self.designs, self.groups = used, designs, groups

    def first_seed(self, values: dict[str, float]) -> int:
        """A particle's first seed, from a generator seeded by the calibration's ``seed`` and the
        particle's parameter values: every particle gets its own seeds (the posterior is not
        fitted to particular seeds), and the same particle gets the same seeds in any worker
        process and in a rerun (numpy's global generator, which pyabc's workers reseed, would
        give other seeds each time)."""
        bits = np.array([values[k] for k in sorted(values)], dtype=np.float64).view(np.uint32)
        rng = np.random.default_rng(np.random.SeedSequence(
            self.seed, spawn_key=tuple(int(b) for b in bits)))
        return int(rng.integers(1, 2**31 - 1 - self.n_seeds))

    def tables(self, params: dict[str, float], seed: int) -> dict[str, pd.DataFrame]:
        """The runs of one particle (designs x seeds) as a job's tables."""
        from helsesim import run_config
        from helsesim.config import apply_overrides, validate

        out: dict[str, list] = {"years": [], "projects": [], "municipalities": [],
                                "communities": []}
        run_id = 0
        for d in self.designs:
            cfg = validate(apply_overrides(self.base[d], params))
            for i in range(self.n_seeds):
                res = run_config(dataclasses.replace(cfg, seed=seed + i))
                for name in out:
                    out[name].append(getattr(res, name).assign(
                        run_id=run_id, arm=f"particle:{d}", design=d, seed=seed + i))
                run_id += 1
        return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}

    def __call__(self, params: dict) -> dict[str, float]:
        values = {k: float(v) for k, v in dict(params).items()}
        try:
            tables = self.tables(values, self.first_seed(values))
        except Exception:  # noqa: BLE001 - a particle the model refuses is far from the targets
            log.warning("calibrate: a particle failed (%s); scored as missing every target",
                        values, exc_info=True)
            return {t.key: targets.NAN_PENALTY for t in self.used}
        stats = mean_statistics(tables, self.used, self.groups)
        return {t.key: t.term(stats[t.key]) for t in self.used}


def sampler(cfg: DictConfig) -> pyabc.sampler.Sampler:
    """pyabc's sampler: one process, worker processes, or a Ray pool."""
    import pyabc

    exp = cfg.experiment
    workers = runs.resolve_workers(exp.n_jobs)
    if exp.backend == "ray":
        import ray
        from ray.util.multiprocessing import Pool

        if not ray.is_initialized():  # a local instance on this machine only, or the cluster
            if exp.ray_address:
                ray.init(address=exp.ray_address, log_to_driver=False)
            else:
                ray.init(address="local", num_cpus=workers, include_dashboard=False,
                         log_to_driver=False, _node_ip_address="127.0.0.1")
        pool = Pool(processes=None if exp.ray_address else workers)
        return pyabc.sampler.MappingSampler(map_=pool.map, mapper_pickles=False)
    if workers == 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


# --- synthetic targets ---------------------------------------------------------------------------

def synthetic_specs(cfg: DictConfig, out: Path, designs: list[str]) -> tuple[list, dict]:
    """Targets whose values are the statistics of the truth (``targets.truth``) averaged over
    ``targets.truth_seeds`` seeds, with tolerance sd / sqrt(seeds per particle); the truth's
    runs are a stage of the job (``truth/``)."""
    truth = {str(k): float(v) for k, v in cfg.targets.truth.items()}
    if truth:
        space.uncertainties(list(truth))  # every name is a parameter with a range
    specs = [t for t in cfg.targets.targets if t.name in targets.STATISTICS and not t.needs]
    tables = runs.run_stage(cfg, out, "truth", arms_of(truth, designs, "truth"),
                            n_seeds=int(cfg.targets.truth_seeds), seed=PREDICTIVE_SEED * 2).tables
    stats = targets.job_statistics(tables, [s.name for s in specs], dict(cfg.targets.groups))
    k = math.sqrt(int(cfg.experiment.n_seeds))
    new, values = [], {}
    for s in specs:
        for d in designs:
            if s.design and d not in s.design:
                continue
            v = stats[stats["design"] == d][s.name].to_numpy(float)
            if not np.all(np.isfinite(v)):
                continue
            mean, sd = float(v.mean()), float(v.std(ddof=1))
            tol = max(sd / k, 1e-6 * max(abs(mean), 1.0))
            new.append(OmegaConf.create(dict(
                name=s.name, design=[d], scenario=list(s.scenario), kind="value", value=mean,
                bounds=[], tolerance=tol, status="synthetic", role=s.role, needs=[],
                source=[dict(file="synthetic", where=f"truth over {len(v)} seeds")])))
            values[f"{s.name}@{d}"] = dict(value=mean, sd=sd)
    return new, dict(truth=truth, statistics=values)


# --- the job ------------------------------------------------------------------------------------

def identity(cfg: DictConfig, used: list[targets.Target], params: list[space.Uncertainty]
             ) -> dict:
    """What the ABC's database depends on: a change of any of it starts another calibration."""
    c = OmegaConf.to_container(cfg, resolve=True)
    exp = c["experiment"]
    for k in ("n_jobs", "backend", "ray_address", "progress", "figures", "max_generations",
              "n_predictive", "overwrite", "chunk_size", "start_method"):
        exp.pop(k, None)
    blob = json.dumps(dict(config={k: v for k, v in c.items() if k != "targets"},
                           targets=[t.__dict__ for t in used],
                           parameters=[u.name for u in params]), sort_keys=True, default=str)
    return dict(hash=hashlib.sha256(blob.encode()).hexdigest()[:16])


def run_abc(cfg: DictConfig, out: Path, used: list[targets.Target],
            params: list[space.Uncertainty], designs: list[str]) -> pyabc.History:
    """Run (or continue) ABC-SMC; returns pyabc's History."""
    import pyabc

    exp = cfg.experiment
    db_path = out / DB
    ident = identity(cfg, used, params)
    id_path = out / IDENTITY
    abc = pyabc.ABCSMC(ParticleModel(cfg, used, designs, dict(cfg.targets.groups)),
                       prior(params), pyabc.PNormDistance(p=2),
                       population_size=int(exp.population_size), sampler=sampler(cfg))
    db = f"sqlite:///{db_path}"
    if db_path.exists():
        old = json.loads(id_path.read_text()) if id_path.exists() else {}
        if old.get("hash") != ident["hash"]:
            if not exp.overwrite:
                raise CalibrationConflict(
                    f"{out} holds a calibration of another configuration (parameters, targets "
                    "or settings differ); choose a new folder or pass experiment.overwrite=true")
            db_path.unlink()
    if db_path.exists():
        history = abc.load(db, 1)
        done = history.max_t + 1
        log.info("calibrate: resuming from %s: %d generations done", db_path, done)
    else:
        # pyabc 0.13 takes no generator: its proposals come from numpy's global one, so seeding
        # that is the one way to seed them (the particles' runs use their own, first_seed)
        np.random.seed(int(cfg.seed))  # noqa: NPY002
        common.write_text(id_path, json.dumps(ident))
        history = abc.new(db, {t.key: 0.0 for t in used})
        done = 0
    left = int(exp.max_generations) - done
    if left > 0:
        history = abc.run(max_nr_populations=left,
                          min_acceptance_rate=float(cfg.calibration.min_acceptance))
    return history


def posterior_table(history: pyabc.History, params: list[space.Uncertainty]) -> pd.DataFrame:
    """Every generation's particles: weight (normalised per generation), distance, values."""
    rows = []
    for t in range(history.max_t + 1):
        pop = history.get_population(t)
        for i, particle in enumerate(pop.particles):
            rows.append(dict(generation=t, particle=i, weight=float(particle.weight),
                             distance=float(particle.distance),
                             **{u.name: float(particle.parameter[u.name]) for u in params}))
    df = pd.DataFrame(rows)
    df["weight"] = df["weight"] / df.groupby("generation")["weight"].transform("sum")
    return df


def posterior_summary(post: pd.DataFrame, params: list[space.Uncertainty],
                      truth: dict[str, float] | None) -> pd.DataFrame:
    from pyabc.weighted_statistics import weighted_quantile

    last = post[post["generation"] == post["generation"].max()]
    w = last["weight"].to_numpy(float)
    rows = []
    for u in params:
        x = last[u.name].to_numpy(float)
        q05, med, q95 = (float(weighted_quantile(x, w, alpha=a)) for a in (0.05, 0.5, 0.95))
        p05, p95 = (float(v) for v in u.distribution().ppf([0.05, 0.95]))
        row = dict(parameter=u.name, default=float(u.default), prior_q05=p05, prior_q95=p95,
                   median=med, q05=q05, q95=q95,
                   width_ratio=(q95 - q05) / (p95 - p05) if p95 > p05 else math.nan)
        if truth is not None:
            tv = truth.get(u.name, float(u.default))
            row.update(truth=tv, truth_in_90=bool(q05 <= tv <= q95))
        rows.append(row)
    return pd.DataFrame(rows)


def predictive_check(cfg: DictConfig, out: Path, post: pd.DataFrame,
                     params: list[space.Uncertainty], specs: list, designs: list[str]
                     ) -> pd.DataFrame:
    """Run ``experiment.n_predictive`` posterior particles again through the runner, each with
    new seeds of its own (jobs ``predictive/q000``, ...), and compare every computable target of
    this scenario, in every role, with the predictive distribution of its statistic."""
    n = int(cfg.experiment.n_predictive)
    if n <= 0:
        return pd.DataFrame()
    last = post[post["generation"] == post["generation"].max()]
    rng = np.random.default_rng(int(cfg.seed))
    w = last["weight"].to_numpy(float)
    picks = rng.choice(len(last), size=n, replace=True, p=w / w.sum())
    names = [u.name for u in params]
    sel = targets.select(specs, str(cfg.scenario.name), designs, table_columns(),
                         roles=("distance", "prior", "check"))
    per_draw = []
    for i, values in enumerate(last.iloc[picks][names].to_dict("records")):
        # one runner job per draw, each with seeds of its own: the predictive spread holds the
        # seed noise as well as the parameters' uncertainty
        res = runs.run_stage(cfg, out / "predictive", f"q{i:03d}",
                             arms_of(values, designs, f"q{i:03d}"),
                             seed=PREDICTIVE_SEED + i * int(cfg.experiment.n_seeds))
        stats = targets.job_statistics(res.tables, {t.name for t in sel.used},
                                       dict(cfg.targets.groups))
        per_draw.append(stats.groupby("design").mean(numeric_only=True).reset_index()
                        .assign(draw=i))
    per_draw = pd.concat(per_draw, ignore_index=True)
    rows = []
    for t in sel.used:
        x = per_draw[per_draw["design"] == t.design][t.name].to_numpy(float)
        finite = x[np.isfinite(x)]
        med = float(np.median(finite)) if len(finite) else math.nan
        rows.append(dict(target=t.name, design=t.design, role=t.role, kind=t.kind,
                         target_text=t.describe(), median=med,
                         q05=float(np.quantile(finite, 0.05)) if len(finite) else math.nan,
                         q95=float(np.quantile(finite, 0.95)) if len(finite) else math.nan,
                         share_met=float(np.mean([t.met(v) for v in x])) if len(x) else math.nan,
                         met=bool(t.met(med)), low=t.low, high=t.high, value=t.value,
                         tolerance=t.tolerance))
    return pd.DataFrame(rows)


def run(cfg: DictConfig, out: Path) -> dict:
    """The calibration of a composed configuration into the folder ``out``."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    params = fitted(cfg)
    designs = [str(d) for d in cfg.calibration.designs]
    scenario = str(cfg.scenario.name)
    synthetic = None
    specs = list(cfg.targets.targets)
    if not specs:
        raise AnalysisError("targets: none; choose a target set (targets=seeds or "
                                 "targets=synthetic)")
    if cfg.targets.synthetic:
        specs, synthetic = synthetic_specs(cfg, out, designs)
    columns = table_columns()
    sel = targets.select(specs, scenario, designs, columns)
    if not sel.used:
        raise AnalysisError("no target can be used in scenario "
                                 f"{scenario} with designs {designs}: "
                                 + "; ".join(f"{n}: {why}" for n, why in sel.skipped))
    for name, why in sel.skipped:
        log.info("calibrate: target %s left out: %s", name, why)
    history = run_abc(cfg, out, sel.used, params, designs)
    post = posterior_table(history, params)
    common.write_parquet(post, out / "posterior.parquet")
    summary = posterior_summary(post, params, synthetic["truth"] if synthetic else None)
    common.write_parquet(summary, out / "posterior_summary.parquet")
    ppc = predictive_check(cfg, out, post, params, specs, designs)
    if len(ppc):
        common.write_parquet(ppc, out / "predictive_check.parquet")
    calibrated = space.changes({r.parameter: float(r.median) for r in summary.itertuples()})
    common.write_text(out / "calibrated.yaml", "# Posterior medians of " + str(out) +
                      "\n" + OmegaConf.to_yaml(OmegaConf.create(calibrated)))
    figures = draw(post, summary, ppc, params, out) if cfg.experiment.figures else []
    info = dict(params=params, designs=designs, used=sel.used, skipped=sel.skipped,
                summary=summary, ppc=ppc, synthetic=synthetic, figures=figures,
                generations=int(post["generation"].max()) + 1,
                evaluations=int(history.total_nr_simulations),
                seconds=time.perf_counter() - started)
    common.write_text(out / "calibration.md", render(cfg, info))
    common.write_record(out, cfg, "calibrate", started,
                        dict(generations=info["generations"], evaluations=info["evaluations"],
                             synthetic=synthetic))
    return info
