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


#: The steps a test can strike at, and the function (module, name) whose call number ``count``
#: (counted in each process) strikes.
STEPS = {
    "part": ("pyarrow.feather", "write_feather"),  # a worker saves a part
    "table": ("helsesim.runner.store", "stream_table"),  # the five tables are assembled
    "summaries": ("helsesim.runner.store", "write_tables"),  # the summaries are written
    "figure": ("matplotlib.figure", "Figure.savefig"),  # the figures are drawn
    "summary.md": ("helsesim.report.summary", "render_summary"),  # summary.md, after the figures
    "parts removal": ("shutil", "rmtree"),  # the job is complete; parts/ is removed
}


def strike_at(step: str, count: int, how: str = "kill") -> None:
    """Patch this process (and the workers it forks) so that call number ``count`` of
    ``step`` (:data:`STEPS`) fails: ``kill`` SIGKILLs the main process (as the out-of-memory
    killer would); ``disk full`` raises ENOSPC, as a full disk does, in any process."""
    import errno
    import importlib

    module_name, attr = STEPS[step]
    owner = importlib.import_module(module_name)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    real = getattr(owner, name)
    calls = {"n": 0}
    main = os.getpid()

    def patched(*args, **kwargs):
        if how == "kill" and os.getpid() != main:
            return real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == count:
            if how == "kill":
                os.kill(main, signal.SIGKILL)
            raise OSError(errno.ENOSPC, "No space left on device", f"<{step}>")
        return real(*args, **kwargs)

    setattr(owner, name, patched)
