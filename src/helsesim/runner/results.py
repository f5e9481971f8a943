"""A job's results as their readers use them (the report, the app, the brief, the analyses):
one import for the tables' names, reading them in part, their summaries, the manifest and
atomic writes. Each name lives in the module that owns it; this module only gathers them.

    from helsesim.runner import results
    tables = results.JobTables(job_dir)
    runs = results.ok_runs(results.read_table(tables, "runs", ["arm", "seed", "status"]))
"""

from __future__ import annotations

from helsesim.runner.manifest import (
    ManifestError,
    build_manifest,
    git_info,
    read_manifest,
    versions,
    write_manifest,
)
from helsesim.runner.reader import (
    BATCH_ROWS,
    JobTables,
    iter_table,
    read_table,
    read_tables,
    release_memory,
    slim,
)
from helsesim.runner.store import (
    PARTS,
    atomic_path,
    stream_table,
    write_parquet,
    write_tables,
    write_text,
)
from helsesim.runner.summaries import (
    QUANTILES,
    SUMMARY_FILES,
    ok_runs,
    paired_differences,
    summarise,
)
from helsesim.runner.tables import ROW_KEYS, RUN_KEYS, TABLES, flat_inputs, table_files

__all__ = ["BATCH_ROWS", "JobTables", "ManifestError", "PARTS", "QUANTILES", "ROW_KEYS",
           "RUN_KEYS", "SUMMARY_FILES", "TABLES", "atomic_path", "build_manifest", "flat_inputs",
           "git_info", "iter_table", "ok_runs", "paired_differences", "read_manifest",
           "read_table", "read_tables", "release_memory", "slim", "stream_table", "summarise",
           "table_files", "versions", "write_manifest", "write_parquet", "write_tables",
           "write_text"]
