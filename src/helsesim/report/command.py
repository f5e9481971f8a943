"""``helsesim-report``: the report of a job folder or a gathered multirun, against the
experiment's baseline or another choice, and the Hydra callback that gathers ``helsesim -m``.

The report against the experiment's own baseline is written at the folder's root. Any other
choice is written to a sub-folder named after it, so that no report overwrites another:
``--baseline ARM`` to ``baseline_<arm>/``, ``--baseline-per-design`` (each design against
its own lowest level of the lever) to ``baseline_per_design/``, and
``--baseline-per-design VALUE`` to ``baseline_per_design_<lever>=<value>/``. A sub-folder holds
its summary.md, figures and summary tables; the runs' tables stay at the root.

``--recompute`` first rewrites the outcome columns of the runs table and the summaries of a job
(of every job of a multirun folder) from its stored tables by the outcome registry's functions
(:mod:`helsesim.runner.recompute`), without running the model again: after an outcome was added
or its function changed.
"""

from __future__ import annotations

import argparse
import copy
import logging
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from helsesim.report import dose
from helsesim.report.gather import gather, job_dirs
from helsesim.report.summary import make_report
from helsesim.runner import results
from helsesim.runner.recompute import recompute_job

log = logging.getLogger(__name__)

#: The sub-folder of each design's report against its own lowest level of the lever.
PER_DESIGN = "baseline_per_design"


class ReportTables(results.JobTables):
    """A job folder's tables with other summaries in place of its own (the summaries of
    another baseline, for a report in a sub-folder)."""

    def __init__(self, job_dir: Path, **frames: pd.DataFrame) -> None:
        super().__init__(job_dir)
        self._cache.update(frames)


def summarise_tables(tables: Mapping[str, pd.DataFrame], info: dict) -> dict[str, pd.DataFrame]:
    """The summary and differences tables for the arms and baseline in ``info``."""
    runs = results.read_table(tables, "runs", ["arm", "seed", "status", *info["outcomes"]])
    outcomes = [o for o in info["outcomes"] if o in runs]
    return {"summary": results.summarise(runs, outcomes, info["arms"]),
            "differences": results.paired_differences(runs, outcomes, info["arms"],
                                                      info["baseline"])}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_")


def _manifest(path: Path, regather: bool) -> dict:
    """The manifest of a job folder, or of a multirun folder (gathered first when ``regather``
    or never gathered)."""
    if job_dirs(path):
        if regather or not (path / "runs.parquet").exists():
            _, manifest = gather(path)
            results.write_manifest(path, manifest)
            return manifest
    elif not (path / "runs.parquet").exists():
        raise FileNotFoundError(f"no results under {path}: expected runs.parquet (a job folder) "
                                "or job sub-folders (a multirun folder)")
    manifest = results.read_manifest(path)
    if not manifest.get("experiment"):
        raise FileNotFoundError(f"{path / 'manifest.json'} is missing or has no experiment")
    return manifest


def report_path(path: Path, baseline: str | None = None, figures: bool = True,
                per_design: bool | float = False) -> Path:
    """Write the report of a job folder or gather a multirun folder (at the root), or the
    report against another baseline (in a sub-folder); returns its summary.md.

    Args:
        baseline: an arm to take the paired differences against.
        per_design: each design against its own baseline level of the lever (True: its lowest
            level; a number: that level).

    Raises:
        FileNotFoundError: the folder holds no results.
        ValueError: the baseline is not an arm, or the arms have no lever to take levels of.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    variant = baseline is not None or per_design is not False
    manifest = _manifest(path, regather=not variant)
    if not variant:
        results.write_tables(path, summarise_tables(results.JobTables(path),
                                                    manifest["experiment"]))
        make_report(path, results.JobTables(path), manifest, figures=figures)
        return path / "summary.md"
    manifest = copy.deepcopy(manifest)
    info = manifest["experiment"]
    if baseline is not None:
        if baseline not in info["arms"]:
            raise ValueError(f"--baseline: got {baseline!r}; allowed: "
                             f"{', '.join(info['arms'])}")
        info["baseline"] = baseline
        info["arms"] = [baseline] + [a for a in info["arms"] if a != baseline]
    summaries = summarise_tables(results.JobTables(path), info)
    if per_design is not False:
        out = path / PER_DESIGN
        if per_design is not True:
            lever = lever_of(path, info["arms"])
            name = lever.name if lever else "level"
            out = path / f"{PER_DESIGN}_{_slug(f'{name}={float(per_design):g}')}"
        summaries.pop("differences")  # each design has its own baseline: see dose_differences
    else:
        out = path / f"baseline_{_slug(baseline)}"
    results.write_tables(out, summaries)
    tables = ReportTables(path, **summaries)
    make_report(out, tables, manifest, figures=figures, per_design=per_design)
    return out / "summary.md"


def lever_of(path: Path, arms: list[str]) -> dose.Lever | None:
    """The numeric lever in which the arms of a job folder differ, if any."""
    tables = results.JobTables(path)
    inputs = dose.input_columns(tables)
    if not inputs:
        return None
    return dose.find_lever(tables.read("runs", ["arm", *inputs]), arms)


try:  # Hydra is a dependency; the callback only matters under `helsesim -m`
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object


class GatherCallback(Callback):
    """Hydra callback of ``helsesim -m``: after the jobs, gather them into one report (and,
    when the sweep varies a numeric lever under several designs, each design's report against
    its own lowest level, in ``baseline_per_design/``), and end with exit status 1 if a job or
    a run failed. (Every job's configuration and folder were checked before Hydra started:
    :func:`helsesim.cli.precheck`.)"""

    def on_multirun_end(self, config: object, **kwargs: object) -> None:
        from helsesim.runner.multirun import sweep_failures

        sweep = Path(config.hydra.sweep.dir)
        status = 0
        try:
            md = report_path(sweep)
            log.info("gathered the multirun into %s", md)
            arms = results.read_manifest(sweep)["experiment"]["arms"]
            lever = lever_of(sweep, arms)
            if lever is not None and len(lever.lines) > 1:
                md = report_path(sweep, per_design=True)
                log.info("each design against its own lowest %s: %s", lever.path, md)
        except Exception:  # noqa: BLE001 - the jobs' own results are already written
            log.exception("could not gather the multirun in %s; run `helsesim-report %s`",
                          sweep, sweep)
            status = 1
        unfinished, n_failed, n_runs = sweep_failures(sweep)
        if unfinished:
            log.error("helsesim: %d job(s) did not finish: %s (see their helsesim.log)",
                      len(unfinished), ", ".join(unfinished))
        if n_failed:
            log.error("helsesim: %d of %d runs failed; see the status and error columns of "
                      "%s/runs.parquet", n_failed, n_runs, sweep)
        if status or unfinished or n_failed:
            sys.exit(1)


def recompute_jobs(path: Path) -> list[Path]:
    """The job folders whose outcomes ``--recompute`` rewrites: each job of a multirun folder
    (its numbered sub-folders), else the folder itself.

    Raises:
        FileNotFoundError: ``path`` holds no job.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    found = job_dirs(path)
    if found:
        return found
    if (path / "runs.parquet").exists():
        return [path]
    raise FileNotFoundError(f"no results under {path}: expected runs.parquet (a job folder) or "
                            "job sub-folders (a multirun folder)")


def _level(text: str) -> float | bool:
    if text == "lowest":
        return True
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'lowest', got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """``helsesim-report PATH``: figures and summary.md of a job or a multirun folder."""
    ap = argparse.ArgumentParser(
        prog="helsesim-report",
        description="Figures and summary.md of a job folder, or gather a multirun folder into "
                    "one report. Another baseline goes to a sub-folder named after it.")
    ap.add_argument("path", type=Path, help="a job folder or a multirun folder")
    ap.add_argument("--baseline", default=None,
                    help="arm for the paired differences (written to baseline_<arm>/; the "
                         "root keeps the experiment's, for a multirun the first open_call job)")
    ap.add_argument("--baseline-per-design", nargs="?", const=True, default=False,
                    type=_level, metavar="LEVEL",
                    help="each design against itself at a level of the numeric lever the arms "
                         "differ in (default: its lowest), written to baseline_per_design/")
    ap.add_argument("--no-figures", action="store_true", help="write summary.md only")
    ap.add_argument("--recompute", action="store_true",
                    help="first rewrite the outcome columns of runs.parquet and the summaries "
                         "from the stored tables (of each job of a multirun), without running "
                         "the model")
    args = ap.parse_args(argv)
    if args.baseline is not None and args.baseline_per_design is not False:
        ap.error("--baseline and --baseline-per-design: choose one")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.recompute:
            for job in recompute_jobs(args.path):
                print(f"recomputed the outcomes of {recompute_job(job)} runs in {job}")
        md = report_path(args.path, args.baseline, figures=not args.no_figures,
                         per_design=args.baseline_per_design)
    except (FileNotFoundError, ValueError, results.ManifestError) as e:
        print(f"helsesim-report: {e}", file=sys.stderr)
        return 2
    print(f"wrote {md} and figures in {md.parent / 'figures'}")
    return 0
