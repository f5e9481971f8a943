"""The outcome registry is the one list of outcomes: every year column and summary key has an
entry with label, unit and direction; nothing computed is left out of the tables; the summary
recomputed from a job's parquet tables equals the one stored."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import helsesim
from helsesim import outcomes
from helsesim.hydra_schema import ExperimentConfig
from helsesim.outcomes import OUTCOMES, SUMMARY_KEYS, YEAR_COLUMNS, yearly
from helsesim.outcomes.registry import Outcome
from helsesim.outcomes.state import FLOW_KEYS, YearState


@pytest.fixture(scope="module")
def result():
    return helsesim.simulate("norway", "two_stream", seed=4, years=2)


@pytest.mark.parametrize("name", list(OUTCOMES))
def test_every_entry_is_complete(name):
    o = OUTCOMES[name]
    assert o.name == name
    assert o.label and o.unit and o.definition
    assert o.better in ("lower", "higher", "neither")
    assert o.level in ("year", "run")
    assert callable(o.compute)
    assert o.scale > 0 and (o.scale == 1.0 or o.shown_unit)
    assert o.basis in ("state", "flow", "fixed", "run", "mean", "count")
    assert o.in_summary is False or o.level == "year"


def test_every_table_column_and_summary_key_is_registered(result):
    assert list(result.years.columns) == YEAR_COLUMNS
    assert list(result.communities.columns) == ["community", *YEAR_COLUMNS]
    assert list(result.summary) == SUMMARY_KEYS
    assert set(YEAR_COLUMNS[1:]) | set(SUMMARY_KEYS) == set(OUTCOMES)


def same_number(a: object, b: object) -> bool:
    """The same value to the bit (NaN equals NaN); a sum over nothing may be the integer 0 in a
    year computed alone (``np.bincount`` of no values) and 0.0 among other years: the tables
    hold 0.0 either way (a column with other floats is float)."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and (type(a) is type(b) or a == 0) and repr(float(a)) == repr(float(b))


@pytest.mark.parametrize("design", ["two_stream", "per_capita"])
def test_years_computed_at_once_equal_year_by_year(design):
    """A run's years are computed in one pass over their states laid end to end; every value
    (scenario and per community, NaN where undefined) is the very number computed year by
    year, bit for bit."""
    from helsesim.model import HealthSystem

    model = HealthSystem(helsesim.build_config("norway", design, seed=5, years=4))
    states = [model.records.state(model)]
    for _ in range(4):
        model.step()
        states.append(model.records.state(model))
    for by_community in (False, True):
        at_once = yearly.years_rows(states, by_community)
        one_by_one = [row for s in states for row in yearly.year_rows(s, by_community)]
        assert len(at_once) == len(one_by_one) == len(states) * (19 if by_community else 1)
        for a, b in zip(at_once, one_by_one, strict=True):
            assert list(a) == list(b)
            assert all(same_number(a[k], b[k]) for k in a), [
                (k, a[k], b[k]) for k in a if not same_number(a[k], b[k])]
    # the recorder's tables (years read at the end) hold the same rows
    assert model.records.years["vacancy_rate"] == [
        r["vacancy_rate"] for s in states for r in yearly.year_rows(s, False)]


def test_year_rows_hold_exactly_the_registered_columns(result):
    """The rows are built from the registry, so a computed column cannot be left out of it (and
    a registered one cannot be missing from the rows)."""
    state = YearState(
        year=1, communities=["a", "b"], municipality_community=np.array([0, 0, 1]),
        population=np.array([1000.0, 20000.0, 5000.0]), size=np.array([0, 2, 1]),
        benefit=np.array([1.0, 2.0, 0.0]), trust=np.array([0.5, 0.7, 0.9]),
        knowledge=np.zeros(3), shift_cost=np.zeros(3), uncompensated=np.zeros(3),
        active=np.array([1.0, 0.0, 1.0]), municipal_positions=np.full((3, 3), 10.0),
        municipal_staff=np.full((3, 3), 9.0), trust_positions=np.full((2, 3), 50.0),
        trust_staff=np.full((2, 3), 49.0), transfers=np.zeros(2),
        edge_community=np.array([0, -1, 1]), tie=np.array([0.3, 0.4, 0.5]),
        board_budget=np.array([1e6, 2e6]), board_influence=np.full((2, 5), 0.2),
        board_flows=np.ones((2, len(FLOW_KEYS))), board_money=np.ones((2, 8)),
        board_retention_fte=np.array([1.0, 2.0]), new_community=np.array([0, 1, 1]),
        new_budget=np.array([1.0, 2.0, 3.0]), new_recruitment=np.array([0.0, 1.0, 0.0]),
        running_community=np.array([1]))
    rows = yearly.year_rows(state, by_community=True)
    assert [list(r) for r in rows] == [["community", *YEAR_COLUMNS]] * 2
    scenario = yearly.year_rows(state, by_community=False)
    assert list(scenario[0]) == YEAR_COLUMNS
    assert scenario[0]["funded_amount"] == 6.0 and rows[1]["funded_amount"] == 5.0
    assert scenario[0]["mean_tie_strength"] == pytest.approx(0.4)  # the -1 edge left out
    assert rows[1]["n_active_projects"] == 1 and rows[0]["n_active_projects"] == 0


def test_derived_lists_come_from_the_registry():
    assert ExperimentConfig().outcomes == outcomes.DEFAULT_OUTCOMES
    ranks = [OUTCOMES[k].headline for k in outcomes.DEFAULT_OUTCOMES]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert outcomes.TIME_SERIES and set(outcomes.TIME_SERIES) <= set(YEAR_COLUMNS)
    from helsesim import report
    assert report.TIME_SERIES == outcomes.TIME_SERIES
    assert outcomes.outcome_info("vacancy_rate") is OUTCOMES["vacancy_rate"]
    bare = outcomes.outcome_info("not_an_outcome")
    assert isinstance(bare, Outcome) and bare.label == "not an outcome"


def test_summary_from_frames_equals_summary_from_columns(result):
    again = outcomes.summary({"years": result.years, "projects": result.projects,
                              "municipalities": result.municipalities})
    assert_same(again, result.summary)


def assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        x, y = float(a[k]), float(b[k])
        assert (math.isnan(x) and math.isnan(y)) or x == y, (k, x, y)


def test_recomputed_from_the_parquet_tables_equals_stored(compose, tmp_path: Path):
    """A job's runs table holds every summary key, and the summary recomputed from the job's
    years, projects and municipalities tables is the same, bit for bit."""
    from helsesim.runner import run_experiment

    cfg = compose(["experiment=compare_allocation", "years=3", "experiment.n_seeds=2",
                   "experiment.n_jobs=1", "experiment.progress=false",
                   "experiment.figures=false"])
    job = tmp_path / "job"
    run_experiment(cfg, job)
    tables = {t: pd.read_parquet(job / f"{t}.parquet")
              for t in ("runs", "years", "projects", "municipalities")}
    runs = tables["runs"].set_index("run_id")
    recomputed = outcomes.recompute(tables)
    assert sorted(recomputed.index) == sorted(runs.index)
    for key in SUMMARY_KEYS:
        column = key if key in runs else f"outcome__{key}"
        stored = runs[column].astype(float)
        again = recomputed.loc[stored.index, key].astype(float)
        same = (stored == again) | (stored.isna() & again.isna())
        assert same.all(), (key, stored[~same], again[~same])
