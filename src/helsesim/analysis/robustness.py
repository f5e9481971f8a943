"""Robustness and scenario discovery: every design over N plausible worlds, with paired seeds.

``helsesim experiment=robustness`` (see experiments/robustness/README.md). A world is one set
of the uncertain parameters: a Latin hypercube over their plausible ranges
(``scipy.stats.qmc``, mapped through each prior) or draws from a calibration's posterior. Every
world runs under every design with the same paired seeds through the runner. Then, per outcome
with a direction in the registry: the share of worlds in which each design beats the baseline,
the regret of each design (how far it is from the best design in that world), and PRIM boxes
(EMA workbench) that say in which part of the parameter space one design beats another.

Writes ``robustness.parquet`` (world, design, outcome, value, difference, beats_baseline,
regret), ``worlds.parquet`` (each world's parameters), ``scenario_discovery.md`` and figures.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from helsesim.analysis import AnalysisError, common, runs, space
from helsesim.analysis.sensitivity import _designs, _grid, design_arms
from helsesim.outcomes import OUTCOMES

log = logging.getLogger(__name__)

#: Density a PRIM box must reach (share of its worlds in which the design wins).
PRIM_THRESHOLD = 0.8
COLUMNS = ["world", "design", "outcome", "value", "difference", "beats_baseline", "regret"]


def lhs_worlds(space_: list[space.Uncertainty], n: int, seed: int) -> np.ndarray:
    """``n`` worlds on the unit hypercube: a Latin hypercube (scipy.stats.qmc)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=len(space_), seed=seed).random(n)


def posterior_worlds(path: str | None, n: int, seed: int
                     ) -> tuple[list[space.Uncertainty], np.ndarray]:
    """``n`` worlds drawn (with their weights) from the last generation of a calibration's
    ``posterior.parquet``; returns the fitted parameters and their values."""
    if not path or not Path(path).exists():
        raise AnalysisError(f"experiment.posterior: got {path!r}; allowed: the "
                                 "posterior.parquet of a calibration job (helsesim "
                                 "experiment=calibrate)")
    post = pd.read_parquet(path)
    last = post[post["generation"] == post["generation"].max()]
    names = [c for c in last.columns if c not in ("generation", "particle", "weight",
                                                  "distance")]
    space_ = space.uncertainties(names)
    rng = np.random.default_rng(seed)
    w = last["weight"].to_numpy(float)
    rows = rng.choice(len(last), size=n, replace=True, p=w / w.sum())
    return space_, last[names].to_numpy(float)[rows]


def outcome_table(means: dict[str, pd.DataFrame], designs: list[str], baseline: str
                  ) -> pd.DataFrame:
    """Tidy rows per world, design and outcome: the seed mean, the paired difference from the
    baseline, whether it beats the baseline (by the registry's direction) and its regret."""
    frames = []
    base = means[baseline]
    outcomes = list(base.columns)
    signs = pd.Series({o: runs.better_sign(o) for o in outcomes})
    stacked = pd.concat({d: means[d] for d in designs}, names=["design", "world"])
    best = (stacked * signs).groupby(level="world").max()
    for d in designs:
        v = means[d]
        diff = v - base
        beats = (diff * signs) > 0
        regret = best - v * signs
        for o in outcomes:
            frames.append(pd.DataFrame({
                "world": v.index, "design": d, "outcome": o, "value": v[o].to_numpy(),
                "difference": diff[o].to_numpy(),
                "beats_baseline": beats[o].to_numpy() if signs[o] else np.nan,
                "regret": regret[o].to_numpy() if signs[o] else np.nan}))
    out = pd.concat(frames, ignore_index=True)
    out.loc[out["design"] == baseline, "beats_baseline"] = np.nan
    return out[COLUMNS]


def prim_box(x: pd.DataFrame, y: np.ndarray) -> dict:
    """The PRIM box (EMA workbench) with the largest coverage among those whose density
    reaches :data:`PRIM_THRESHOLD`: its limits on the restricted parameters, coverage,
    density and mass."""
    base = float(np.mean(y)) if len(y) else math.nan
    if not len(y) or base in (0.0, 1.0):
        return dict(base_rate=base, limits=None, coverage=math.nan, density=math.nan,
                    mass=math.nan, trajectory=None)
    from ema_workbench.analysis import prim

    box = prim.Prim(x, y, threshold=PRIM_THRESHOLD).find_box()
    traj = box.peeling_trajectory
    good = traj[traj["density"] >= PRIM_THRESHOLD]
    if good.empty:
        i = int(traj["density"].idxmax())
    else:
        i = int(good.sort_values(["coverage", "res_dim"], ascending=[False, True]).index[0])
    box.select(i)
    stats, limits = box.inspect(i, style="data")[0]
    limits = limits.copy()
    limits.columns = ["min", "max", "qp_min", "qp_max"]
    return dict(base_rate=base, limits=limits, coverage=float(stats["coverage"]),
                density=float(stats["density"]), mass=float(stats["mass"]), trajectory=traj)


def run(cfg: DictConfig, out: Path) -> dict:
    """The robustness analysis of a composed configuration into the folder ``out``."""
    started = time.perf_counter()
    exp = cfg.experiment
    designs, baseline = _designs(cfg)
    if baseline is None:
        raise AnalysisError("experiment.designs: robustness compares designs; list at "
                                 "least two (e.g. [all])")
    n = int(exp.n_worlds)
    if exp.worlds == "posterior":
        space_, values = posterior_worlds(exp.posterior, n, int(cfg.seed))
        unit = None
    else:
        space_ = space.uncertainties(list(exp.parameters) or None)
        unit = lhs_worlds(space_, n, int(cfg.seed))
        values = space.values_of(space_, unit)
    if unit is not None:
        arms, point_of, design_of = design_arms(space_, unit, designs)
    else:
        arms, point_of, design_of = _value_arms(space_, values, designs)
    log.info("robustness: %d worlds x %d designs x %d seeds", n, len(designs), exp.n_seeds)
    table_runs = runs.run_arms(cfg, out, "worlds", arms)
    outcomes = runs.outcome_columns(table_runs)
    means = runs.point_means(table_runs, point_of, design_of, outcomes, designs, None)
    table = outcome_table(means, designs, baseline)
    worlds = pd.DataFrame(values, columns=[u.name for u in space_])
    worlds.insert(0, "world", np.arange(n))
    common.write_parquet(table, out / "robustness.parquet")
    common.write_parquet(worlds, out / "worlds.parquet")
    x = pd.DataFrame({u.short: values[:, j] for j, u in enumerate(space_)})
    boxes = []
    for q in exp.questions:
        for name in (q.design, q.rival):
            if name not in designs:
                raise AnalysisError(f"experiment.questions: design {name!r} is not run; "
                                         f"allowed: {', '.join(designs)}")
        if q.outcome not in means[q.design].columns:
            raise AnalysisError(f"experiment.questions: outcome {q.outcome!r} is not in "
                                     f"the runs; allowed: {', '.join(outcomes)}")
        sign = runs.better_sign(q.outcome) or 1.0
        diff = (means[q.design][q.outcome] - means[q.rival][q.outcome]).to_numpy()
        y = (sign * diff) > 0
        boxes.append(dict(question=q, **prim_box(x, y)))
    headline = [o for o in exp.outcomes if o in outcomes and runs.better_sign(o)]
    figures = draw(table, boxes, headline, designs, baseline, out) if exp.figures else []
    info = dict(space=space_, designs=designs, baseline=baseline, n_worlds=n,
                runs=len(table_runs), boxes=boxes, headline=headline, figures=figures,
                seconds=time.perf_counter() - started)
    common.write_text(out / "scenario_discovery.md", render(cfg, table, info))
    common.write_record(out, cfg, "robustness", started, dict(n_worlds=n, designs=designs))
    return info


def _value_arms(space_: list[space.Uncertainty], values: np.ndarray, designs: list[str]
                ) -> tuple[dict[str, dict], dict[str, int], dict[str, str]]:
    """Arms for worlds given as values (posterior draws)."""
    arms, point_of, design_of = {}, {}, {}
    width = len(str(len(values)))
    for i, row in enumerate(values):
        delta = space.point_changes(space_, row)
        for d in designs:
            name = f"w{i:0{width}d}:{d}"
            arms[name] = space.with_design(delta, d)
            point_of[name], design_of[name] = i, d
    return arms, point_of, design_of


# --- figures and report ------------------------------------------------------------------------

def share_table(table: pd.DataFrame, designs: list[str], baseline: str, outcomes: list[str]
                ) -> pd.DataFrame:
    """Share of worlds in which each design beats the baseline, designs x outcomes."""
    t = table[(table["design"] != baseline) & table["outcome"].isin(outcomes)]
    share = t.groupby(["design", "outcome"])["beats_baseline"].mean().unstack("outcome")
    return share.reindex(index=[d for d in designs if d != baseline], columns=outcomes)


def regret_table(table: pd.DataFrame, designs: list[str], outcomes: list[str]) -> pd.DataFrame:
    t = table[table["outcome"].isin(outcomes)]
    return t.groupby(["outcome", "design"])["regret"].agg(
        median="median", q90=lambda r: r.quantile(0.9), max="max").reset_index()


def draw(table: pd.DataFrame, boxes: list[dict], outcomes: list[str], designs: list[str],
         baseline: str, out: Path) -> list[str]:
    import matplotlib.pyplot as plt

    written = []
    if outcomes:
        share = share_table(table, designs, baseline, outcomes)
        fig, ax = plt.subplots(figsize=(2.5 + 1.1 * len(outcomes), 2.6 + 0.5 * len(share)),
                               layout="constrained")
        im = ax.imshow(share.to_numpy(float), vmin=0, vmax=1, cmap="RdBu", aspect="auto")
        ax.set_xticks(range(len(outcomes)), [OUTCOMES[o].label if o in OUTCOMES else o
                                             for o in outcomes], rotation=35, ha="right",
                      fontsize=7)
        ax.set_yticks(range(len(share)), share.index, fontsize=8)
        for (i, j), v in np.ndenumerate(share.to_numpy(float)):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax, label=f"share of worlds better than {baseline}")
        ax.set_title("Share of plausible worlds in which each design beats the baseline",
                     fontsize=9)
        common.save_figure(fig, out / "figures" / "share_beats_baseline.png")
        written.append("share_beats_baseline")
        fig, axes = _grid(len(outcomes))
        for ax, o in zip(axes, outcomes, strict=False):
            t = table[table["outcome"] == o]
            data = [t[t["design"] == d]["regret"].dropna().to_numpy() for d in designs]
            ax.boxplot(data, tick_labels=designs, showfliers=False)
            ax.tick_params(axis="x", labelrotation=30, labelsize=6)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_title(OUTCOMES[o].label if o in OUTCOMES else o, fontsize=8)
            ax.set_ylabel(f"regret [{OUTCOMES[o].unit if o in OUTCOMES else ''}]", fontsize=7)
        fig.suptitle("Regret over plausible worlds (distance from the best design)", fontsize=10)
        common.save_figure(fig, out / "figures" / "regret.png")
        written.append("regret")
    for k, b in enumerate(boxes):
        if b["trajectory"] is None:
            continue
        q, traj = b["question"], b["trajectory"]
        fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
        sc = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], cmap="viridis",
                        s=14)
        fig.colorbar(sc, ax=ax, label="restricted parameters")
        ax.axhline(PRIM_THRESHOLD, color="#b03a2e", lw=0.8, ls="--")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_title(f"PRIM: where {q.design} beats {q.rival}\non {q.outcome}", fontsize=9)
        name = f"prim_{k}_{q.design}_vs_{q.rival}_{q.outcome}"
        common.save_figure(fig, out / "figures" / f"{name}.png")
        written.append(name)
    return written


def render(cfg: DictConfig, table: pd.DataFrame, info: dict) -> str:
    exp = cfg.experiment
    designs, baseline, outcomes = info["designs"], info["baseline"], info["headline"]
    where = ("a Latin hypercube over the plausible ranges of "
             f"{len(info['space'])} uncertain parameters" if exp.worlds == "lhs" else
             f"draws from the posterior {exp.posterior}")
    lines = ["# robustness: scenario discovery", "",
             f"**Question.** {exp.description}" if exp.description else "", "",
             f"- Scenario `{cfg.scenario.name}`, {cfg.years} years; {info['n_worlds']} worlds "
             f"({where}); designs {', '.join(f'`{d}`' for d in designs)}, baseline "
             f"`{baseline}`; {exp.n_seeds} paired seeds per world and design "
             f"({info['runs']} runs, runner job `worlds/`); {info['seconds']:.0f} s.",
             "- A design *beats* the baseline in a world when its mean over the paired seeds "
             "is better in the outcome's direction (registry; a tie does not count, and some "
             "designs tie with the baseline in many worlds, e.g. a lottery that never has to "
             "ration); *regret* is its distance from "
             "the best design in that world, in the outcome's unit. Seed noise is inside each "
             "world's mean: with few seeds a share near 50 % may be noise.",
             "- Tables: `robustness.parquet` (every world, design and outcome), "
             "`worlds.parquet` (each world's parameters).", ""]
    if outcomes:
        share = share_table(table, designs, baseline, outcomes)
        lines += ["## Share of worlds in which each design beats the baseline", "",
                  common.md_table(["Design", *[OUTCOMES[o].label for o in outcomes]],
                                  [[f"`{d}`", *[f"{v:.0%}" if np.isfinite(v) else "–"
                                                for v in share.loc[d]]]
                                   for d in share.index]), ""]
        reg = regret_table(table, designs, outcomes)
        rows = []
        for o in outcomes:
            r = reg[reg["outcome"] == o].set_index("design")
            best = r["max"].idxmin()
            rows.append([OUTCOMES[o].label, *[f"{common.num(r.loc[d, 'median'])} / "
                                              f"{common.num(r.loc[d, 'max'])}" for d in designs],
                         f"`{best}`"])
        lines += ["## Regret", "", "Median / largest regret over the worlds; the last column "
                  "is the design with the smallest largest regret (minimax).", "",
                  common.md_table(["Outcome", *[f"`{d}`" for d in designs], "minimax"], rows),
                  ""]
    lines += ["## Scenario discovery (PRIM)", ""]
    for b in info["boxes"]:
        q = b["question"]
        lines += [f"### Where does `{q.design}` beat `{q.rival}` on {q.outcome}?", "",
                  f"It does in {b['base_rate']:.0%} of the worlds."]
        if b["limits"] is None:
            lines += ["No box: the answer is the same in every world.", ""]
            continue
        if b["limits"].empty:
            lines += [f"No box: that share is already above the density threshold "
                      f"({PRIM_THRESHOLD:.0%}) without restricting any parameter.", ""]
            continue
        lines += [f"PRIM box (EMA workbench; density threshold {PRIM_THRESHOLD:.0%}): it holds "
                  f"in {b['density']:.0%} of the worlds inside the box (density), which hold "
                  f"{b['coverage']:.0%} of all the worlds where it holds (coverage) and are "
                  f"{b['mass']:.0%} of all worlds (mass).", ""]
        rows = [[f"`{p}`", common.num(r["min"]), common.num(r["max"]),
                 common.num(np.nanmin([r["qp_min"], r["qp_max"]]))]
                for p, r in b["limits"].iterrows()]
        lines += [common.md_table(["parameter", "from", "to", "quasi-p"], rows), ""]
    if info["figures"]:
        lines += ["## Figures", ""]
        lines += [f"![{n}](figures/{n}.png)" for n in info["figures"]]
        lines.append("")
    return "\n".join(lines)
