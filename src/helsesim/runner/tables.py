"""The tidy tables of a job: their names and key columns, a run's rows, a chunk of runs as Arrow
tables (see ``results/README.md``).

* ``runs``: one row per run: the keys (:data:`RUN_KEYS`: ``run_id``, ``experiment``, ``arm``,
  ``design``, ``replicate``, ``seed``, ``root_seed``, ``status``, ``error``), every input of the
  run flattened from :func:`helsesim.config.to_flat_dict` (dots replaced by ``__``:
  ``levers.compensation`` -> ``levers__compensation``; ``years`` and ``seed`` stay as they are),
  and every key of ``Result.summary`` (an outcome whose name equals an input column, like
  ``years``, is dropped when equal to it and otherwise written as ``outcome__<name>``).
* ``years``, ``municipalities``, ``projects``, ``communities``: the tables of
  :class:`helsesim.api.Result`, each row keyed by :data:`ROW_KEYS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from helsesim.config import SimConfig, to_flat_dict
from helsesim.outcomes.tables import MUNICIPALITY_COLUMNS, PROJECT_COLUMNS

#: The per-run tables written as parquet, in order.
TABLES = ("runs", "years", "municipalities", "projects", "communities")
#: Columns that key every row of the tables other than ``runs``.
ROW_KEYS = ("run_id", "arm", "design", "replicate", "seed")
#: Key columns of ``runs`` (before the inputs and outcomes).
RUN_KEYS = ("run_id", "experiment", "arm", "design", "replicate", "seed", "root_seed", "status",
            "error")
#: Prefix of an outcome column whose name is an input's (``years``) and whose value differs.
OUTCOME_PREFIX = "outcome__"


def input_column(path: str) -> str:
    """Column name of an input: ``levers.compensation`` -> ``levers__compensation``."""
    return path.replace(".", "__")


def flat_inputs(cfg: SimConfig) -> dict:
    """Every input of a run as ``{column: value}``."""
    return {input_column(k): v for k, v in to_flat_dict(cfg).items()}


def run_row(key: dict, cfg: SimConfig | None, summary: dict | None, status: str = "ok",
            error: str = "", inputs: dict | None = None) -> dict:
    """The ``runs`` row of one run: keys, status, inputs, outcomes.

    ``inputs`` (:func:`flat_inputs` of ``cfg``, computed once per arm) saves flattening the
    configuration of every run.
    """
    row = {**key, "status": status, "error": error,
           **(inputs if inputs is not None else flat_inputs(cfg))}
    for k, v in (summary or {}).items():
        if k in row:
            if row[k] == v:
                continue
            k = f"{OUTCOME_PREFIX}{k}"
        row[k] = v
    return row


def tidy_run(key: dict, cfg: SimConfig, tables: dict[str, dict], summary: dict,
             inputs: dict | None = None) -> dict:
    """One run's output: its ``runs`` row (a dict) and its other tables as columns
    (:meth:`~helsesim.model.HealthSystem.table_columns`; :func:`chunk_tables` adds the key
    columns to a whole chunk of runs at once)."""
    out = {"runs": run_row(key, cfg, summary, inputs=inputs)}
    for name in TABLES[1:]:
        out[name] = tables[name]
    return out


def failed_run(key: dict, cfg: SimConfig, error: str, inputs: dict | None = None) -> dict:
    """A failed run: a ``runs`` row with its traceback and no rows elsewhere."""
    return {"runs": run_row(key, cfg, None, status="failed", error=error, inputs=inputs)}


def arrow_array(values: list) -> pa.Array:
    """A column from Python values, NaN as null (as from a DataFrame); mixed types as text."""
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values])


def rows_table(rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table, columns in order of first appearance (as pandas orders them)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({c: arrow_array([r.get(c) for r in rows]) for c in cols})


def chunk_tables(outputs: list[dict]) -> dict[str, pa.Table]:
    """The tables of a chunk of runs (outputs of :func:`tidy_run` and :func:`failed_run`, in
    run order) as Arrow tables; the rows of every table but ``runs`` get their run's
    :data:`ROW_KEYS`. A table no run of the chunk has is left out."""
    tables = {"runs": rows_table([o["runs"] for o in outputs])}
    for name in TABLES[1:]:
        have = [o for o in outputs if name in o]
        if not have:
            continue
        runs = [o[name] for o in have]  # {column: values} of each run
        clash = [k for k in ROW_KEYS if k in runs[0]]
        if clash:
            raise ValueError(f"result table {name} already has key columns {clash}")
        types = COLUMN_TYPES.get(name, {})
        t = pa.table({c: _concat([r[c] for r in runs], types.get(c)) for c in runs[0]})
        lengths = [len(next(iter(r.values()))) for r in runs]
        row_run = pa.array(np.repeat(np.arange(len(have)), lengths))
        for i, k in enumerate(ROW_KEYS):
            t = t.add_column(i, k, arrow_array([o["runs"][k] for o in have]).take(row_run))
        tables[name] = t
    return tables


def _concat(values: list, type_: pa.DataType | None) -> pa.Array:
    """One column of a chunk from each run's values (arrays or lists), NaN as null."""
    if all(isinstance(v, np.ndarray) for v in values):
        return pa.array(np.concatenate(values), type=type_, from_pandas=True)
    flat = [x for v in values for x in v]
    return (pa.array(flat, type=type_, from_pandas=True) if type_ is not None
            else arrow_array(flat))


def _arrow_types(dtypes: Mapping[str, str]) -> dict[str, pa.DataType]:
    arrow = {"str": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    return {c: arrow[t] for c, t in dtypes.items()}


#: Arrow types of the tables whose columns have fixed dtypes (a chunk without projects still
#: writes a typed, empty projects table); the year tables' types follow their values.
COLUMN_TYPES = {"projects": _arrow_types(PROJECT_COLUMNS),
                "municipalities": _arrow_types(MUNICIPALITY_COLUMNS)}


def table_files(names: tuple[str, ...] = TABLES) -> list[str]:
    """File names of tables: ``runs`` -> ``runs.parquet``."""
    return [f"{name}.parquet" for name in names]
