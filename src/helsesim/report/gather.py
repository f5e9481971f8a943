"""Gathering a Hydra multirun into one experiment: every job's tables are streamed into tables
at the multirun folder's root, each job an arm named by the overrides that differ between jobs
(e.g. ``governance_led, compensation=0.5``); runs stay paired by seed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsesim.runner import results

#: Config groups: an override of a group names the job by its value alone (``two_stream``).
GROUPS = ("scenario", "allocation", "levers", "experiment")


def job_dirs(path: Path) -> list[Path]:
    """Job folders (with runs.parquet) directly under a multirun folder, in job order."""
    dirs = [d for d in Path(path).iterdir() if d.is_dir() and (d / "runs.parquet").exists()]
    return sorted(dirs, key=lambda d: (0, int(d.name)) if d.name.isdigit() else (1, d.name))


def _short(override: str) -> str:
    key, _, value = override.partition("=")
    key = key.lstrip("+~")
    if key in GROUPS:
        return value
    return f"{key.rsplit('.', 1)[-1]}={value}"


def job_labels(overrides: list[list[str]]) -> list[str]:
    """Name each job by the overrides that differ between jobs."""
    if not overrides:
        return []
    common = set.intersection(*(set(o) for o in overrides))
    labels = [", ".join(_short(o) for o in ovs if o not in common) for ovs in overrides]
    return [lab or f"job {i}" for i, lab in enumerate(labels)]


def _job_reader(job: int | str, label: str, arm_names: dict, id_map: dict
                ) -> Callable[..., pa.Table | pa.Schema]:
    """Read a table of one job as a table of the gathered sweep: ``job`` and ``job_label``
    first, ``arm`` and ``run_id`` renamed for the sweep, the job's own kept as ``job_arm`` and
    ``job_run_id``."""

    def relabel(col: pa.ChunkedArray, mapping: dict) -> pa.Array:
        keys = pa.array(list(mapping), type=col.type)
        return pc.take(pa.array(list(mapping.values())), pc.index_in(col, value_set=keys))

    def read(path: Path, schema_only: bool = False) -> pa.Table | pa.Schema:
        t = (pq.read_schema(path).empty_table() if schema_only else pq.read_table(path))
        t = t.replace_schema_metadata(None)
        n = t.num_rows
        arm, run_id = t.column("arm"), t.column("run_id")
        t = t.add_column(0, "job", pa.array([job] * n, type=pa.int64() if isinstance(
            job, int) else pa.string()))
        t = t.add_column(1, "job_label", pa.array([label] * n, type=pa.string()))
        t = t.set_column(t.schema.get_field_index("arm"), "arm", relabel(arm, arm_names))
        t = t.set_column(t.schema.get_field_index("run_id"), "run_id", relabel(run_id, id_map))
        t = t.append_column("job_arm", arm).append_column("job_run_id", run_id)
        return t.schema if schema_only else t

    return read


def gather(path: Path, baseline: str | None = None) -> tuple[results.JobTables, dict]:
    """Gather every job under a multirun folder into one experiment: its tables are written at
    the folder's root, streamed job by job (a sweep need not fit in memory)."""
    path = Path(path)
    dirs = job_dirs(path)
    if not dirs:
        raise FileNotFoundError(f"no job folders with runs.parquet under {path}")
    manifests = [results.read_manifest(d) for d in dirs]
    labels = job_labels([m.get("overrides", []) for m in manifests])
    readers: dict = {}
    arms: list[str] = []
    designs: dict[str, str] = {}
    offset = n_runs = 0
    for d, m, label in zip(dirs, manifests, labels, strict=True):
        job_runs = pd.read_parquet(d / "runs.parquet", columns=["run_id", "arm"])
        job_arms = m.get("experiment", {}).get("arms") or list(dict.fromkeys(job_runs["arm"]))
        names = {a: label if len(job_arms) == 1 else f"{label} · {a}" for a in job_arms}
        arms += [names[a] for a in job_arms]
        for a in job_arms:
            designs[names[a]] = m.get("experiment", {}).get("designs", {}).get(a, "")
        id_map = {int(rid): offset + i for i, rid in enumerate(job_runs["run_id"])}
        offset += len(job_runs)
        n_runs = max(n_runs, int(job_runs.groupby("arm").size().max()))
        readers[d] = _job_reader(int(d.name) if d.name.isdigit() else d.name, label, names,
                                 id_map)
    for t in results.TABLES:
        sources = [d / f"{t}.parquet" for d in dirs if (d / f"{t}.parquet").exists()]
        results.stream_table(sources, path / f"{t}.parquet",
                             lambda src, schema_only=False: readers[src.parent](src, schema_only),
                             ["job", "job_label", *results.ROW_KEYS])
    tables = results.JobTables(path)
    first = manifests[0].get("experiment", {})
    if baseline is None:
        baseline = next((a for a in arms if designs.get(a) == "open_call"), arms[0])
    elif baseline not in arms:
        raise ValueError(f"--baseline: got {baseline!r}; allowed: {', '.join(arms)}")
    arms = [baseline] + [a for a in arms if a != baseline]
    info = dict(name=f"{first.get('name', 'multirun')} (multirun)",
                description=first.get("description", ""), arms=arms, baseline=baseline,
                designs=designs, outcomes=first.get("outcomes", []),
                scenario=", ".join(sorted({str(m.get('experiment', {}).get('scenario'))
                                           for m in manifests})),
                years=", ".join(sorted({str(m.get('experiment', {}).get('years'))
                                        for m in manifests})),
                n_seeds=n_runs, n_runs=offset)
    manifest = {
        "created": results.build_manifest({}, info, [])["created"],
        "command": list(sys.argv), "gathered_from": str(path.resolve()),
        "experiment": info,
        "jobs": [dict(job=d.name, label=lab, overrides=m.get("overrides", []),
                      created=m.get("created"), git=m.get("git"), seeds=m.get("seeds"))
                 for d, m, lab in zip(dirs, manifests, labels, strict=True)],
        "versions": results.versions(), "git": results.git_info(),
    }
    return tables, manifest
