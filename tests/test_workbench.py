"""The researcher's workbench end to end on tiny budgets (issue 11): each analysis runs through
the runner and writes what it promises, and the numbers mean what they claim (a parameter with
no effect gets a zero index; a strongly identified parameter is recovered)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

pytest.importorskip("SALib")
pytest.importorskip("pyabc")
pytest.importorskip("ema_workbench")

from helsesim import analysis  # noqa: E402
from helsesim.analysis import targets as T  # noqa: E402
from helsesim.analysis.schema import TARGET_KINDS, TARGET_ROLES  # noqa: E402
from helsesim.config import ConfigError  # noqa: E402
from helsesim.runner import compose_config, run_experiment  # noqa: E402

QUIET = ["experiment.progress=false", "experiment.n_jobs=1"]


def compose(*overrides: str):
    return compose_config([*overrides, *QUIET])


# --- sensitivity --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sensitivity_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensitivity")
    cfg = compose("experiment=sensitivity", "experiment.n_trajectories=3", "experiment.top_k=2",
                  "experiment.n_base=4", "experiment.n_seeds=2", "years=3",
                  "experiment.parameters=[quit_rate,exit_share,synthetic_area_km]")
    info = analysis.run(cfg, out)
    return cfg, out, info


def test_sensitivity_writes_indices_figures_and_summary(sensitivity_job):
    _, out, info = sensitivity_job
    table = pd.read_parquet(out / "sensitivity.parquet")
    assert list(table.columns) == ["parameter", "outcome", "design", "method", "index",
                                   "value", "conf"]
    assert set(table["method"]) == {"morris", "sobol"}
    assert set(table["design"]) == {"open_call", "two_stream", "two_stream − open_call"}
    assert {"mu_star", "sigma", "S1", "ST"} <= set(table["index"])
    mu = table[(table["index"] == "mu_star") & (table["parameter"] != "(seed noise)")]
    assert np.isfinite(mu["value"]).all() and (mu["value"] >= 0).all()
    sobol = table[table["method"] == "sobol"]
    assert sorted(set(sobol["parameter"])) == sorted(info["top"])
    vac = sobol[(sobol["outcome"] == "vacancy_rate") & (sobol["design"] == "open_call")]
    assert len(vac) == 4 and np.isfinite(vac["value"]).all() and np.isfinite(vac["conf"]).all()
    for name in ("morris_open_call", "morris_two_stream-minus-open_call", "sobol_open_call"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    md = (out / "summary.md").read_text()
    assert "## Sensitivity" in md and "Largest Morris μ*" in md
    # every point x design x seed went through the runner (its job folder and manifest)
    runs = pd.read_parquet(out / "morris" / "runs.parquet")
    assert len(runs) == 3 * 4 * 2 * 2 and (runs["status"] == "ok").all()
    assert (out / "morris" / "manifest.json").exists()


def test_a_parameter_with_no_effect_gets_a_zero_index(sensitivity_job):
    _, out, info = sensitivity_job
    table = pd.read_parquet(out / "sensitivity.parquet")
    mu = table[(table["method"] == "morris") & (table["index"] == "mu_star")]
    inert = mu[mu["parameter"] == "scenario.synthetic_area_km"]  # synthetic only: no effect
    assert len(inert) and (inert["value"] == 0).all()
    quit_ = mu[(mu["parameter"] == "params.labour.quit_rate") & (mu["outcome"] == "vacancy_rate")
               & (mu["design"] == "open_call")]["value"].iloc[0]
    assert quit_ > 0.01  # the quit rate moves vacancies
    assert "scenario.synthetic_area_km" not in info["top"]  # Sobol skips the inert one


def test_sensitivity_resumes_without_running_again(sensitivity_job):
    cfg, out, _ = sensitivity_job
    before = pd.read_parquet(out / "sensitivity.parquet")
    stamp = (out / "morris" / "runs.parquet").stat().st_mtime_ns
    with open_dict(cfg):
        cfg.experiment.figures = False  # not part of the runs' identity
    analysis.run(cfg, out)
    assert (out / "morris" / "runs.parquet").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sensitivity.parquet"), before)


# --- robustness ---------------------------------------------------------------------------------

def test_robustness_shares_regret_and_prim_boxes(tmp_path):
    cfg = compose("experiment=robustness", "experiment.n_worlds=8", "experiment.n_seeds=1",
                  "years=3", "experiment.designs=[open_call,governance_led,two_stream]")
    info = analysis.run(cfg, tmp_path)
    table = pd.read_parquet(tmp_path / "robustness.parquet")
    assert list(table.columns) == ["world", "design", "outcome", "value", "difference",
                                   "beats_baseline", "regret"]
    worlds = pd.read_parquet(tmp_path / "worlds.parquet")
    assert len(worlds) == 8 and worlds.shape[1] == 1 + len(info["space"])
    # a Latin hypercube: each parameter's 8 values fall in 8 different eighths of its range
    u = info["space"][0]
    cells = np.floor(u.distribution().cdf(worlds[u.name]) * 8) if u.prior == "uniform" else None
    if cells is not None:
        assert len(set(np.clip(cells, 0, 7))) == 8
    # every world ran with its own values, allocation parameters included, under every design
    ran = pd.read_parquet(tmp_path / "worlds" / "runs.parquet")
    ran["world"] = ran["arm"].str.extract(r"^p(\d+)")[0].astype(int)
    for column in ("allocation.governance_projects", "params.labour.quit_rate"):
        expected = ran["world"].map(worlds.set_index("world")[column])
        assert np.allclose(ran[column.replace(".", "__")], expected), column
    assert set(ran["design"]) == {"open_call", "governance_led", "two_stream"}
    vac = table[table["outcome"] == "vacancy_rate_small"]
    assert (vac["regret"] >= 0).all()
    assert (vac.groupby("world")["regret"].min() == 0).all()  # the best design has no regret
    base = vac[vac["design"] == "open_call"]
    assert base["beats_baseline"].isna().all() and (base["difference"] == 0).all()
    other = vac[vac["design"] == "two_stream"]
    assert ((other["difference"] < 0) == other["beats_baseline"].astype(bool)).all()  # lower
    md = (tmp_path / "scenario_discovery.md").read_text()
    assert "## Share of worlds in which each design beats the baseline" in md
    assert "Where does `two_stream` beat `governance_led` on vacancy_rate_small?" in md
    assert len(info["boxes"]) == 2
    assert (tmp_path / "figures" / "share_beats_baseline.png").exists()
    assert (tmp_path / "figures" / "regret.png").exists()


# --- targets and calibration --------------------------------------------------------------------

def test_every_target_has_a_statistic_or_says_what_it_needs():
    cfg = compose("experiment=calibrate")
    names = set()
    for t in cfg.targets.targets:
        assert t.kind in TARGET_KINDS and t.role in TARGET_ROLES
        assert t.source or t.notes, t.name
        assert t.name in T.STATISTICS or t.needs, t.name
        bounds = [b for b in t.bounds if b is not None]
        if t.name not in T.STATISTICS:  # defined when its statistic is written
            names.add(t.name)
            continue
        if t.kind == "value":
            assert t.value is not None, t.name
        else:  # a target that every value meets would be no target
            assert bounds, f"{t.name}: kind {t.kind} without a bound"
        if t.role == "distance":
            assert t.tolerance and t.tolerance > 0, t.name
        names.add(t.name)
    assert set(T.STATISTICS) <= names  # no statistic without its target


def test_targets_needing_missing_outputs_are_skipped_by_name_until_they_exist():
    cfg = compose("experiment=calibrate")
    from helsesim.analysis.calibration import table_columns

    columns = table_columns()
    sel = T.select(cfg.targets.targets, "nordland", ["open_call"], columns)
    skipped = dict(sel.skipped)
    used = {t.name for t in sel.used}
    # the model records money asked and offered per year: the demand targets are fitted
    assert {"oversubscription_median", "oversubscription_years_above_one"} <= used
    assert "norway" in skipped["participation_ever_large"]
    assert "perceived_fairness_gap" in skipped["share_critical"]
    assert "share_critical" not in used
    sel = T.select(cfg.targets.targets, "nordland", ["open_call"],
                   columns | {"perceived_fairness_gap"})
    assert "share_critical" in {t.name for t in sel.used}
    # no target waits for an output the model already has
    for spec in cfg.targets.targets:
        if spec.needs:
            assert not set(spec.needs) <= columns, spec.name


def test_target_statistics_agree_with_the_model_s_outcomes_of_the_same_concept():
    """A target computed from the tables equals the run outcome that defines the same thing
    (one definition, two homes would drift apart)."""
    import helsesim

    r = helsesim.simulate("nordland", seed=3, years=6)
    run = T.Run(r.years, r.projects, r.municipalities, r.communities)
    same = {"oversubscription_median": "oversubscription",
            **{k: k for k in ("participation_ever_small", "recruitment_project_share",
                              "implementation_rate", "survival_rate")}}
    for target, outcome in same.items():
        assert T.STATISTICS[target](run) == pytest.approx(r.summary[outcome]), target


def test_target_terms_scale_by_tolerance():
    t = T.Target("x", "open_call", "interval", 0.36, 0.25, 0.45, 0.08, "distance")
    assert t.term(0.3) == 0 and t.met(0.3)
    assert t.term(0.61) == pytest.approx(2.0) and not t.met(0.61)
    assert t.term(math.nan) == T.NAN_PENALTY
    low = T.Target("y", "open_call", "lower", None, 1.5, None, 0.5, "distance")
    assert low.term(2.0) == 0 and low.term(1.0) == pytest.approx(1.0)


def test_statistics_of_a_job_are_finite_and_in_range():
    cfg = compose("experiment.designs=[open_call]", "experiment.n_seeds=2", "years=6",
                  "experiment.figures=false")
    res = run_experiment(cfg)
    from helsesim.analysis.calibration import table_columns

    sel = T.select(compose("experiment=calibrate").targets.targets, "nordland", ["open_call"],
                   table_columns())
    stats = T.job_statistics(res.tables, [t.name for t in sel.used])
    assert len(stats) == 2
    for share in ("participation_ever_small", "recruitment_project_share", "share_high_trust",
                  "implementation_rate"):
        assert stats[share].between(0, 1).all(), share
    assert np.isfinite(stats[["lead_ratio_trust", "vacancy_level_year10",
                              "moves_exceed_exits"]].to_numpy()).all()


@pytest.fixture(scope="module")
def recovery_job(tmp_path_factory):
    """Recovery of one strongly identified parameter: the sector-exit share sets how many
    quitters leave rather than move (moves_exceed_exits)."""
    out = tmp_path_factory.mktemp("calibrate")
    cfg = compose("experiment=calibrate", "targets=synthetic", "experiment.population_size=12",
                  "experiment.max_generations=3", "experiment.n_seeds=1",
                  "experiment.n_predictive=2", "targets.truth_seeds=5", "years=5",
                  "calibration.parameters=[params.labour.exit_share]")
    with open_dict(cfg):
        cfg.targets.truth = {"params.labour.exit_share": 0.42}
    info = analysis.run(cfg, out)
    return cfg, out, info


def test_synthetic_truth_lies_strictly_inside_the_priors_and_off_the_defaults():
    """A truth on a prior's bound can never be inside an equal-tailed 90 % interval: recovery
    would fail by construction, not because the targets cannot identify it."""
    from helsesim.config import parameter_table

    cfg = compose("experiment=calibrate", "targets=synthetic")
    ranges = {r["name"]: r for r in parameter_table()}
    assert set(cfg.targets.truth) == set(cfg.calibration.parameters)
    for name, value in cfg.targets.truth.items():
        r = ranges[name]
        margin = 0.05 * (r["high"] - r["low"])
        assert r["low"] + margin <= value <= r["high"] - margin, (name, value, r["low"], r["high"])
        assert value != pytest.approx(r["default"]), name


def test_calibration_recovers_a_strongly_identified_parameter(recovery_job):
    _, out, info = recovery_job
    s = pd.read_parquet(out / "posterior_summary.parquet").set_index("parameter")
    row = s.loc["params.labour.exit_share"]
    assert row["q05"] <= 0.42 <= row["q95"] and bool(row["truth_in_90"])
    assert row["width_ratio"] < 0.7  # the targets narrowed the prior
    md = (out / "calibration.md").read_text()
    assert "truth in 90 %" in md and "Recovery: the true value lies" in md


def test_calibration_writes_posterior_report_and_predictive_check(recovery_job):
    _, out, info = recovery_job
    post = pd.read_parquet(out / "posterior.parquet")
    assert {"generation", "particle", "weight", "distance", "params.labour.exit_share"} <= set(
        post.columns)
    assert post["generation"].nunique() == info["generations"] >= 2
    assert np.allclose(post.groupby("generation")["weight"].sum(), 1.0)
    assert (post.groupby("generation")["particle"].count() == 12).all()
    ppc = pd.read_parquet(out / "predictive_check.parquet")
    assert {"target", "median", "q05", "q95", "share_met", "met"} <= set(ppc.columns)
    assert len(ppc) >= 10 and ppc["median"].notna().all()
    md = (out / "calibration.md").read_text()
    for section in ("## Posterior", "## Targets", "Left out (not silently)",
                    "## Posterior predictive check"):
        assert section in md
    assert "params:" in (out / "calibrated.yaml").read_text()
    for name in ("marginals", "predictive_check"):
        assert (out / "figures" / f"{name}.png").exists()


def test_calibration_resumes_from_its_database(recovery_job):
    cfg, out, info = recovery_job
    before = pd.read_parquet(out / "posterior.parquet")
    again = analysis.run(cfg, out)  # every generation is in abc.db: nothing new is sampled
    assert again["generations"] == info["generations"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"), before)
    with open_dict(cfg):
        cfg.calibration.parameters = ["params.labour.exit_share", "params.labour.quit_rate"]
    from helsesim.runner.job_folder import ResultsConflict

    with pytest.raises(ResultsConflict, match="another configuration"):  # exit status 2
        analysis.run(cfg, out)


# --- refusals and the default report --------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    (["experiment=sensitivity", "experiment.parameters=[nonsense]"], "not a parameter"),
    (["experiment=sensitivity", "experiment.parameters=[equal_votes]"], "no plausible range"),
    (["experiment=robustness", "experiment.designs=[open_call,per_capita]"], "not one of the"),
    (["experiment=calibrate", "calibration.parameters=[trust_seats]"], "integers"),
])
def test_a_bad_analysis_is_refused_before_anything_is_written(tmp_path, overrides, message):
    from helsesim.cli import precheck

    where = tmp_path / "job"
    with pytest.raises(ConfigError, match=message):
        precheck([*overrides, f"hydra.run.dir={where}"])
    assert not where.exists()


def test_the_default_summary_says_its_intervals_are_seed_noise(tmp_path):
    from helsesim.report import SEED_NOISE_NOTE

    # two arms: the brief says nothing of intervals when there is nothing to compare
    run_experiment(compose("experiment.designs=[open_call,two_stream]", "experiment.n_seeds=1",
                           "years=2", "experiment.figures=false"), tmp_path)
    md = (tmp_path / "summary.md").read_text()
    assert SEED_NOISE_NOTE in md and "experiment=robustness" in md
