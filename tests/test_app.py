"""The app's adapter without a browser: what it offers (communities, designs, levers with the
schema's ranges), the experiment it composes, reproducible runs, and a step run that equals the
experiment's first replicate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the app extra is not installed: pip install -e '.[app]'")

from helsesim import api, config  # noqa: E402
from helsesim.app import adapter, server  # noqa: E402
from helsesim.data import community_names  # noqa: E402

SMALL = dict(community="helgeland", years=3, n_seeds=2)


def test_the_nineteen_communities_and_norway_are_offered():
    keys = [c.key for c in adapter.communities()]
    assert sorted(keys[:-1]) == community_names() and len(keys) == 20
    assert keys[-1] == "norway"
    norway = adapter.communities()[-1]
    assert norway.n_municipalities == 357


def test_levers_carry_the_schema_ranges_and_units():
    levers = {p.path: p for p in adapter.levers()}
    for f in dataclasses.fields(config.LeverConfig):
        p = levers[f"levers.{f.name}"]
        assert p.unit == f.metadata["unit"] and p.lo == f.metadata["lo"]
        assert p.default == getattr(config.LeverConfig(), f.name)
        if p.kind != "bool":
            assert p.hi == f.metadata["hi"] == p.schema_hi
    budget = levers["scenario.national_budget"]  # the schema bound is a validity limit
    assert budget.schema_hi >= 1e12 and budget.hi == 3 * 280e6 and budget.unit == "NOK/yr"
    assert "scenario.name" not in levers and "allocation.design" not in levers


def test_the_experiment_has_a_design_and_a_baseline_arm():
    setup = adapter.Setup(design="governance_led", baseline="open_call",
                          levers=(("levers.compensation", 0.5),), **SMALL)
    cfg = adapter.experiment_config(setup)
    assert cfg.scenario.name == "helgeland" and cfg.years == 3 and cfg.experiment.n_seeds == 2
    assert cfg.experiment.baseline == "open_call"
    arms = cfg.experiment.arms
    assert arms["governance_led"]["levers"]["compensation"] == 0.5
    assert arms["open_call"]["levers"]["compensation"] == 0.5  # the same levers by default
    sq = adapter.experiment_config(dataclasses.replace(setup, baseline_status_quo=True))
    assert "levers" not in sq.experiment.arms["open_call"]


def test_the_same_design_needs_a_status_quo_baseline():
    setup = adapter.Setup(design="open_call", baseline="open_call", **SMALL)
    with pytest.raises(adapter.SetupError, match="status-quo levers"):
        setup.arms()
    setup = dataclasses.replace(setup, baseline_status_quo=True)
    assert setup.arms() == ("open_call + levers", "open_call (status quo)")


@pytest.fixture(scope="module")
def analysis():
    setup = adapter.Setup(levers=(("levers.compensation", 0.75),), **SMALL)
    seen = []
    an = adapter.run(setup, progress=lambda done, total: seen.append((done, total)), n_jobs=1)
    yield an, seen
    adapter.discard(an)


def test_a_run_gives_tables_brief_and_figures(analysis):
    an, seen = analysis
    assert an.arms == ["open_call", "two_stream"] and an.baseline == "open_call"
    assert seen[-1] == (4, 4) and all(d <= t for d, t in seen)
    runs = an.tables["runs"]
    assert (runs["status"] == "ok").all() and len(runs) == 4
    assert (runs["levers__compensation"] == 0.75).all()
    assert adapter.brief_markdown(an).startswith("### Decision brief")
    rows = adapter.side_by_side(an)
    assert {r.outcome for r in rows} == set(an.outcomes)
    s = an.tables["summary"].set_index(["arm", "outcome"])
    gini = next(r for r in rows if r.outcome == "gini_benefit_per_capita")
    assert gini.baseline[0] == f"{s.loc[('open_call', 'gini_benefit_per_capita'), 'median']:.3g}"
    for make in (adapter.map_figure,):
        assert make(an).axes
    assert adapter.time_series_figure(an, adapter.TIME_SERIES).axes
    assert adapter.distribution_figure(an, adapter.TIME_SERIES).axes
    files = adapter.download_files(an)
    assert {"runs.parquet", "summary.parquet", "summary.md", "manifest.json"} <= set(files)


def test_same_seed_same_numbers(analysis):
    an, _ = analysis
    again = adapter.run(an.setup, n_jobs=1)
    try:
        pd.testing.assert_frame_equal(an.tables["summary"], again.tables["summary"])
        cols = [c for c in an.tables["runs"] if c not in ("run_id",)]
        pd.testing.assert_frame_equal(an.tables["runs"][cols], again.tables["runs"][cols])
    finally:
        adapter.discard(again)


def test_step_mode_plays_the_first_replicate(analysis):
    """Stepping the design arm year by year gives the experiment's replicate 0 of that arm."""
    an, _ = analysis
    model = adapter.step_model_class()(**adapter.step_parameters(an.setup))
    assert model.running and model.year == 0
    while model.running:
        model.step()
    assert model.year == an.setup.years
    state = adapter.step_state(model)
    years = an.tables["years"]
    first = years[(years["arm"] == "two_stream") & (years["seed"] == an.setup.seed)]
    for col in adapter.TIME_SERIES:
        np.testing.assert_array_equal(state["years"][col].to_numpy(), first[col].to_numpy())
    assert adapter.step_map_figure(state, "t").axes


def test_step_parameters_match_simulate():
    setup = adapter.Setup(levers=(("levers.capacity_support", 0.5),
                                  ("scenario.national_budget", 560e6)), **SMALL)
    cfg = adapter.step_parameters(setup)["cfg"]
    ref = api.build_config("helgeland", "two_stream", 1, 3, capacity_support=0.5,
                           national_budget=560e6)
    assert cfg == ref


def test_the_server_switches_off_what_would_leave_the_machine():
    """The environment the launcher sets turns Solara's telemetry off (read by Solara itself, so
    a misspelt variable fails here) and serves the front end from this server."""
    import os
    import subprocess
    import sys

    args = server.parse_args([])
    assert args.host == "127.0.0.1" and args.port == 8765 and not args.open
    code = ("import solara.settings as g; from solara.server import settings as s; "
            "print(s.telemetry.mixpanel_enable, g.assets.proxy, s.theme.show_banner)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLARA_")}
    out = subprocess.run([sys.executable, "-c", code], env={**env, **server.OFFLINE_ENV},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False"]
