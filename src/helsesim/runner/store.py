"""What a job keeps on disk while it runs, and how it is written: parts with their records,
atomic writes, checksums, and the assembly of the parts into the job's tables.

A job folder being filled holds ``parts/<first>-<last>/<table>.arrow``: one folder per chunk of
consecutive runs, written under a temporary name and renamed when complete, so a chunk is
either all there or absent. Its ``record.json``, written last, lists its runs and, per table,
the rows, bytes and SHA-256 of the file. A killed sweep resumes from the chunks whose files
match their record; any other chunk (a file deleted, truncated or flipped) is removed and its
runs run again. The final tables are streamed from the parts (never the whole sweep in
memory), and every file a job writes is written under a temporary name and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helsesim.runner.reader import release_memory
from helsesim.runner.tables import ROW_KEYS, TABLES, chunk_tables, table_files

#: The folder of the parts in a job folder.
PARTS = "parts"
#: The record of a part (and the name it is known by in messages).
RECORD = "record.json"
#: Bytes buffered before a row group of a final table is written (a wide table, like ``runs``
#: with ~190 columns, reaches it in fewer rows than a narrow one).
ROW_GROUP_BYTES = 1 * 2**20

log = logging.getLogger(__name__)


# --- files: atomic writes and checksums ----------------------------------------------------------

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


# --- parts: a sweep's runs saved as they finish ------------------------------------------------

@dataclass(frozen=True)
class PartInfo:
    """What a worker reports of a chunk it ran (the tables themselves are on disk)."""

    run_ids: tuple[int, ...]
    n_failed: int
    first_error: str = ""


def part_name(run_ids: list[int]) -> str:
    """The folder name of the part holding ``run_ids``: first and last run id."""
    return f"{min(run_ids):07d}-{max(run_ids):07d}"


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


# --- assembly: parts streamed into the job's tables --------------------------------------------

#: Reads a source of a table: ``read(source)`` its rows, ``read(source, schema_only=True)``
#: its schema.
Reader = Callable[..., "pa.Table | pa.Schema"]


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


def stream_table(sources: list, path: Path, read: Reader, empty_columns: list[str]) -> int:
    """Write the concatenation of ``read(source)`` for every source to ``path`` (parquet,
    atomically), holding about :data:`ROW_GROUP_BYTES` at a time. ``read(source,
    schema_only=True)`` gives a source's schema. Returns the number of rows."""
    if not sources:
        write_parquet(pd.DataFrame(columns=empty_columns), path)
        return 0
    schema = _unified_schema([read(s, schema_only=True) for s in sources])
    n = 0
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
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
            writer.write_table(pa.concat_tables(buf) if buf else schema.empty_table())
            n += rows
    return n


def read_part(path: Path, schema_only: bool = False) -> pa.Table | pa.Schema:
    """A part's table (memory-mapped), or only its schema."""
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc

    if schema_only:
        with pa.memory_map(str(path)) as f:
            return ipc.open_file(f).schema
    return feather.read_table(path, memory_map=True)


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
        n = stream_table([d / f"{name}.arrow" for d in have], path, read_part,
                         list(ROW_KEYS))
        want = sum(records[d]["tables"][name]["rows"] for d in have)
        if n != want:
            raise ValueError(f"{name}: the parts in {parts_dir} hold {n} rows, their records "
                             f"{want}")
        return file_record(path, n)

    # one thread per table: Arrow encodes and writes without holding the GIL
    with ThreadPoolExecutor(max_workers=min(len(TABLES), os.cpu_count() or 1)) as threads:
        tables = dict(zip(table_files(), threads.map(stream, TABLES), strict=True))
    release_memory()
    return tables
