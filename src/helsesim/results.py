"""Tidy result tables of an experiment, their summaries, atomic writes and the run manifest.

A job folder holds (see ``results/README.md``):

* ``runs.parquet``: one row per run: the keys (``run_id``, ``experiment``, ``arm``, ``design``,
  ``replicate``, ``seed``, ``root_seed``), ``status`` and ``error``, every input of the run
  flattened from :func:`helsesim.config.to_flat_dict` (dots replaced by ``__``:
  ``levers.compensation`` -> ``levers__compensation``; ``years`` and ``seed`` stay as they are),
  and every key of ``Result.summary`` (an outcome whose name equals an input column, like
  ``years``, is dropped when equal to it and otherwise written as ``outcome__<name>``).
* ``years``, ``municipalities``, ``projects``, ``communities`` (``.parquet``): the tables of
  :class:`helsesim.api.Result`, each row keyed by ``run_id``, ``arm``, ``design``,
  ``replicate`` and ``seed``.
* ``summary.parquet`` and ``differences.parquet``: medians and 90 % intervals per arm, and paired
  differences against the baseline arm (:func:`summarise`, :func:`paired_differences`).
* ``manifest.json``: the resolved configuration, seeds, versions, git commit and command.

Nothing here runs a model or draws a figure.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from helsesim.config import SimConfig, to_flat_dict

#: The per-run tables written as parquet, in order.
TABLES = ("runs", "years", "municipalities", "projects", "communities")
#: Columns that key every row of the tables other than ``runs``.
ROW_KEYS = ("run_id", "arm", "design", "replicate", "seed")
#: Key columns of ``runs`` (before the inputs and outcomes).
RUN_KEYS = ("run_id", "experiment", "arm", "design", "replicate", "seed", "root_seed", "status",
            "error")
#: Interval reported everywhere: the 5th and 95th percentiles over seeds (a 90 % interval).
QUANTILES = (0.05, 0.95)


# --- outcome metadata ----------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeInfo:
    """How an outcome is shown: a label, the unit of the axis, a scale and a theme."""

    label: str
    unit: str
    theme: str = ""
    scale: float = 1.0  # shown value = stored value * scale
    better: str | None = None  # "lower" or "higher"; None when neither is better


OUTCOMES: dict[str, OutcomeInfo] = {
    "gini_benefit_per_capita": OutcomeInfo(
        "Gini of RS benefit per inhabitant", "Gini: 0 = equal, 1 = one gets all", "Equity",
        better="lower"),
    "small_representation_ratio": OutcomeInfo(
        "Small municipalities' share of benefit / share of population",
        "ratio: 1 = proportional", "Equity", better="higher"),
    "theil_benefit_per_capita": OutcomeInfo(
        "Theil index of RS benefit per inhabitant", "Theil: 0 = equal", "Equity",
        better="lower"),
    "uncompensated_task_shift_cost": OutcomeInfo(
        "Uncompensated cost of tasks shifted to municipalities (final year)", "MNOK/yr",
        "Task shifting", scale=1e-6, better="lower"),
    "task_shift_cost": OutcomeInfo(
        "Cost of tasks shifted to municipalities (final year)", "MNOK/yr", "Task shifting",
        scale=1e-6),
    "vacancy_rate": OutcomeInfo(
        "Vacancy rate, all employers (final year)", "share of positions", "Recruitment",
        better="lower"),
    "vacancy_rate_small": OutcomeInfo(
        "Vacancy rate, small municipalities (final year)", "share of positions", "Recruitment",
        better="lower"),
    "vacancy_rate_trust": OutcomeInfo(
        "Vacancy rate, health trust (final year)", "share of positions", "Recruitment",
        better="lower"),
    "recruitment_project_share": OutcomeInfo(
        "Share of funded projects aimed at recruitment", "share of projects", "Recruitment",
        better="higher"),
    "recruitment_share_new": OutcomeInfo(
        "Share of new projects aimed at recruitment", "share of projects", "Recruitment"),
    "mean_trust": OutcomeInfo(
        "Municipalities' mean trust in the health community (final year)", "trust (0-1)",
        "Trust", better="higher"),
    "mean_trust_small": OutcomeInfo(
        "Small municipalities' mean trust (final year)", "trust (0-1)", "Trust",
        better="higher"),
    "participation_rate_small": OutcomeInfo(
        "Small municipalities taking part in a project, per year", "share of small "
        "municipalities", "Participation", better="higher"),
    "participation_small": OutcomeInfo(
        "Small municipalities taking part this year", "share of small municipalities",
        "Participation", better="higher"),
    "mean_tie_strength": OutcomeInfo(
        "Mean collaboration tie strength (final year)", "tie strength (0-1)", "Collaboration",
        better="higher"),
    "implementation_rate": OutcomeInfo(
        "Finished projects that were implemented", "share of projects", "Projects",
        better="higher"),
    "n_projects": OutcomeInfo("Funded projects over the run", "projects", "Projects"),
    "funded_amount": OutcomeInfo("RS money granted this year", "MNOK/yr", "Projects",
                                 scale=1e-6),
}


def outcome_info(key: str) -> OutcomeInfo:
    """Display metadata of an outcome (its key as label when it has none)."""
    return OUTCOMES.get(key, OutcomeInfo(key.replace("_", " "), "", ""))


# --- per-run tables ----------------------------------------------------------------------------

def input_column(path: str) -> str:
    """Column name of an input: ``levers.compensation`` -> ``levers__compensation``."""
    return path.replace(".", "__")


def flat_inputs(cfg: SimConfig) -> dict:
    """Every input of a run as ``{column: value}``."""
    return {input_column(k): v for k, v in to_flat_dict(cfg).items()}


def _keyed(df: pd.DataFrame, key: dict) -> pd.DataFrame:
    clash = [k for k in key if k in df.columns]
    if clash:
        raise ValueError(f"result table already has key columns {clash}")
    out = df.copy()
    for i, (k, v) in enumerate(key.items()):
        out.insert(i, k, v)
    return out


def run_row(key: dict, cfg: SimConfig, summary: dict | None, status: str = "ok",
            error: str = "") -> dict:
    """The ``runs`` row of one run: keys, status, inputs, outcomes."""
    row = {**key, "status": status, "error": error, **flat_inputs(cfg)}
    for k, v in (summary or {}).items():
        if k in row:
            if row[k] == v:
                continue
            k = f"outcome__{k}"
        row[k] = v
    return row


def tidy_run(key: dict, cfg: SimConfig, result) -> dict:
    """One run's rows of every table (``runs``: a dict; the others: DataFrames)."""
    rk = {k: key[k] for k in ROW_KEYS}
    return {"runs": run_row(key, cfg, result.summary),
            "years": _keyed(result.years, rk),
            "municipalities": _keyed(result.municipalities, rk),
            "projects": _keyed(result.projects, rk),
            "communities": _keyed(result.communities, rk)}


def failed_run(key: dict, cfg: SimConfig, error: str) -> dict:
    """A failed run: a ``runs`` row with its traceback and no rows elsewhere."""
    return {"runs": run_row(key, cfg, None, status="failed", error=error)}


def assemble(outputs: list[dict]) -> dict[str, pd.DataFrame]:
    """Concatenate the runs' rows into the tables, sorted by ``run_id``."""
    outputs = sorted(outputs, key=lambda o: o["runs"]["run_id"])
    tables = {"runs": pd.DataFrame([o["runs"] for o in outputs])}
    for name in TABLES[1:]:
        frames = [o[name] for o in outputs if name in o]
        tables[name] = (pd.concat(frames, ignore_index=True) if frames
                        else pd.DataFrame(columns=list(ROW_KEYS)))
    return tables


# --- summaries -----------------------------------------------------------------------------------

def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished."""
    return runs[runs["status"] == "ok"] if "status" in runs else runs


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    if values.size == 0:
        return (float("nan"),) * 3
    q = np.quantile(values, (0.5, *QUANTILES))
    return float(q[0]), float(q[1]), float(q[2])


def summarise(runs: pd.DataFrame, outcomes: list[str], arms: list[str]) -> pd.DataFrame:
    """Median and 90 % interval (5th-95th percentile over seeds) of each outcome per arm."""
    runs = ok_runs(runs)
    rows = []
    for arm in arms:
        sel = runs[runs["arm"] == arm]
        for o in outcomes:
            v = sel[o].to_numpy(float) if o in sel else np.array([])
            v = v[~np.isnan(v)]
            med, lo, hi = _interval(v)
            rows.append(dict(arm=arm, outcome=o, n=int(v.size), median=med, q05=lo, q95=hi,
                             mean=float(v.mean()) if v.size else float("nan")))
    return pd.DataFrame(rows, columns=["arm", "outcome", "n", "median", "q05", "q95", "mean"])


def paired_differences(runs: pd.DataFrame, outcomes: list[str], arms: list[str],
                       baseline: str) -> pd.DataFrame:
    """Arm minus baseline for the same seed: median, 90 % interval, and share of seeds higher.

    Runs are paired by their ``seed``: replicate i has the same seed in every arm.
    """
    runs = ok_runs(runs)
    base = runs[runs["arm"] == baseline].set_index("seed")
    rows = []
    for arm in arms:
        if arm == baseline:
            continue
        sel = runs[runs["arm"] == arm].set_index("seed")
        seeds = sel.index.intersection(base.index)
        for o in outcomes:
            if o not in sel:
                continue
            d = (sel.loc[seeds, o].to_numpy(float) - base.loc[seeds, o].to_numpy(float))
            d = d[~np.isnan(d)]
            med, lo, hi = _interval(d)
            rows.append(dict(arm=arm, baseline=baseline, outcome=o, n_pairs=int(d.size),
                             median=med, q05=lo, q95=hi,
                             mean=float(d.mean()) if d.size else float("nan"),
                             share_higher=float((d > 0).mean()) if d.size else float("nan"),
                             share_lower=float((d < 0).mean()) if d.size else float("nan")))
    cols = ["arm", "baseline", "outcome", "n_pairs", "median", "q05", "q95", "mean",
            "share_higher", "share_lower"]
    return pd.DataFrame(rows, columns=cols)


# --- files ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in the same folder that replaces ``path`` when the block succeeds.

    Readers never see a half-written file, and a crash leaves the old file (if any) in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to parquet atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def write_tables(out_dir: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write every table as ``<name>.parquet`` in ``out_dir``."""
    paths = []
    for name, df in tables.items():
        path = Path(out_dir) / f"{name}.parquet"
        write_parquet(df, path)
        paths.append(path)
    return paths


def read_tables(job_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables of a job folder (those that exist)."""
    job_dir = Path(job_dir)
    return {name: pd.read_parquet(job_dir / f"{name}.parquet") for name in TABLES
            if (job_dir / f"{name}.parquet").exists()}


# --- manifest -------------------------------------------------------------------------------------

VERSIONED = ("helsesim", "mesa", "numpy", "pandas", "networkx", "hydra-core", "omegaconf",
             "pyarrow", "matplotlib")


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
    path = Path(out_dir) / "manifest.json"
    write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path


def read_manifest(job_dir: Path) -> dict:
    path = Path(job_dir) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
