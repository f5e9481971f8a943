"""The local evaluator: runs in this process (one worker) or in a pool of worker processes on
this machine; how the workers start (the start-method policy), that they die with their parent,
and what happens when one dies or the job is interrupted.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from helsesim.config import ConfigError
from helsesim.runner.evaluator import BeforeRun, PartDone, SweepInterrupted, run_chunk

if TYPE_CHECKING:
    from helsesim.hydra_schema import ExperimentConfig
    from helsesim.runner.plan import RunSpec

log = logging.getLogger(__name__)

#: How often a local worker pool that lost a process (killed, out of memory) is restarted
#: before the job stops (its finished chunks are kept: rerun the command to resume).
POOL_RESTARTS = 3
#: Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: What a forkserver imports once, before it forks the workers.
WORKER_MODULES = ("helsesim.model.health_system", "helsesim.api", "helsesim.runner.evaluator",
                  "helsesim.runner.plan")


def resolve_n_jobs(n_jobs: int, n_runs: int) -> int:
    """Worker processes to use: -1 = every core this process may use; never more than runs."""
    if n_jobs == -1:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_jobs = os.cpu_count() or 1
    return max(1, min(n_jobs, n_runs))


def check_start_method(requested: str) -> None:
    """Refuse a start method this platform does not have (``experiment.start_method``)."""
    methods = ("auto", *multiprocessing.get_all_start_methods())
    if requested not in methods:
        raise ConfigError(f"experiment.start_method: got {requested!r}; allowed on this "
                          f"platform: {', '.join(methods)}")


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


# --- the pool, kept for the next job of this process ---------------------------------------------

_POOL: dict[tuple[int, str], ProcessPoolExecutor] = {}  # (workers, requested start method)


def pool(workers: int, method: str = "auto") -> ProcessPoolExecutor:
    """A process pool with ``workers`` processes, kept for the next job of this process.

    Starting a worker by ``spawn`` costs ~1 s (it imports mesa), so the pool is started the
    cheapest safe way (:func:`resolve_start_method`) and the jobs of a Hydra multirun, which run
    one after another in one process, share it. The pool is shut down at exit.
    """
    kept = _POOL.get((workers, method))
    if kept is None or getattr(kept, "_broken", False):
        shutdown_pools()
        how = resolve_start_method(method)
        ctx = multiprocessing.get_context(how)
        if how == "forkserver":
            ctx.set_forkserver_preload(list(WORKER_MODULES))
        log.debug("starting %d worker processes (%s)", workers, how)
        kept = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   initializer=_init_worker)
        kept.submit(int).result()  # start every worker now, before this process starts threads
        _POOL[(workers, method)] = kept
    return kept


@atexit.register
def shutdown_pools() -> None:
    """Stop the worker processes kept by :func:`pool` (after their current tasks)."""
    while _POOL:
        _, kept = _POOL.popitem()
        kept.shutdown(wait=True, cancel_futures=True)


def terminate_pools() -> None:
    """Kill the worker processes kept by :func:`pool` at once, without waiting for their
    tasks (Ctrl-C, SIGTERM, an error in the main process): their finished chunks are saved."""
    while _POOL:
        _, kept = _POOL.popitem()
        processes = list((getattr(kept, "_processes", None) or {}).values())
        manager = getattr(kept, "_executor_manager_thread", None)
        kept.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.kill()
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)
        # let the pool's manager thread close its wake-up pipe now: else Python 3.11's exit
        # hook may write to the pipe while the thread closes it ("Bad file descriptor")
        if manager is not None:
            manager.join(timeout=5)


class LocalEvaluator:
    """Runs in this process (``workers == 1``: no pool, no pickling) or in a pool of worker
    processes on this machine, restarted when a worker dies (:data:`POOL_RESTARTS` times)."""

    requires = None

    def __init__(self, workers: int, start_method: str = "auto") -> None:
        self.workers = workers
        self.start_method = start_method

    @classmethod
    def from_experiment(cls, exp: ExperimentConfig, n_runs: int) -> LocalEvaluator:
        """Every core (``n_jobs=-1``) or ``n_jobs`` processes, never more than runs."""
        return cls(resolve_n_jobs(exp.n_jobs, n_runs), exp.start_method)

    def start(self) -> None:
        """Start the pool's workers (before the progress bar, which may start a thread)."""
        if self.workers > 1:
            pool(self.workers, self.start_method)

    def evaluate(self, chunks: list[list[RunSpec]], parts_dir: Path, done: PartDone,
                 before_run: BeforeRun | None) -> None:
        """Run the chunks here or in the pool; Ctrl-C, SIGTERM or an error here stops the
        workers at once (their finished chunks are saved).

        Raises:
            SweepInterrupted: workers kept dying.
        """
        if self.workers == 1:
            for c in chunks:
                done(run_chunk(c, str(parts_dir), before_run))
            return
        todo = {c[0].run_id: c for c in chunks}
        for attempt in range(POOL_RESTARTS + 1):
            workers = pool(self.workers, self.start_method)
            futures = {workers.submit(run_chunk, c, str(parts_dir), before_run): k
                       for k, c in todo.items()}
            try:
                for fut in as_completed(futures):
                    done(fut.result())
                    del todo[futures[fut]]
                return
            except BrokenProcessPool:
                shutdown_pools()
                if attempt < POOL_RESTARTS:
                    log.warning("a worker process died (killed or out of memory); restarting "
                                "the workers for the %d unfinished chunks", len(todo))
            except BaseException:  # Ctrl-C, SIGTERM, a full disk: stop the workers now
                terminate_pools()
                raise
        raise SweepInterrupted(f"worker processes kept dying ({POOL_RESTARTS + 1} times); the "
                               f"finished runs are saved in {parts_dir}: run the same command "
                               "again to finish the missing ones")
