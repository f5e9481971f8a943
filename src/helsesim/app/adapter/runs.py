"""One analysis: what the user chose (:class:`Setup`), the experiment it is for helsesim's runner
(two arms, paired seeds), running it in worker processes with its progress, and its tables
(:class:`Analysis`)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, open_dict

from helsesim.app.adapter.choices import communities
from helsesim.report import maps
from helsesim.runner import compose_config, results, run_experiment

#: Columns of the tables the app reads (a Norway job's tables are read in part).
MAP_COLUMNS = list(dict.fromkeys([*maps.MAP_COLUMNS, *maps.STATIC_COLUMNS]))
TIE_COLUMNS = list(maps.TIE_COLUMNS)


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


