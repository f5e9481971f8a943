"""A job's outcomes recomputed from its tables: the outcome columns of ``runs.parquet`` and the
summaries rewritten from the stored ``years``, ``projects`` and ``municipalities`` tables by
the outcome registry's functions (:func:`helsesim.outcomes.recompute`), without running the
model again; for when an outcome was added or its function changed.

The runs are recomputed a batch at a time (their rows of each table read by ``run_id``), so a
sweep's tables need not fit in memory. A run's new row is built as the runner builds it
(:func:`~helsesim.runner.tables.run_row`), so a job recomputed with the outcomes it ran with
is the same, bit for bit.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from helsesim.config import SimConfig
from helsesim.runner import store
from helsesim.runner.manifest import flat_config, read_manifest, write_manifest
from helsesim.runner.summaries import write_summaries
from helsesim.runner.tables import RUN_KEYS, flat_inputs, input_column, rows_table, run_row

#: Runs recomputed at a time (their rows of the municipalities table are the most: a Norway
#: run of 10 years has ~4,000).
BATCH_RUNS = 500
#: The tables the outcomes are computed from.
SOURCES = ("years", "projects", "municipalities")


def recompute_job(job_dir: Path, batch_runs: int = BATCH_RUNS) -> int:
    """Rewrite the outcome columns of a complete job's runs table and its summaries from its
    tables, and their records in the manifest. Returns the number of runs recomputed (failed
    runs keep no outcomes).

    Raises:
        FileNotFoundError: ``job_dir`` is not a job folder with its tables.
        ValueError: the job is not complete, or the folder holds a gathered multirun.
    """
    job_dir = Path(job_dir)
    missing = [t for t in ("runs", *SOURCES) if not (job_dir / f"{t}.parquet").exists()]
    if missing:
        raise FileNotFoundError(f"{job_dir} has no {missing[0]}.parquet: not a job folder")
    manifest = read_manifest(job_dir)
    info = manifest.get("experiment")
    if not info or "gathered_from" in manifest:
        raise ValueError(f"{job_dir}: the outcomes are recomputed in each job's folder, not "
                         "in a gathered multirun's (give the multirun's folder)")
    if manifest.get("status") != "complete":
        raise ValueError(f"{job_dir}: the job is not complete; run its command again to "
                         "finish it first")
    inputs = input_columns(manifest)
    runs_path = job_dir / "runs.parquet"
    n = 0
    with tempfile.TemporaryDirectory(prefix="helsesim-recompute-") as tmp:
        batches = []
        for i, batch in enumerate(pq.ParquetFile(runs_path).iter_batches(batch_size=batch_runs)):
            table, ok = _recomputed(job_dir, pa.Table.from_batches([batch]), inputs)
            path = Path(tmp) / f"{i:07d}.arrow"
            feather.write_feather(table, path, compression="uncompressed")
            batches.append(path)
            n += ok
        rows = store.stream_table(batches, runs_path, store.read_part, list(RUN_KEYS))
    files = manifest.setdefault("files", {})
    files["runs.parquet"] = store.file_record(runs_path, rows)
    write_summaries(job_dir, manifest, list(info["outcomes"]), list(info["arms"]),
                    info["baseline"])
    write_manifest(job_dir, manifest)
    return n


def input_columns(manifest: dict) -> set[str]:
    """The input columns of a job's runs table: the parameters of its configuration (as
    recorded in its manifest) and of this helsesim's schema. The columns that are neither
    inputs nor keys are outcomes."""
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    groups = {f.name for f in dataclasses.fields(SimConfig)}
    recorded = flat_config({k: v for k, v in config.items() if k in groups})
    return set(flat_inputs(SimConfig())) | {input_column(k) for k in recorded}


def _recomputed(job_dir: Path, runs: pa.Table, inputs: set[str]) -> tuple[pa.Table, int]:
    """A batch of the runs table with its outcome columns recomputed, and the number of runs
    that have outcomes."""
    from helsesim.outcomes import recompute

    ids = runs.column("run_id").to_pylist()
    where = [("run_id", ">=", min(ids)), ("run_id", "<=", max(ids))]
    tables = {t: pq.read_table(job_dir / f"{t}.parquet", filters=where).to_pandas()
              for t in SOURCES}
    summaries = recompute(tables).to_dict("index") if len(tables["years"]) else {}
    keys = [k for k in RUN_KEYS if k not in ("status", "error")]
    kept = [c for c in runs.column_names if c in inputs and c not in RUN_KEYS]
    rows = []
    for row in runs.to_pylist():
        rows.append(run_row({k: row[k] for k in keys}, None, summaries.get(row["run_id"]),
                            status=row["status"], error=row["error"],
                            inputs={c: row[c] for c in kept}))
    return rows_table(rows), sum(1 for i in ids if i in summaries)
