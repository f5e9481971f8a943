"""Checks made before any run of an experiment starts.

* :func:`check_data`: the shipped data are readable and are the data shipped: every health
  community with its municipalities and population (an edited or truncated file is named).
* :func:`check_job_folder`: the job folder is new, or holds this very job (same helsesim version,
  results format and configuration: the job resumes or is already complete), never results of
  another version or configuration unless ``experiment.overwrite=true`` asks to replace them.
* :class:`FolderLock`: one process at a time fills a job folder.

Every failure is one exception with one line naming what is wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

from helsesim import data, results
from helsesim.data import DataError

#: Version of the layout of a job folder (tables, parts, manifest); bump when it changes.
#: 3: parts carry a record of their files' checksums; the manifest records the checksums of
#: the tables, summaries and report, which a rerun checks instead of trusting the status.
RESULTS_FORMAT = 3

#: The shipped municipalities.csv per health community: (municipalities, inhabitants 2024).
#: An edit of the data file that changes these is reported; if an edit is intended, update them.
SHIPPED_COMMUNITIES = {
    "ahus": (21, 504914), "bergen": (16, 469307), "finnmark": (18, 75053),
    "fonna": (17, 184233), "forde": (18, 109424), "helgeland": (18, 77885),
    "innlandet": (42, 343927), "more_og_romsdal": (27, 270624),
    "nord_trondelag": (19, 136338), "nordland": (20, 140226), "oslo": (1, 717710),
    "ostfold": (13, 331645), "sorlandet": (25, 319850), "st_olavs": (19, 346618),
    "stavanger": (15, 387752), "telemark": (17, 177093), "unn": (24, 194580),
    "vestfold": (6, 256432), "vestre_viken": (21, 506592),
}
SHIPPED_NEIGHBOURS = 736
DATA_FILES = ("municipalities.csv", "neighbours.csv")

#: Experiment settings that change how a job runs, not what it computes: a job may resume
#: with other values of these.
EXECUTION_KEYS = ("n_jobs", "chunk_size", "progress", "figures", "backend", "start_method",
                  "ray_address",
                  "overwrite", "outcomes", "description")

#: Files and folders of a job folder that hold results.
RESULT_FILES = ("manifest.json", "summary.md", "figures", results.PARTS,
                *(f"{t}.parquet" for t in (*results.TABLES, "summary", "differences")))


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


# --- data ---------------------------------------------------------------------------------------

def check_data() -> None:
    """Raise DataError (one line) if the shipped data cannot be read or were edited."""
    m = data.municipalities()  # readable, columns, values (data.check_municipalities)
    got = m.groupby("community")["population_2024"].agg(["size", "sum"])
    for key, (n, people) in SHIPPED_COMMUNITIES.items():
        if key not in got.index:
            raise DataError(f"municipalities.csv: health community {key!r} has no "
                            f"municipalities (the shipped file has {n}); the file was edited "
                            "or truncated")
        gn, gp = int(got.loc[key, "size"]), int(got.loc[key, "sum"])
        if (gn, gp) != (n, people):
            raise DataError(f"municipalities.csv: health community {key!r} has {gn} "
                            f"municipalities and {gp:,} inhabitants; the shipped file has {n} "
                            f"and {people:,} (edited? if on purpose, update "
                            "helsesim.preflight.SHIPPED_COMMUNITIES)")
    extra = sorted(set(got.index) - set(SHIPPED_COMMUNITIES))
    if extra:
        raise DataError(f"municipalities.csv: unknown health communities {extra}")
    n_nb = len(data.neighbours())  # columns, known municipalities
    if n_nb != SHIPPED_NEIGHBOURS:
        raise DataError(f"neighbours.csv: {n_nb} pairs of neighbours; the shipped file has "
                        f"{SHIPPED_NEIGHBOURS}")


def data_checksums() -> dict[str, str]:
    """SHA-256 of each shipped data file (recorded in the manifest and the job's identity)."""
    out = {}
    for name in DATA_FILES:
        path = data.resources.files("helsesim") / "data" / "norway" / name
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --- the job's identity ---------------------------------------------------------------------------

def _version() -> str | None:
    return results.versions().get("helsesim")


def job_identity(plan) -> dict:
    """What a job folder's results depend on: the helsesim version, the results format, and a
    hash of every run's configuration, seed and run id and of the data files."""
    runs = [(r.run_id, r.arm, r.seed, r.replicate) for r in plan.runs]
    arms = {a: results.flat_inputs(c) for a, c in plan.arm_configs.items()}
    for flat in arms.values():
        flat.pop("seed", None)
    checksums = data_checksums()
    blob = json.dumps(dict(experiment=plan.name, arms=arms, runs=runs, data=checksums),
                      sort_keys=True, default=str)
    return dict(results_format=RESULTS_FORMAT, helsesim=_version(),
                config_hash=hashlib.sha256(blob.encode()).hexdigest()[:16], data=checksums)


def flat_config(d: dict, prefix: str = "") -> dict:
    """A nested configuration as ``{dotted.path: value}`` (``experiment.arms`` kept whole)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "arms":
            out.update(flat_config(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


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
    fix = ("choose a new folder (hydra.run.dir=... or hydra.sweep.dir=...) or pass "
           "experiment.overwrite=true to replace them")
    try:
        manifest = results.read_manifest(out_dir) if "manifest.json" in found else {}
    except results.ManifestError as e:
        manifest, damaged = None, str(e)
    old = (manifest or {}).get("identity") or {}
    if manifest is None:
        problem = f"results whose {damaged.removeprefix(str(out_dir) + '/')}"
    elif not isinstance(old, dict) or not old:
        problem = ("results without a helsesim manifest" if not manifest else
                   "the gathered results of a multirun" if "gathered_from" in manifest else
                   "results of an older helsesim (results format 1, not resumable)")
    elif old.get("results_format") != identity["results_format"]:
        problem = (f"results in format {old.get('results_format')} (this helsesim writes "
                   f"format {identity['results_format']})")
    elif old.get("helsesim") != identity["helsesim"]:
        problem = (f"results of helsesim {old.get('helsesim')} (this is helsesim "
                   f"{identity['helsesim']})")
    elif old.get("config_hash") != identity["config_hash"]:
        config_old = manifest.get("config")
        config_old = config_old if isinstance(config_old, dict) else {}
        problem = ("results of another configuration (differs in "
                   f"{_config_differences(config_old, config)})")
    else:
        return "complete" if manifest.get("status") == "complete" else "resume"
    if overwrite:
        if not dry_run:
            clear_results(out_dir)
        return "new"
    raise ResultsConflict(f"{out_dir} holds {problem}; {fix}")


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

    def __exit__(self, *exc) -> None:
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


def manifest_config(plan) -> dict:
    """The job's configuration as stored in the manifest."""
    return dataclasses.asdict(plan.config)
