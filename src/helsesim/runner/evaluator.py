"""The one interface behind which a job's runs are evaluated, and the work every evaluator's
workers do.

An :class:`Evaluator` takes chunks of runs and, as each chunk finishes, hands the saved part's
:class:`~helsesim.runner.store.PartInfo` to a callback. The job does not know where the runs
happen: in this process or in local worker processes (:mod:`helsesim.runner.local`), or on a
Ray cluster (:mod:`helsesim.runner.ray_cluster`). Whatever the evaluator, a worker runs
:func:`run_chunk`: each run seeds its own generators, so results do not depend on where or in
which order runs happen, and a failed run is recorded as data.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from helsesim import api
from helsesim.runner.store import PartInfo, write_part
from helsesim.runner.tables import failed_run, tidy_run

if TYPE_CHECKING:
    from helsesim.hydra_schema import ExperimentConfig
    from helsesim.runner.plan import RunSpec

#: A function called in the worker before each run, with the run's spec: fault injection for
#: tests (raise to fail the run, kill the process as the out-of-memory killer would). It must
#: be picklable (a module-level function or an instance of a module-level class).
BeforeRun = Callable[["RunSpec"], None]
#: Called in the main process with each saved part, as chunks finish (in any order).
PartDone = Callable[[PartInfo], None]


class SweepInterrupted(RuntimeError):
    """Workers kept dying; the finished runs are saved and the same command resumes."""


@runtime_checkable
class Evaluator(Protocol):
    """Where a job's runs run. An evaluator is made for a job (``from_experiment``), started
    once before the progress bar shows (``start``: a process pool must fork before any other
    thread runs), then evaluates the chunks of runs not yet saved.

    To add one: a class with these members in a module of its own, an entry in
    :data:`helsesim.runner.execute.EVALUATORS`, and its name among the choices of
    ``experiment.backend`` (:class:`helsesim.hydra_schema.ExperimentConfig`).
    """

    #: The module the evaluator needs beyond helsesim's dependencies (checked when the job
    #: is planned: refused before any run if it is not installed), or None.
    requires: str | None
    #: Processes (or CPUs) that run the chunks.
    workers: int

    @classmethod
    def from_experiment(cls, exp: ExperimentConfig, n_runs: int) -> Evaluator:
        """The evaluator of a job's ``experiment`` settings, for ``n_runs`` runs."""
        ...

    def start(self) -> None:
        """Get ready to evaluate (start workers, connect) before any other thread starts."""
        ...

    def evaluate(self, chunks: list[list[RunSpec]], parts_dir: Path, done: PartDone,
                 before_run: BeforeRun | None) -> None:
        """Run every chunk, save each as a part under ``parts_dir`` and call ``done`` with it
        as it finishes.

        Raises:
            SweepInterrupted: workers kept dying or were lost (what finished is saved).
        """
        ...


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
        return failed_run(spec.key, cfg, traceback.format_exc(), spec.inputs)
    finally:
        for model in [m for m in ids if m not in before]:
            del ids[model]
    return tidy_run(spec.key, cfg, tables, summary, spec.inputs)


def _agent_ids() -> dict:
    """Mesa 3.3's ``Agent._ids``: a class-level id counter per model that keeps every model
    ever made alive (~0.2 MB per Nordland run), so a worker's memory grew with the sweep.
    :func:`run_one` drops the models its run made (none that the caller still holds)."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    return ids if isinstance(ids, dict) else {}


def run_chunk(specs: list[RunSpec], parts_dir: str | None = None,
              before_run: BeforeRun | None = None) -> PartInfo | list[dict]:
    """Run a chunk of runs; with ``parts_dir`` save them as one part and return its
    :class:`~helsesim.runner.store.PartInfo`, else return the outputs (for a remote worker
    whose disk the driver may not see)."""
    outputs = [run_one(s, before_run) for s in specs]
    if parts_dir is None:
        return outputs
    return write_part(Path(parts_dir), outputs)
