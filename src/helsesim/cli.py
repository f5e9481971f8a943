"""The ``helsesim`` console script: a thin Hydra entry point over
:func:`helsesim.runner.run_experiment`.

    helsesim                                      # compare_allocation (the default experiment)
    helsesim experiment=way_forward               # conf/experiment/way_forward.yaml
    helsesim experiment.n_seeds=5 years=5 levers.compensation=1
    helsesim -m allocation=open_call,governance_led levers.compensation=0,0.5,1
    helsesim -m hydra/launcher=joblib hydra.launcher.n_jobs=2 levers.compensation=0,0.5,1
    helsesim experiment.backend=ray experiment.ray_address=<head>:6379   # on a Ray cluster
    helsesim --cfg job                            # show the composed configuration

Results go to ``results/<experiment>/<time>/`` (``hydra.run.dir``); a multirun writes one
folder per job under ``results/multirun/<time>/`` and gathers them at its root. Name the folder
(``hydra.run.dir=...``, ``hydra.sweep.dir=...``) to resume a stopped job with the same command.

Before Hydra writes anything (the job folder, ``.hydra/``, ``helsesim.log``), the command is
composed and checked here (:func:`precheck`): a refused command leaves every folder as it was.

Exit status (one line on stderr for each but 0):

* 0: every run finished;
* 1: some runs failed (recorded in ``runs.parquet``), a multirun job did not finish, workers
  kept dying, or the disk filled up (the job resumes once there is space);
* 2: refused before any run: the configuration (Hydra's composition errors included), the
  data, the job folder (another version or configuration, being filled, read-only) or the
  Ray cluster;
* 130 (Ctrl-C) or 143 (SIGTERM): interrupted; the workers are stopped, the finished runs are
  saved and the same command resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from helsesim.analysis import AnalysisError
from helsesim.analysis.dispatch import check as check_analysis
from helsesim.analysis.dispatch import run as run_analysis
from helsesim.config import ConfigError
from helsesim.data import DataError
from helsesim.hydra_schema import register_configs
from helsesim.runner.compose import CONF_DIR, composition_error, restrict_to_design, writable
from helsesim.runner.evaluator import SweepInterrupted
from helsesim.runner.execute import make_evaluator
from helsesim.runner.job import SweepFailed, run_experiment
from helsesim.runner.job_folder import (
    ResultsConflict,
    StorageFull,
    check_job_folder,
    check_writable,
)
from helsesim.runner.manifest import job_identity, manifest_config
from helsesim.runner.multirun import check_sweep
from helsesim.runner.plan import plan_experiment
from helsesim.runner.ray_cluster import ClusterError
from helsesim.runner.summaries import failure_message

if TYPE_CHECKING:
    from hydra._internal.hydra import Hydra

log = logging.getLogger(__name__)

register_configs()  # the schema must be in the ConfigStore before Hydra composes

#: Hydra launchers that run several jobs at once on this machine: each job then runs its
#: replications in its own process only (``experiment.n_jobs=1``), so cores are not
#: oversubscribed, unless the command line sets ``experiment.n_jobs``.
PARALLEL_LAUNCHERS = ("joblib", "ray")
#: The errors found before any run, reported in one line with exit status 2.
REFUSED = (ConfigError, DataError, ResultsConflict, ClusterError)
#: Exit status of a refusal before any run, of failed runs.
REFUSED_STATUS, FAILED_STATUS = 2, 1


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) received: stop the workers, keep what is saved, exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupted_status(e: KeyboardInterrupt) -> int:
    """128 + the signal: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + getattr(e, "signum", signal.SIGINT)


def _interrupted_line(e: KeyboardInterrupt, where: Path | str | None = None) -> str:
    name = "Ctrl-C" if getattr(e, "signum", signal.SIGINT) == signal.SIGINT else "SIGTERM"
    saved = (f"; the finished runs are saved in {where}: run the same command again to resume"
             if where else "")
    return f"helsesim: interrupted ({name}){saved}"


def parallel_launcher(hc: DictConfig) -> bool:
    """Whether the Hydra configuration's launcher runs several jobs at once here."""
    target = str(hc.launcher.get("_target_", "")) if hc.launcher else ""
    return any(name in target.lower() for name in PARALLEL_LAUNCHERS)


def _kind(e: Exception) -> str:
    if isinstance(e, DataError):
        return "invalid data"
    if isinstance(e, ClusterError):
        return "Ray cluster"
    if isinstance(e, ResultsConflict):
        return "refused"
    return "invalid configuration"


# An absolute path: Hydra resolves a relative config_path against the *module* when the
# function is imported (as by a console script), i.e. as the Python package `conf`, which
# does not exist. CONF_DIR is the repository's conf/ (editable install or checkout).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def app(cfg: DictConfig) -> int:
    """One Hydra job: run the experiment in the job's folder."""
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
    out = Path(hc.runtime.output_dir)
    # In a multirun a job reports its error and returns, so the other jobs still run; the
    # sweep's exit status counts the failures (report.GatherCallback).
    try:
        if cfg.experiment.analysis != "none":  # the researcher's workbench (helsesim.analysis)
            run_analysis(cfg, out)
            return 0
        res = run_experiment(cfg, out, overrides=overrides)
    except REFUSED as e:  # before any run: one clear line, not a traceback
        log.error("helsesim: %s: %s", _kind(e), e)
        return _end(REFUSED_STATUS, multirun)
    except (SweepFailed, SweepInterrupted, AnalysisError) as e:
        log.error("helsesim: %s", e)
        return _end(FAILED_STATUS, multirun)
    except StorageFull as e:
        log.error("helsesim: %s", e)
        sys.exit(FAILED_STATUS)  # the next jobs would meet the same full disk
    except KeyboardInterrupt as e:
        log.error("%s", _interrupted_line(e, out))
        sys.exit(interrupted_status(e))
    n_failed, n_runs = res.counts
    if n_failed:
        log.error("helsesim: %s", failure_message(n_failed, n_runs,
                                                   f"{res.out_dir}/runs.parquet"))
        return _end(FAILED_STATUS, multirun)
    return 0


def _end(status: int, multirun: bool) -> int:
    if not multirun:
        sys.exit(status)
    return status


# --- before Hydra writes anything ------------------------------------------------------------

def _args(argv: list[str]) -> argparse.Namespace:
    from hydra._internal.utils import get_args_parser

    return get_args_parser().parse_args(argv)


def composes(args: argparse.Namespace) -> bool:
    """Whether the command composes a configuration (not --help or shell completion)."""
    return not (args.help or args.hydra_help or args.shell_completion or args.experimental_rerun)


def runs_jobs(args: argparse.Namespace) -> bool:
    """Whether the command runs jobs (not --cfg or --info, which only show things)."""
    return composes(args) and not (args.cfg or args.info)


@contextlib.contextmanager
def _hydra(args: argparse.Namespace) -> Iterator[Hydra]:
    """Hydra initialised as ``helsesim`` initialises it (search path with ``--config-dir``),
    without logging or writing anything; cleared on leaving."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    path = create_config_search_path(str(CONF_DIR) if args.config_path is None
                                     else os.path.abspath(args.config_path))
    if args.config_dir is not None:
        conf_dir = os.path.abspath(args.config_dir)
        if not os.path.isdir(conf_dir):
            raise ConfigError(f"--config-dir: {conf_dir} is not a folder")
        path.prepend(provider="command-line", path=f"file://{conf_dir}",
                     anchor=SearchPathQuery(provider="schema"))
    try:
        yield Hydra.create_main_hydra2(task_name="helsesim", config_search_path=path)
    finally:
        GlobalHydra.instance().clear()


def precheck(argv: list[str]) -> None:
    """Compose the command's configuration and check every job before Hydra starts (and
    writes the job folder, ``.hydra/`` and the log): the configuration, the data, the job
    folders and the Ray cluster.

    Raises:
        ConfigError, DataError, ResultsConflict, ClusterError: in one line.
    """
    args = _args(argv)
    if not composes(args):
        return
    config_name = args.config_name or "config"
    with _hydra(args) as hyd:
        try:
            mode = hyd.get_mode(config_name=config_name, overrides=args.overrides)
            multirun = args.multirun or (not args.run and mode == RunMode.MULTIRUN)
            cfg = hyd.compose_config(config_name, args.overrides,
                                     run_mode=RunMode.MULTIRUN if multirun else RunMode.RUN,
                                     with_log_configuration=False)
        except Exception as e:  # noqa: BLE001 - Hydra's, OmegaConf's and YAML's errors
            raise ConfigError(composition_error(e)) from None
        if not runs_jobs(args):  # --cfg, --info: composed is all they need
            return
        if multirun:
            try:
                check_sweep(cfg, config_name)
            except (ConfigError, DataError, ResultsConflict):
                raise
            except Exception as e:  # noqa: BLE001 - a job's composition error
                raise ConfigError(composition_error(e)) from None
            check_writable(Path(str(cfg.hydra.sweep.dir)))
            return
        HydraConfig.instance().set_config(cfg)  # for ${hydra:...} in the run dir
        run_dir = Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
        task = list(cfg.hydra.overrides.task)
        with writable(cfg):
            del cfg["hydra"]
    restrict_to_design(cfg, task)
    plan = plan_experiment(cfg)
    if cfg.experiment.analysis != "none":
        check_analysis(cfg)
    check_writable(run_dir)
    exp = plan.config.experiment
    check_job_folder(run_dir, job_identity(plan), manifest_config(plan), exp.overwrite,
                     dry_run=True)
    if exp.backend == "ray" and exp.ray_address is not None:
        make_evaluator(exp, len(plan.runs))  # the cluster can be reached


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main() -> None:
    """The ``helsesim`` console script: check the command, then run it with Hydra; SIGTERM
    and Ctrl-C stop the workers and leave a job that the same command resumes."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            precheck(sys.argv[1:])
        except REFUSED as e:
            print(f"helsesim: {_kind(e)}: {e}", file=sys.stderr)
            sys.exit(REFUSED_STATUS)
        app()
    except KeyboardInterrupt as e:
        print(_interrupted_line(e), file=sys.stderr)
        sys.exit(interrupted_status(e))


if __name__ == "__main__":
    main()
