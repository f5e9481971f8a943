"""Running a job: :func:`run_experiment`, the plain function behind the ``helsesim`` command.

A job is a sequence of steps, each kept on disk as it finishes and checked, not trusted, when
the job starts again:

1. the runs: chunks saved atomically as parts (:mod:`helsesim.runner.store`) by the job's
   evaluator (:mod:`helsesim.runner.execute`);
2. the five tables, streamed from the parts, with their checksums in the manifest;
3. the summaries (``summary.parquet``, ``differences.parquet``);
4. the report: figures and ``summary.md`` (:mod:`helsesim.report`).

The same call on the same folder after a kill, a lost worker or a full disk runs only the
missing runs, or redoes only the missing or damaged step, and gives the same tables.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from helsesim import report as reporting
from helsesim.hydra_schema import HelsesimConfig
from helsesim.runner import store
from helsesim.runner.evaluator import BeforeRun
from helsesim.runner.execute import execute, make_evaluator
from helsesim.runner.job_folder import (
    REPORT,
    FolderLock,
    StorageFull,
    check_job_folder,
    clean_leftovers,
    storage_problem,
)
from helsesim.runner.manifest import (
    build_manifest,
    job_identity,
    manifest_config,
    read_manifest,
    write_manifest,
)
from helsesim.runner.plan import Plan, plan_experiment
from helsesim.runner.reader import JobTables
from helsesim.runner.summaries import SUMMARY_FILES, write_summaries
from helsesim.runner.tables import table_files

log = logging.getLogger(__name__)


class SweepFailed(RuntimeError):
    """Every run of a job failed (the runs table with their tracebacks is written)."""


@dataclass
class ExperimentResult:
    """Tables of an experiment, its plan and manifest, and where they were written.

    With a job folder, ``tables`` reads each table from it when first used.
    """

    tables: Mapping[str, pd.DataFrame]
    plan: Plan
    manifest: dict
    out_dir: Path | None = None

    @property
    def failed(self) -> pd.DataFrame:
        """The runs that failed (their error column holds the traceback)."""
        runs = self.tables["runs"]
        return runs[runs["status"] != "ok"]

    @property
    def counts(self) -> tuple[int, int]:
        """(failed runs, runs), from the manifest when there is one (no table is read)."""
        if "n_failed" in self.manifest:
            return int(self.manifest["n_failed"]), int(self.manifest["experiment"]["n_runs"])
        return len(self.failed), len(self.tables["runs"])


def run_experiment(cfg: DictConfig | HelsesimConfig, out_dir: str | Path | None = None, *,
                   command: list[str] | None = None, overrides: list[str] | None = None,
                   before_run: BeforeRun | None = None) -> ExperimentResult:
    """Run an experiment and, if ``out_dir`` is given, write its tables, manifest, figures and
    summary.md there (the steps of the module's docstring). A folder with results of another
    helsesim version or configuration is refused before any run, unless
    ``experiment.overwrite`` is set.

    Args:
        cfg: a configuration composed from ``conf/``
            (:func:`~helsesim.runner.compose.compose_config`) or a
            :class:`~helsesim.hydra_schema.HelsesimConfig`.
        out_dir: the job folder; None keeps everything in memory.
        command: the command line recorded in the manifest (default: ``sys.argv``).
        overrides: the Hydra overrides recorded in the manifest.
        before_run: called in the worker before each run (:data:`BeforeRun`; tests only).

    Raises:
        ConfigError: the experiment or one of its arms is invalid (before any run).
        DataError: the shipped data are corrupt or were edited (before any run).
        ResultsConflict: ``out_dir`` holds results of another version or configuration, or
            another process is filling it, or it cannot be written (before any run; nothing
            is touched).
        ClusterError: the Ray cluster cannot be reached (before any run).
        SweepFailed: every run failed (the runs table with the tracebacks is written).
        StorageFull: the disk filled up while the job ran (what was written is intact).
    """
    t0 = time.perf_counter()
    plan = plan_experiment(cfg)
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="helsesim-") as tmp:
            res = _run_in_folder(plan, Path(tmp), t0, command, overrides, False, before_run)
            res.tables = {k: res.tables[k] for k in res.tables}  # read before tmp goes
            res.out_dir = None
            return res
    out = Path(out_dir)
    with FolderLock(out):
        try:
            return _run_in_folder(plan, out, t0, command, overrides, True, before_run)
        except OSError as e:
            problem = storage_problem(e)
            if problem is None:
                raise
            raise StorageFull(
                f"{problem}; nothing written is damaged: free space and run the same command "
                f"again to resume ({out})") from e


def _run_in_folder(plan: Plan, out: Path, t0: float, command: list[str] | None,
                   overrides: list[str] | None, report: bool,
                   before_run: BeforeRun | None = None) -> ExperimentResult:
    """The steps of a job in its folder, each done only if its files are not already there and
    intact (see :func:`run_experiment`)."""
    exp = plan.config.experiment
    state = check_job_folder(out, job_identity(plan), manifest_config(plan), exp.overwrite)
    for name in clean_leftovers(out):
        log.info("%s: removed %s, left by a job that was stopped", plan.name, name)
    parts_dir = out / store.PARTS
    old = read_manifest(out) if state != "new" else {}
    files = old.get("files") if isinstance(old.get("files"), dict) else {}
    problem = store.check_files(out, files, table_files()) if state != "new" else "new"
    if problem is None:
        manifest = old
        if parts_dir.exists():  # stopped after the tables were written
            shutil.rmtree(parts_dir)
    else:
        if state == "complete":
            log.warning("%s: %s was complete but %s; running the job's missing runs again",
                        plan.name, out, problem)
        manifest = _run_and_assemble(plan, out, t0, command, overrides, before_run)
    n_failed, n_runs = int(manifest.get("n_failed", 0)), len(plan.runs)
    steps = _finish(plan, out, manifest, report) if n_failed < n_runs else []
    if steps or manifest.get("status") != "complete" or parts_dir.exists():
        manifest.setdefault("timings_s", {})["total"] = round(time.perf_counter() - t0, 3)
        manifest["status"] = "complete"
        write_manifest(out, manifest)
        if parts_dir.exists():
            shutil.rmtree(parts_dir)
    if n_failed == n_runs:
        first = JobTables(out).read("runs", ["error"])["error"].iloc[0]
        raise SweepFailed(f"all {n_failed} runs failed; the first:\n{first}")
    if problem is None and not steps:
        log.info("%s: %s already holds every run of this job; nothing to run", plan.name, out)
    elif problem is None:
        log.info("%s: the runs were complete; wrote the missing %s to %s", plan.name,
                 " and ".join(steps), out)
    else:
        report_files = ", figures and summary.md" if exp.figures else " and summary.md"
        log.info("%s: wrote tables%s to %s in %.1f s", plan.name,
                 report_files if "report" in steps else "", out, time.perf_counter() - t0)
    return ExperimentResult(JobTables(out), plan, manifest, out)


def _finish(plan: Plan, out: Path, manifest: dict, report: bool) -> list[str]:
    """The steps after the tables, each done if its files are missing or damaged: the
    summaries, then (with ``report``) the figures and summary.md. Returns the steps done."""
    exp = plan.config.experiment
    files = manifest.setdefault("files", {})
    steps = []
    if store.check_files(out, files, list(SUMMARY_FILES)) is not None:
        write_summaries(out, manifest, plan.outcomes, plan.arms, plan.baseline)
        write_manifest(out, manifest)  # each step recorded as it is done
        steps.append("summaries")
    drawn = manifest.get("figures") or []
    if report and (store.check_files(out, files, [REPORT, *(f"figures/{n}.png" for n in drawn)])
                   or (exp.figures and not manifest.get("figures_drawn"))):
        t1 = time.perf_counter()
        written = reporting.make_report(out, JobTables(out), manifest, figures=exp.figures)
        rel = [p.relative_to(out).as_posix() for p in written]
        manifest["figures"] = [Path(r).stem for r in rel if r.startswith("figures/")]
        manifest["figures_drawn"] = bool(exp.figures)
        files.update(store.record_files(out, rel))
        manifest.setdefault("timings_s", {})["report"] = round(time.perf_counter() - t1, 3)
        write_manifest(out, manifest)
        steps.append("report")
    return steps


def _run_and_assemble(plan: Plan, out: Path, t0: float, command: list[str] | None,
                      overrides: list[str] | None, before_run: BeforeRun | None) -> dict:
    """Run the runs not saved yet as intact parts, stream the parts into the five tables and
    record their checksums; returns the manifest (status "running" until the job is done)."""
    exp = plan.config.experiment
    seeds = [dict(replicate=i, seed=s) for i, s in enumerate(plan.seeds)]
    timings: dict = {}
    manifest = build_manifest(manifest_config(plan), plan.info(), seeds, command=command,
                              overrides=overrides)
    manifest.update(identity=job_identity(plan), status="running", timings_s=timings)
    write_manifest(out, manifest)
    parts_dir = out / store.PARTS
    done = {i for ids in store.committed_parts(parts_dir).values() for i in ids}
    missing = [r for r in plan.runs if r.run_id not in done]
    evaluator = make_evaluator(exp, max(1, len(missing)))
    workers = evaluator.workers
    log.info("%s: %d arms x %d seeds = %d runs of %s, %d years, on %d %s%s",
             plan.name, len(plan.arms), len(plan.seeds), len(plan.runs),
             plan.info()["scenario"], plan.info()["years"], workers,
             "Ray workers" if exp.backend == "ray" else
             ("process" if workers == 1 else "processes"),
             f" (resuming: {len(done)} runs already done)" if done else "")
    if missing:
        execute(missing, parts_dir, evaluator, exp.chunk_size, exp.progress, plan.name,
                before_run)
    timings.update(runs=round(time.perf_counter() - t0, 3), workers=workers)
    manifest["files"] = store.assemble_parts(parts_dir, out, [r.run_id for r in plan.runs])
    status = JobTables(out).read("runs", ["status"])["status"]
    manifest["n_failed"] = int((status != "ok").sum())
    write_manifest(out, manifest)
    return manifest
