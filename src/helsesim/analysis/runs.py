"""The workbench's door to helsesim's runner: a sample of parameter sets becomes the arms of a
job run by :func:`helsesim.runner.run_experiment` (worker processes or Ray, chunks saved as
parts, resumable with the same command, a manifest), with paired seeds.

An analysis job folder holds one runner job per stage (``morris/``, ``sobol/``, ``worlds/``,
``predictive/``, ...). Each stage's sample is drawn from a fixed seed, so a stopped analysis
run again with the same command and folder plans the same arms and the runner runs only the
missing runs.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, open_dict, read_write

from helsesim.analysis import AnalysisError
from helsesim.outcomes import OUTCOMES, SUMMARY_KEYS
from helsesim.runner.job import ExperimentResult, run_experiment

log = logging.getLogger(__name__)


def stage_config(cfg: DictConfig, stage: str, arms: Mapping[str, dict], *,
                 n_seeds: int | None = None, seed: int | None = None) -> DictConfig:
    """The runner's configuration of one stage: the job's configuration with ``arms`` (named
    changes) instead of its designs, without figures (one arm per parameter set)."""
    sub = copy.deepcopy(cfg)
    with read_write(sub), open_dict(sub):
        if "hydra" in sub:
            del sub["hydra"]
        exp = sub.experiment
        exp.name = f"{exp.name}-{stage}"
        exp.designs = []
        exp.arms = {name: dict(delta) for name, delta in arms.items()}
        exp.baseline = next(iter(arms))
        exp.figures = False
        exp.analysis = "none"
        if n_seeds is not None:
            exp.n_seeds = int(n_seeds)
        if seed is not None:
            sub.seed = int(seed)
    return sub


def run_stage(cfg: DictConfig, out: Path | None, stage: str, arms: Mapping[str, dict], *,
              n_seeds: int | None = None, seed: int | None = None
              ) -> ExperimentResult:
    """Run ``arms`` x paired seeds through the runner into ``out/stage`` (None: in memory); a
    stage already complete in its folder is read, not run again."""
    sub = stage_config(cfg, stage, arms, n_seeds=n_seeds, seed=seed)
    return run_experiment(sub, None if out is None else Path(out) / stage)


def run_arms(cfg: DictConfig, out: Path | None, stage: str, arms: Mapping[str, dict], *,
             n_seeds: int | None = None, seed: int | None = None, allow_failed: bool = False
             ) -> pd.DataFrame:
    """Run a stage (:func:`run_stage`) and return its runs table (keys, status and every
    outcome).

    Raises:
        AnalysisError: runs failed (unless ``allow_failed``): the first traceback is in the
            stage's runs.parquet.
    """
    res = run_stage(cfg, out, stage, arms, n_seeds=n_seeds, seed=seed)
    where = None if out is None else Path(out) / stage
    runs = res.tables["runs"]
    keep = ["run_id", "arm", "design", "replicate", "seed", "status", "error",
            *[k for k in SUMMARY_KEYS if k in runs.columns]]
    runs = runs[keep].copy()
    failed = runs[runs["status"] != "ok"]
    if len(failed) and not allow_failed:
        last = str(failed["error"].iloc[0]).strip().splitlines()[-1:]
        raise AnalysisError(f"{len(failed)} of {len(runs)} runs of stage {stage} failed (first: "
                            f"{last[0] if last else '?'}); see {where or 'the stage'}"
                            "/runs.parquet")
    return runs[runs["status"] == "ok"].drop(columns=["error"])


def resolve_workers(n_jobs: int) -> int:
    """Processes for ``experiment.n_jobs`` (-1: every core this process may use)."""
    if n_jobs != -1:
        return max(1, int(n_jobs))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def outcome_columns(runs: pd.DataFrame) -> list[str]:
    """The outcomes of the registry that a runs table holds as numbers (``years`` left out)."""
    out = []
    for k in SUMMARY_KEYS:
        if k == "years" or k not in runs.columns:
            continue
        if pd.api.types.is_numeric_dtype(runs[k]) or pd.api.types.is_bool_dtype(runs[k]):
            out.append(k)
    return out


def better_sign(outcome: str) -> float:
    """+1 if higher is better, -1 if lower is better, 0 if neither (from the registry)."""
    info = OUTCOMES.get(outcome)
    return {"higher": 1.0, "lower": -1.0}.get(info.better if info else "neither", 0.0)


def point_means(runs: pd.DataFrame, point_of: Mapping[str, int], design_of: Mapping[str, str],
                outcomes: list[str], designs: list[str], baseline: str | None
                ) -> dict[str, pd.DataFrame]:
    """Per design (and per paired difference ``design − baseline``): a frame of points x
    outcomes, each the mean over the paired seeds (a difference is taken seed by seed)."""
    df = runs.assign(point=runs["arm"].map(point_of), arm_design=runs["arm"].map(design_of))
    df[outcomes] = df[outcomes].astype(float)
    out: dict[str, pd.DataFrame] = {}
    for d in designs:
        out[d] = df[df["arm_design"] == d].groupby("point")[outcomes].mean().sort_index()
    if baseline is not None:
        base = df[df["arm_design"] == baseline].set_index(["point", "seed"])[outcomes]
        for d in designs:
            if d == baseline:
                continue
            other = df[df["arm_design"] == d].set_index(["point", "seed"])[outcomes]
            diff = (other - base.reindex(other.index)).groupby(level="point").mean()
            out[contrast_label(d, baseline)] = diff.sort_index()
    return out


def contrast_label(design: str, baseline: str) -> str:
    return f"{design} − {baseline}"


def file_label(label: str) -> str:
    """A design or contrast label as part of a file name."""
    return label.replace(" − ", "-minus-").replace(" ", "_")


def seed_noise(runs: pd.DataFrame, point_of: Mapping[str, int], design_of: Mapping[str, str],
               outcomes: list[str], design: str) -> pd.Series:
    """The standard error of a point's seed mean: the median over points of the spread over
    seeds, divided by the square root of the seeds (what seed noise adds to a difference)."""
    df = runs.assign(point=runs["arm"].map(point_of), arm_design=runs["arm"].map(design_of))
    df = df[df["arm_design"] == design]
    n = df.groupby("point")["seed"].count().median()
    sd = df.groupby("point")[outcomes].std().median()
    return sd / math.sqrt(max(n, 1))


def finite_columns(frame: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Columns that can be analysed (finite everywhere, not constant), and why the others
    cannot."""
    ok, why = [], {}
    for c in frame.columns:
        v = frame[c].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            why[c] = "not finite at some points (e.g. no projects)"
        elif np.ptp(v) == 0:
            why[c] = "constant over the sample"
        else:
            ok.append(c)
    return ok, why
