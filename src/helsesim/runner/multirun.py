"""A Hydra multirun (``helsesim -m ...``): every job planned and its folder checked before the
first job starts, and, once the jobs are done, which of them did not finish and how many runs
failed. (The gathering of the jobs into one report is :func:`helsesim.report.gather`, run by
:class:`helsesim.report.GatherCallback`.)"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from helsesim.config import ConfigError
from helsesim.data import DataError
from helsesim.runner.compose import composition_error, restrict_to_design, writable
from helsesim.runner.job_folder import ResultsConflict, check_job_folder
from helsesim.runner.manifest import ManifestError, job_identity, manifest_config, read_manifest
from helsesim.runner.plan import plan_experiment


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
            with writable(cfg):
                cfg.hydra.job.num = num
                job_dir = sweep_dir / str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
                del cfg["hydra"]
            restrict_to_design(cfg, task)
            plan = plan_experiment(cfg)
            if not plan.config.experiment.overwrite:
                check_job_folder(job_dir, job_identity(plan), manifest_config(plan),
                                 overwrite=False)
        except (ConfigError, ResultsConflict, DataError) as e:
            raise type(e)(f"{where}: {e}") from e
        except HydraException as e:
            raise ConfigError(f"{where}: {composition_error(e)}") from e
    return len(jobs)


def sweep_failures(sweep_dir: Path) -> tuple[list[str], int, int]:
    """Jobs of a multirun folder that did not finish, and failed and total runs of the rest."""
    unfinished, n_failed, n_runs = [], 0, 0
    for d in sorted(p for p in Path(sweep_dir).iterdir() if (p / ".hydra").is_dir()):
        try:
            m = read_manifest(d)
        except ManifestError:
            m = {}
        if m.get("status") != "complete":
            unfinished.append(d.name)
            continue
        n_runs += int(m.get("experiment", {}).get("n_runs", 0))
        n_failed += int(m.get("n_failed", 0))
    return unfinished, n_failed, n_runs
