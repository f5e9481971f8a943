"""The summaries of a job: medians and 90 % intervals of each outcome per arm, and paired
differences against the baseline arm (runs paired by seed), from the runs table's outcome
columns only (``summary.parquet``, ``differences.parquet``)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from helsesim.runner import store
from helsesim.runner.reader import JobTables, release_memory

log = logging.getLogger(__name__)

#: Interval reported everywhere: the 5th and 95th percentiles over seeds (a 90 % interval).
QUANTILES = (0.05, 0.95)
#: The files of the summaries, as recorded in the manifest.
SUMMARY_FILES = ("summary.parquet", "differences.parquet")


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


def failure_message(n_failed: int, n_runs: int, where: str = "runs.parquet") -> str:
    """The one line that reports failed runs."""
    return (f"{n_failed} of {n_runs} runs failed; see the status and error columns of "
            f"{where}")


def write_summaries(out: Path, manifest: dict, outcomes: list[str], arms: list[str],
                    baseline: str) -> None:
    """The medians and paired differences of ``outcomes`` (from the runs table's outcome
    columns only) written to the job folder ``out``, and their records in the manifest."""
    runs = JobTables(out).read("runs", ["run_id", "arm", "seed", "status", "error", *outcomes])
    failed = runs[runs["status"] != "ok"]
    if len(failed) and len(failed) < len(runs):
        log.error("%s; the first:\n%s", failure_message(len(failed), len(runs)),
                  failed["error"].iloc[0])
    summary = summarise(runs, outcomes, arms)
    differences = paired_differences(runs, outcomes, arms, baseline)
    store.write_tables(out, {"summary": summary, "differences": differences})
    manifest.setdefault("files", {}).update(store.record_files(out, list(SUMMARY_FILES)))
    del runs, failed
    release_memory()
