"""The workforce in the model: staff at the start follow the labour market's own gradient, a
shared personnel pool widens the professional environment, staff follow a transferred service,
projects act through ``Workforce.set_project_effects`` (zero effects change nothing), and
paired runs show that what projects add to the labour market is a net gain to the community,
not a move between its members (issue 10 item 3). Directions only, over paired seeds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import helsesim
from helsesim.model import HealthSystem
from helsesim.outcomes import summary

SEEDS = range(1, 21)


class EffectsModel(HealthSystem):
    """Synthetic effects on the labour market added every year by ``effects(model)`` to what the
    funded projects do, through the door the project portfolio uses, just before the labour
    market (the runs of a pair differ only by the synthetic effect)."""

    effects: Callable[[HealthSystem], dict] | None = None

    def labour_market(self) -> None:
        self.portfolio.labour_effects(self.year)
        if self.effects is not None:
            self.workforce.add_project_effects(**self.effects(self))
        self.workforce.labour_market()


def run(seed: int, effects: Callable | None = None, scenario: str = "nordland",
        **over: float) -> tuple[EffectsModel, dict]:
    model = EffectsModel(helsesim.build_config(scenario, seed=seed, years=10, **over))
    model.effects = effects
    model.run()
    return model, summary(model.table_columns())


def rows(model: HealthSystem, predicate: Callable) -> np.ndarray:
    return np.array([predicate(e) for e in model.workforce.employers], dtype=float)


def small(e) -> bool:
    return e.kind == "municipality" and e.size_class == "small"


def nothing(model: HealthSystem) -> dict:
    n = len(model.workforce.employers)
    return dict(retention=np.zeros(n), attraction=np.zeros(n), placements=np.zeros(n),
                pools=[])


def retain_small(model: HealthSystem) -> dict:
    return {**nothing(model), "retention": 0.2 * rows(model, small)}


def attract_municipalities(model: HealthSystem) -> dict:
    return {**nothing(model), "attraction": 0.3 * rows(model, lambda e: e.kind != "trust")}


def pool_small_with_trust(model: HealthSystem) -> dict:
    member = rows(model, small).astype(bool) | model.workforce.is_trust
    return {**nothing(model), "pools": [np.flatnonzero(member)]}


def paired(effects: Callable, key: Callable[[EffectsModel, dict], float]) -> np.ndarray:
    """Per seed: the outcome with the effects minus without."""
    return np.array([key(*run(seed, effects)) - key(*run(seed)) for seed in SEEDS])


def community_staff(model: EffectsModel, _: dict) -> float:
    return float(model.workforce.filled.sum())


@pytest.fixture(scope="module")
def nordland() -> HealthSystem:
    return HealthSystem(helsesim.build_config("nordland", seed=3))


def test_each_community_starts_filled_to_initial_fill_with_the_gradient(nordland):
    """Per profession the community's fill is ``initial_fill``; within it the less attractive
    employers start with more vacancies (the market's own stationary gradient)."""
    w = nordland.workforce
    cap = np.round(w.positions)
    fill = w.filled.sum(axis=0) / cap.sum(axis=0)
    np.testing.assert_allclose(fill, 0.965, atol=0.01)
    attract = w.attractiveness_by_profession()[:, 0]
    vacancy = 1 - w.filled[:, 0] / cap[:, 0]
    big = cap[:, 0] >= 20  # a few positions make a noisy share
    assert np.corrcoef(attract[big], vacancy[big])[0, 1] < -0.5


def test_a_pool_widens_its_members_professional_environment(nordland):
    w = nordland.workforce
    n = len(w.employers)
    before = w.attractiveness_by_profession()
    members = np.array([3, 8])
    w.set_project_effects(np.zeros(n), np.zeros(n), pools=[members])
    after = w.attractiveness_by_profession()
    colleagues = w.colleagues(w.filled.astype(float))
    share = w.params.pool_share
    np.testing.assert_allclose(colleagues[3], w.filled[3] + share * w.filled[8])
    assert (after[members] > before[members]).all()
    others = np.setdiff1d(np.arange(n), members)
    np.testing.assert_array_equal(after[others], before[others])
    w.set_project_effects(np.zeros(n), np.zeros(n))
    np.testing.assert_array_equal(w.attractiveness_by_profession(), before)


def test_staff_follow_a_transferred_service():
    model = HealthSystem(helsesim.build_config("nordland", seed=4))
    w = model.workforce
    board = model.boards["nordland"]
    trust, receivers = board.trust, board.municipalities[:4]
    t = trust.employer_index
    staff, positions = w.filled.copy(), w.positions.copy()
    moved = 40.0
    followers = w.transfer_positions(trust, receivers, moved)  # callable as before
    expected = round(0.5 * moved * staff[t, 0] / positions[t, 0])
    assert followers == expected > 0
    assert w.filled[t, 0] == staff[t, 0] - followers
    rows_ = [m.employer_index for m in receivers]
    assert (w.filled[rows_, 0] - staff[rows_, 0]).sum() == followers
    assert w.filled.sum() == staff.sum()
    assert w.transfer_positions(trust, receivers, moved, staff_follow=0.0) == 0
    model.labour_market()
    assert w.flows["nordland"].transfer_followers == followers


def test_zero_project_effects_reproduce_the_run_without_projects():
    for seed in (1, 2):
        assert run(seed, nothing)[1] == run(seed)[1]


def test_retention_in_small_municipalities_is_a_net_gain():
    """Cutting small municipalities' quits by a fifth raises their staff in at least 80 % of
    paired seeds, and the community's staff too: not a move between its members."""
    small_staff = paired(retain_small, lambda m, s: s["staff_fte_small"])
    total = paired(retain_small, community_staff)
    assert (small_staff > 0).mean() >= 0.8, small_staff
    assert np.median(total) > 0 and (total > 0).mean() >= 0.7, total


def test_attractive_municipalities_and_a_pool_raise_net_inflow():
    gain = paired(attract_municipalities, lambda m, s: s["net_inflow"])
    assert (gain > 0).mean() >= 0.9, gain
    pooled = paired(pool_small_with_trust, lambda m, s: s["net_inflow"])
    assert np.median(pooled) > 0, pooled


def test_net_inflow_is_the_change_in_staff_and_the_staff_outcomes_add_up():
    model, s = run(5)
    assert s["staff_fte_municipal"] == model.records.years["staff_fte_municipal"][-1]
    municipal = ~model.workforce.is_trust
    assert s["staff_fte_municipal"] == model.workforce.filled[municipal].sum()
    first = HealthSystem(helsesim.build_config("nordland", seed=5)).workforce.filled.sum()
    assert s["net_inflow"] == model.workforce.filled.sum() - first
    assert s["vacancy_gap_small_large"] == pytest.approx(
        s["vacancy_rate_small"] - s["vacancy_rate_large"])
    assert s["staff_fte_small"] < s["staff_fte_municipal"]
