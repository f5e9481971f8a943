"""The app's one door into helsesim: every call the app makes to the model, the runner, the data,
the outcome metadata and the figures goes through this module, so that re-pointing the app at a
restructured helsesim means editing this file only.

What it uses of helsesim (and nothing else in ``helsesim.app`` imports helsesim):

* configuration: ``helsesim.config`` (the parameter dataclasses' field metadata: unit, doc,
  lo, hi), ``helsesim.api.build_config`` (a validated configuration for the step mode);
* runs: ``helsesim.runner.compose_config`` and ``run_experiment`` (the same runner as the
  ``helsesim`` command: paired seeds, worker processes, a job folder with its tables);
  progress is read from the finished parts the runner saves in ``<job>/parts``;
* step mode: ``helsesim.model.HealthSystem`` (``step()`` is one year) and its tables;
* data: ``helsesim.data`` (communities, municipality positions);
* outcomes: ``helsesim.outcomes`` (``Outcome``, ``outcome_info``, ``OUTCOMES``,
  ``DEFAULT_OUTCOMES``); the allocation designs ``helsesim.allocation.DESIGNS``;
* figures: ``helsesim.report.plots`` and ``helsesim.report.maps`` (the map data:
  ``map_nodes``, ``project_ties``, ``positions``; the map: ``plot_map``); the decision brief:
  ``helsesim.brief``.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure
from omegaconf import DictConfig, open_dict

from helsesim import allocation, brief, config, data
from helsesim.api import build_config
from helsesim.outcomes import DEFAULT_OUTCOMES, OUTCOMES, Outcome, outcome_info
from helsesim.outcomes import TIME_SERIES as YEARLY_HEADLINE
from helsesim.report import maps, plots
from helsesim.runner import compose_config, results, run_experiment

if TYPE_CHECKING:  # imported when the step model is made (see step_model_class)
    from helsesim.model import HealthSystem

#: Outcomes drawn over time unless the user picks others.
TIME_SERIES = list(YEARLY_HEADLINE)
#: Columns of the tables the app reads (a Norway job's tables are read in part).
MAP_COLUMNS = list(dict.fromkeys([*maps.MAP_COLUMNS, *maps.STATIC_COLUMNS]))
TIE_COLUMNS = list(maps.TIE_COLUMNS)
#: The groups whose parameters the app offers as sliders, in order.
LEVER_GROUPS = ("levers", "scenario", "allocation")
#: Parameters of those groups that are not levers an analyst moves in the app.
NOT_LEVERS = {"scenario.name", "scenario.budget", "scenario.community_key",
              "scenario.n_municipalities", "scenario.synthetic_size_median",
              "scenario.synthetic_size_sigma", "scenario.synthetic_area_km", "allocation.design"}
#: Highest value offered for a parameter the schema bounds only from below: this many times its
#: default (the schema itself allows more; the command line reaches it).
OPEN_RANGE_FACTOR = 3.0
#: The app's bounds on the horizon and on the paired seeds of one run (the schema allows more).
MAX_YEARS = 30
MAX_SEEDS = 100


# --- what can be chosen ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Community:
    """A scenario the app offers: one health community or the whole country."""

    key: str
    name: str
    trust: str
    population: int
    n_municipalities: int


def communities() -> list[Community]:
    """The 19 health communities (by name) and ``norway`` (all of them), as scenarios."""
    m = data.municipalities()
    out = []
    for key, rows in m.groupby("community", sort=True):
        out.append(Community(key, rows["health_community"].iloc[0],
                             rows["health_trust"].iloc[0], int(rows["population_2024"].sum()),
                             len(rows)))
    out.append(Community("norway", "Norway (all 19 health communities)", "19 health trusts",
                         int(m["population_2024"].sum()), len(m)))
    return out


def municipality_positions() -> pd.DataFrame:
    """Every municipality's position, population and health community (for the locator map)."""
    m = data.municipalities()
    return m[["municipality_id", "name", "lon", "lat", "population_2024", "community"]].rename(
        columns={"population_2024": "population"})


def designs() -> list[str]:
    """The allocation designs, in registry order."""
    return list(allocation.DESIGNS)


def design_doc(name: str) -> str:
    """What a design does, in one paragraph (its docstring's first)."""
    import inspect

    doc = inspect.cleandoc(allocation.DESIGNS[name].__doc__ or "").replace("``", "")
    return " ".join(doc.split("\n\n")[0].split())


@dataclass(frozen=True)
class Param:
    """A parameter offered as a slider or a switch, with the schema's range and unit."""

    path: str
    default: float | int | bool
    kind: str  # "float", "int" or "bool"
    unit: str
    doc: str
    lo: float | None
    hi: float | None  # the slider's upper end
    schema_hi: float | None  # the schema's (None: unbounded; the slider stops at `hi`)
    source: str = ""

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def group(self) -> str:
        return self.path.split(".", 1)[0]


def _slider_hi(default: float | int | bool, lo: float | None, hi: float | None) -> float:
    """The slider's upper end: the schema's bound, unless that is only a validity limit far
    above the default (the national grant may be up to 10**12 NOK: the slider stops at
    ``OPEN_RANGE_FACTOR`` times the default)."""
    if hi is not None and (not default or hi <= 10 * OPEN_RANGE_FACTOR * abs(float(default))):
        return hi
    base = abs(float(default)) if default else 1.0
    return max(base * OPEN_RANGE_FACTOR, (lo or 0.0) + 1.0)


def levers() -> list[Param]:
    """The levers, the national grant and the design parameters, with the schema's metadata."""
    cfg = config.SimConfig()
    out = []
    for group in LEVER_GROUPS:
        obj = getattr(cfg, group)
        for f in dataclasses.fields(obj):
            path = f"{group}.{f.name}"
            value = getattr(obj, f.name)
            if path in NOT_LEVERS or f.metadata.get("choices"):
                continue
            kind = ("bool" if isinstance(value, bool) else "int" if isinstance(value, int)
                    else "float" if isinstance(value, float) else None)
            if kind is None:
                continue
            meta = f.metadata
            lo, hi = meta.get("lo"), meta.get("hi")
            out.append(Param(path, value, kind, meta.get("unit", ""), meta.get("doc", ""),
                             lo, None if kind == "bool" else _slider_hi(value, lo, hi), hi,
                             meta.get("source", "")))
    return out


def outcome_choices() -> list[str]:
    """Outcomes a user can pick for the figures: those with display metadata."""
    return list(OUTCOMES)


def outcome_label(key: str) -> str:
    return outcome_info(key).label


def default_outcomes() -> list[str]:
    return list(DEFAULT_OUTCOMES)


# --- one analysis: what to run -------------------------------------------------------------------

class SetupError(ValueError):
    """A choice the app cannot run (the message says what to change)."""


@dataclass(frozen=True)
class Setup:
    """What the user chose: a community, a design against a baseline design, levers (changes
    from the status quo, by dotted path), horizon and paired seeds."""

    community: str = "nordland"
    design: str = "two_stream"
    baseline: str = "open_call"
    levers: tuple[tuple[str, float | int | bool], ...] = ()
    baseline_status_quo: bool = False
    years: int = 10
    n_seeds: int = 10
    seed: int = 1

    @property
    def changes(self) -> dict:
        return dict(self.levers)

    def arms(self) -> tuple[str, str]:
        """(design arm, baseline arm): named by design; when both arms have the same design, by
        what their levers are."""
        if self.design != self.baseline:
            return self.design, self.baseline
        if not self.baseline_status_quo:
            raise SetupError(f"the design and the baseline are both {self.design} with the same "
                             "levers: choose another baseline design, or let the baseline keep "
                             "the status-quo levers")
        return f"{self.design} + levers", f"{self.design} (status quo)"


def _nested(changes: dict) -> dict:
    out: dict = {}
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(
            out.get(k), dict) else v
    return out


def arm_changes(setup: Setup) -> dict[str, dict]:
    """The experiment's arms as changes to the job's configuration (baseline first)."""
    arm, base = setup.arms()
    lever = _nested(setup.changes)
    return {
        base: _deep_merge({"allocation": {"design": setup.baseline}},
                          {} if setup.baseline_status_quo else lever),
        arm: _deep_merge({"allocation": {"design": setup.design}}, lever),
    }


def experiment_config(setup: Setup, n_jobs: int = -1) -> DictConfig:
    """The composed configuration of the experiment, as ``helsesim`` would run it."""
    if setup.community not in {c.key for c in communities()}:
        raise SetupError(f"community: got {setup.community!r}; allowed: "
                         f"{', '.join(c.key for c in communities())}")
    cfg = compose_config([
        f"scenario.name={setup.community}", f"years={setup.years}", f"seed={setup.seed}",
        "experiment.name=app", f"experiment.n_seeds={setup.n_seeds}",
        f"experiment.n_jobs={n_jobs}", "experiment.progress=false",
        "experiment.figures=false", "experiment.overwrite=true",
    ])
    arms = arm_changes(setup)
    with open_dict(cfg):
        cfg.experiment.designs = []
        cfg.experiment.arms = arms
        cfg.experiment.baseline = next(iter(arms))
        cfg.experiment.description = describe(setup)
    return cfg


def describe(setup: Setup) -> str:
    """The analysis in one sentence."""
    name = {c.key: c.name for c in communities()}.get(setup.community, setup.community)
    changes = ", ".join(f"{p.split('.')[-1]}={v}" for p, v in setup.levers) or "status quo"
    base = "status-quo levers" if setup.baseline_status_quo else "the same levers"
    return (f"{setup.design} against {setup.baseline} ({base}) in {name}; levers: {changes}; "
            f"{setup.years} years, {setup.n_seeds} paired seeds from seed {setup.seed}.")


# --- running it -------------------------------------------------------------------------------

@dataclass
class Analysis:
    """The tables of one finished analysis and where the job folder is."""

    setup: Setup
    arms: list[str]
    baseline: str
    outcomes: list[str]
    tables: dict[str, pd.DataFrame]
    job_dir: Path
    seconds: float
    manifest: dict = field(default_factory=dict)


_ROOT: Path | None = None
_RUN_LOCK = threading.Lock()  # one experiment at a time: the machine's cores are shared


def _root() -> Path:
    """A folder for this server's job folders, removed when the server stops."""
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="helsesim-app-"))
        atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
    return _ROOT


def runs_done(job_dir: Path) -> int:
    """Runs saved so far in a running job: each finished chunk is a folder
    ``parts/<first>-<last>`` (run ids; a chunk's runs are consecutive). Read-only: a chunk being
    written has a temporary name and is not counted."""
    parts = Path(job_dir) / results.PARTS
    n = 0
    try:
        for d in parts.iterdir():
            first, _, last = d.name.partition("-")
            if first.isdigit() and last.isdigit():
                n += int(last) - int(first) + 1
    except FileNotFoundError:
        pass
    return n


def run(setup: Setup, progress: Callable[[int, int], None] | None = None,
        n_jobs: int = -1, poll: float = 0.15) -> Analysis:
    """Run the analysis with helsesim's runner (paired seeds; in worker processes), calling
    ``progress(done, total)`` as runs finish, and read its tables."""
    cfg = experiment_config(setup, n_jobs)
    total = 2 * setup.n_seeds
    job = Path(tempfile.mkdtemp(prefix="job-", dir=_root()))
    t0 = time.perf_counter()
    with _RUN_LOCK, ThreadPoolExecutor(1) as pool:
        future = pool.submit(run_experiment, cfg, job, command=["helsesim-app"])
        while not future.done():
            if progress:
                progress(min(runs_done(job), total), total)
            time.sleep(poll)
        res = future.result()  # re-raises the runner's error
    if progress:
        progress(total, total)
    t = res.tables
    tables = {
        "runs": t["runs"], "summary": t["summary"], "differences": t["differences"],
        "years": t["years"],
        "municipalities": t.read("municipalities", MAP_COLUMNS, last_year=True),
        "projects": t.read("projects", TIE_COLUMNS),
    }
    return Analysis(setup, list(res.plan.arms), res.plan.baseline, list(res.plan.outcomes),
                    tables, job, time.perf_counter() - t0, res.manifest)


def discard(analysis: Analysis | None) -> None:
    """Remove an analysis' job folder (the app keeps the latest of each session)."""
    if analysis is not None:
        shutil.rmtree(analysis.job_dir, ignore_errors=True)


# --- what the app shows ---------------------------------------------------------------------

def brief_markdown(analysis: Analysis) -> str:
    """The decision brief of an analysis (markdown)."""
    return brief.brief_markdown(analysis.tables, baseline=analysis.baseline,
                                outcomes=analysis.outcomes, heading="### Decision brief")


@dataclass(frozen=True)
class Row:
    """One outcome of the side-by-side table, formatted: values as (median, "[q05, q95]") in
    the outcome's unit."""

    outcome: str
    label: str
    unit: str
    better: str | None
    baseline: tuple[str, str]
    arm: tuple[str, str]
    difference: tuple[str, str]
    seeds_better: str


def _cell(r: pd.Series, info: Outcome, fmt: Callable[[float, Outcome, bool], str]
          ) -> tuple[str, str]:
    return (fmt(float(r["median"]), info, False),
            f"[{fmt(float(r['q05']), info, False)}, {fmt(float(r['q95']), info, False)}]")


def side_by_side(analysis: Analysis) -> list[Row]:
    """Median and 90 % interval of each outcome for both arms, and the paired difference."""
    arm, base = analysis.arms[1], analysis.baseline
    s = analysis.tables["summary"]
    d = analysis.tables["differences"]
    rows = []
    for o in analysis.outcomes:
        info = outcome_info(o)
        so = s[s["outcome"] == o].set_index("arm")
        do = d[(d["outcome"] == o) & (d["arm"] == arm)]
        if base not in so.index or arm not in so.index:
            continue
        diff, better = ("–", ""), "–"
        if len(do) and int(do["n_pairs"].iloc[0]):
            r = do.iloc[0]
            diff = _cell(r, info, brief.change)
            if info.better:
                share = r["share_lower"] if info.better == "lower" else r["share_higher"]
                better = f"{round(share * r['n_pairs'])} of {int(r['n_pairs'])}"
        unit = brief.unit_of(info)
        rows.append(Row(o, info.label, unit, info.better,
                        _cell(so.loc[base], info, brief.level),
                        _cell(so.loc[arm], info, brief.level), diff, better))
    return rows


def _note(analysis: Analysis) -> str:
    s = analysis.setup
    return (f"{s.community}: {s.years} years, {s.n_seeds} paired seeds from seed {s.seed}; "
            "helsesim app.")


def map_figure(analysis: Analysis) -> Figure:
    """Where the money went and the collaboration ties, one panel per arm (a matplotlib
    Figure)."""
    nodes, ties = _map_data(analysis.tables["municipalities"],  # the last year only
                            analysis.tables["projects"], analysis.tables["runs"])
    single = nodes["community"].nunique() == 1
    arms = analysis.arms[::-1]  # the design first, the baseline beside it
    return maps.plot_map(nodes, ties, arms, title="Where the money went and who worked "
                             "together", note=_note(analysis), label_largest=3 if single else 0)


def time_series_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    return plots.plot_time_series(analysis.tables["years"], outcomes, analysis.arms,
                                     analysis.baseline, title="Outcomes over time",
                                     note=_note(analysis))


def distribution_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    outcomes = [o for o in outcomes if o in analysis.tables["runs"]]
    return plots.plot_outcome_distributions(
        results.ok_runs(analysis.tables["runs"]), outcomes, analysis.arms, analysis.baseline,
        title="End-of-run outcomes", note=_note(analysis))


def differences_figure(analysis: Analysis, outcomes: list[str]) -> Figure:
    return plots.plot_paired_differences(
        analysis.tables["differences"], outcomes, analysis.arms, analysis.baseline,
        title=f"Paired differences against {analysis.baseline}", note=_note(analysis))


def download_files(analysis: Analysis) -> dict[str, Path]:
    """Files of the job folder a user can download: tables, summary and manifest."""
    job = analysis.job_dir
    names = [*(f"{t}.parquet" for t in ("summary", "differences", *results.TABLES)),
             "summary.md", "manifest.json"]
    return {n: job / n for n in names if (job / n).exists()}


# --- step mode: one run, year by year ---------------------------------------------------------

def step_model_class() -> type[HealthSystem]:
    """A HealthSystem that stops (``running = False``) after its configured years, so that Mesa's
    play button stops there."""
    from helsesim.model import HealthSystem

    class SteppedHealthSystem(HealthSystem):
        def step(self) -> None:
            super().step()
            self.running = self.year < self.horizon

    return SteppedHealthSystem


def step_parameters(setup: Setup) -> dict:
    """Keyword arguments that make the step model: the design arm's configuration with the first
    seed (the run the experiment's replicate 0 of that arm is)."""
    arm = arm_changes(setup)[setup.arms()[0]]
    flat = {f"{g}.{k}": v for g, vs in arm.items() for k, v in vs.items()}
    cfg = build_config(setup.community, setup.design, setup.seed, setup.years, **{
        k: v for k, v in flat.items() if k != "allocation.design"})
    return {"cfg": cfg}


def step_state(model: HealthSystem) -> dict:
    """The tables of a step model so far: years, municipalities (this year), projects."""
    tables = model.tables()
    years = tables["years"]
    munis = tables["municipalities"]
    munis = munis[munis["year"] == model.year].assign(run_id=0, arm="this run")
    projects = tables["projects"].assign(arm="this run")
    runs = pd.DataFrame({"run_id": [0], "arm": ["this run"], "status": ["ok"]})
    return {"years": years.assign(run_id=0, arm="this run"), "municipalities": munis,
            "projects": projects, "runs": runs, "year": model.year, "final": model.horizon}


def _map_data(last_year: pd.DataFrame, projects: pd.DataFrame, runs: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's nodes (benefit per inhabitant at the end, by arm) and ties (mean joint
    projects per finished run of each arm), as the report draws them."""
    statics = last_year[["municipality_id", "name", "community", "population"]
                        ].drop_duplicates("municipality_id")
    benefits = last_year[["arm", "municipality_id", "benefit_per_capita"]]
    finished = runs[runs["status"] == "ok"].groupby("arm").size()
    return (maps.map_nodes(benefits, statics, maps.positions()),
            maps.project_ties(projects, finished))


def step_map_figure(state: dict, title: str) -> Figure:
    nodes, ties = _map_data(state["municipalities"], state["projects"], state["runs"])
    single = nodes["community"].nunique() == 1
    return maps.plot_map(nodes, ties, ["this run"], title=title,
                             note="Benefit received and ties from projects funded so far.",
                             label_largest=3 if single else 0)


def step_series_figure(state: dict, outcomes: list[str]) -> Figure:
    return plots.plot_time_series(state["years"], outcomes, ["this run"], None,
                                     title="This run so far")
