"""``helsesim-report --recompute``: the outcome columns of a job's runs table and its summaries
rewritten from the stored years, projects and municipalities tables (the outcome registry's
functions, no model run) equal what the job wrote, bit for bit, whatever happened to them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from faults import FailRuns

from helsesim import report
from helsesim.model.allocation import DESIGNS
from helsesim.runner.manifest import read_manifest, write_manifest
from helsesim.runner.recompute import recompute_job
from helsesim.runner.store import check_files
from helsesim.runner.summaries import SUMMARY_FILES

#: Every design x 3 seeds, one failed run (it keeps no outcomes).
JOB = ["experiment=compare_allocation", "years=3", "experiment.n_seeds=3", "experiment.n_jobs=1",
       "experiment.progress=false", "experiment.figures=false"]
FAILED = 4
RUNS = 3 * len(DESIGNS)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from helsesim.runner import compose_config, run_experiment

    job = tmp_path_factory.mktemp("recompute") / "job"
    run_experiment(compose_config(JOB), job, before_run=FailRuns(frozenset({FAILED})))
    return job


def tables_of(job: Path) -> dict[str, pa.Table]:
    return {t: pq.read_table(job / f"{t}.parquet") for t in ("runs", "summary", "differences")}


def tables_of_runs_equal(job: Path, runs: pa.Table) -> bool:
    return pq.read_table(job / "runs.parquet").equals(runs)


def damage(job: Path) -> None:
    """The runs table's outcomes as after a change of the outcome functions: a column with
    other values, one missing, one no longer an outcome; the summaries deleted."""
    runs = pq.read_table(job / "runs.parquet")
    i = runs.schema.get_field_index("gini_benefit_per_capita")
    runs = runs.set_column(i, "gini_benefit_per_capita",
                           pc.multiply(runs.column(i), pa.scalar(2.0)))
    runs = runs.drop_columns(["vacancy_rate_small"]).append_column(
        "a_stale_outcome", pa.array([1.0] * runs.num_rows))
    pq.write_table(runs, job / "runs.parquet")
    for name in SUMMARY_FILES:
        (job / name).unlink()


def test_recompute_reproduces_the_stored_outcomes(finished, tmp_path, capsys):
    job = tmp_path / "job"
    shutil.copytree(finished, job)
    before = tables_of(job)
    runs = before["runs"].to_pandas()
    assert (runs["status"] != "ok").sum() == 1  # the failed run is in the table
    damage(job)
    assert not tables_of_runs_equal(job, before["runs"])

    assert report.main([str(job), "--recompute", "--no-figures"]) == 0
    # not the failed one
    assert f"recomputed the outcomes of {RUNS - 1} runs" in capsys.readouterr().out
    after = tables_of(job)
    for name, table in before.items():
        assert after[name].schema.remove_metadata().equals(table.schema.remove_metadata()), name
        assert after[name].equals(table), name  # every value, bit for bit (NaN as null)
    manifest = read_manifest(job)
    assert check_files(job, manifest["files"], ["runs.parquet", *SUMMARY_FILES]) is None


def test_recompute_in_batches_equals_at_once_and_the_job_needs_no_run(finished, tmp_path):
    """Batches of 2 runs (a batch of failed runs among them) give the same table; the job's
    records then match its files, so running the job again runs nothing."""
    from helsesim.runner import compose_config, run_experiment

    job = tmp_path / "job"
    shutil.copytree(finished, job)
    before = tables_of(job)
    damage(job)
    assert recompute_job(job, batch_runs=2) == RUNS - 1
    assert tables_of(job)["runs"].equals(before["runs"])
    ran = []
    run_experiment(compose_config(JOB), job, before_run=ran.append)
    assert ran == []  # the tables matched their records: no run was redone
    pd.testing.assert_frame_equal(pd.read_parquet(job / "summary.parquet"),
                                  before["summary"].to_pandas())


def test_recompute_each_job_of_a_multirun(finished, tmp_path):
    sweep = tmp_path / "sweep"
    for num in ("0", "1"):
        shutil.copytree(finished, sweep / num)
        damage(sweep / num)
    assert report.main([str(sweep), "--recompute", "--no-figures"]) == 0
    for num in ("0", "1"):
        assert pq.read_table(sweep / num / "runs.parquet").equals(tables_of(finished)["runs"])
    gathered = pd.read_parquet(sweep / "runs.parquet")
    assert len(gathered) == 2 * RUNS and "vacancy_rate_small" in gathered


def test_an_unfinished_job_is_refused_in_one_line(finished, tmp_path, capsys):
    job = tmp_path / "job"
    shutil.copytree(finished, job)
    manifest = read_manifest(job)
    write_manifest(job, {**manifest, "status": "running"})
    runs = (job / "runs.parquet").read_bytes()
    assert report.main([str(job), "--recompute"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not complete" in err
    assert (job / "runs.parquet").read_bytes() == runs
