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
import hashlib
import json
import os
import shutil
from pathlib import Path

from helsesim import data, results
from helsesim.data import DataError

#: Version of the layout of a job folder (tables, parts, manifest); bump when it changes.
RESULTS_FORMAT = 2

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


def check_job_folder(out_dir: Path, identity: dict, config: dict, overwrite: bool) -> str:
    """Decide what to do with a job folder before any run.

    Returns ``"new"`` (nothing there, or replaced on request), ``"resume"`` (an unfinished run
    of this job: finish the missing runs) or ``"complete"`` (this job is done).

    Raises:
        ResultsConflict: the folder holds results of another version, results format or
            configuration (or without a manifest), and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    found = existing_results(out_dir)
    if not found:
        return "new"
    manifest = results.read_manifest(out_dir) if "manifest.json" in found else {}
    old = manifest.get("identity") or {}
    fix = ("choose a new folder (hydra.run.dir=... or hydra.sweep.dir=...) or pass "
           "experiment.overwrite=true to replace them")
    if not old:
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
        problem = ("results of another configuration (differs in "
                   f"{_config_differences(manifest.get('config', {}), config)})")
    else:
        return "complete" if manifest.get("status") == "complete" else "resume"
    if overwrite:
        clear_results(out_dir)
        return "new"
    raise ResultsConflict(f"{out_dir} holds {problem}; {fix}")


def clear_results(out_dir: Path) -> None:
    """Remove the results of a job folder (what :data:`RESULT_FILES` names, nothing else)."""
    for name in existing_results(out_dir):
        path = Path(out_dir) / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


class FolderLock(contextlib.AbstractContextManager):
    """An exclusive lock on a job folder (``.helsesim.lock``), released when the process ends,
    however it ends, so a killed job's folder can be resumed at once."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / ".helsesim.lock"
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: no lock
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ResultsConflict(f"{self.path.parent} is being filled by another helsesim "
                                  "process; wait for it or choose another folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None


def manifest_config(plan) -> dict:
    """The job's configuration as stored in the manifest."""
    return dataclasses.asdict(plan.config)
