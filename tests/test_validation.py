"""Bad input gives one clear ConfigError that names the parameter and what is allowed; the
three override styles are the same override."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import helsesim
from helsesim import ConfigError
from helsesim.config import SimConfig, leaf_paths, parameter_table, validate

# (keyword arguments, words the message must contain: the parameter, then what is allowed)
BAD = {
    "unknown scenario": (dict(scenario="atlantis"), ["scenario", "atlantis", "nordland",
                                                     "norway", "synthetic", "allowed"]),
    "unknown design": (dict(allocation="lotto"), ["allocation.design", "lotto", "open_call",
                                                  "per_capita", "allowed"]),
    "unknown design by path": ({"allocation.design": "lotto"}, ["allocation.design",
                                                                "governance_led"]),
    "negative budget": (dict(budget=-1.0), ["budget", "from 0.0"]),
    "negative budget int": (dict(budget=-5), ["budget", "from 0.0"]),
    "NaN budget": (dict(budget=float("nan")), ["budget", "NaN", "from 0.0"]),
    "infinite budget": (dict(budget=float("inf")), ["budget", "finite"]),
    "huge budget": (dict(budget=1e308), ["scenario.budget", "1e+308", "to 1e+12"]),
    "text budget": (dict(budget="lots"), ["budget", "'lots'", "float"]),
    "bool budget": (dict(budget=True), ["budget", "float"]),
    "negative national budget": (dict(national_budget=-1e6), ["national_budget", "from 0.0"]),
    "huge transfer cost": (dict(transfer_cost_per_capita=1e308),
                           ["params.trust.transfer_cost_per_capita", "to 1e+06"]),
    "NaN national budget": (dict(national_budget=float("nan")), ["national_budget", "NaN"]),
    "stream_share above 1": (dict(stream_share=1.5), ["stream_share", "1.5", "0.0", "1.0"]),
    "stream_share below 0": (dict(stream_share=-0.01), ["stream_share", "0.0", "1.0"]),
    "stream_share NaN": (dict(stream_share=float("nan")), ["stream_share", "NaN", "0.0",
                                                           "1.0"]),
    "compensation negative": (dict(compensation=-0.1), ["compensation", "-0.1", "0.0",
                                                        "1.0"]),
    "earmark above 1": (dict(recruitment_earmark=2.0), ["recruitment_earmark", "0.0", "1.0"]),
    "capacity_support above 1": (dict(capacity_support=1.01), ["capacity_support", "1.0"]),
    "years as text": (dict(years="ten"), ["years", "ten", "int"]),
    "years zero": (dict(years=0), ["years", "from 1 to 1000"]),
    "years float": (dict(years=2.0), ["years", "int"]),
    "seed float": (dict(seed=1.5), ["seed", "1.5", "int"]),
    "seed negative": (dict(seed=-1), ["seed", "from 0"]),
    "seed beyond 64 bits": (dict(seed=99999999999999999999999), ["seed", "2**63 - 1"]),
    "seed bool": (dict(seed=True), ["seed", "int"]),
    "scenario not a name": (dict(scenario=5), ["scenario.name", "'5'", "nordland"]),
    "community key": (dict(community_key="by_area"), ["community_key", "per_capita", "equal",
                                                      "need_weighted"]),
    "equal_votes not bool": (dict(equal_votes="maybe"), ["equal_votes", "bool"]),
    "n_municipalities zero": (dict(scenario="synthetic", n_municipalities=0),
                              ["n_municipalities", "from 1 to 100000"]),
    "allocation wrong type": (dict(allocation=3), ["allocation", "design name", "mapping"]),
    "unknown keyword": (dict(compensaton=0.5), ["compensaton", "allowed", "compensation"]),
    "unknown group": (dict(lever={"compensation": 0.5}), ["lever", "allowed", "levers"]),
    "unknown dotted path": ({"levers.compensaton": 0.5}, ["levers.compensaton", "allowed"]),
    "unknown key in a group": (dict(levers={"compensaton": 0.5}), ["compensaton", "allowed"]),
    "small >= large threshold": (dict(small_threshold=20000, large_threshold=20000),
                                 ["small_threshold", "large_threshold", "below"]),
    "small > large threshold": (dict(small_threshold=30000), ["small_threshold",
                                                              "large_threshold"]),
    "duration weights too short": (dict(duration_weights=[0.5, 0.5]), ["duration_weights",
                                                                       "three"]),
    "duration weights negative": (dict(duration_weights=[-1, 1, 1]),
                                  ["duration_weights[0]", "-1", "each from 0.0"]),
    "duration weights infinite": (dict(duration_weights=[1, float("inf"), 1]),
                                  ["duration_weights[1]", "finite"]),
    "duration weights zero": (dict(duration_weights=[0, 0, 0]), ["duration_weights",
                                                                 "positive sum"]),
    "duration weights NaN": (dict(duration_weights=[float("nan"), 1, 1]),
                             ["duration_weights[0]", "NaN"]),
    "duration weights text": (dict(duration_weights=["a", 1, 1]), ["duration_weights",
                                                                   "list of numbers"]),
    "duration weights not a list": (dict(duration_weights=3), ["duration_weights", "list"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_parameter_and_allowed(case):
    kwargs, words = BAD[case]
    with pytest.raises(ConfigError) as e:
        helsesim.build_config(**kwargs)
    msg = str(e.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"{case}: message {msg!r} lacks {missing}"
    assert "\n" not in msg.strip()  # one clear line, not a traceback dump


@pytest.mark.parametrize("case", ["unknown scenario", "negative budget", "years as text",
                                  "unknown keyword", "duration weights zero"])
def test_simulate_raises_before_running(case):
    kwargs, _ = BAD[case]
    with pytest.raises(ConfigError):
        helsesim.simulate(**kwargs)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_good_edge_values_are_accepted():
    cfg = helsesim.build_config(budget=0.0, stream_share=0.0, compensation=1.0, years=1, seed=0,
                                recruitment_earmark=1.0, duration_weights=[0, 0, 1])
    assert cfg.scenario.budget == 0.0
    assert helsesim.build_config(budget=7_000_000).scenario.budget == 7_000_000
    assert helsesim.build_config(budget=None).scenario.budget is None


def test_numpy_scalars_are_accepted():
    """Seeds and sizes often come from numpy (np.arange, rng.integers in a sweep); a numpy
    integer is an integer, as a numpy float is already accepted as a float."""
    assert helsesim.build_config(budget=np.float64(7e6)).scenario.budget == 7e6
    cfg = helsesim.build_config(seed=np.int64(3), years=np.int64(2))
    assert (cfg.seed, cfg.years) == (3, 2)


def test_validate_catches_direct_edits():
    cfg = SimConfig()
    cfg.levers.compensation = 2.0
    with pytest.raises(ConfigError, match="levers.compensation"):
        validate(cfg)


def test_build_config_does_not_change_the_given_config():
    base = SimConfig()
    cfg = helsesim.build_config(config=base, compensation=0.9)
    assert cfg.levers.compensation == 0.9
    assert base.levers.compensation == SimConfig().levers.compensation


def test_a_failed_build_does_not_change_the_defaults():
    with pytest.raises(ConfigError):
        helsesim.build_config(compensation=0.9, budget=-1)
    assert helsesim.build_config().levers.compensation != 0.9


# -- leaf names and override styles ----------------------------------------------------------------
def test_leaf_names_are_unique():
    names = leaf_paths()  # raises if two leaves share a name
    assert len(names) == len(parameter_table())
    assert names["compensation"] == "levers.compensation"
    assert names["budget"] == "scenario.budget"
    assert names["seed"] == "seed"


def test_every_parameter_has_documentation():
    for row in parameter_table():
        assert row["doc"] and row["unit"], row["path"]


@pytest.mark.parametrize("name,value", [("compensation", 0.5), ("quit_rate", 0.2),
                                        ("stream_share", 0.3), ("trust_seats", 4),
                                        ("duration_weights", [0.2, 0.3, 0.5])])
def test_three_override_styles_give_the_same_config(name, value):
    path = leaf_paths()[name]
    *groups, leaf = path.split(".")
    nested: dict = {leaf: value}
    for g in reversed(groups[1:]):
        nested = {g: nested}
    by_leaf = helsesim.build_config(**{name: value})
    by_path = helsesim.build_config(**{path: value})
    by_map = helsesim.build_config(**{groups[0]: nested})
    assert by_leaf == by_path == by_map
    assert by_leaf != helsesim.build_config()
    obj = by_leaf
    for part in path.split("."):
        obj = getattr(obj, part)
    assert obj == value


def test_scenario_group_as_a_nested_mapping():
    """``scenario`` is both the scenario-name argument of simulate/build_config and a group
    of the config; the nested-mapping style must work for it like for every other group."""
    by_leaf = helsesim.build_config(budget=7e6, community_key="equal")
    by_path = helsesim.build_config(**{"scenario.budget": 7e6,
                                       "scenario.community_key": "equal"})
    by_map = helsesim.build_config(scenario={"budget": 7e6, "community_key": "equal"})
    assert by_leaf == by_path == by_map


def test_nested_mapping_keeps_the_other_fields_of_the_group():
    cfg = helsesim.build_config(levers={"compensation": 0.5})
    default = SimConfig()
    assert cfg.levers.compensation == 0.5
    for f in dataclasses.fields(default.levers):
        if f.name != "compensation":
            assert getattr(cfg.levers, f.name) == getattr(default.levers, f.name), f.name


def test_allocation_mapping_and_name_are_the_same():
    a = helsesim.build_config(allocation="two_stream", stream_share=0.3)
    b = helsesim.build_config(allocation={"design": "two_stream", "stream_share": 0.3})
    assert a == b


def test_defaults_are_valid_and_finite():
    cfg = validate(SimConfig())
    for row in parameter_table(cfg):
        v = row["default"]
        if isinstance(v, float):
            assert math.isfinite(v), row["path"]


# -- one configuration engine: Hydra's structured schema -------------------------------------------

def _numeric_fields():
    """(path, field, default) of every numeric parameter: numbers and lists of numbers."""
    from helsesim.config import _walk
    from helsesim.hydra_schema import ExperimentConfig

    leaves = [*_walk(SimConfig()), *_walk(ExperimentConfig(), "experiment.")]
    for path, f, owner in leaves:
        v = getattr(owner, f.name)
        numbers = v if isinstance(v, list) else [v]
        if path == "scenario.budget" or (numbers and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers)):
            yield path, f, v


def test_every_numeric_parameter_has_finite_bounds():
    """A validity limit on both sides of every number (1e308 gave NaN outcomes or numpy
    errors); the bounds hold the default."""
    missing = []
    for path, f, default in _numeric_fields():
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
            missing.append(path)
            continue
        assert lo < hi, path
        for x in default if isinstance(default, list) else [default]:
            assert x is None or lo <= x <= hi, path
    assert not missing, f"numeric parameters without both bounds: {missing}"


# (value as simulate() gets it, the same value as typed on Hydra's command line)
SAME_VALUES = {
    "scenario.budget": [("7e6", "'7e6'"), (True, "true"), ("lots", "lots"), (None, "null")],
    "years": [(2.0, "2.0"), ("ten", "ten"), ("3", "'3'")],
    "seed": [(1.5, "1.5"), (7, "7")],
    "levers.equal_votes": [("yes", "yes"), ("maybe", "maybe"), (1, "1")],
    "params.project.duration_weights": [([1, "2", 3], "[1,'2',3]"), (["a", 1, 1], "[a,1,1]"),
                                        (3, "3")],
}


@pytest.mark.parametrize("path", list(SAME_VALUES))
def test_simulate_and_hydra_accept_and_convert_the_same_values(compose, path):
    """One engine: what `helsesim key=value` accepts (and how it converts it), simulate()
    accepts the same way; what it refuses, simulate() refuses."""
    from hydra.errors import ConfigCompositionException

    from helsesim.runner.compose import sim_config, to_schema

    for value, typed in SAME_VALUES[path]:
        try:
            by_hydra = getattr_path(sim_config(to_schema(compose([f"{path}={typed}"]))), path)
        except ConfigCompositionException:
            by_hydra = "refused"
        try:
            by_simulate = getattr_path(helsesim.build_config(**{path: value}), path)
        except ConfigError:
            by_simulate = "refused"
        assert by_simulate == by_hydra and type(by_simulate) is type(by_hydra), (value, typed)


def getattr_path(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_values_are_converted_as_hydra_converts_them():
    cfg = helsesim.build_config(budget="7e6", equal_votes="yes", duration_weights=[1, "2", 3])
    assert cfg.scenario.budget == 7e6 and cfg.levers.equal_votes is True
    assert cfg.params.project.duration_weights == [1.0, 2.0, 3.0]


def test_validate_converts_a_direct_edit_or_names_it():
    cfg = SimConfig()
    cfg.levers.equal_votes = "no"
    assert validate(cfg).levers.equal_votes is False
    cfg.years = "ten"
    with pytest.raises(ConfigError, match=r"years: got 'ten' \(str\); allowed: an integer"):
        validate(cfg)


def _extremes():
    for path, _field, _default in _numeric_fields():
        if path.startswith("experiment.") or path in ("seed", "years"):
            continue
        for bound in ("lo", "hi"):
            if path == "scenario.n_municipalities" and bound == "hi":
                continue  # 100,000 municipalities take 85 s; checked by hand: finite
            yield pytest.param(path, bound, id=f"{path}={bound}")


@pytest.mark.parametrize("path,bound", list(_extremes()))
def test_every_parameter_at_its_bound_runs_to_finite_outcomes(path, bound):
    """The bounds are limits the model can compute: each parameter alone at its bound runs
    and every outcome is finite or NaN (undefined), never infinite."""
    from helsesim.config import _field

    x = _field(path).metadata[bound]
    if path == "params.project.duration_weights":
        x = [x, x, x] if x > 0 else [0.0, 0.0, 1.0]
    extra = {}  # the thresholds must stay in order (a rule between them, tested above)
    if path == "params.municipality.small_threshold" and bound == "hi":
        x, extra = x - 1, {"large_threshold": x}
    if path == "params.municipality.large_threshold" and bound == "lo":
        x, extra = x + 1, {"small_threshold": x}
    scenario = "synthetic" if path.startswith("scenario.") else "nordland"
    res = helsesim.simulate(scenario=scenario, years=3, **{path: x}, **extra)
    assert not [k for k, v in res.summary.items() if isinstance(v, float) and math.isinf(v)]
    for name in ("years", "municipalities", "communities", "projects"):
        numbers = getattr(res, name).select_dtypes("number").to_numpy(float)
        assert not np.isinf(numbers).any(), name


# -- horizons the model can compute -------------------------------------------------------------

def test_a_horizon_beyond_the_labour_markets_limit_is_refused_before_the_first_year(
        monkeypatch):
    """Positions compound with need_growth; the labour market draws one uniform per job seeker
    and takes fewer than MAX_SEEKERS of one community and profession. The refused horizon is
    below the real limit: at the allowed horizon it runs; without the check, the labour market
    itself refuses a year beyond its limit."""
    from helsesim import api
    from helsesim.model import labour_market

    with pytest.raises(ConfigError, match=r"years: got 1000; allowed here: <= (\d+)") as e:
        helsesim.simulate(scenario="norway", years=1000)
    assert "need_growth=0.015" in str(e.value)
    with pytest.raises(ConfigError, match=r"allowed here: <= 20\b"):
        helsesim.simulate(need_growth=0.5, years=21)
    res = helsesim.simulate(need_growth=0.5, years=20)
    assert math.isfinite(res.summary["vacancy_rate"])
    monkeypatch.setattr(api, "check_horizon", lambda model, cfg: None)
    monkeypatch.setattr(labour_market, "MAX_SEEKERS", 10_000)
    with pytest.raises(ValueError, match="beyond the labour market's limit"):
        helsesim.simulate(need_growth=0.5, years=12)


def test_an_infinite_outcome_is_refused_not_returned(monkeypatch):
    """The safety net behind the bounds: a run whose outcomes overflow raises."""
    from helsesim import api, outcomes

    real = outcomes.summary
    monkeypatch.setattr(outcomes, "summary",
                        lambda *a: {**real(*a), "task_shift_cost": float("inf")})
    with pytest.raises(api.NonFiniteOutput, match="task_shift_cost"):
        helsesim.simulate(years=2)


def test_checked_values_are_remembered_by_value_and_type_errors_each_time():
    """Validation remembers values it has checked (speed), but by type and exact value: an int
    is converted to a float as before, -0.0 stays -0.0 after 0.0 was checked, a list is a new
    list every time, and a bad value is refused every time."""
    from helsesim.api import build_config

    assert repr(build_config("nordland", compensation=0.0).levers.compensation) == "0.0"
    assert repr(build_config("nordland", compensation=-0.0).levers.compensation) == "-0.0"
    assert repr(build_config("nordland", budget=7).scenario.budget) == "7.0"
    first = build_config("nordland", duration_weights=[1, 2, 3])
    second = build_config("nordland", duration_weights=[1, 2, 3])
    assert first.params.project.duration_weights == [1.0, 2.0, 3.0]
    assert first.params.project.duration_weights is not second.params.project.duration_weights
    for _ in range(2):
        with pytest.raises(ConfigError, match="budget"):
            build_config("nordland", budget=-1.0)
