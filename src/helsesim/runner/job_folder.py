"""The job folder before any run: new, this very job (to resume or complete), or results that
must not be mixed with or overwritten; writable; filled by one process at a time (a lock that
a worker never keeps); the leftovers of a killed job removed.

Every refusal is one exception with one line naming what is wrong.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path
from types import TracebackType

from helsesim.runner.manifest import MANIFEST, ManifestError, flat_config, read_manifest
from helsesim.runner.store import PARTS
from helsesim.runner.summaries import SUMMARY_FILES
from helsesim.runner.tables import TABLES, table_files

#: Experiment settings that change how a job runs, not what it computes: a job may resume
#: with other values of these.
EXECUTION_KEYS = ("n_jobs", "chunk_size", "progress", "figures", "backend", "start_method",
                  "ray_address", "overwrite", "outcomes", "description")
#: The report's file in a job folder (beside its figures).
REPORT = "summary.md"
#: Files and folders of a job folder that hold results.
RESULT_FILES = (MANIFEST, REPORT, "figures", PARTS, *table_files(TABLES), *SUMMARY_FILES)


class ResultsConflict(ValueError):
    """The job folder holds results that this job must not mix with or overwrite."""


class OutputUnwritable(ResultsConflict):
    """The job folder cannot be written (read-only, no permission), found before any run."""


class StorageFull(RuntimeError):
    """The disk filled up (or another write failed) while the job ran: what was written is
    intact and the same command resumes once there is space."""


#: Write errors that are the storage's, not helsesim's: named in one line.
STORAGE_ERRNOS = {errno.ENOSPC: "disk full (no space left on device)",
                  errno.EDQUOT: "disk quota exceeded",
                  errno.EROFS: "read-only file system",
                  errno.EACCES: "permission denied", errno.EPERM: "permission denied"}


def storage_problem(e: OSError) -> str | None:
    """One line naming a storage error and the file (None for another OSError)."""
    what = STORAGE_ERRNOS.get(e.errno)
    if what is None:
        return None
    where = f" writing {e.filename}" if e.filename else ""
    return f"{what}{where}"


def _config_differences(old: dict, new: dict) -> str:
    skip = {f"experiment.{k}" for k in EXECUTION_KEYS}
    a, b = flat_config(old), flat_config(json.loads(json.dumps(new, default=str)))
    diff = [f"{k} ({a.get(k)!r} -> {b.get(k)!r})" for k in sorted(a.keys() | b.keys())
            if k not in skip and a.get(k) != b.get(k)]
    if not diff:
        return "the data files or the list of runs"
    more = f" and {len(diff) - 5} more" if len(diff) > 5 else ""
    return ", ".join(diff[:5]) + more


def existing_results(out_dir: Path) -> list[str]:
    """Names of the result files and folders already in ``out_dir``."""
    out_dir = Path(out_dir)
    return [n for n in RESULT_FILES if (out_dir / n).exists()]


def check_job_folder(out_dir: Path, identity: dict, config: dict, overwrite: bool,
                     dry_run: bool = False) -> str:
    """Decide what to do with a job folder before any run.

    Returns ``"new"`` (nothing there, or replaced on request), ``"resume"`` (an unfinished run
    of this job: finish the missing runs) or ``"complete"`` (the manifest says this job is done;
    the caller checks its files). ``dry_run`` replaces nothing.

    Raises:
        ResultsConflict: the folder holds results of another version, results format or
            configuration (or without a readable manifest), and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    found = existing_results(out_dir)
    if not found:
        return "new"
    try:
        manifest = read_manifest(out_dir) if MANIFEST in found else {}
    except ManifestError as e:
        problem = f"results whose {str(e).removeprefix(str(out_dir) + '/')}"
    else:
        problem = _other_job(manifest, identity, config)
        if problem is None:
            return "complete" if manifest.get("status") == "complete" else "resume"
    if overwrite:
        if not dry_run:
            clear_results(out_dir)
        return "new"
    raise ResultsConflict(f"{out_dir} holds {problem}; choose a new folder (hydra.run.dir=... "
                          "or hydra.sweep.dir=...) or pass experiment.overwrite=true to "
                          "replace them")


def _other_job(manifest: dict, identity: dict, config: dict) -> str | None:
    """What the results of a folder with this manifest are, when they are not this job's
    (None: they are)."""
    old = manifest.get("identity") or {}
    if not isinstance(old, dict) or not old:
        return ("results without a helsesim manifest" if not manifest else
                "the gathered results of a multirun" if "gathered_from" in manifest else
                "results of an older helsesim (results format 1, not resumable)")
    if old.get("results_format") != identity["results_format"]:
        return (f"results in format {old.get('results_format')} (this helsesim writes "
                f"format {identity['results_format']})")
    if old.get("helsesim") != identity["helsesim"]:
        return (f"results of helsesim {old.get('helsesim')} (this is helsesim "
                f"{identity['helsesim']})")
    if old.get("config_hash") != identity["config_hash"]:
        config_old = manifest.get("config")
        config_old = config_old if isinstance(config_old, dict) else {}
        return ("results of another configuration (differs in "
                f"{_config_differences(config_old, config)})")
    return None


def clean_leftovers(out_dir: Path) -> list[str]:
    """Remove what a killed job leaves behind: the temporary files of atomic writes
    (``.<file>.<random>.tmp``) in the job folder and its figures. Returns their names."""
    out_dir = Path(out_dir)
    removed = []
    for folder in (out_dir, out_dir / "figures"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                path.unlink()
                removed.append(str(path.relative_to(out_dir)))
    return removed


def clear_results(out_dir: Path) -> None:
    """Remove the results of a job folder (what :data:`RESULT_FILES` names, nothing else)."""
    for name in existing_results(out_dir):
        path = Path(out_dir) / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


# --- one process at a time ------------------------------------------------------------------------

#: File descriptors of the folder locks this process holds; a forked child closes its copies
#: at once (:func:`_forget_locks_in_child`), so a worker never keeps a job folder locked.
_HELD_LOCKS: set[int] = set()


def _forget_locks_in_child() -> None:
    for fd in list(_HELD_LOCKS):
        try:
            os.close(fd)  # the child's copy only: the parent keeps its lock
        except OSError:
            pass
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_in_child)


class FolderLock(contextlib.AbstractContextManager):
    """An exclusive lock on a job folder (``.helsesim.lock``), released when this process
    ends, however it ends, so a killed job's folder can be resumed at once.

    ``flock`` belongs to the open file, which a forked child would share: worker processes
    close their copy at fork (and the descriptor is not inherited by ``exec``), so a worker
    that outlives a killed main process cannot keep the folder locked.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / ".helsesim.lock"
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: no lock
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as e:
            problem = storage_problem(e)
            if problem is None:
                raise
            raise OutputUnwritable(f"{self.path.parent}: {problem}; choose another folder "
                                   "(hydra.run.dir=...)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ResultsConflict(f"{self.path.parent} is being filled by another helsesim "
                                  "process; wait for it or choose another folder") from None
        _HELD_LOCKS.add(fd)
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the pid is for people; the lock is what counts (a full disk)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            _HELD_LOCKS.discard(self._fd)
            os.close(self._fd)  # releases the lock
            self._fd = None


def check_writable(out_dir: Path) -> None:
    """Before any run: the job folder (or the folder it will be made in) can be written and
    no other process fills it.

    Raises:
        OutputUnwritable, ResultsConflict: in one line.
    """
    out_dir = Path(out_dir).absolute()
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputUnwritable(f"{out_dir}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        problem = ("read-only file system" if _read_only(existing) else "permission denied")
        raise OutputUnwritable(f"{out_dir}: {problem} ({existing} cannot be written); choose "
                               "another folder (hydra.run.dir=...)")
    lock = out_dir / ".helsesim.lock"
    if lock.exists():
        import fcntl

        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ResultsConflict(f"{out_dir} is being filled by another helsesim process; "
                                  "wait for it or choose another folder") from None
        finally:
            os.close(fd)  # releases the probe's lock


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
