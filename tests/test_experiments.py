"""Experiments end to end: every shipped experiment runs, parallel equals serial, the tables are
tidy and keyed by run, the manifest traces the inputs, and the CLI, multirun and report work."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading

import pandas as pd
import pytest
from conftest import TINY, run_cli, script

from helsesim import report
from helsesim.config import SimConfig
from helsesim.model.allocation import DESIGNS
from helsesim.runner import results
from helsesim.runner.compose import CONF_DIR, compose_config
from helsesim.runner.job import run_experiment
from helsesim.runner.local import resolve_start_method, shutdown_pools

#: The runner's experiments; the workbench's analyses (``experiment.analysis``) are run end to
#: end by tests/test_workbench.py.
EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml")
                     if compose_config([f"experiment={p.stem}"]).experiment.analysis == "none")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_runs(compose, tmp_path, name):
    cfg = compose([f"experiment={name}", *TINY])
    res = run_experiment(cfg, tmp_path)
    runs = res.tables["runs"]
    assert (runs["status"] == "ok").all(), runs["error"].iloc[0]
    assert len(runs) == len(res.plan.arms)
    assert runs["experiment"].eq(cfg.experiment.name).all()
    for t in (*results.TABLES, "summary", "differences"):
        assert (tmp_path / f"{t}.parquet").exists(), t
    assert (tmp_path / "summary.md").read_text().startswith(f"# {cfg.experiment.name}")
    figs = {p.stem for p in (tmp_path / "figures").glob("*.png")}
    assert {"outcomes_by_arm", "paired_differences", "time_series", "map",
            "tradeoff_equity_recruitment"} <= figs
    if name == "national":
        assert "communities" in figs
        assert res.tables["communities"]["community"].nunique() == 19
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


@pytest.fixture(scope="module")
def serial_tables():
    return run_experiment(compose_config([*PARALLEL_BASE, "experiment.n_jobs=1"])).tables


PARALLEL_BASE = ["experiment.n_seeds=3", "years=3", "experiment.progress=false"]


@pytest.mark.parametrize("method", ["auto", *multiprocessing.get_all_start_methods()])
def test_parallel_equals_serial(compose, serial_tables, method):
    """However the workers start (forked with the model imported, from a forkserver, or
    spawned afresh), their runs equal a serial run's, bit for bit."""
    parallel = run_experiment(compose([*PARALLEL_BASE, "experiment.n_jobs=2",
                                       "experiment.chunk_size=2",
                                       f"experiment.start_method={method}"])).tables
    assert serial_tables.keys() == parallel.keys()
    for name in serial_tables:
        pd.testing.assert_frame_equal(serial_tables[name], parallel[name], check_exact=True,
                                      obj=name)


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="auto forks on Linux only (elsewhere it is the platform's default)")
def test_workers_are_forked_only_while_no_other_thread_runs():
    shutdown_pools()  # a kept pool has its own threads
    assert resolve_start_method("auto") == "fork", threading.enumerate()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert resolve_start_method("auto") == "forkserver"
    finally:
        stop.set()
        other.join()
    assert resolve_start_method("spawn") == "spawn"  # asked for: as asked


def test_tables_are_tidy_and_keyed_by_run(compose):
    res = run_experiment(compose(["experiment.n_seeds=2", "years=2", "experiment.n_jobs=1",
                                  "experiment.progress=false", "seed=5"]))
    runs = res.tables["runs"]
    assert list(runs.columns[:9]) == list(results.RUN_KEYS)
    assert runs["run_id"].tolist() == list(range(len(DESIGNS) * 2))
    assert runs["run_id"].is_unique
    # paired: replicate i has seed 5 + i under every design
    assert runs.groupby("design")["seed"].apply(list).map(tuple).nunique() == 1
    assert sorted(runs["seed"].unique()) == [5, 6]
    # every input, flattened with __, and every outcome
    for col in results.flat_inputs(SimConfig()):
        assert col in runs, col
    assert (runs["allocation__design"] == runs["design"]).all()
    assert {"gini_benefit_per_capita", "vacancy_rate_small", "recruitment_project_share",
            "uncompensated_task_shift_cost"} <= set(runs.columns)
    for name in ("years", "municipalities", "projects", "communities"):
        df = res.tables[name]
        assert list(df.columns[:5]) == list(results.ROW_KEYS), name
        assert set(df["run_id"]) <= set(runs["run_id"])
    years = res.tables["years"]
    assert all(list(g) == [0, 1, 2] for _, g in years.groupby("run_id")["year"])


def test_manifest_traces_the_inputs(compose, tmp_path):
    run_experiment(compose(["experiment.n_seeds=2", *TINY[:1], "experiment.n_jobs=1",
                            "experiment.progress=false", "experiment.figures=false"]),
                   tmp_path, overrides=["experiment.n_seeds=2"])
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["config"]["experiment"]["n_seeds"] == 2
    assert m["config"]["levers"]["compensation"] == SimConfig().levers.compensation
    assert m["seeds"] == [{"replicate": 0, "seed": 1}, {"replicate": 1, "seed": 2}]
    assert m["overrides"] == ["experiment.n_seeds=2"]
    for pkg in ("python", "helsesim", "mesa", "numpy", "pandas", "networkx"):
        assert m["versions"][pkg], pkg
    assert set(m["git"]) == {"commit", "dirty", "branch"}
    assert m["experiment"]["arms"][0] == m["experiment"]["baseline"] == "open_call"
    assert m["timings_s"]["total"] > 0
    assert not (tmp_path / "figures").exists()


def test_a_failed_run_is_recorded_not_fatal(compose, monkeypatch):
    import helsesim.api

    real = helsesim.api.run_tables

    def flaky(cfg):
        if cfg.allocation.design == "lottery":
            raise RuntimeError("boom")
        return real(cfg)

    monkeypatch.setattr(helsesim.api, "run_tables", flaky)
    res = run_experiment(compose(TINY))
    failed = res.failed
    assert failed["design"].tolist() == ["lottery"]
    assert "RuntimeError: boom" in failed["error"].iloc[0]
    assert "lottery" not in set(res.tables["years"]["design"])
    md = report.render_summary(res.tables, res.manifest["experiment"], res.manifest, [])
    assert "## Failed runs" in md


def test_unknown_outcome_is_named(compose):
    from helsesim.config import ConfigError

    with pytest.raises(ConfigError, match="giny"):
        run_experiment(compose([*TINY, "experiment.outcomes=[giny]"]))


def test_summary_and_differences():
    runs = pd.DataFrame({"arm": ["a"] * 3 + ["b"] * 3, "seed": [1, 2, 3] * 2,
                         "status": "ok", "x": [1.0, 2.0, 3.0, 2.0, 4.0, 3.0]})
    s = results.summarise(runs, ["x"], ["a", "b"]).set_index("arm")
    assert s.loc["a", "median"] == 2.0 and s.loc["b", "median"] == 3.0
    assert s.loc["a", "q05"] == pytest.approx(1.1) and s.loc["a", "q95"] == pytest.approx(2.9)
    d = results.paired_differences(runs, ["x"], ["a", "b"], "a").iloc[0]
    assert d["median"] == 1.0 and d["n_pairs"] == 3  # differences 1, 2, 0
    assert d["share_higher"] == pytest.approx(2 / 3) and d["share_lower"] == 0.0


def test_job_labels_name_what_differs():
    labels = report.job_labels([["allocation=open_call", "levers.compensation=0", "years=2"],
                                ["allocation=governance_led", "levers.compensation=0",
                                 "years=2"]])
    assert labels == ["open_call", "governance_led"]
    assert report.job_labels([["a=1"], ["a=1"]]) == ["job 0", "job 1"]


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "job"
    run_cli(["experiment.n_seeds=2", "years=2", "experiment.n_jobs=2",
             f"hydra.run.dir={out}"], cwd=tmp_path)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * len(DESIGNS) and (runs["status"] == "ok").all()
    assert (out / ".hydra" / "config.yaml").exists()
    assert (out / "summary.md").exists() and (out / "manifest.json").exists()
    assert len(list((out / "figures").glob("*.png"))) >= 5
    # the report command redraws a single job; another baseline goes to its own folder and
    # leaves the job's report as it was
    before = (out / "summary.md").read_text()
    run_cli([str(out), "--baseline", "lottery"], cwd=tmp_path, name="helsesim-report")
    assert "against `lottery`" in (out / "baseline_lottery" / "summary.md").read_text()
    assert (out / "baseline_lottery" / "figures" / "paired_differences.png").exists()
    assert (out / "summary.md").read_text() == before


def test_multirun_and_report(tmp_path):
    sweep = tmp_path / "sweep"
    run_cli(["-m", "allocation=open_call,governance_led", "levers.compensation=0,1",
             "experiment.n_seeds=2", "years=2", "experiment.n_jobs=1",
             "experiment.progress=false", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert len(jobs) == 4
    for job in jobs:
        assert len(pd.read_parquet(job / "runs.parquet")) == 2  # one design per job
    # gathered at the sweep root by the callback
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 8 and runs["run_id"].is_unique
    assert sorted(runs["arm"].unique()) == sorted(
        f"{d}, compensation={c}" for d in ("open_call", "governance_led") for c in (0, 1))
    assert all(sorted(g) == [1, 2] for _, g in runs.groupby("arm")["seed"])
    assert len(list((sweep / "figures").glob("*.png"))) >= 5
    # and again by the report command, with another baseline, in a folder of its own
    run_cli([str(sweep), "--baseline", "governance_led, compensation=1"], cwd=tmp_path,
            name="helsesim-report")
    other = sweep / "baseline_governance_led_compensation=1"
    md = (other / "summary.md").read_text()
    assert "against `governance_led, compensation=1`" in md
    diffs = pd.read_parquet(other / "differences.parquet")
    assert set(diffs["arm"]) == set(runs["arm"]) - {"governance_led, compensation=1"}
    assert "against `open_call, compensation=0`" in (sweep / "summary.md").read_text()
    assert json.loads((sweep / "manifest.json").read_text())["jobs"][0]["overrides"]


def test_report_on_a_folder_without_results(tmp_path):
    res = subprocess.run([*script("helsesim-report"), str(tmp_path)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2 and "no results" in res.stderr


def test_cli_reports_an_invalid_value_in_one_line(tmp_path):
    res = subprocess.run([*script("helsesim"), "levers.compensation=3",
                          f"hydra.run.dir={tmp_path / 'job'}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "levers.compensation: got 3.0" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr


def test_project_ties_count_pairs_in_batches():
    """Lead-partner pairs and trust-lead pairs (when the trust is a party and not the lead),
    as joint projects per run; counting in batches gives the same as counting at once."""
    projects = pd.DataFrame({
        "arm": ["a", "a", "a", "a", "b"],
        "lead_id": ["M1", "HF:c", "M2", "M3", "M1"],
        "partners": ["M2;M3", "M2", None, "", "M2"],
        "trust_party": [True, True, False, True, False],
        "community": ["c"] * 5,
    })
    n_runs = pd.Series({"a": 2, "b": 1})
    ties = report.project_ties(projects, n_runs).sort_values(["arm", "a", "b"])
    got = {(r.arm, r.a, r.b): r.weight for r in ties.itertuples()}
    assert got == {("a", "HF:c", "M1"): 0.5, ("a", "HF:c", "M2"): 0.5, ("a", "HF:c", "M3"): 0.5,
                   ("a", "M1", "M2"): 0.5, ("a", "M1", "M3"): 0.5, ("b", "M1", "M2"): 1.0}
    batched = report.project_ties(iter([projects.iloc[:2], projects.iloc[2:]]), n_runs)
    pd.testing.assert_frame_equal(batched.sort_values(["arm", "a", "b"]).reset_index(drop=True),
                                  ties.reset_index(drop=True))
