"""The result tables of a run: their columns and dtypes, and how columns become data frames.

A run's tables travel as columns (``{table: {column: values}}``, what a sweep stores) and become
data frames only when asked (:func:`frames`). The year tables' columns are the year outcomes of
the registry (:data:`helsesim.outcomes.YEAR_COLUMNS`); the municipalities and projects tables
have the fixed dtypes below (a run without projects still has a typed, empty projects table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Size classes of municipalities, in the order of every ``*_small/medium/large`` family.
SIZE_CLASSES = ("small", "medium", "large")
#: Who can lead a project: the trust, or a municipality of a size class.
LEAD_CLASSES = ("trust", "large", "medium", "small")
#: Professions of the workforce, in the column order of positions and staff.
PROFESSIONS = ("nurse", "doctor", "health_worker")

#: The dtype of a text column: ``str`` in pandas 3, ``object`` before.
STR = pd.Series([], dtype="str").dtype

#: Columns of the municipalities table (one row per municipality per year) and their dtypes.
MUNICIPALITY_COLUMNS = {
    "year": "int64", "municipality_id": "str", "name": "str", "community": "str",
    "population": "int64", "size_class": "str", "capacity": "float64",
    "anchoring": "float64", "experience": "int64", "trust": "float64", "knowledge": "float64",
    "service_level": "float64", "services_taken": "int64", "shift_cost": "float64",
    "shift_compensation": "float64", "benefit": "float64", "benefit_per_capita": "float64",
    "realised_benefit": "float64", "projects_led": "int64", "projects_joined": "int64",
    "active": "bool", "seats": "int64", "voice": "float64", "attractiveness": "float64",
    "vacancy_rate": "float64", "positions_nurse": "float64", "positions_doctor": "float64",
    "positions_health_worker": "float64", "filled_nurse": "int64", "filled_doctor": "int64",
    "filled_health_worker": "int64", "voluntary_projects": "int64", "information": "float64",
    "partner_years": "int64", "partner_information": "float64", "influence": "float64",
}

#: Municipality columns that do not change during a run.
STATIC_COLUMNS = ("municipality_id", "name", "community", "size_class", "capacity", "anchoring",
                  "seats", "voice")

#: Columns of the projects table and their dtypes.
PROJECT_COLUMNS = {
    "project_id": "int64", "community": "str", "year": "int64", "stream": "str",
    "type": "str", "lead_id": "str", "lead_name": "str", "lead_class": "str",
    "partners": "str", "n_partners": "int64", "n_municipalities": "int64",
    "trust_party": "bool", "budget": "float64", "duration": "int64", "end_year": "int64",
    "quality": "float64", "score": "float64", "status": "str", "survives": "bool",
    "benefit_trust": "float64", "benefit_municipalities": "float64", "n_first_timers": "int64",
    "coordination": "float64", "compensation_share": "float64",
}


def typed_columns(columns: Mapping[str, Sequence], dtypes: Mapping[str, str]) -> dict:
    """Columns with text as lists and the others as arrays of their dtype."""
    return {c: (list(v) if dtypes[c] == "str" else np.asarray(v, dtype=dtypes[c]))
            for c, v in columns.items()}


def municipalities_columns(years: list[dict]) -> dict:
    """The municipalities table as columns (text as lists, the others as arrays of their
    dtype), from one dict of columns per year, sorted by year and municipality."""
    cols = {c: (np.array([v for y in years for v in y[c]], dtype=object) if t == "str"
                else np.concatenate([np.asarray(y[c], dtype=t) for y in years]))
            for c, t in MUNICIPALITY_COLUMNS.items()}
    order = np.lexsort((cols["municipality_id"].astype(str), cols["year"]))  # stable
    return {c: (v[order].tolist() if MUNICIPALITY_COLUMNS[c] == "str" else v[order])
            for c, v in cols.items()}


def projects_frame(columns: Mapping[str, Sequence]) -> pd.DataFrame:
    """The projects table as a data frame."""
    df = pd.DataFrame(columns)
    # text columns are inferred from their values; only empty ones need a cast (cheaper than
    # casting every column)
    dtypes = df.dtypes
    untyped = {c: "str" for c, t in PROJECT_COLUMNS.items() if t == "str" and dtypes[c] != STR}
    return df.astype(untyped) if untyped else df


def numbers_as_arrays(columns: Mapping[str, Sequence]) -> dict[str, Sequence]:
    """Columns that are lists of Python ints and floats as arrays of the dtype pandas would
    infer from them (int64 when all are ints, else float64), others as given: pandas infers a
    list's dtype value by value, which cost about half of building the year tables."""
    out: dict[str, Sequence] = {}
    for name, values in columns.items():
        if (isinstance(values, list) and values
                and all(type(v) is int or type(v) is float for v in values)):
            values = np.array(values)
        out[name] = values
    return out


def frames(tables: Mapping[str, Mapping]) -> dict[str, pd.DataFrame]:
    """A run's tables as data frames: years, projects, municipalities, communities."""
    return {"years": pd.DataFrame(numbers_as_arrays(tables["years"])),
            "projects": projects_frame(tables["projects"]),
            "municipalities": pd.DataFrame(tables["municipalities"]),
            "communities": pd.DataFrame(numbers_as_arrays(tables["communities"]))}
