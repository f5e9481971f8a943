"""The ``helsesim`` console script: a thin Hydra entry point over
:func:`helsesim.experiment.run_experiment`.

    helsesim                                      # compare_allocation (the default experiment)
    helsesim experiment=way_forward               # conf/experiment/way_forward.yaml
    helsesim experiment.n_seeds=5 years=5 levers.compensation=1
    helsesim -m allocation=open_call,governance_led levers.compensation=0,0.5,1
    helsesim -m hydra/launcher=joblib hydra.launcher.n_jobs=2 levers.compensation=0,0.5,1
    helsesim experiment.backend=ray experiment.ray_address=auto    # on a Ray cluster
    helsesim --cfg job                            # show the composed configuration

Results go to ``results/<experiment>/<time>/`` (``hydra.run.dir``); a multirun writes one
folder per job under ``results/multirun/<time>/`` and gathers them at its root. Name the folder
(``hydra.run.dir=...``, ``hydra.sweep.dir=...``) to resume a stopped job with the same command.

Exit status: 0 when every run finished; 1 when runs failed (recorded in ``runs.parquet``) or
workers kept dying; 2 when the configuration, the data or the job folder is refused (before
any run).
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from helsesim.config import ConfigError
from helsesim.data import DataError
from helsesim.experiment import (
    CONF_DIR,
    SweepFailed,
    SweepInterrupted,
    failure_message,
    restrict_to_design,
    run_experiment,
)
from helsesim.hydra_schema import register_configs
from helsesim.preflight import ResultsConflict

log = logging.getLogger(__name__)

register_configs()  # the schema must be in the ConfigStore before Hydra composes

#: Hydra launchers that run several jobs at once on this machine: each job then runs its
#: replications in its own process only (``experiment.n_jobs=1``), so cores are not
#: oversubscribed, unless the command line sets ``experiment.n_jobs``.
PARALLEL_LAUNCHERS = ("joblib", "ray")
#: The errors found before any run, reported in one line.
REFUSED = (ConfigError, DataError, ResultsConflict)


def parallel_launcher(hc) -> bool:
    target = str(hc.launcher.get("_target_", "")) if hc.launcher else ""
    return any(name in target.lower() for name in PARALLEL_LAUNCHERS)


# An absolute path: Hydra resolves a relative config_path against the *module* when the
# function is imported (as by a console script), i.e. as the Python package `conf`, which
# does not exist. CONF_DIR is the repository's conf/ (editable install or checkout).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> int:
    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    if restrict_to_design(cfg, overrides):
        log.info("allocation chosen on the command line: running only %s",
                 cfg.allocation.design)
    with open_dict(cfg):
        if multirun and cfg.experiment.figures:
            cfg.experiment.figures = False  # the sweep's figures are drawn when gathered
        if (multirun and parallel_launcher(hc)
                and not any(o.startswith("experiment.n_jobs=") for o in overrides)):
            cfg.experiment.n_jobs = 1
    # In a multirun a job reports its error and returns, so the other jobs still run; the
    # sweep's exit status counts the failures (report.GatherCallback).
    try:
        res = run_experiment(cfg, hc.runtime.output_dir, overrides=overrides)
    except REFUSED as e:  # before any run: one clear line, not a traceback
        log.error("%s: %s", _kind(e), e)
        return _end(2, multirun)
    except (SweepFailed, SweepInterrupted) as e:
        log.error("%s", e)
        return _end(1, multirun)
    n_failed, n_runs = res.counts
    if n_failed:
        log.error("%s", failure_message(n_failed, n_runs, f"{res.out_dir}/runs.parquet"))
        return _end(1, multirun)
    return 0


def _kind(e: Exception) -> str:
    if isinstance(e, DataError):
        return "invalid data"
    if isinstance(e, ResultsConflict):
        return "refused"
    return "invalid configuration"


def _end(status: int, multirun: bool) -> int:
    if not multirun:
        sys.exit(status)
    return status


if __name__ == "__main__":
    main()
