"""Scenarios: the real data (357 municipalities, 19 communities, Nordland's 20), every
community runs, synthetic sizes, and the national budget split between communities."""

from __future__ import annotations

import pytest

import helsesim
from helsesim import data
from helsesim.config import COMMUNITY_KEYS
from helsesim.model import HealthSystem
from helsesim.model.community import NATIONAL_POPULATION


def board_budgets(model) -> dict[str, float]:
    return {key: board.budget for key, board in model.boards.items()}


@pytest.fixture(scope="module")
def norway():
    return HealthSystem(helsesim.build_config("norway", seed=1, years=1))


def test_data_has_357_municipalities_in_19_communities():
    df = data.municipalities()
    assert len(df) == data.N_MUNICIPALITIES == 357
    assert df["community"].nunique() == data.N_COMMUNITIES == 19
    assert len(data.community_names()) == 19
    assert df["population_2024"].sum() == NATIONAL_POPULATION


def test_norway_has_357_municipalities_and_19_boards(norway):
    assert len(norway.municipalities) == 357
    assert len(norway.boards) == 19
    assert len(norway.trusts) == 19
    assert {m.community for m in norway.municipalities} == set(norway.boards)
    for key, board in norway.boards.items():
        assert board.trust.community == key
        assert all(m.community == key for m in board.municipalities)
    assert sum(len(b.municipalities) for b in norway.boards.values()) == 357


def test_norway_run_tables():
    r = helsesim.simulate("norway", "open_call", seed=1, years=1)
    assert (r.municipalities["year"] == 0).sum() == 357
    assert r.municipalities.groupby("year")["municipality_id"].nunique().eq(357).all()
    assert r.communities["community"].nunique() == 19
    assert len(r.communities) == 19 * 2


def test_nordland_is_the_default_with_20_municipalities():
    r = helsesim.simulate(years=1)
    assert r.config.scenario.name == "nordland"
    m0 = r.municipalities[r.municipalities["year"] == 0]
    assert len(m0) == 20
    largest = m0.loc[m0["population"].idxmax()]
    smallest = m0.loc[m0["population"].idxmin()]
    assert (largest["name"], largest["population"]) == ("Bodø", 53_712)
    assert (smallest["name"], smallest["population"]) == ("Røst", 460)
    assert largest["size_class"] == "large" and smallest["size_class"] == "small"


@pytest.mark.parametrize("name", data.scenario_names())
def test_every_scenario_runs_one_year(name):
    r = helsesim.simulate(name, "two_stream", seed=2, years=1)
    m0 = r.municipalities[r.municipalities["year"] == 0]
    if name == "norway":
        assert len(m0) == 357
    elif name == "synthetic":
        assert len(m0) == helsesim.SimConfig().scenario.n_municipalities
    else:
        expected = data.municipalities()
        expected = expected[expected["community"] == name]
        assert len(m0) == len(expected) > 0
        assert set(m0["municipality_id"]) == set(expected["municipality_id"])
        assert (r.communities["community"] == name).all()
    assert len(r.years) == 2
    assert r.years["budget"].iloc[-1] > 0


@pytest.mark.parametrize("n", [1, 2, 50])
def test_synthetic_size(n):
    model = HealthSystem(helsesim.build_config("synthetic", seed=3, n_municipalities=n))
    assert len(model.municipalities) == n
    assert len(model.boards) == 1
    assert model.network.graph.number_of_nodes() == n + 1  # and the trust
    assert all(m.population >= 100 for m in model.municipalities)
    model.step()


def test_synthetic_sizes_are_heavy_tailed():
    model = HealthSystem(helsesim.build_config("synthetic", seed=3, n_municipalities=400))
    pops = sorted(m.population for m in model.municipalities)
    median = pops[len(pops) // 2]
    assert 0.7 * 5322 < median < 1.3 * 5322
    assert pops[-1] > 10 * median  # a long right tail, like Norway's municipalities


@pytest.mark.parametrize("key", COMMUNITY_KEYS)
@pytest.mark.parametrize("budget", [None, 100e6])
def test_norway_budget_split_sums_to_the_national_total(key, budget):
    cfg = helsesim.build_config("norway", seed=1, community_key=key, budget=budget)
    budgets = board_budgets(HealthSystem(cfg))
    total = cfg.scenario.national_budget if budget is None else budget
    assert len(budgets) == 19
    assert sum(budgets.values()) == pytest.approx(total, rel=1e-12)
    assert all(b > 0 for b in budgets.values())
    if key == "equal":
        assert max(budgets.values()) == pytest.approx(min(budgets.values()))


def test_norway_budget_split_in_the_tables():
    r = helsesim.simulate("norway", "open_call", seed=1, years=1, community_key="equal")
    assert r.years["budget"].iloc[-1] == pytest.approx(280e6, rel=1e-12)
    c1 = r.communities[r.communities["year"] == 1]
    assert c1["budget"].sum() == pytest.approx(280e6, rel=1e-12)
    assert c1["budget"].tolist() == pytest.approx([280e6 / 19] * 19)


def test_need_weighted_key_favours_small_populations():
    """need_weighted gives more per inhabitant where positions per head are higher (small)."""
    per_capita = HealthSystem(helsesim.build_config("norway", community_key="per_capita"))
    need = HealthSystem(helsesim.build_config("norway", community_key="need_weighted"))
    a, b = board_budgets(per_capita), board_budgets(need)
    assert b["oslo"] < a["oslo"]
    assert b["finnmark"] > a["finnmark"]


def test_single_community_default_budget_is_its_per_capita_share(norway):
    """A community simulated alone gets the same default budget as in the national scenario
    with the per-capita key, so results of the two scenarios are comparable."""
    national = board_budgets(norway)
    for key in ("nordland", "oslo", "finnmark"):
        alone = HealthSystem(helsesim.build_config(key, seed=1))
        assert alone.boards[key].budget == pytest.approx(national[key], rel=1e-12)


def test_explicit_budget_of_one_community():
    r = helsesim.simulate("nordland", seed=1, years=1, budget=7e6)
    assert r.years["budget"].tolist() == [7e6, 7e6]
