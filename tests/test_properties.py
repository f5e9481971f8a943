"""Property-based tests: over random valid configurations the model's invariants hold.

Strategies are drawn from the schema's own metadata (ranges and choices), so a new lever is
covered without editing this file.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helsesim
from helsesim.config import LeverConfig
from helsesim.model.allocation import DESIGNS

SCENARIOS = ["nordland", "synthetic", "vestfold", "oslo", "helgeland"]


def lever_strategy():
    """Every lever, within its documented range."""
    fields = {}
    for f in dataclasses.fields(LeverConfig):
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if f.type in ("bool", bool):
            fields[f.name] = st.booleans()
        elif f.type in ("int", int):
            fields[f.name] = st.integers(int(lo), min(int(hi), 5))
        else:
            fields[f.name] = st.floats(lo, hi, allow_nan=False)
    return st.fixed_dictionaries(fields)


configs = st.fixed_dictionaries({
    "scenario": st.sampled_from(SCENARIOS),
    "allocation": st.sampled_from(sorted(DESIGNS)),
    "seed": st.integers(0, 2**31 - 1),
    "years": st.integers(1, 4),
    "levers": lever_strategy(),
    "stream_share": st.floats(0, 1),
    "lottery_bar": st.floats(0, 1),
    "budget": st.one_of(st.none(), st.floats(0, 5e7)),
    "n_municipalities": st.integers(1, 40),
    "need_growth": st.floats(-0.05, 0.1),
    "quit_rate": st.floats(0, 0.5),
    "inflow_rate": st.floats(0, 0.2),
    "transfer_propensity": st.floats(0, 1),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_invariants_hold_for_random_valid_configs(kw):
    res = helsesim.simulate(**kw)
    years, projects, munis = res.years, res.projects, res.municipalities
    # money: never more than the budget in any year, nothing negative, benefit = budget
    assert (years["funded_amount"] <= years["money_available"] * (1 + 1e-9) + 1e-6).all()
    assert (projects["budget"] >= 0).all()
    assert (projects["benefit_trust"] >= -1e-9).all()
    assert np.allclose(projects["benefit_trust"] + projects["benefit_municipalities"],
                       projects["budget"], rtol=1e-9, atol=1e-6)
    assert (munis["benefit"] >= 0).all()
    # staff: filled between 0 and the rounded positions
    for prof in ("nurse", "doctor", "health_worker"):
        assert (munis[f"filled_{prof}"] >= 0).all()
        assert (munis[f"filled_{prof}"] <= np.round(munis[f"positions_{prof}"]) + 1e-9).all()
    # trust and knowledge in [0, 1]
    assert munis["trust"].between(0, 1).all()
    assert munis["knowledge"].between(0, 1).all()
    # equity indices in range
    pop = munis[munis["year"] == 0]["population"]
    theil_max = math.log(pop.sum() / pop.min())  # all benefit to the smallest municipality
    for _, row in years.iterrows():
        assert 0 <= row["gini_benefit_per_capita"] <= 1
        assert 0 <= row["hoover_benefit"] <= 1
        assert 0 <= row["theil_benefit_per_capita"] <= theil_max + 1e-9
        assert 0 <= row["vacancy_rate"] <= 1
        assert 0 <= row["mean_tie_strength"] <= 1
