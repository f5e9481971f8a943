"""A job's manifest (``manifest.json``): everything needed to trace its results back to their
inputs (configuration, seeds, versions, git commit, command), the job's identity (what its
results depend on: a resumed job must be the same job) and the records of its files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from helsesim.data import data_checksums
from helsesim.runner.store import write_text
from helsesim.runner.tables import flat_inputs

if TYPE_CHECKING:
    from helsesim.runner.plan import Plan

#: Version of the layout of a job folder (tables, parts, manifest); bump when it changes.
#: 3: parts carry a record of their files' checksums; the manifest records the checksums of
#: the tables, summaries and report, which a rerun checks instead of trusting the status.
RESULTS_FORMAT = 3
#: The packages whose versions a manifest records.
VERSIONED = ("helsesim", "mesa", "numpy", "pandas", "networkx", "hydra-core", "omegaconf",
             "pyarrow", "matplotlib")
#: The file name of the manifest in a job folder.
MANIFEST = "manifest.json"


class ManifestError(ValueError):
    """A job folder's manifest.json cannot be read as a manifest (truncated, edited)."""


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages a result depends on (None if not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_info(path: Path | None = None) -> dict[str, str | bool | None]:
    """Commit and dirty flag of the git checkout holding ``path`` (the package by default).

    Never fails: outside a checkout, or without git, the values are None.
    """
    where = str(path or Path(__file__).resolve().parent)

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", where, *args], capture_output=True, text=True,
                                 timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": (bool(status) if status is not None else None),
            "branch": git("rev-parse", "--abbrev-ref", "HEAD") if commit else None}


def build_manifest(config: dict, experiment: dict, seeds: list[dict], *,
                   command: list[str] | None = None, overrides: list[str] | None = None,
                   timings: dict | None = None) -> dict:
    """Everything needed to trace a job's results back to its inputs."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else list(sys.argv),
        "overrides": list(overrides or []),
        "experiment": experiment,
        "seeds": seeds,
        "config": config,
        "versions": versions(),
        "git": git_info(),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_count": os.cpu_count()},
        "timings_s": timings or {},
    }


def write_manifest(out_dir: Path, manifest: dict) -> Path:
    """Write ``manifest.json`` atomically."""
    path = Path(out_dir) / MANIFEST
    write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path


def read_manifest(job_dir: Path) -> dict:
    """The manifest of a job folder ({} when there is none).

    Raises:
        ManifestError: it is not a JSON object (truncated, emptied, edited), in one line.
    """
    path = Path(job_dir) / MANIFEST
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{path} is damaged ({str(e).splitlines()[0]})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path} is damaged (a JSON {type(manifest).__name__}, not an "
                            "object)")
    return manifest


# --- the job's identity ---------------------------------------------------------------------------

def job_identity(plan: Plan) -> dict:
    """What a job folder's results depend on: the helsesim version, the results format, and a
    hash of every run's configuration, seed and run id and of the data files."""
    runs = [(r.run_id, r.arm, r.seed, r.replicate) for r in plan.runs]
    arms = {a: flat_inputs(c) for a, c in plan.arm_configs.items()}
    for flat in arms.values():
        flat.pop("seed", None)
    checksums = data_checksums()
    blob = json.dumps(dict(experiment=plan.name, arms=arms, runs=runs, data=checksums),
                      sort_keys=True, default=str)
    return dict(results_format=RESULTS_FORMAT, helsesim=versions().get("helsesim"),
                config_hash=hashlib.sha256(blob.encode()).hexdigest()[:16], data=checksums)


def manifest_config(plan: Plan) -> dict:
    """The job's configuration as stored in the manifest."""
    return dataclasses.asdict(plan.config)


def flat_config(d: dict, prefix: str = "") -> dict:
    """A nested configuration as ``{dotted.path: value}`` (``experiment.arms`` kept whole)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "arms":
            out.update(flat_config(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
