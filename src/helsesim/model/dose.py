"""The dose response of project money: the one function that says what a sum of NOK buys.

A project's money reaches each of its parties as NOK per year. Before it buys anything a party
spends a set-up cost (preparation, meetings, reporting: seed 002 lines 415-418, 3157-3160); the
rest, per unit the effect acts on (a nurse or doctor position, an inhabitant, an employee),
buys an effect that saturates (a Hill function): "single measures have little effect, together
they can be effective" (seed 004 lines 42, 45). So a tiny grant buys nothing, and the first
kroner per unit buy less than the next when the steepness is above 1.

    response = m**h / (m**h + 1),   m = max(0, M - M0) / (K * units)

``response`` is in [0, 1): the share of a project type's largest effect that the money buys.
The parameters are in ``params.project`` (``setup_cost``, ``dose_hill`` and the
``half_dose_*``); docs/ODD.md §7.9 gives their sources.
"""

from __future__ import annotations

import numpy as np


def dose_response(money: np.ndarray | float, units: np.ndarray | float, half_dose: float,
                  setup_cost: float, hill: float) -> np.ndarray:
    """The share of the largest effect that ``money`` (NOK a year reaching a party) buys.

    Args:
        money: NOK per year reaching each party.
        units: what the money acts on, for each party (positions, inhabitants, employees).
        half_dose: NOK per unit and year (after the set-up cost) at which the response is 1/2.
        setup_cost: NOK per party and year spent before the money buys anything.
        hill: the steepness (Hill coefficient).

    Returns:
        The response, in [0, 1), one per party.
    """
    money = np.asarray(money, dtype=float)
    scale = half_dose * np.maximum(np.asarray(units, dtype=float), 1e-9)
    m = np.maximum(money - setup_cost, 0.0) / scale
    mh = m ** hill
    return mh / (mh + 1.0)
