"""Faults injected into a sweep by the tests (never by the product): callables passed to
``run_experiment(before_run=...)``, called in the worker before each run, and patches of the
main process that kill it at a chosen step. They are module-level, so a worker started any way
(fork, forkserver, spawn, Ray) can unpickle them."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FailRuns:
    """Runs with these ids raise instead of running (a failed run is recorded as data)."""

    run_ids: frozenset[int]

    def __call__(self, spec) -> None:
        if spec.run_id in self.run_ids:
            raise RuntimeError(f"run {spec.run_id} failed on purpose (a test's fault)")


@dataclass(frozen=True)
class KillWorkerOnce:
    """The first worker process that finds ``marker`` absent creates it and kills itself, as
    the out-of-memory killer would."""

    marker: str

    def __call__(self, spec) -> None:
        import multiprocessing

        if multiprocessing.parent_process() is None:
            return  # the main process (a serial run): nothing to kill
        try:
            Path(self.marker).touch(exist_ok=False)
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class InterruptAt:
    """Raise KeyboardInterrupt (as Ctrl-C does) before run ``run_id`` (for a serial run in
    the calling process): the chunks before it are saved, the job stops."""

    run_id: int

    def __call__(self, spec) -> None:
        if spec.run_id == self.run_id:
            raise KeyboardInterrupt


#: The steps of the main process a test can kill it at, and the function (module, name) whose
#: call number ``count`` kills it.
KILL_POINTS = {
    "figure": ("matplotlib.figure", "Figure.savefig"),  # while the figures are drawn
    "table": ("helsesim.results", "stream_table"),  # while the five tables are assembled
    "summaries": ("helsesim.results", "write_tables"),  # before the summaries are written
    "summary.md": ("helsesim.results", "write_text"),  # before summary.md, manifest
}


def kill_main_at(point: str, count: int) -> None:
    """Patch the main process so that it SIGKILLs itself (as the out-of-memory killer would)
    on call number ``count`` of the step ``point`` (:data:`KILL_POINTS`)."""
    import importlib

    module_name, attr = KILL_POINTS[point]
    owner = importlib.import_module(module_name)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    real = getattr(owner, name)
    calls = [0]
    main = os.getpid()

    def patched(*args, **kwargs):
        if os.getpid() == main:
            calls[0] += 1
            if calls[0] == count:
                os.kill(main, signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(owner, name, patched)
