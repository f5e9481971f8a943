"""Reading a job folder's tables in part: only the columns, runs and years a use needs, batch by
batch, so that a sweep's tables need not fit in memory; and the memory so read given back to the
system (:func:`release_memory`).

:class:`JobTables` is what :class:`~helsesim.runner.job.ExperimentResult` holds and what the
report reads; :func:`read_table` and :func:`iter_table` read a dict of data frames and a job
folder alike.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsesim.runner.tables import TABLES

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

    def __iter__(self) -> Iterator[str]:
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


def release_memory() -> None:
    """Give the memory that Arrow's allocator and C's ``malloc`` keep for reuse back to the
    system (after a step or a batch that read a sweep's tables: otherwise the main process's
    peak grows with the sweep, though what it holds does not)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    """glibc, for ``malloc_trim`` (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()
