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
import importlib.util
import logging
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from helsesim import api, preflight, results
from helsesim.config import (
    MAX_SEED,
    ConfigError,
    SimConfig,
    allowed,
    check_fields,
    schema,
    schema_node,
    unknown_keys,
    validate,
)
from helsesim.data import DataError
from helsesim.hydra_schema import HelsesimConfig, register_configs

log = logging.getLogger(__name__)

#: The Hydra configuration folder of a source checkout (``pip install -e .``).
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
#: Most runs in one job: a plan of a million runs takes about 0.3 GB and 3 s to make.
MAX_RUNS = 1_000_000
#: What ``experiment.name`` may be: a plain folder name under results/.
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


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
    """The typed configuration object of a composed DictConfig (a copy).

    Raises:
        ConfigError: a key that the schema does not have (added with ``+``), named with the
            keys allowed where it was added.
    """
    if isinstance(cfg, HelsesimConfig):
        return copy.deepcopy(cfg)
    if isinstance(cfg, DictConfig):
        cfg = copy.deepcopy(cfg)
        if "hydra" in cfg:
            with _writable(cfg):
                del cfg["hydra"]
        unknown = unknown_keys(cfg, HelsesimConfig)
        if unknown:
            *group, key = unknown[0].split(".")
            where = schema(HelsesimConfig)
            for part in group:
                where = where[part]
            scope = f"in {'.'.join(group)}" if group else "at the top"
            raise ConfigError(f"{unknown[0]}: not a parameter of helsesim (added with +?); "
                              f"allowed {scope}: {', '.join(where.keys())}")
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


def composition_error(e: Exception) -> str:
    """One line for an error of Hydra's composition: a misspelt key and a value of the wrong
    type as helsesim's own checks name them, an unknown option with the options, a YAML file
    that cannot be read with its name."""
    chain = [e]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    for err in chain:
        key = getattr(err, "full_key", None)
        if isinstance(err, OmegaConfBaseException) and key:
            try:
                schema_node(key, HelsesimConfig)
            except ConfigError as unknown:  # a misspelt or unknown key
                return str(unknown)
            if "arms" not in key.split("."):
                first = str(err).splitlines()[0]
                return f"{key}: {first}; allowed: {allowed(key, HelsesimConfig)}"
    options = getattr(e, "options", None)
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    first = first.removeprefix("In 'config': ")
    if options:
        return f"{first}; available: {', '.join(options)}"
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    if type(e).__module__.startswith("yaml") and len(lines) > 1:
        return f"{lines[0]} ({lines[1]}); helsesim reads plain YAML only"
    return first


# --- the plan: arms x seeds -------------------------------------------------------------------

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
    #: The arm's inputs as columns of the runs table (:func:`results.flat_inputs`).
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
    preflight.check_data()
    check_fields(exp, "experiment.", HelsesimConfig)  # types, bounds, choices
    methods = ("auto", *multiprocessing.get_all_start_methods())
    if exp.start_method not in methods:
        raise ConfigError(f"experiment.start_method: got {exp.start_method!r}; allowed on this "
                          f"platform: {', '.join(methods)}")
    if exp.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("experiment.backend=ray: Ray is not installed; install it with "
                          "pip install 'helsesim[ray]'")
    if exp.n_jobs == 0:
        raise ConfigError(f"experiment.n_jobs: got {exp.n_jobs}; allowed: -1 (all cores) or a "
                          "number of processes >= 1")
    if not RUN_NAME.fullmatch(exp.name) or ".." in exp.name:
        raise ConfigError(f"experiment.name: got {exp.name!r}; allowed: a plain folder name "
                          "(letters, digits, '_', '-', '.'; no '/' or '..'): results go to "
                          "results/<name>/")
    if h.seed + exp.n_seeds - 1 > MAX_SEED:
        raise ConfigError(f"seed: got {h.seed} with experiment.n_seeds={exp.n_seeds}; allowed: "
                          f"seed + n_seeds - 1 <= 2**63 - 1 (seeds are 64-bit integers)")
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
    n_runs = len(arms) * exp.n_seeds
    if n_runs > MAX_RUNS:
        raise ConfigError(f"experiment.n_seeds: {len(arms)} arms x {exp.n_seeds:,} seeds = "
                          f"{n_runs:,} runs; allowed: at most {MAX_RUNS:,} runs in one job "
                          "(split the sweep into jobs with other seeds)")
    known = api.summary_keys()
    unknown = [o for o in exp.outcomes if o not in known]
    if unknown:
        raise ConfigError(f"experiment.outcomes: unknown {unknown}; allowed: the keys of "
                          f"Result.summary: {', '.join(sorted(known))}")
    for arm, arm_cfg in arm_configs.items():
        try:
            api.check_computable(dataclasses.replace(arm_cfg, seed=h.seed))
        except ConfigError as e:
            raise ConfigError(f"{e}" if len(arm_configs) == 1 else
                              f"experiment arm {arm!r}: {e}") from None
    seeds = [h.seed + i for i in range(exp.n_seeds)]
    runs = []
    for arm in arms:
        inputs = results.flat_inputs(arm_configs[arm])
        for i, s in enumerate(seeds):
            runs.append(RunSpec(len(runs), exp.name, arm, i, s, h.seed, arm_configs[arm],
                                inputs))
    return Plan(exp.name, arms, arm_configs, changes, baseline, list(exp.outcomes), seeds,
                runs, h)


# --- execution ---------------------------------------------------------------------------------

#: Most runs in one chunk: the unit sent to a worker and saved as one part (a killed job loses
#: at most the chunks in flight).
MAX_CHUNK = 50
#: How often a local worker pool that lost a process (killed, out of memory) is restarted
#: before the job stops (its finished chunks are kept: rerun the command to resume).
POOL_RESTARTS = 3

#: A function called in the worker before each run, with the run's spec: fault injection for
#: tests (raise to fail the run, kill the process as the out-of-memory killer would). It must
#: be picklable (a module-level function or an instance of a module-level class).
BeforeRun = Callable[["RunSpec"], None]


class SweepFailed(RuntimeError):
    """Every run of a job failed (the runs table with their tracebacks is written)."""


class SweepInterrupted(RuntimeError):
    """Workers kept dying; the finished runs are saved and the same command resumes."""


def resolve_n_jobs(n_jobs: int, n_runs: int) -> int:
    """Worker processes to use: -1 = every core this process may use; never more than runs."""
    if n_jobs == -1:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_jobs = os.cpu_count() or 1
    return max(1, min(n_jobs, n_runs))


#: Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Make this worker process end when the process that started it ends, however that ends
    (SIGKILL, the out-of-memory killer): on Linux the kernel sends it SIGKILL
    (``PR_SET_PDEATHSIG``), elsewhere a thread watches the parent's pid. A worker that outlived
    its job would hold memory and cores, and write parts nobody assembles."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent or parent == 1:  # it died before the line above
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="helsesim-parent-watch", daemon=True).start()


def _init_worker() -> None:
    """Start of a worker process: die with the parent, leave Ctrl-C to the parent (which stops
    the pool), quiet Mesa, import the model once."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    import helsesim.model.health_system  # noqa: F401  (imports mesa: ~1 s, once per worker)


#: What a forkserver imports once, before it forks the workers.
WORKER_MODULES = ("helsesim.model.health_system", "helsesim.api", "helsesim.results",
                  "helsesim.experiment")


def resolve_start_method(requested: str = "auto") -> str:
    """How worker processes start (``experiment.start_method``). ``auto``: on Linux ``fork``
    while no other Python thread runs, else ``forkserver``; elsewhere the platform's default
    (``spawn`` on macOS and Windows, where forking is unsafe or absent).

    A forked worker starts in milliseconds with the model already imported; a spawned one
    imports mesa first (~1 s). Forking while another Python thread (a progress-bar monitor,
    Ray's, a notebook kernel's) may hold a lock can deadlock the child, hence the check; the
    native threads of OpenBLAS, jemalloc and Arrow reset themselves in a forked child. ``auto``
    does not follow ``multiprocessing``'s global start method, which importing
    ``mesa.batchrunner`` (Mesa 3.3) forces to ``spawn``. Runs do not depend on how their worker
    started: each run seeds its own generators.
    """
    if requested != "auto":
        return requested
    if sys.platform.startswith("linux"):
        return "fork" if threading.active_count() == 1 else "forkserver"
    return multiprocessing.get_all_start_methods()[0]  # the platform's default


_POOL: dict[tuple[int, str], ProcessPoolExecutor] = {}  # (workers, requested start method)


class ProgressBar(tqdm):
    """tqdm without its monitor thread (it only tunes the refresh of stalled bars): a process
    with no other Python thread can fork its workers (:func:`resolve_start_method`)."""

    monitor_interval = 0


def _pool(workers: int, method: str = "auto") -> ProcessPoolExecutor:
    """A process pool with ``workers`` processes, kept for the next job of this process.

    Starting a worker by ``spawn`` costs ~1 s (it imports mesa), so the pool is started the
    cheapest safe way (:func:`resolve_start_method`) and the jobs of a Hydra multirun, which run
    one after another in one process, share it. The pool is shut down at exit.
    """
    pool = _POOL.get((workers, method))
    if pool is None or getattr(pool, "_broken", False):
        shutdown_pools()
        how = resolve_start_method(method)
        ctx = multiprocessing.get_context(how)
        if how == "forkserver":
            ctx.set_forkserver_preload(list(WORKER_MODULES))
        log.debug("starting %d worker processes (%s)", workers, how)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   initializer=_init_worker)
        pool.submit(int).result()  # start every worker now, before this process starts threads
        _POOL[(workers, method)] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the worker processes kept by :func:`_pool` (after their current tasks)."""
    while _POOL:
        _, pool = _POOL.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def terminate_pools() -> None:
    """Kill the worker processes kept by :func:`_pool` at once, without waiting for their
    tasks (Ctrl-C, SIGTERM, an error in the main process): their finished chunks are saved."""
    while _POOL:
        _, pool = _POOL.popitem()
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.kill()
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)


def run_one(spec: RunSpec, before_run: BeforeRun | None = None) -> dict:
    """Run one configuration; a failure is recorded as data (status, traceback), so one bad
    run does not end the other runs of a sweep."""
    ids = _agent_ids()
    before = set(ids)
    cfg = spec.config
    try:
        if before_run is not None:
            before_run(spec)
        tables, summary = api.run_tables(cfg)
    except Exception:  # noqa: BLE001 - recorded in the runs table and reported
        return results.failed_run(spec.key, cfg, traceback.format_exc(), spec.inputs)
    finally:
        for model in [m for m in ids if m not in before]:
            del ids[model]
    return results.tidy_run(spec.key, cfg, tables, summary, spec.inputs)


def _agent_ids() -> dict:
    """Mesa 3.3's ``Agent._ids``: a class-level id counter per model that keeps every model
    ever made alive (~0.2 MB per Nordland run), so a worker's memory grew with the sweep.
    :func:`run_one` drops the models its run made (none that the caller still holds)."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    return ids if isinstance(ids, dict) else {}


def run_chunk(specs: list[RunSpec], parts_dir: str | None = None,
              before_run: BeforeRun | None = None):
    """Run a chunk of runs; with ``parts_dir`` save them as one part and return its
    :class:`~helsesim.results.PartInfo`, else return the outputs (for a remote worker whose
    disk the driver may not see)."""
    outputs = [run_one(s, before_run) for s in specs]
    if parts_dir is None:
        return outputs
    return results.write_part(Path(parts_dir), outputs)


def make_chunks(runs: list[RunSpec], size: int, workers: int = 0) -> list[list[RunSpec]]:
    """Chunks of at most ``size`` runs with consecutive run ids (so the parts of a job never
    interleave, whatever ran before a resume).

    With ``workers`` the chunks are guided: each takes 1/(2 workers) of the runs not yet handed
    out (at most ``size``), so they shrink towards the end of the job and no worker waits long
    for another to finish a big last chunk."""
    chunks: list[list[RunSpec]] = []
    want = size
    for placed, spec in enumerate(sorted(runs, key=lambda s: s.run_id)):
        last = chunks[-1] if chunks else None
        if last and len(last) < want and last[-1].run_id + 1 == spec.run_id:
            last.append(spec)
        else:
            if workers:
                want = max(1, min(size, math.ceil((len(runs) - placed) / (2 * workers))))
            chunks.append([spec])
    return chunks


def _execute_local(chunks, parts_dir: Path, workers: int, done, before_run: BeforeRun | None,
                   method: str = "auto") -> None:
    if workers == 1:
        for c in chunks:
            done(run_chunk(c, str(parts_dir), before_run))
        return
    todo = {c[0].run_id: c for c in chunks}
    for attempt in range(POOL_RESTARTS + 1):
        pool = _pool(workers, method)
        futures = {pool.submit(run_chunk, c, str(parts_dir), before_run): k
                   for k, c in todo.items()}
        try:
            for fut in as_completed(futures):
                done(fut.result())
                del todo[futures[fut]]
            return
        except BrokenProcessPool:
            shutdown_pools()
            if attempt < POOL_RESTARTS:
                log.warning("a worker process died (killed or out of memory); restarting the "
                            "workers for the %d unfinished chunks", len(todo))
        except BaseException:  # Ctrl-C, SIGTERM, a full disk: stop the workers now
            terminate_pools()
            raise
    raise SweepInterrupted(f"worker processes kept dying ({POOL_RESTARTS + 1} times); the "
                           f"finished runs are saved in {parts_dir}: run the same command "
                           "again to finish the missing ones")


class ClusterError(ValueError):
    """The Ray cluster cannot be reached or used (before any run)."""


#: The folder of the local Ray instance this process started (removed when it stops).
_RAY_LOCAL: dict[str, str] = {}


def _ray(address: str | None, workers: int):
    """Ray, connected to ``address`` or to a new local instance on 127.0.0.1 started here.

    The local instance is always a new one (``address="local"``) with its session files in a
    folder of its own, so a running cluster or one left behind (``/tmp/ray/
    ray_current_cluster``) is neither joined nor touched; it stops when this process ends.

    Raises:
        ClusterError: Ray cannot start or connect (one line: the address and Ray's reason).
    """
    if address is None:  # a local instance: this machine only, no usage report
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray (2.5x) turns on token authentication and, without a token, writes a new one to
        # ~/.ray/auth_token: give the instance a token of its own, kept in this process
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    import ray

    if ray.is_initialized():
        return ray
    if address is not None:
        _check_reachable(address)
    try:
        if address is None:
            # short: Ray's socket paths inside it must stay under 108 bytes
            temp = tempfile.mkdtemp(prefix="hs-ray-", dir="/tmp" if os.path.isdir("/tmp")
                                    else None)
            _RAY_LOCAL["temp_dir"] = temp
            ray.init(address="local", num_cpus=workers, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR,
                     _node_ip_address="127.0.0.1", _temp_dir=temp)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as e:  # noqa: BLE001 - Ray raises many kinds; each is one line here
        stop_local_ray()
        where = "start a local Ray instance" if address is None else \
            f"connect to the Ray cluster at {address}"
        hint = ("; a cluster with token authentication needs RAY_AUTH_MODE=token and its "
                "RAY_AUTH_TOKEN in this shell" if "uth" in f"{type(e).__name__}{e}" else "")
        raise ClusterError(f"could not {where}: {type(e).__name__}: "
                           f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}"
                           f"{hint}") from None
    return ray


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Refuse at once a ``host:port`` that nothing listens on (Ray's driver would retry for
    many minutes); ``auto`` and ``ray://`` addresses are left to Ray."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise ClusterError(f"could not reach the Ray cluster at {address} ({e.strerror or e}); "
                           "is its head started (ray start --head) and bound to that "
                           "address?") from None


@atexit.register
def stop_local_ray() -> None:
    """Stop the local Ray instance this process started and remove its session files."""
    temp = _RAY_LOCAL.pop("temp_dir", None)
    if temp is None:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _execute_ray(chunks, parts_dir: Path, address: str | None, workers: int, done,
                 before_run: BeforeRun | None) -> None:
    """Each chunk is a Ray task that returns its tables; the driver saves them as parts, so the
    workers need no shared disk. Ray reruns a task whose worker was lost."""
    ray = _ray(address, workers)
    task = ray.remote(max_retries=3)(run_chunk)
    pending = {task.remote(c, None, before_run): c for c in chunks}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                pending.pop(ref)
                done(results.write_part(parts_dir, ray.get(ref)))
    except ray.exceptions.RayError as e:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise SweepInterrupted(f"the Ray cluster lost a task ({type(e).__name__}: "
                               f"{str(e).splitlines()[0]}); the finished runs are saved in "
                               f"{parts_dir}: run the same command again to finish the missing "
                               "ones") from e
    except BaseException:  # Ctrl-C, SIGTERM, a full disk: cancel the tasks in flight
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise


def cluster_workers(backend: str, n_jobs: int, n_runs: int, address: str | None) -> int:
    """Processes that will run the job: local cores, or the CPUs of the Ray cluster."""
    if backend == "ray" and address is not None:
        ray = _ray(address, 1)
        deadline = time.monotonic() + 30  # a head just started registers its CPUs a bit later
        while not (cpus := int(ray.cluster_resources().get("CPU", 0))):
            if time.monotonic() > deadline:
                raise ClusterError(f"the Ray cluster at {address} has no CPUs")
            time.sleep(0.2)
        return max(1, min(cpus, n_runs))
    return resolve_n_jobs(n_jobs, n_runs)


def execute(runs: list[RunSpec], parts_dir: Path, n_jobs: int = -1, chunk_size: int = 0,
            progress: bool = True, desc: str = "runs", backend: str = "local",
            ray_address: str | None = None, start_method: str = "auto",
            before_run: BeforeRun | None = None) -> list[results.PartInfo]:
    """Run every spec and save each chunk of runs as a part under ``parts_dir`` as it
    finishes: in this process (``n_jobs=1``), in local worker processes, or on Ray."""
    workers = cluster_workers(backend, n_jobs, len(runs), ray_address)
    # a chunk size set by the user is kept; else guided sizes of at most MAX_CHUNK
    chunks = make_chunks(runs, chunk_size or MAX_CHUNK, 0 if chunk_size else workers)
    if backend != "ray" and workers > 1:
        _pool(workers, start_method)  # before the progress bar, which may start a thread
    bar = ProgressBar(total=len(runs), desc=desc, unit="run", disable=not progress,
                      file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
    infos: list[results.PartInfo] = []

    def done(info: results.PartInfo) -> None:
        infos.append(info)
        bar.update(len(info.run_ids))

    with bar:
        if backend == "ray":
            _execute_ray(chunks, parts_dir, ray_address, workers, done, before_run)
        else:
            _execute_local(chunks, parts_dir, workers, done, before_run, start_method)
    return infos


@dataclass
class ExperimentResult:
    """Tables of an experiment, its plan and manifest, and where they were written.

    With a job folder, ``tables`` reads each table from it when first used.
    """

    tables: Mapping[str, pd.DataFrame]
    plan: Plan
    manifest: dict
    out_dir: Path | None = None

    @property
    def failed(self) -> pd.DataFrame:
        runs = self.tables["runs"]
        return runs[runs["status"] != "ok"]

    @property
    def counts(self) -> tuple[int, int]:
        """(failed runs, runs), from the manifest when there is one (no table is read)."""
        if "n_failed" in self.manifest:
            return int(self.manifest["n_failed"]), int(self.manifest["experiment"]["n_runs"])
        return len(self.failed), len(self.tables["runs"])


def failure_message(n_failed: int, n_runs: int, where: str = "runs.parquet") -> str:
    """The one line that reports failed runs."""
    return (f"{n_failed} of {n_runs} runs failed; see the status and error columns of "
            f"{where}")


def run_experiment(cfg: DictConfig | HelsesimConfig, out_dir: str | Path | None = None, *,
                   command: list[str] | None = None, overrides: list[str] | None = None,
                   before_run: BeforeRun | None = None) -> ExperimentResult:
    """Run an experiment and, if ``out_dir`` is given, write its tables, manifest, figures and
    summary.md there.

    The job is a sequence of steps, each kept on disk as it finishes and checked, not trusted,
    when the job starts again: the runs (chunks saved atomically under ``out_dir/parts/``,
    each with a record of its files' checksums), the five tables (streamed from the parts, so
    memory does not grow with the sweep; their checksums in the manifest), the summaries, and
    the report (figures and summary.md). The same call or command on the same folder after a
    kill, a lost worker or a full disk runs only the missing runs, or redoes only the missing
    or damaged step, and gives the same tables. A folder with results of another helsesim
    version or configuration is refused before any run, unless ``experiment.overwrite`` is set.

    Args:
        cfg: a configuration composed from ``conf/`` (:func:`compose_config`) or a
            :class:`~helsesim.hydra_schema.HelsesimConfig`.
        out_dir: the job folder; None keeps everything in memory.
        command: the command line recorded in the manifest (default: ``sys.argv``).
        overrides: the Hydra overrides recorded in the manifest.
        before_run: called in the worker before each run (:data:`BeforeRun`; tests only).

    Raises:
        ConfigError: the experiment or one of its arms is invalid (before any run).
        DataError: the shipped data are corrupt or were edited (before any run).
        ResultsConflict: ``out_dir`` holds results of another version or configuration, or
            another process is filling it, or it cannot be written (before any run; nothing
            is touched).
        ClusterError: the Ray cluster cannot be reached (before any run).
        SweepFailed: every run failed (the runs table with the tracebacks is written).
        StorageFull: the disk filled up while the job ran (what was written is intact).
    """
    t0 = time.perf_counter()
    plan = plan_experiment(cfg)
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="helsesim-") as tmp:
            res = _run_in_folder(plan, Path(tmp), t0, command, overrides, False, before_run)
            res.tables = {k: res.tables[k] for k in res.tables}  # read before tmp goes
            res.out_dir = None
            return res
    out = Path(out_dir)
    with preflight.FolderLock(out):
        try:
            return _run_in_folder(plan, out, t0, command, overrides, True, before_run)
        except OSError as e:
            problem = preflight.storage_problem(e)
            if problem is None:
                raise
            raise preflight.StorageFull(
                f"{problem}; nothing written is damaged: free space and run the same command "
                f"again to resume ({out})") from e


#: The files of the summaries and of the report, as recorded in the manifest.
SUMMARY_FILES = ("summary.parquet", "differences.parquet")
REPORT = "summary.md"


def _run_in_folder(plan: Plan, out: Path, t0: float, command, overrides, report: bool,
                   before_run: BeforeRun | None = None) -> ExperimentResult:
    """The steps of a job in its folder, each done only if its files are not already there and
    intact (see :func:`run_experiment`)."""
    exp = plan.config.experiment
    identity = preflight.job_identity(plan)
    config = preflight.manifest_config(plan)
    state = preflight.check_job_folder(out, identity, config, exp.overwrite)
    for name in preflight.clean_leftovers(out):
        log.info("%s: removed %s, left by a job that was stopped", plan.name, name)
    parts_dir = out / results.PARTS
    old = results.read_manifest(out) if state != "new" else {}
    files = old.get("files") if isinstance(old.get("files"), dict) else {}
    problem = (results.check_files(out, files, results.table_files()) if state != "new"
               else "new")
    if problem is None:
        manifest = old
        if parts_dir.exists():  # stopped after the tables were written
            shutil.rmtree(parts_dir)
    else:
        if state == "complete":
            log.warning("%s: %s was complete but %s; running the job's missing runs again",
                        plan.name, out, problem)
        manifest = _run_and_assemble(plan, out, t0, command, overrides, before_run)
        files = manifest["files"]
    timings = manifest.setdefault("timings_s", {})
    steps = []
    n_failed, n_runs = int(manifest.get("n_failed", 0)), len(plan.runs)
    if n_failed < n_runs and results.check_files(out, files, list(SUMMARY_FILES)) is not None:
        _write_summaries(plan, out, manifest)
        results.write_manifest(out, manifest)  # each step recorded as it is done
        steps.append("summaries")
    drawn = manifest.get("figures") or []
    want_report = report and n_failed < n_runs and (
        results.check_files(out, files, [REPORT, *(f"figures/{n}.png" for n in drawn)])
        or (exp.figures and not manifest.get("figures_drawn")))
    if want_report:
        from helsesim import report as reporting

        t1 = time.perf_counter()
        written = reporting.make_report(out, results.JobTables(out), manifest,
                                        figures=exp.figures)
        rel = [p.relative_to(out).as_posix() for p in written]
        manifest["figures"] = [Path(r).stem for r in rel if r.startswith("figures/")]
        manifest["figures_drawn"] = bool(exp.figures)
        files.update(results.record_files(out, rel))
        timings["report"] = round(time.perf_counter() - t1, 3)
        results.write_manifest(out, manifest)
        steps.append("report")
    if steps or manifest.get("status") != "complete" or parts_dir.exists():
        timings["total"] = round(time.perf_counter() - t0, 3)
        manifest["status"] = "complete"
        results.write_manifest(out, manifest)
        if parts_dir.exists():
            shutil.rmtree(parts_dir)
    if n_failed == n_runs:
        first = results.JobTables(out).read("runs", ["error"])["error"].iloc[0]
        raise SweepFailed(f"all {n_failed} runs failed; the first:\n{first}")
    if problem is None and not steps:
        log.info("%s: %s already holds every run of this job; nothing to run", plan.name, out)
    elif problem is None:
        log.info("%s: the runs were complete; wrote the missing %s to %s", plan.name,
                 " and ".join(steps), out)
    else:
        report_files = ", figures and summary.md" if exp.figures else " and summary.md"
        log.info("%s: wrote tables%s to %s in %.1f s", plan.name,
                 report_files if "report" in steps else "", out, time.perf_counter() - t0)
    return ExperimentResult(results.JobTables(out), plan, manifest, out)


def _run_and_assemble(plan: Plan, out: Path, t0: float, command, overrides,
                      before_run: BeforeRun | None) -> dict:
    """Run the runs not saved yet as intact parts, stream the parts into the five tables and
    record their checksums; returns the manifest (status "running" until the job is done)."""
    exp = plan.config.experiment
    seeds = [dict(replicate=i, seed=s) for i, s in enumerate(plan.seeds)]
    timings: dict = {}
    manifest = results.build_manifest(preflight.manifest_config(plan), plan.info(), seeds,
                                      command=command, overrides=overrides)
    manifest.update(identity=preflight.job_identity(plan), status="running", timings_s=timings)
    results.write_manifest(out, manifest)
    parts_dir = out / results.PARTS
    done = {i for ids in results.committed_parts(parts_dir).values() for i in ids}
    missing = [r for r in plan.runs if r.run_id not in done]
    workers = cluster_workers(exp.backend, exp.n_jobs, max(1, len(missing)), exp.ray_address)
    log.info("%s: %d arms x %d seeds = %d runs of %s, %d years, on %d %s%s",
             plan.name, len(plan.arms), len(plan.seeds), len(plan.runs),
             plan.info()["scenario"], plan.info()["years"], workers,
             "Ray workers" if exp.backend == "ray" else
             ("process" if workers == 1 else "processes"),
             f" (resuming: {len(done)} runs already done)" if done else "")
    if missing:
        execute(missing, parts_dir, exp.n_jobs, exp.chunk_size, exp.progress, plan.name,
                exp.backend, exp.ray_address, exp.start_method, before_run)
    timings.update(runs=round(time.perf_counter() - t0, 3), workers=workers)
    manifest["files"] = results.assemble_parts(parts_dir, out, [r.run_id for r in plan.runs])
    status = results.JobTables(out).read("runs", ["status"])["status"]
    manifest["n_failed"] = int((status != "ok").sum())
    results.write_manifest(out, manifest)
    return manifest


def _write_summaries(plan: Plan, out: Path, manifest: dict) -> None:
    """The medians and paired differences of the outcomes (from the runs table's outcome
    columns only) and their records in the manifest."""
    runs = results.JobTables(out).read("runs", ["run_id", "arm", "seed", "status", "error",
                                                *plan.outcomes])
    failed = runs[runs["status"] != "ok"]
    if len(failed) and len(failed) < len(runs):
        log.error("%s; the first:\n%s", failure_message(len(failed), len(runs)),
                  failed["error"].iloc[0])
    summary = results.summarise(runs, plan.outcomes, plan.arms)
    differences = results.paired_differences(runs, plan.outcomes, plan.arms, plan.baseline)
    results.write_tables(out, {"summary": summary, "differences": differences})
    manifest.setdefault("files", {}).update(results.record_files(out, list(SUMMARY_FILES)))
    del runs, failed
    results.release_memory()


# --- multiruns ----------------------------------------------------------------------------------

def sweep_jobs(config: DictConfig) -> list[list[str]] | None:
    """The task overrides of every job of a multirun, in job order, for Hydra's basic sweeper
    (None for another sweeper, whose jobs are not known in advance)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    sweeper = config.hydra.sweeper
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        parsed = OverridesParser.create().parse_overrides(
            [*params, *config.hydra.overrides.task])
        return BasicSweeper.split_arguments(parsed, None)[0]
    except Exception:  # noqa: BLE001 - a sweep syntax only Hydra's loader knows: let it check
        return None


def check_sweep(config: DictConfig, config_name: str | None) -> int:
    """Before a multirun starts: plan every job (its arms are validated) and check its folder,
    so a bad value or a folder of another version stops the sweep before any run. Returns the
    number of jobs checked.

    Raises:
        ConfigError, DataError, ResultsConflict: naming the job and what is wrong.
    """
    from hydra import compose
    from hydra.errors import HydraException

    jobs = sweep_jobs(config)
    if jobs is None:
        return 0
    sweep_dir = Path(config.hydra.sweep.dir)
    hydra_overrides = list(config.hydra.overrides.hydra)
    for num, task in enumerate(jobs):
        where = f"job {num} ({' '.join(task)})"
        try:
            cfg = compose(config_name or "config", overrides=[*hydra_overrides, *task],
                          return_hydra_config=True)
            with _writable(cfg):
                cfg.hydra.job.num = num
                job_dir = sweep_dir / str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
                del cfg["hydra"]
            restrict_to_design(cfg, task)
            plan = plan_experiment(cfg)
            if not plan.config.experiment.overwrite:
                preflight.check_job_folder(job_dir, preflight.job_identity(plan),
                                           preflight.manifest_config(plan), overwrite=False)
        except (ConfigError, preflight.ResultsConflict, DataError) as e:
            raise type(e)(f"{where}: {e}") from e
        except HydraException as e:
            raise ConfigError(f"{where}: {composition_error(e)}") from e
    return len(jobs)


def sweep_failures(sweep_dir: Path) -> tuple[list[str], int, int]:
    """Jobs of a multirun folder that did not finish, and failed and total runs of the rest."""
    unfinished, n_failed, n_runs = [], 0, 0
    for d in sorted(p for p in Path(sweep_dir).iterdir() if (p / ".hydra").is_dir()):
        try:
            m = results.read_manifest(d)
        except results.ManifestError:
            m = {}
        if m.get("status") != "complete":
            unfinished.append(d.name)
            continue
        n_runs += int(m.get("experiment", {}).get("n_runs", 0))
        n_failed += int(m.get("n_failed", 0))
    return unfinished, n_failed, n_runs


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
