"""Tidy result tables of an experiment, their summaries, atomic writes and the run manifest.

A job folder holds (see ``results/README.md``):

* ``runs.parquet``: one row per run: the keys (``run_id``, ``experiment``, ``arm``, ``design``,
  ``replicate``, ``seed``, ``root_seed``), ``status`` and ``error``, every input of the run
  flattened from :func:`helsesim.config.to_flat_dict` (dots replaced by ``__``:
  ``levers.compensation`` -> ``levers__compensation``; ``years`` and ``seed`` stay as they are),
  and every key of ``Result.summary`` (an outcome whose name equals an input column, like
  ``years``, is dropped when equal to it and otherwise written as ``outcome__<name>``).
* ``years``, ``municipalities``, ``projects``, ``communities`` (``.parquet``): the tables of
  :class:`helsesim.api.Result`, each row keyed by ``run_id``, ``arm``, ``design``,
  ``replicate`` and ``seed``.
* ``summary.parquet`` and ``differences.parquet``: medians and 90 % intervals per arm, and paired
  differences against the baseline arm (:func:`summarise`, :func:`paired_differences`).
* ``manifest.json``: the resolved configuration, seeds, versions, git commit and command.

Nothing here runs a model or draws a figure.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsesim.config import SimConfig, to_flat_dict
from helsesim.outcomes.tables import MUNICIPALITY_COLUMNS, PROJECT_COLUMNS

#: The per-run tables written as parquet, in order.
TABLES = ("runs", "years", "municipalities", "projects", "communities")
#: Columns that key every row of the tables other than ``runs``.
ROW_KEYS = ("run_id", "arm", "design", "replicate", "seed")
#: Key columns of ``runs`` (before the inputs and outcomes).
RUN_KEYS = ("run_id", "experiment", "arm", "design", "replicate", "seed", "root_seed", "status",
            "error")
#: Interval reported everywhere: the 5th and 95th percentiles over seeds (a 90 % interval).
QUANTILES = (0.05, 0.95)


# --- per-run tables ----------------------------------------------------------------------------

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
            k = f"outcome__{k}"
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


def _array(values: list) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)  # NaN -> null, as from a DataFrame
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
        return pa.array([None if v is None else str(v) for v in values])


def _rows_table(rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table, columns in order of first appearance (as pandas orders them)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table({c: _array([r.get(c) for r in rows]) for c in cols})


def chunk_tables(outputs: list[dict]) -> dict[str, pa.Table]:
    """The tables of a chunk of runs (outputs of :func:`tidy_run` and :func:`failed_run`, in
    run order) as Arrow tables; the rows of every table but ``runs`` get their run's
    :data:`ROW_KEYS`. A table no run of the chunk has is left out."""
    tables = {"runs": _rows_table([o["runs"] for o in outputs])}
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
            t = t.add_column(i, k, _array([o["runs"][k] for o in have]).take(row_run))
        tables[name] = t
    return tables


def _concat(values: list, type_: pa.DataType | None) -> pa.Array:
    """One column of a chunk from each run's values (arrays or lists), NaN as null."""
    if all(isinstance(v, np.ndarray) for v in values):
        return pa.array(np.concatenate(values), type=type_, from_pandas=True)
    flat = [x for v in values for x in v]
    return pa.array(flat, type=type_, from_pandas=True) if type_ is not None else _array(flat)


def _arrow_types(dtypes: dict[str, str]) -> dict[str, pa.DataType]:
    arrow = {"str": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    return {c: arrow[t] for c, t in dtypes.items()}


#: Arrow types of the tables whose columns have fixed dtypes (a chunk without projects still
#: writes a typed, empty projects table); the year tables' types follow their values.
COLUMN_TYPES = {"projects": _arrow_types(PROJECT_COLUMNS),
                "municipalities": _arrow_types(MUNICIPALITY_COLUMNS)}


# --- parts: a sweep's runs saved as they finish ------------------------------------------------
#
# A job folder being filled holds ``parts/<first>-<last>/<table>.arrow``: one folder per chunk
# of consecutive runs, written under a temporary name and renamed when complete, so a chunk is
# either all there or absent. Its ``record.json``, written last, lists its runs and, per table,
# the rows, bytes and SHA-256 of the file. A killed sweep resumes from the chunks whose files
# match their record; any other chunk (a file deleted, truncated or flipped) is removed and its
# runs run again. The final tables are streamed from the parts (never the whole sweep in
# memory).

PARTS = "parts"
#: The record of a part (and the name it is known by in messages).
RECORD = "record.json"
#: Bytes buffered before a row group of a final table is written (a wide table, like ``runs``
#: with ~190 columns, reaches it in fewer rows than a narrow one).
ROW_GROUP_BYTES = 1 * 2**20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartInfo:
    """What a worker reports of a chunk it ran (the tables themselves are on disk)."""

    run_ids: tuple[int, ...]
    n_failed: int
    first_error: str = ""


def part_name(run_ids: list[int]) -> str:
    return f"{min(run_ids):07d}-{max(run_ids):07d}"


def file_record(path: Path, rows: int | None = None) -> dict:
    """Size and SHA-256 of a file (and its rows): what :func:`check_file` compares."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    rec = {"bytes": path.stat().st_size, "sha256": digest}
    return rec if rows is None else {"rows": rows, **rec}


def check_file(path: Path, record: dict | None) -> str | None:
    """Why ``path`` does not match its record (None when it does)."""
    if not isinstance(record, dict) or "sha256" not in record:
        return f"{path.name} has no record"
    if not path.is_file():
        return f"{path.name} is missing"
    if path.stat().st_size != record.get("bytes"):
        return f"{path.name} has {path.stat().st_size} bytes, its record {record.get('bytes')}"
    if file_record(path)["sha256"] != record["sha256"]:
        return f"{path.name} does not match its checksum"
    return None


def write_part(parts_dir: Path, outputs: list[dict]) -> PartInfo:
    """Save one chunk of runs atomically as ``parts_dir/<first>-<last>/``, its record last.

    If the chunk is already there (a task run twice after a lost worker), the copy is dropped:
    runs are deterministic, so both are the same.
    """
    import pyarrow.feather as feather

    parts_dir = Path(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    ids = [o["runs"]["run_id"] for o in outputs]
    final = parts_dir / part_name(ids)
    failed = [o["runs"] for o in outputs if o["runs"]["status"] != "ok"]
    tmp = Path(tempfile.mkdtemp(dir=parts_dir, prefix=".tmp-"))
    try:
        tables = {}
        for name, t in chunk_tables(outputs).items():
            feather.write_feather(t, tmp / f"{name}.arrow", compression="uncompressed")
            tables[name] = file_record(tmp / f"{name}.arrow", t.num_rows)
        record = {"run_ids": ids, "tables": tables, "n_failed": len(failed),
                  "first_error": failed[0]["error"] if failed else ""}
        (tmp / RECORD).write_text(json.dumps(record), encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or read_part_record(final) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return PartInfo(tuple(ids), len(failed), failed[0]["error"] if failed else "")


def _read_arrow(path: Path, columns: list[str] | None = None) -> pa.Table:
    import pyarrow.feather as feather

    return feather.read_table(path, columns=columns, memory_map=True)


def read_part_record(part: Path, verify: bool = False) -> dict | None:
    """The record of a part folder, or None when it has none or (``verify``) a file does not
    match it; the reason is logged."""
    try:
        record = json.loads((part / RECORD).read_text(encoding="utf-8"))
        ids = record["run_ids"]
        tables = record["tables"]
        if (not isinstance(ids, list) or not ids or part_name(ids) != part.name
                or "runs" not in tables):
            raise ValueError("its record does not match the folder")
    except (OSError, ValueError, KeyError, TypeError) as e:
        reason = "it has no record (written last: the part was never finished)" if isinstance(
            e, FileNotFoundError) else f"its record is unreadable ({e})"
        log.warning("part %s: %s; its runs will run again", part.name, reason)
        return None
    if verify:
        for name, rec in tables.items():
            problem = check_file(part / f"{name}.arrow", rec)
            if problem:
                log.warning("part %s: %s; its runs will run again", part.name, problem)
                return None
    return record


def committed_parts(parts_dir: Path, verify: bool = True) -> dict[Path, list[int]]:
    """The complete chunks under ``parts_dir`` and their run ids, in run order. Unfinished
    chunks (temporary folders of a killed process) and chunks whose files do not match their
    record (deleted, truncated, damaged) are removed, so their runs run again."""
    parts_dir = Path(parts_dir)
    if not parts_dir.is_dir():
        return {}
    out = {}
    for d in sorted(parts_dir.iterdir()):
        if d.name.startswith(".tmp-"):
            shutil.rmtree(d, ignore_errors=True)
            continue
        record = read_part_record(d, verify) if d.is_dir() else None
        if record is None:
            if d.is_dir():
                shutil.rmtree(d)
            else:
                d.unlink()
            continue
        out[d] = list(record["run_ids"])
    return out


def _unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for all parts: columns in order of first appearance, types promoted (an
    integer column with a float in another part becomes float, an all-empty one takes the
    type of the others)."""
    try:
        return pa.unify_schemas([s.remove_metadata() for s in schemas],
                                promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise ValueError(f"the parts of a table disagree on a column's type: {e}") from e


def _conform(t: pa.Table, schema: pa.Schema) -> pa.Table:
    cols = []
    for f in schema:
        i = t.schema.get_field_index(f.name)
        col = t.column(i) if i >= 0 else pa.nulls(t.num_rows, f.type)
        cols.append(col if col.type == f.type else col.cast(f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def stream_table(sources: list, path: Path, read, empty_columns: list[str]) -> int:
    """Write the concatenation of ``read(source)`` for every source to ``path`` (parquet,
    atomically), holding about :data:`ROW_GROUP_BYTES` at a time. ``read(source,
    schema_only=True)`` gives a source's schema. Returns the number of rows."""
    if not sources:
        write_parquet(pd.DataFrame(columns=empty_columns), path)
        return 0
    schema = _unified_schema([read(s, schema_only=True) for s in sources])
    n = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            buf: list[pa.Table] = []
            rows = size = 0
            for s in sources:
                t = _conform(read(s), schema)
                buf.append(t)
                rows += t.num_rows
                size += t.nbytes
                if size >= ROW_GROUP_BYTES:
                    writer.write_table(pa.concat_tables(buf))
                    n += rows
                    buf, rows, size = [], 0, 0
            if buf or n == 0:
                writer.write_table(pa.concat_tables(buf) if buf
                                   else schema.empty_table())
                n += rows
    return n


def _read_part(path: Path, schema_only: bool = False):
    if schema_only:
        import pyarrow.ipc as ipc

        with pa.memory_map(str(path)) as f:
            return ipc.open_file(f).schema
    return _read_arrow(path)


def assemble_parts(parts_dir: Path, out_dir: Path, expected: list[int]) -> dict[str, dict]:
    """Stream the parts of a job into its tables (``<out_dir>/<table>.parquet``, sorted by
    ``run_id``); returns each table's record (rows, bytes, SHA-256) by file name, for the
    manifest.

    The parts were checked against their records when the job (re)started, so here only their
    row counts are compared with what is streamed.

    Raises:
        ValueError: a run is missing or appears twice, or a part's rows differ from its record.
    """
    parts = committed_parts(parts_dir, verify=False)
    order = sorted(parts, key=lambda d: min(parts[d]))
    ids = [i for d in order for i in parts[d]]
    if ids != sorted(ids) or set(ids) != set(expected) or len(ids) != len(expected):
        seen = set(ids)
        raise ValueError(f"the parts in {parts_dir} do not hold each run once: "
                         f"missing {sorted(set(expected) - seen)[:10]}, duplicate "
                         f"{sorted({i for i in ids if ids.count(i) > 1})[:10]}")
    records = {d: read_part_record(d) for d in order}

    def stream(name: str) -> dict:
        have = [d for d in order if name in records[d]["tables"]]
        path = Path(out_dir) / f"{name}.parquet"
        n = stream_table([d / f"{name}.arrow" for d in have], path, _read_part,
                         list(ROW_KEYS))
        want = sum(records[d]["tables"][name]["rows"] for d in have)
        if n != want:
            raise ValueError(f"{name}: the parts in {parts_dir} hold {n} rows, their records "
                             f"{want}")
        return file_record(path, n)

    # one thread per table: Arrow encodes and writes without holding the GIL
    with ThreadPoolExecutor(max_workers=min(len(TABLES), os.cpu_count() or 1)) as threads:
        records = dict(zip(table_files(), threads.map(stream, TABLES), strict=True))
    release_memory()
    return records


def release_memory() -> None:
    """Give the memory that Arrow's allocator and C's ``malloc`` keep for reuse back to the
    system (after a step or a batch that read a sweep's tables: otherwise the main process's
    peak grows with the sweep, though what it holds does not)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    """glibc, for ``malloc_trim`` (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def table_files(names: tuple[str, ...] = TABLES) -> list[str]:
    """File names of tables: ``runs`` -> ``runs.parquet``."""
    return [f"{name}.parquet" for name in names]


def check_files(job_dir: Path, records: dict | None, names: list[str]) -> str | None:
    """Why the files ``names`` (relative to ``job_dir``) do not all match their records in
    ``records`` (None when they do)."""
    records = records if isinstance(records, dict) else {}
    for name in names:
        problem = check_file(Path(job_dir) / name, records.get(name))
        if problem:
            return problem
    return None


def record_files(job_dir: Path, names: list[str]) -> dict[str, dict]:
    """The records of files of a job folder, by their path relative to it."""
    return {name: file_record(Path(job_dir) / name) for name in names}


# --- summaries -----------------------------------------------------------------------------------

def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished."""
    return runs[runs["status"] == "ok"] if "status" in runs else runs


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    if values.size == 0:
        return (float("nan"),) * 3
    q = np.quantile(values, (0.5, *QUANTILES))
    return float(q[0]), float(q[1]), float(q[2])


def summarise(runs: pd.DataFrame, outcomes: list[str], arms: list[str]) -> pd.DataFrame:
    """Median and 90 % interval (5th-95th percentile over seeds) of each outcome per arm."""
    runs = ok_runs(runs)
    rows = []
    for arm in arms:
        sel = runs[runs["arm"] == arm]
        for o in outcomes:
            v = sel[o].to_numpy(float) if o in sel else np.array([])
            v = v[~np.isnan(v)]
            med, lo, hi = _interval(v)
            rows.append(dict(arm=arm, outcome=o, n=int(v.size), median=med, q05=lo, q95=hi,
                             mean=float(v.mean()) if v.size else float("nan")))
    return pd.DataFrame(rows, columns=["arm", "outcome", "n", "median", "q05", "q95", "mean"])


def paired_differences(runs: pd.DataFrame, outcomes: list[str], arms: list[str],
                       baseline: str) -> pd.DataFrame:
    """Arm minus baseline for the same seed: median, 90 % interval, and share of seeds higher.

    Runs are paired by their ``seed``: replicate i has the same seed in every arm.
    """
    runs = ok_runs(runs)
    base = runs[runs["arm"] == baseline].set_index("seed")
    rows = []
    for arm in arms:
        if arm == baseline:
            continue
        sel = runs[runs["arm"] == arm].set_index("seed")
        seeds = sel.index.intersection(base.index)
        for o in outcomes:
            if o not in sel:
                continue
            d = (sel.loc[seeds, o].to_numpy(float) - base.loc[seeds, o].to_numpy(float))
            d = d[~np.isnan(d)]
            med, lo, hi = _interval(d)
            rows.append(dict(arm=arm, baseline=baseline, outcome=o, n_pairs=int(d.size),
                             median=med, q05=lo, q95=hi,
                             mean=float(d.mean()) if d.size else float("nan"),
                             share_higher=float((d > 0).mean()) if d.size else float("nan"),
                             share_lower=float((d < 0).mean()) if d.size else float("nan")))
    cols = ["arm", "baseline", "outcome", "n_pairs", "median", "q05", "q95", "mean",
            "share_higher", "share_lower"]
    return pd.DataFrame(rows, columns=cols)


# --- files ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in the same folder that replaces ``path`` when the block succeeds.

    Readers never see a half-written file, and a crash leaves the old file (if any) in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to parquet atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def write_tables(out_dir: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write every table as ``<name>.parquet`` in ``out_dir``."""
    paths = []
    for name, df in tables.items():
        path = Path(out_dir) / f"{name}.parquet"
        write_parquet(df, path)
        paths.append(path)
    return paths


#: Rows read at a time from a job's table (a part of it is kept, never the whole file).
BATCH_ROWS = 16_384


class JobTables(Mapping):
    """The tables of a job folder, each read when first used (a sweep's ``municipalities``
    table may not fit in memory; most uses need only ``runs`` and ``summary``)."""

    NAMES = (*TABLES, "summary", "differences")

    def __init__(self, job_dir: Path) -> None:
        self.job_dir = Path(job_dir)
        self._cache: dict[str, pd.DataFrame] = {}

    def _path(self, name: str) -> Path:
        return self.job_dir / f"{name}.parquet"

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            if name not in self.NAMES or not self._path(name).exists():
                raise KeyError(name)
            self._cache[name] = pd.read_parquet(self._path(name))
        return self._cache[name]

    def __iter__(self):
        return (n for n in self.NAMES if n in self._cache or self._path(n).exists())

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def read(self, name: str, columns: list[str] | None = None, last_year: bool = False,
             run_ids: list[int] | None = None, categories: bool = False
             ) -> pd.DataFrame | None:
        """Part of a table: only ``columns``, only each run's last year (``last_year``), only
        the runs ``run_ids``. The file is read in batches, filtered as it is read, with its
        text columns dictionary-encoded while read, so memory holds the part, not the table;
        ``categories`` keeps them so (pandas categories: a sweep's many repeated names)."""
        if name in self._cache or not self._path(name).exists():
            return slim(self.get(name), columns, last_year, run_ids)
        path = self._path(name)
        names = pq.read_schema(path).names
        cols = names if columns is None else [c for c in columns if c in names]
        year = self.last_year() if last_year else None
        keys = [k for k in ("run_id", "year") if k in names and k not in cols
                and (last_year or run_ids is not None)]
        schema = pq.read_schema(path)
        text = [c for c in (*cols, *keys) if pa.types.is_string(schema.field(c).type)
                or pa.types.is_large_string(schema.field(c).type)]
        f = pq.ParquetFile(path, read_dictionary=text)
        wanted = None if run_ids is None else pa.array(list(run_ids), type=pa.int64())
        batches = []
        for batch in f.iter_batches(batch_size=BATCH_ROWS, columns=[*cols, *keys],
                                    use_threads=False):
            release_memory()  # the previous batch's buffers: else the allocator keeps them
            mask = None
            if wanted is not None:
                mask = pc.is_in(batch.column("run_id"), value_set=wanted)
            if year is not None:
                same = pc.equal(batch.column("year"), year)
                mask = same if mask is None else pc.and_(mask, same)
            batches.append(batch if mask is None else batch.filter(mask))
        read_schema = pa.schema([f.schema_arrow.field(c) for c in (*cols, *keys)])
        table = pa.Table.from_batches(batches, schema=read_schema)
        for c in [] if categories else text:  # back to plain text, as the file has it
            i = table.schema.get_field_index(c)
            table = table.set_column(i, c, pc.cast(table.column(c), schema.field(c).type))
        df = table.to_pandas()
        del table, batches
        release_memory()
        if last_year and year is None:  # runs of other horizons (a gathered multirun)
            df = slim(df, None, True)
        return df[cols]

    def last_year(self) -> int | None:
        """The last year of every run when all runs have the same horizon (from the years
        table, the smallest with a year per run), else None."""
        if "_last_year" not in self._cache:
            path = self._path("years")
            year = None
            if path.exists():
                keys = pq.read_table(path, columns=["run_id", "year"])
                last = keys.group_by("run_id").aggregate([("year", "max")]).column("year_max")
                if len(last) and pc.min(last).as_py() == pc.max(last).as_py():
                    year = pc.max(last).as_py()
            self._cache["_last_year"] = year
        return self._cache["_last_year"]

    def iter_batches(self, name: str, columns: list[str], rows: int | None = None
                     ) -> Iterator[pd.DataFrame | pa.Table]:
        """A table in batches of ``rows`` rows (Arrow tables), only ``columns`` (those it
        has)."""
        if name in self._cache or not self._path(name).exists():
            df = slim(self.get(name), columns)
            if df is not None:
                yield df
            return
        f = pq.ParquetFile(self._path(name))
        cols = [c for c in columns if c in f.schema_arrow.names]
        for batch in f.iter_batches(batch_size=rows or BATCH_ROWS, columns=cols,
                                    use_threads=False):
            release_memory()  # the previous batch's buffers: else the allocator keeps them
            yield pa.Table.from_batches([batch])


def slim(df: pd.DataFrame | None, columns: list[str] | None = None, last_year: bool = False,
         run_ids: list[int] | None = None) -> pd.DataFrame | None:
    """``df`` with only ``columns``, each run's last year and the runs ``run_ids``."""
    if df is None:
        return None
    if run_ids is not None and len(df):
        df = df[df["run_id"].isin(run_ids)]
    if last_year and len(df):
        df = df[df["year"] == df.groupby("run_id")["year"].transform("max")]
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    return df


def read_table(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str] | None = None,
               last_year: bool = False, run_ids: list[int] | None = None,
               categories: bool = False) -> pd.DataFrame | None:
    """A table (or part of it) from a dict of tables or a :class:`JobTables` (text columns as
    categories with ``categories``, from a job folder)."""
    if isinstance(tables, JobTables):
        return tables.read(name, columns, last_year, run_ids, categories)
    return slim(tables.get(name), columns, last_year, run_ids)


def iter_table(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str]
               ) -> Iterator[pd.DataFrame | pa.Table]:
    """A table (only ``columns``) in batches, from a dict of tables (one data frame) or a
    :class:`JobTables` (Arrow tables)."""
    if isinstance(tables, JobTables):
        yield from tables.iter_batches(name, columns)
    elif tables.get(name) is not None:
        yield slim(tables[name], columns)


def read_tables(job_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables of a job folder (those that exist)."""
    job_dir = Path(job_dir)
    return {name: pd.read_parquet(job_dir / f"{name}.parquet") for name in TABLES
            if (job_dir / f"{name}.parquet").exists()}


# --- manifest -------------------------------------------------------------------------------------

VERSIONED = ("helsesim", "mesa", "numpy", "pandas", "networkx", "hydra-core", "omegaconf",
             "pyarrow", "matplotlib")


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages a result depends on (None if not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_info(path: Path | None = None) -> dict[str, str | bool | None]:
    """Commit and dirty flag of the git checkout holding ``path`` (the package by default).

    Never fails: outside a checkout, or without git, the values are None.
    """
    where = str(path or Path(__file__).resolve().parent)

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", where, *args], capture_output=True, text=True,
                                 timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": (bool(status) if status is not None else None),
            "branch": git("rev-parse", "--abbrev-ref", "HEAD") if commit else None}


def build_manifest(config: dict, experiment: dict, seeds: list[dict], *,
                   command: list[str] | None = None, overrides: list[str] | None = None,
                   timings: dict | None = None) -> dict:
    """Everything needed to trace a job's results back to its inputs."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else list(sys.argv),
        "overrides": list(overrides or []),
        "experiment": experiment,
        "seeds": seeds,
        "config": config,
        "versions": versions(),
        "git": git_info(),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_count": os.cpu_count()},
        "timings_s": timings or {},
    }


def write_manifest(out_dir: Path, manifest: dict) -> Path:
    path = Path(out_dir) / "manifest.json"
    write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path


class ManifestError(ValueError):
    """A job folder's manifest.json cannot be read as a manifest (truncated, edited)."""


def read_manifest(job_dir: Path) -> dict:
    """The manifest of a job folder ({} when there is none).

    Raises:
        ManifestError: it is not a JSON object (truncated, emptied, edited), in one line.
    """
    path = Path(job_dir) / "manifest.json"
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{path} is damaged ({str(e).splitlines()[0]})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path} is damaged (a JSON {type(manifest).__name__}, not an "
                            "object)")
    return manifest
