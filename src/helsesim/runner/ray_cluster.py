"""The Ray evaluator: each chunk of runs is a Ray task on a cluster, or on a new local Ray
instance of this machine only; connecting (and refusing, in one line, a cluster that cannot be
reached or refuses the token) and stopping the local instance.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from helsesim.runner.evaluator import BeforeRun, PartDone, SweepInterrupted, run_chunk
from helsesim.runner.local import resolve_n_jobs
from helsesim.runner.store import write_part

if TYPE_CHECKING:
    from helsesim.hydra_schema import ExperimentConfig
    from helsesim.runner.plan import RunSpec

#: The folder of the local Ray instance this process started (removed when it stops).
_RAY_LOCAL: dict[str, str] = {}
#: Seconds to wait for a cluster's head, just started, to register its CPUs.
CPU_WAIT = 30


class ClusterError(ValueError):
    """The Ray cluster cannot be reached or used (before any run)."""


def connect(address: str | None, workers: int) -> ModuleType:
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
        check_reachable(address)
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


def check_reachable(address: str, timeout: float = 10.0) -> None:
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


def cluster_cpus(address: str, n_runs: int) -> int:
    """The CPUs of the Ray cluster at ``address`` (connected here), never more than runs.

    Raises:
        ClusterError: it cannot be reached, or has no CPUs.
    """
    ray = connect(address, 1)
    deadline = time.monotonic() + CPU_WAIT  # a head just started registers its CPUs later
    while not (cpus := int(ray.cluster_resources().get("CPU", 0))):
        if time.monotonic() > deadline:
            raise ClusterError(f"the Ray cluster at {address} has no CPUs")
        time.sleep(0.2)
    return max(1, min(cpus, n_runs))


class RayEvaluator:
    """Each chunk is a Ray task that returns its tables; the driver saves them as parts, so the
    workers need no shared disk. Ray reruns a task whose worker was lost."""

    requires = "ray"

    def __init__(self, address: str | None, workers: int) -> None:
        self.address = address
        self.workers = workers

    @classmethod
    def from_experiment(cls, exp: ExperimentConfig, n_runs: int) -> RayEvaluator:
        """The cluster at ``experiment.ray_address`` (connected now: refused before any run
        if it cannot be reached), or a local instance of ``n_jobs`` CPUs started when the
        runs start."""
        if exp.ray_address is not None:
            return cls(exp.ray_address, cluster_cpus(exp.ray_address, n_runs))
        return cls(None, resolve_n_jobs(exp.n_jobs, n_runs))

    def start(self) -> None:
        """Nothing to start before the progress bar (Ray starts its own threads)."""

    def evaluate(self, chunks: list[list[RunSpec]], parts_dir: Path, done: PartDone,
                 before_run: BeforeRun | None) -> None:
        """Run the chunks as Ray tasks; Ctrl-C, SIGTERM or an error here cancels the tasks in
        flight.

        Raises:
            SweepInterrupted: the cluster lost a task (what finished is saved).
        """
        ray = connect(self.address, self.workers)
        task = ray.remote(max_retries=3)(run_chunk)
        pending = {task.remote(c, None, before_run): c for c in chunks}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    pending.pop(ref)
                    done(write_part(parts_dir, ray.get(ref)))
        except ray.exceptions.RayError as e:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise SweepInterrupted(f"the Ray cluster lost a task ({type(e).__name__}: "
                                   f"{str(e).splitlines()[0]}); the finished runs are saved in "
                                   f"{parts_dir}: run the same command again to finish the "
                                   "missing ones") from e
        except BaseException:  # Ctrl-C, SIGTERM, a full disk: cancel the tasks in flight
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
