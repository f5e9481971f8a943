"""What the model hands the outcomes once a year: :class:`YearState`, the year's state as arrays
(filled by :class:`helsesim.model.records.Recorder`), and the column orders of its stacked
arrays (labour flows, a board's money). The year outcomes (:mod:`helsesim.outcomes.yearly`)
are pure functions of it; this module is the one contract between the two sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helsesim.outcomes.tables import LEAD_CLASSES

#: Labour flows of a year, in the column order of ``YearState.board_flows``.
FLOW_KEYS = ("trust_to_municipality", "municipality_to_trust", "municipality_to_municipality",
             "trust_to_trust", "exits", "entrants_hired", "quits", "left_community",
             "placement_hires", "transfer_followers", "fte_retained")
#: What each labour flow counts (7.10), for its outcome's label and definition.
FLOW_LABELS = {
    "trust_to_municipality": "moved from the trust to a municipality",
    "municipality_to_trust": "moved from a municipality to the trust",
    "municipality_to_municipality": "moved between municipalities (or back to their own)",
    "trust_to_trust": "re-hired by the trust",
    "exits": "left the sector",
    "entrants_hired": "hired from outside the community (graduates, immigrants, returners)",
    "quits": "quit their employer",
    "left_community": "left the community for the rest of the country",
    "placement_hires": "graduates hired where a project funded their placement",
    "transfer_followers": "moved with a transferred service from the trust",
    "fte_retained": "quits avoided by projects' retention (expected)",
}
#: A board's money and proposals of a year, in the column order of ``YearState.board_money``.
MONEY_KEYS = ("money_available", "call_money", "money_asked", "trust_cost_pressure",
              *(f"proposals_{c}" for c in LEAD_CLASSES))

@dataclass
class YearState:
    """The state of one year as arrays; communities are numbered in ``communities`` order.

    Municipalities and trusts are in board order (community by community); ``trust`` rows and
    ``board`` rows are one per community, in the same order.
    """

    year: int
    communities: list[str]
    municipality_community: np.ndarray  # int
    population: np.ndarray
    size: np.ndarray  # index in SIZE_CLASSES
    benefit: np.ndarray  # cumulative NOK attributed
    trust: np.ndarray
    knowledge: np.ndarray
    shift_cost: np.ndarray  # NOK/yr of services taken over
    uncompensated: np.ndarray  # NOK/yr not paid by the trust
    active: np.ndarray  # 1.0 if party to a funded or running project this year
    municipal_positions: np.ndarray  # (municipalities, professions), rounded
    municipal_staff: np.ndarray  # (municipalities, professions), float
    trust_positions: np.ndarray  # (trusts, professions), rounded
    trust_staff: np.ndarray
    transfers: np.ndarray  # implemented task transfers of each trust
    edge_community: np.ndarray  # community of each tie, -1 across communities
    tie: np.ndarray  # strength of each tie
    board_budget: np.ndarray
    board_influence: np.ndarray  # (boards, 1 + LEAD_CLASSES): concentration, class shares
    board_flows: np.ndarray  # (boards, FLOW_KEYS)
    board_money: np.ndarray  # (boards, MONEY_KEYS)
    board_retention_fte: np.ndarray  # (boards,) FTE whose quit hazard projects removed
    new_community: np.ndarray  # projects funded this year: community, budget, recruitment?
    new_budget: np.ndarray
    new_recruitment: np.ndarray  # float 0/1
    running_community: np.ndarray  # projects still running after this year
