"""Same seed => identical tables (also in a fresh process with another hash seed) and the same
graph; another seed => different tables; the design does not shift the initial state."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pandas.testing as pdt
import pytest

import helsesim
from helsesim.model.allocation import DESIGNS

TABLES = ("years", "projects", "municipalities", "communities")
ARGS = dict(scenario="nordland", allocation="two_stream", seed=11, years=4)


def assert_summary_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), k
        else:
            assert x == y, (k, x, y)


def assert_results_equal(r1, r2) -> None:
    for t in TABLES:
        pdt.assert_frame_equal(getattr(r1, t), getattr(r2, t), check_exact=True, obj=t)
    assert_summary_equal(r1.summary, r2.summary)


@pytest.fixture(scope="module")
def result():
    return helsesim.simulate(**ARGS)


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_same_seed_same_tables(design):
    args = dict(ARGS, allocation=design)
    assert_results_equal(helsesim.simulate(**args), helsesim.simulate(**args))


@pytest.mark.parametrize("scenario", ["synthetic", "norway"])
def test_same_seed_same_tables_other_scenarios(scenario):
    args = dict(scenario=scenario, allocation="open_call", seed=5, years=2)
    assert_results_equal(helsesim.simulate(**args), helsesim.simulate(**args))


@pytest.mark.parametrize("args", [ARGS, dict(scenario="norway", allocation="open_call",
                                              seed=3, years=1)], ids=["nordland", "norway"])
def test_same_seed_same_tables_in_a_fresh_process(args, tmp_path):
    """A fresh interpreter with another PYTHONHASHSEED: no hidden dependence on set/dict order
    of hashed objects, on module state or on the order tests run in."""
    result = helsesim.simulate(**args)
    script = textwrap.dedent(f"""
        import json, sys
        import helsesim
        r = helsesim.simulate(**{args!r})
        for t in {TABLES!r}:
            getattr(r, t).to_parquet(sys.argv[1] + "/" + t + ".parquet")
        with open(sys.argv[1] + "/summary.json", "w") as f:
            json.dump(r.summary, f)
    """)
    env = dict(os.environ, PYTHONHASHSEED="12345")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    here = tmp_path / "here"
    here.mkdir()
    for t in TABLES:  # the same parquet round trip on both sides, so dtypes match
        getattr(result, t).to_parquet(here / f"{t}.parquet")
        pdt.assert_frame_equal(pd.read_parquet(tmp_path / f"{t}.parquet"),
                               pd.read_parquet(here / f"{t}.parquet"), check_exact=True, obj=t)
    fresh = json.loads((tmp_path / "summary.json").read_text())
    assert_summary_equal(fresh, json.loads(json.dumps(result.summary)))


def test_other_seed_other_tables(result):
    other = helsesim.simulate(**dict(ARGS, seed=ARGS["seed"] + 1))
    for t in ("years", "projects", "municipalities"):
        a, b = getattr(result, t), getattr(other, t)
        assert not (a.shape == b.shape and a.equals(b)), t
    assert result.summary != other.summary
    # initial state differs too (anchoring, trust and experience are drawn)
    m0 = result.municipalities[result.municipalities["year"] == 0]
    o0 = other.municipalities[other.municipalities["year"] == 0]
    assert not m0["trust"].reset_index(drop=True).equals(o0["trust"].reset_index(drop=True))


# -- the graph -----------------------------------------------------------------------------------
def graph_signature(g):
    nodes = sorted((n, sorted(d.items())) for n, d in g.nodes(data=True))
    edges = sorted((min(u, v), max(u, v), sorted(d.items())) for u, v, d in g.edges(data=True))
    return nodes, edges


@pytest.mark.parametrize("scenario", ["nordland", "synthetic", "norway"])
def test_same_seed_same_graph(scenario):
    from helsesim.model import HealthSystem

    cfg = helsesim.build_config(scenario, seed=21, n_municipalities=40)
    g1, g2 = HealthSystem(cfg).network.graph, HealthSystem(cfg).network.graph
    assert graph_signature(g1) == graph_signature(g2)
    assert list(g1.nodes) == list(g2.nodes)  # also the same insertion order
    assert g1.number_of_edges() > g1.number_of_nodes() - 1


def test_synthetic_graph_changes_with_the_seed():
    from helsesim.model import HealthSystem

    sig = [graph_signature(HealthSystem(helsesim.build_config(
        "synthetic", seed=s, n_municipalities=40)).network.graph) for s in (1, 2)]
    assert sig[0] != sig[1]


def test_graph_after_a_run_is_reproducible():
    from helsesim.model import HealthSystem

    cfg = helsesim.build_config("nordland", "open_call", seed=8, years=3)
    assert graph_signature(HealthSystem(cfg).run().network.graph) == \
        graph_signature(HealthSystem(cfg).run().network.graph)


# -- common random numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", ["nordland", "synthetic"])
def test_design_does_not_change_the_initial_state(scenario):
    """Changing only the allocation design leaves year 0 identical (common random numbers)."""
    base = helsesim.simulate(scenario, "open_call", seed=13, years=1, n_municipalities=30)
    m0 = base.municipalities[base.municipalities["year"] == 0].reset_index(drop=True)
    y0 = base.years[base.years["year"] == 0].reset_index(drop=True)
    for design in sorted(DESIGNS):
        r = helsesim.simulate(scenario, design, seed=13, years=1, n_municipalities=30)
        pdt.assert_frame_equal(
            r.municipalities[r.municipalities["year"] == 0].reset_index(drop=True), m0,
            check_exact=True, obj=f"year 0 municipalities, {design}")
        pdt.assert_frame_equal(r.years[r.years["year"] == 0].reset_index(drop=True), y0,
                               check_exact=True, obj=f"year 0 years, {design}")
