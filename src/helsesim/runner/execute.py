"""Executing a job's runs: the evaluators by name (``experiment.backend``), the chunks of runs
they are given, and the progress bar.

:func:`execute` cuts the runs into chunks of consecutive runs, has the job's evaluator run them
(each chunk saved as one part as it finishes, see :mod:`helsesim.runner.store`) and shows the
progress. Evaluators share one interface (:class:`~helsesim.runner.evaluator.Evaluator`); which
one a job uses is a setting, never a difference in its results.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from helsesim.config import ConfigError
from helsesim.runner.evaluator import BeforeRun, Evaluator
from helsesim.runner.local import LocalEvaluator, check_start_method
from helsesim.runner.ray_cluster import RayEvaluator
from helsesim.runner.store import PartInfo

if TYPE_CHECKING:
    from helsesim.hydra_schema import ExperimentConfig
    from helsesim.runner.plan import RunSpec

#: The evaluators by ``experiment.backend`` (the schema's choices name the same).
EVALUATORS: dict[str, type[Evaluator]] = {"local": LocalEvaluator, "ray": RayEvaluator}
#: Most runs in one chunk: the unit sent to a worker and saved as one part (a killed job loses
#: at most the chunks in flight).
MAX_CHUNK = 50


def check_execution(exp: ExperimentConfig) -> None:
    """Before any run: the start method exists here, the backend's library is installed, the
    number of workers is meaningful.

    Raises:
        ConfigError: naming the field and what is allowed.
    """
    check_start_method(exp.start_method)
    evaluator = EVALUATORS[exp.backend]
    if evaluator.requires and importlib.util.find_spec(evaluator.requires) is None:
        raise ConfigError(f"experiment.backend={exp.backend}: {evaluator.requires} is not "
                          f"installed; install it with pip install 'helsesim[{exp.backend}]'")
    if exp.n_jobs == 0:
        raise ConfigError(f"experiment.n_jobs: got {exp.n_jobs}; allowed: -1 (all cores) or a "
                          "number of processes >= 1")


def make_evaluator(exp: ExperimentConfig, n_runs: int) -> Evaluator:
    """The evaluator of a job (``experiment.backend``) for ``n_runs`` runs.

    Raises:
        ClusterError: a Ray cluster that cannot be reached (before any run).
    """
    return EVALUATORS[exp.backend].from_experiment(exp, n_runs)


class ProgressBar(tqdm):
    """tqdm without its monitor thread (it only tunes the refresh of stalled bars): a process
    with no other Python thread can fork its workers
    (:func:`~helsesim.runner.local.resolve_start_method`)."""

    monitor_interval = 0


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


def execute(runs: list[RunSpec], parts_dir: Path, evaluator: Evaluator, chunk_size: int = 0,
            progress: bool = True, desc: str = "runs", before_run: BeforeRun | None = None
            ) -> list[PartInfo]:
    """Run every spec with ``evaluator`` and save each chunk of runs as a part under
    ``parts_dir`` as it finishes."""
    # a chunk size set by the user is kept; else guided sizes of at most MAX_CHUNK
    chunks = make_chunks(runs, chunk_size or MAX_CHUNK, 0 if chunk_size else evaluator.workers)
    evaluator.start()  # before the progress bar, which may start a thread
    bar = ProgressBar(total=len(runs), desc=desc, unit="run", disable=not progress,
                      file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
    infos: list[PartInfo] = []

    def done(info: PartInfo) -> None:
        infos.append(info)
        bar.update(len(info.run_ids))

    with bar:
        evaluator.evaluate(chunks, parts_dir, done, before_run)
    return infos
