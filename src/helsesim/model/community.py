"""Building a health community at the start of a run: its yearly budget, its agents and its
board."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from helsesim.model.agents import HealthTrust, Municipality
from helsesim.model.board import CollaborativeBoard
from helsesim.model.network import regional_groups, trust_node

if TYPE_CHECKING:
    from mesa import Model

    from helsesim.config import ModelParams, ScenarioConfig
    from helsesim.data import Community
    from helsesim.model.levers import Levers
    from helsesim.model.network import CollaborationNetwork

NATIONAL_POPULATION = 5_550_203  # 1 Jan 2024, Statistics Norway (anchors-domain §1.3)


def community_budgets(scenario: ScenarioConfig, communities: list[Community],
                      staffing_elasticity: float) -> dict[str, float]:
    """Each community's yearly RS grant (NOK/yr): its own ``budget``, or its share of the
    national grant by the ``community_key``."""
    populations = {c.key: float(c.municipalities["population"].sum()) for c in communities}
    if scenario.name != "norway":
        key = communities[0].key
        if scenario.budget is not None:
            return {key: float(scenario.budget)}
        return {key: scenario.national_budget * populations[key] / NATIONAL_POPULATION}
    total = scenario.national_budget if scenario.budget is None else float(scenario.budget)
    if scenario.community_key == "equal":
        weights = {k: 1.0 for k in populations}
    elif scenario.community_key == "need_weighted":  # positions needed: more per head if small
        weights = {c.key: float(((c.municipalities["population"] / 10_000) ** staffing_elasticity
                                 * c.municipalities["population"]).sum())
                   for c in communities}
    else:
        weights = populations
    total_weight = sum(weights.values())
    return {k: total * v / total_weight for k, v in weights.items()}


def build_community(model: Model, community: Community, budget: float, params: ModelParams,
                    levers: Levers, network: CollaborationNetwork, rng: np.random.Generator
                    ) -> CollaborativeBoard:
    """The community's municipalities (in table order), its trust, its board (seats drawn with
    ``rng``) and, as a lever, a coordinator; every agent placed on its node."""
    municipalities = []
    for row, km in zip(community.rows, community.hospital_km.tolist(), strict=True):
        m = Municipality(model, row, km, community.key, params, rng)
        network.place(m)
        municipalities.append(m)
    trust = HealthTrust(model, trust_node(community.key), community.key, community.trust_name,
                        municipalities, params)
    network.place(trust)
    regions = regional_groups(network.graph, [m.municipality_id for m in municipalities],
                              params.board.n_regions)
    board = CollaborativeBoard(model, community.key, trust, municipalities, regions, budget,
                               params.board, levers, network, rng)
    levers.appoint_coordinator(model, community.key, municipalities)
    return board
