"""Figures and summary.md of a job folder, and gathering of a Hydra multirun into one report.

``helsesim-report PATH`` accepts

* a job folder (``results/<experiment>/<time>``): redraws its figures and summary.md;
* a multirun folder (``results/multirun/<time>``, one sub-folder per job): gathers every job into
  the same tables, figures and summary.md as a single job, written at the multirun folder's
  root. Each job becomes an arm named by the overrides that differ between jobs (e.g.
  ``governance_led, compensation=0.5``); runs stay paired by seed.

After ``helsesim -m ...`` the gathering runs by itself (:class:`GatherCallback`).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsesim import report_cli
from helsesim.outcomes import TIME_SERIES, outcome_info
from helsesim.runner import results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: What each figure shows (file name -> caption in summary.md).
FIGURES = {
    "outcomes_by_arm": "End-of-run outcomes by arm: equity, task shifting, recruitment and more.",
    "paired_differences": "Paired differences against the baseline, with 90 % intervals.",
    "tradeoff_equity_recruitment": "Trade-off between equity (Gini of benefit per inhabitant) "
                                   "and recruitment (vacancy rate in small municipalities).",
    "time_series": "Outcomes year by year: medians with 90 % bands.",
    "map": "Map of the health community: where the money went and the collaboration ties.",
    "communities": "Outcomes per health community (final year).",
}
TRADEOFF = ("gini_benefit_per_capita", "vacancy_rate_small")
COMMUNITY_OUTCOMES = ["gini_benefit_per_capita", "vacancy_rate_small", "mean_trust"]
GROUPS = ("scenario", "allocation", "levers", "experiment")
#: The columns each figure reads (a sweep's tables are read in part, not whole): the map's
#: values of every run, and the municipalities' attributes of one run.
MAP_COLUMNS = ["arm", "municipality_id", "benefit_per_capita"]
STATIC_COLUMNS = ["municipality_id", "name", "community", "population"]
TIE_COLUMNS = ["arm", "lead_id", "partners", "trust_party", "community"]
COMMUNITY_COLUMNS = ["run_id", "arm", "year", "community", *COMMUNITY_OUTCOMES]


# --- data for the figures ----------------------------------------------------------------------

def final_year(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of each run's last year."""
    if df.empty:
        return df
    last = df.groupby("run_id")["year"].transform("max")
    return df[df["year"] == last]


def tie_counts(projects: pd.DataFrame | pa.Table) -> pa.Table:
    """Joint funded projects per arm and pair of nodes (``arm``, ``a``, ``b`` with a < b,
    ``count``): lead-partner pairs, and trust-lead pairs when the trust is a party. Computed in
    Arrow, so a batch of a sweep's projects table is counted without a Python object per
    pair."""
    t = projects if isinstance(projects, pa.Table) else pa.Table.from_pandas(
        projects[TIE_COLUMNS], preserve_index=False)
    text = pa.string()
    arm = pc.cast(t.column("arm"), text)
    lead = pc.cast(t.column("lead_id"), text)
    partners = pc.split_pattern(pc.fill_null(pc.cast(t.column("partners"), text), ""), ";")
    parent = pc.list_parent_indices(partners)
    other = pc.list_flatten(partners)
    keep = pc.invert(pc.is_in(other, value_set=pa.array(["", "nan"])))
    arms = [pc.filter(pc.take(arm, parent), keep)]
    leads = [pc.filter(pc.take(lead, parent), keep)]
    others = [pc.filter(other, keep)]
    trust = pc.and_(pc.fill_null(pc.cast(t.column("trust_party"), pa.bool_()), False),
                    pc.invert(pc.starts_with(lead, "HF:")))
    arms.append(pc.filter(arm, trust))
    leads.append(pc.filter(lead, trust))
    others.append(pc.filter(pc.binary_join_element_wise(
        "HF:", pc.cast(t.column("community"), text), ""), trust))
    arm, lead, other = (pa.chunked_array([c for x in xs for c in (
        x.chunks if isinstance(x, pa.ChunkedArray) else [x])], type=text)
        for xs in (arms, leads, others))
    first = pc.less(lead, other)
    pairs = pa.table({"arm": arm, "a": pc.if_else(first, lead, other),
                      "b": pc.if_else(first, other, lead)})
    return pairs.group_by(["arm", "a", "b"]).aggregate([([], "count_all")]).rename_columns(
        ["arm", "a", "b", "count"])


def project_ties(projects, n_runs: pd.Series) -> pd.DataFrame:
    """Collaboration ties from funded projects (:func:`tie_counts`) as mean joint projects per
    run of each arm. ``projects`` is a table or an iterable of tables (the batches of a sweep's
    projects table: the counts are summed as they come, so memory does not grow with the
    number of runs); ``n_runs`` is the finished runs per arm."""
    batches = [projects] if isinstance(projects, (pd.DataFrame, pa.Table)) else projects
    counts = [tie_counts(b) for b in batches if len(b)]
    if not counts:
        return pd.DataFrame(columns=["arm", "a", "b", "weight"])
    total = pa.concat_tables(counts).group_by(["arm", "a", "b"]).aggregate(
        [("count", "sum")]).to_pandas()
    results.release_memory()
    total["weight"] = total["count_sum"] / total["arm"].map(n_runs).astype(float)
    return total[["arm", "a", "b", "weight"]]


def map_nodes(benefits: pd.DataFrame, statics: pd.DataFrame, positions: pd.DataFrame
              ) -> pd.DataFrame:
    """Per arm and node: position, population and median RS benefit per inhabitant at the end;
    each trust is drawn next to its community's largest municipality.

    Args:
        benefits: the last year's ``arm``, ``municipality_id`` and ``benefit_per_capita`` of
            every run.
        statics: one row per municipality: ``municipality_id``, ``name``, ``community``,
            ``population`` (the same in every run of a real-data scenario).
    """
    med = benefits.groupby(["arm", "municipality_id"], sort=False, observed=True)[
        "benefit_per_capita"].median().reset_index()
    for key in ("arm", "municipality_id"):  # categories (as a sweep's table is read): text
        med[key] = med[key].astype(str)
    m = med.merge(
        statics[["municipality_id", "name", "community", "population"]]
        .drop_duplicates("municipality_id"), on="municipality_id", how="inner")
    m = m.merge(positions[["municipality_id", "lon", "lat"]], on="municipality_id", how="inner")
    m = m.rename(columns={"municipality_id": "node"})
    m["kind"] = "municipality"
    hubs = m.loc[m.groupby(["arm", "community"])["population"].idxmax()].copy()
    hubs["node"] = "HF:" + hubs["community"]
    hubs["name"] = "trust"
    hubs["kind"] = "trust"
    hubs["population"] = np.nan
    hubs["benefit_per_capita"] = np.nan
    hubs["lon"] += 0.15  # beside the hospital town, not on top of it or its label
    hubs["lat"] -= 0.08
    return pd.concat([m, hubs], ignore_index=True)


def positions() -> pd.DataFrame:
    """Municipality positions from the shipped data."""
    from helsesim import data

    return data.municipalities()[["municipality_id", "lon", "lat"]]


def _note(info: dict) -> str:
    years = info.get("years")
    return (f"{info.get('name', '')}: scenario {info.get('scenario', '?')}, {years} years, "
            f"{info.get('n_seeds', '?')} paired seeds per arm.")


#: The columns of the runs table that the figures and summary.md read.
RUN_COLUMNS = ["run_id", "arm", "seed", "status", "error"]


def draw_figures(tables: dict[str, pd.DataFrame], info: dict) -> Iterator[tuple[str, Figure]]:
    """Every figure that the tables allow, with its file name (without extension), one at a
    time (the caller saves it before the next is drawn).

    Only the columns each figure needs are read, and the projects are counted in batches, so
    the memory a report takes hardly grows with the number of runs."""
    from helsesim import plotting

    arms, baseline = info["arms"], info["baseline"]
    runs = results.ok_runs(results.read_table(
        tables, "runs", [*RUN_COLUMNS, *dict.fromkeys([*info["outcomes"], *TRADEOFF])]))
    outcomes = [o for o in info["outcomes"] if o in runs]
    note = _note(info)
    yield "outcomes_by_arm", plotting.plot_outcome_distributions(
        runs, outcomes, arms, baseline, title=f"{info['name']}: end-of-run outcomes by arm",
        note=note)
    diffs = tables.get("differences")
    if diffs is not None and len(diffs) and len(arms) > 1:
        yield "paired_differences", plotting.plot_paired_differences(
            diffs, outcomes, arms, baseline,
            title=f"{info['name']}: paired differences against {baseline}", note=note)
    if all(k in runs for k in TRADEOFF):
        yield "tradeoff_equity_recruitment", plotting.plot_tradeoff(
            runs, arms, *TRADEOFF, baseline=baseline,
            title=f"{info['name']}: equity vs recruitment", note=note)
    years = results.read_table(tables, "years", ["run_id", "arm", "year", *TIME_SERIES])
    if years is not None and len(years):
        yield "time_series", plotting.plot_time_series(
            years, TIME_SERIES, arms, baseline, title=f"{info['name']}: outcomes over time",
            note=note)
    del years
    benefits = results.read_table(tables, "municipalities", MAP_COLUMNS, last_year=True,
                                  categories=True)
    if benefits is not None and len(benefits) and len(runs):
        statics = results.read_table(tables, "municipalities", ["run_id", "year",
                                                                *STATIC_COLUMNS],
                                     last_year=True, run_ids=[int(runs["run_id"].iloc[0])])
        nodes = map_nodes(benefits, statics, positions())
        del benefits
        if len(nodes):
            single = nodes["community"].nunique() == 1
            ties = project_ties(results.iter_table(tables, "projects", TIE_COLUMNS),
                                runs.groupby("arm").size())
            yield "map", plotting.plot_map(
                nodes, ties, arms,
                title=f"{info['name']}: where the money went and who worked together",
                note=note, label_largest=3 if single else 0)
        else:
            log.info("no municipality positions for this scenario: no map")
    comms = results.read_table(tables, "communities", COMMUNITY_COLUMNS, last_year=True)
    if comms is not None and len(comms) and comms["community"].nunique() > 1:
        yield "communities", plotting.plot_communities(
            comms, COMMUNITY_OUTCOMES, arms, baseline,
            title=f"{info['name']}: outcomes by health community", note=note)


# --- summary.md --------------------------------------------------------------------------------

def _num(x: float, signed: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    if abs(x) < 1e-9:  # rounding noise of a zero (e.g. a Gini of equal values)
        x = 0.0
    if abs(x) >= 1000:
        s = f"{x:,.0f}"
    elif x == 0:
        s = "0"
    else:
        s = f"{x:.3g}"
    return ("+" + s) if signed and x > 0 else s


def _cell(r, scale: float, signed: bool = False) -> str:
    if not r["n" if "n" in r else "n_pairs"]:
        return "–"
    return (f"{_num(r['median'] * scale, signed)} "
            f"[{_num(r['q05'] * scale, signed)}, {_num(r['q95'] * scale, signed)}]")


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _command(cmd) -> str:
    if isinstance(cmd, str):
        return cmd
    cmd = list(cmd)
    if cmd and Path(cmd[0]).name in ("helsesim", "helsesim-report"):
        cmd[0] = Path(cmd[0]).name
    return " ".join(cmd)


def _label(key: str) -> str:
    i = outcome_info(key)
    return f"{i.label} [{i.display_unit}]" if i.display_unit else i.label


#: What the intervals of summary.md are, and where the parameters' uncertainty is analysed.
SEED_NOISE_NOTE = ("These intervals are seed noise only: every parameter is fixed at its value. "
                   "How far the ranking survives what is not known about the parameters: "
                   "`helsesim experiment=robustness` (every design over plausible worlds).")


def render_summary(tables: dict[str, pd.DataFrame], info: dict, manifest: dict,
                   figures: list[str]) -> str:
    """summary.md: medians and 90 % intervals per arm, paired differences, per community."""
    arms, baseline = info["arms"], info["baseline"]
    summ, diffs = tables["summary"], tables["differences"]
    runs = results.read_table(tables, "runs", RUN_COLUMNS)
    n_ok = int((runs["status"] == "ok").sum()) if "status" in runs else len(runs)
    git = manifest.get("git") or {}
    ver = manifest.get("versions") or {}
    lines = [f"# {info['name']}: summary", ""]
    if info.get("description"):
        lines += [f"**Question.** {info['description']}", ""]
    cmd = manifest.get("command")
    lines += [
        f"- Scenario: `{info.get('scenario')}`; {info.get('years')} years; "
        f"{info.get('n_seeds')} paired seeds per arm (replicate i uses the same seed in every "
        f"arm); {n_ok} of {len(runs)} runs finished.",
        f"- Arms: {', '.join(f'`{a}`' for a in arms)}; baseline: `{baseline}`.",
    ]
    if cmd:
        lines.append(f"- Command: `{_command(cmd)}`")
    dirty = ", with local changes" if git.get("dirty") else ""
    lines.append(f"- Produced {manifest.get('created', '?')} by helsesim {ver.get('helsesim')} "
                 f"(git {str(git.get('commit'))[:10]}{dirty}), Python {ver.get('python')}, "
                 f"Mesa {ver.get('mesa')}. Inputs of every run: `runs.parquet`; full "
                 "configuration: `manifest.json`.")
    lines += ["", "## Outcomes by arm", "",
              "Median and 90 % interval [5th, 95th percentile] over seeds, at the end of the run.",
              "", SEED_NOISE_NOTE, ""]
    rows = []
    for o in info["outcomes"]:
        s = summ[summ["outcome"] == o].set_index("arm")
        sc = outcome_info(o).scale
        rows.append([_label(o)] + [_cell(s.loc[a], sc) if a in s.index else "–" for a in arms])
    lines += [_table(["Outcome [unit]", *[f"`{a}`" for a in arms]], rows), ""]
    others = [a for a in arms if a != baseline]
    if others and len(diffs):
        lines += ["## Paired differences against " + f"`{baseline}`", "",
                  f"Arm minus `{baseline}` for the same seed: median [5th, 95th percentile] of "
                  "the differences, and in how many seeds the arm is higher (↑) or lower (↓).",
                  ""]
        rows = []
        for o in info["outcomes"]:
            d = diffs[diffs["outcome"] == o].set_index("arm")
            sc = outcome_info(o).scale
            row = [_label(o)]
            for a in others:
                if a not in d.index or not d.loc[a, "n_pairs"]:
                    row.append("–")
                    continue
                r = d.loc[a]
                row.append(f"{_cell(r, sc, signed=True)} ↑{r['share_higher']:.0%} "
                           f"↓{r['share_lower']:.0%}")
            rows.append(row)
        lines += [_table(["Outcome [unit]", *[f"`{a}`" for a in others]], rows), ""]
    comms = results.read_table(tables, "communities", COMMUNITY_COLUMNS, last_year=True)
    if comms is not None and len(comms) and comms["community"].nunique() > 1:
        fin = comms
        lines += ["## Per health community", "",
                  "Median over seeds at the end of the run, per community and arm.", ""]
        for o in COMMUNITY_OUTCOMES:
            if o not in fin:
                continue
            sc = outcome_info(o).scale
            med = fin.groupby(["community", "arm"])[o].median().unstack("arm") * sc
            rows = [[c.replace("_", " ")] + [_num(med.loc[c, a]) if a in med else "–"
                                             for a in arms] for c in med.index]
            lines += [f"**{_label(o)}**", "", _table(["Community", *[f"`{a}`" for a in arms]],
                                                     rows), ""]
    failed = runs[runs["status"] != "ok"] if "status" in runs else runs.iloc[:0]
    if len(failed):
        lines += ["## Failed runs", "",
                  f"{len(failed)} runs failed; their tracebacks are in the `error` column of "
                  "`runs.parquet`.", "",
                  _table(["run_id", "arm", "seed", "error"],
                         [[str(r.run_id), r.arm, str(r.seed),
                           str(r.error).strip().splitlines()[-1][:120]]
                          for r in failed.itertuples()]), ""]
    if figures:
        lines += ["## Figures", ""]
        for name in figures:
            lines += [f"- {FIGURES.get(name, name)}", f"  ![{name}](figures/{name}.png)"]
        lines.append("")
    return "\n".join(lines)


def make_report(out_dir: Path, tables: dict[str, pd.DataFrame], manifest: dict,
                figures: bool = True) -> list[Path]:
    """Draw the figures into ``out_dir/figures`` and write ``out_dir/summary.md``."""
    out_dir = Path(out_dir)
    info = manifest["experiment"]
    written = []
    names = []
    if figures:
        for name, fig in draw_figures(tables, info):
            path = out_dir / "figures" / f"{name}.png"
            with results.atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=110)
            fig.clear()  # drawn and saved: free its artists before the next is drawn
            del fig
            gc.collect(1)  # the young cycles; a full collection of a big heap costs ~0.1 s
            results.release_memory()
            written.append(path)
            names.append(name)
    md = out_dir / "summary.md"
    results.write_text(md, render_summary(tables, info, manifest, names))
    written.append(md)
    return written


# --- gathering a multirun ------------------------------------------------------------------------

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


def _job_reader(job, label: str, arm_names: dict, id_map: dict):
    """Read a table of one job as a table of the gathered sweep: ``job`` and ``job_label``
    first, ``arm`` and ``run_id`` renamed for the sweep, the job's own kept as ``job_arm`` and
    ``job_run_id``."""

    def relabel(col: pa.ChunkedArray, mapping: dict) -> pa.Array:
        keys = pa.array(list(mapping), type=col.type)
        return pc.take(pa.array(list(mapping.values())), pc.index_in(col, value_set=keys))

    def read(path: Path, schema_only: bool = False):
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


def summarise_tables(tables, info: dict) -> dict[str, pd.DataFrame]:
    """The summary and differences tables for the arms and baseline in ``info``."""
    runs = results.read_table(tables, "runs", ["arm", "seed", "status", *info["outcomes"]])
    outcomes = [o for o in info["outcomes"] if o in runs]
    return {"summary": results.summarise(runs, outcomes, info["arms"]),
            "differences": results.paired_differences(runs, outcomes, info["arms"],
                                                      info["baseline"])}


def report_path(path: Path, baseline: str | None = None, figures: bool = True) -> Path:
    """Write the report of a job folder or gather a multirun folder; returns summary.md."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    if job_dirs(path):
        _, manifest = gather(path, baseline)
        results.write_manifest(path, manifest)
    elif (path / "runs.parquet").exists():
        manifest = results.read_manifest(path)
        if not manifest.get("experiment"):
            raise FileNotFoundError(f"{path / 'manifest.json'} is missing or has no experiment")
        info = manifest["experiment"]
        if baseline is not None:
            if baseline not in info["arms"]:
                raise ValueError(f"--baseline: got {baseline!r}; allowed: "
                                 f"{', '.join(info['arms'])}")
            info["baseline"] = baseline
            info["arms"] = [baseline] + [a for a in info["arms"] if a != baseline]
    else:
        raise FileNotFoundError(f"no results under {path}: expected runs.parquet (a job folder) "
                                "or job sub-folders (a multirun folder)")
    results.write_tables(path, summarise_tables(results.JobTables(path), manifest["experiment"]))
    make_report(path, results.JobTables(path), manifest, figures=figures)
    return path / "summary.md"


try:  # Hydra is a dependency; the callback only matters under `helsesim -m`
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object


class GatherCallback(Callback):
    """Hydra callback of ``helsesim -m``: after the jobs, gather them into one report and end
    with exit status 1 if a job or a run failed. (Every job's configuration and folder were
    checked before Hydra started: :func:`helsesim.cli.precheck`.)"""

    def on_multirun_end(self, config, **kwargs) -> None:
        from helsesim.runner.multirun import sweep_failures

        sweep = Path(config.hydra.sweep.dir)
        status = 0
        try:
            md = report_path(sweep)
            log.info("gathered the multirun into %s", md)
        except Exception:  # noqa: BLE001 - the jobs' own results are already written
            log.exception("could not gather the multirun in %s; run `helsesim-report %s`",
                          sweep, sweep)
            status = 1
        unfinished, n_failed, n_runs = sweep_failures(sweep)
        if unfinished:
            log.error("helsesim: %d job(s) did not finish: %s (see their helsesim.log)",
                      len(unfinished), ", ".join(unfinished))
        if n_failed:
            log.error("helsesim: %d of %d runs failed; see the status and error columns of "
                      "%s/runs.parquet", n_failed, n_runs, sweep)
        if status or unfinished or n_failed:
            sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    """``helsesim-report PATH``: figures and summary.md of a job or a multirun folder."""
    ap = argparse.ArgumentParser(prog="helsesim-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path, help="a job folder or a multirun folder")
    ap.add_argument("--baseline", default=None,
                    help="arm for the paired differences (default: the experiment's; for a "
                         "multirun: the first open_call job)")
    ap.add_argument("--no-figures", action="store_true", help="write summary.md only")
    args = report_cli.parse_args(ap, argv)  # with --recompute: outcomes from the tables
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        md = report_path(args.path, args.baseline, figures=not args.no_figures)
    except (FileNotFoundError, ValueError) as e:
        print(f"helsesim-report: {e}", file=sys.stderr)
        return 2
    print(f"wrote {md} and figures in {md.parent / 'figures'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
