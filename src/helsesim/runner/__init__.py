"""The runner: an experiment's arms x paired seeds, run in parallel (local processes or Ray),
saved as they finish, assembled into tidy tables, summarised and reported.

    from helsesim.runner import compose_config, run_experiment
    cfg = compose_config(["experiment=way_forward", "experiment.n_seeds=5"])
    res = run_experiment(cfg, out_dir="results/my_try")
    res.tables["runs"]

Runs are independent and deterministic, so a parallel run gives the same tables as a serial one,
bit for bit, on any evaluator. The modules, from what a job is to where it ends up:

* :mod:`.compose`: the configuration from Hydra (``compose_config``), typed (``to_schema``);
  one-line messages for Hydra's composition errors;
* :mod:`.plan`: arms x paired seeds, every arm validated before any run (``plan_experiment``);
* :mod:`.evaluator`: the one interface behind which runs are evaluated (``Evaluator``) and what
  a worker does (``run_chunk``); :mod:`.local` (this process or a process pool: start methods,
  workers that die with their parent, restarts) and :mod:`.ray_cluster` implement it;
  :mod:`.execute` picks the evaluator (``EVALUATORS``), cuts the runs into chunks and shows
  the progress;
* :mod:`.tables`: the tidy tables' names and keys, a run's rows, a chunk as Arrow tables;
* :mod:`.store`: parts with their records, atomic writes, checksums, assembly into the tables;
* :mod:`.reader`: a job folder's tables read in part (``JobTables``), memory given back;
* :mod:`.summaries`: medians, intervals and paired differences of the outcomes;
* :mod:`.manifest`: the manifest, the job's identity, versions;
* :mod:`.job_folder`: the folder checked before any run (this job, or refused), its lock;
* :mod:`.job`: the steps of a job, each checked on disk and resumed (``run_experiment``);
* :mod:`.recompute`: a job's outcome columns and summaries recomputed from its tables;
* :mod:`.multirun`: a Hydra multirun checked before its first job, and its failures;
* :mod:`.reference`: the reference experiments CI reruns.

The report (:mod:`helsesim.report`) reads what the store, reader, summaries and manifest
modules keep, and :mod:`.job` draws it as a job's last step; so that importing one of those
modules does not import the whole runner (and the report again), this package's public names
are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helsesim.runner.compose import compose_config
    from helsesim.runner.job import ExperimentResult, run_experiment
    from helsesim.runner.plan import plan_experiment

__all__ = ["compose_config", "plan_experiment", "run_experiment", "ExperimentResult"]


def __getattr__(name: str) -> object:
    """The public names, each imported from its module when first used."""
    if name == "compose_config":
        from helsesim.runner.compose import compose_config as value
    elif name == "plan_experiment":
        from helsesim.runner.plan import plan_experiment as value
    elif name == "run_experiment":
        from helsesim.runner.job import run_experiment as value
    elif name == "ExperimentResult":
        from helsesim.runner.job import ExperimentResult as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
