"""Global sensitivity analysis: Morris screening of every uncertain parameter over its plausible
range, then Sobol indices (Saltelli sampling) for the top k (SALib).

``helsesim experiment=sensitivity`` (see experiments/sensitivity/README.md). The samples are
drawn by SALib on the unit hypercube and mapped to values by each parameter's prior
(:mod:`helsesim.analysis.space`); every point x design runs with the same paired seeds through
the runner (:mod:`helsesim.analysis.runs`), so an effect is measured on common random numbers,
and a paired difference between designs (``two_stream − open_call``) is taken seed by seed
before it is averaged. Indices are computed for every outcome of the registry in the runs
table, for each design and each difference against the baseline design.

Writes ``sensitivity.parquet`` (parameter, outcome, design, method, index, value, conf),
``figures/morris_<design>.png`` (mu*–sigma per outcome), ``figures/sobol_<design>.png`` (S1 and
ST with 95 % intervals) and ``summary.md``.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from helsesim.analysis import AnalysisError, common, runs, space
from helsesim.outcomes import OUTCOMES

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: The pseudo-parameter whose Morris row estimates what seed noise alone gives an elementary
#: effect (see :func:`noise_rows`).
SEED_NOISE = "(seed noise)"
COLUMNS = ["parameter", "outcome", "design", "method", "index", "value", "conf"]


def problem(space_: list[space.Uncertainty]) -> dict:
    """SALib's problem on the unit hypercube (values come from each prior's quantiles)."""
    return {"num_vars": len(space_), "names": [u.name for u in space_],
            "bounds": [[0.0, 1.0]] * len(space_)}


def design_arms(space_: list[space.Uncertainty], unit: np.ndarray, designs: list[str]
                ) -> tuple[dict[str, dict], dict[str, int], dict[str, str]]:
    """The runner's arms for a sample: one per point and design."""
    values = space.values_of(space_, unit)
    arms, point_of, design_of = {}, {}, {}
    width = len(str(len(values)))
    for i, row in enumerate(values):
        delta = space.point_changes(space_, row)
        for d in designs:
            name = f"p{i:0{width}d}" + (f":{d}" if len(designs) > 1 else "")
            arms[name] = space.with_design(delta, d)
            point_of[name], design_of[name] = i, d
    return arms, point_of, design_of


def _designs(cfg: DictConfig) -> tuple[list[str], str | None]:
    from helsesim.allocation import DESIGNS

    names: list[str] = []
    for d in cfg.experiment.designs or [cfg.allocation.design]:
        names += list(DESIGNS) if d == "all" else [str(d)]
    base = cfg.experiment.baseline
    baseline = str(base) if base else ("open_call" if "open_call" in names else names[0])
    if baseline not in names:
        raise AnalysisError(f"experiment.baseline: {baseline!r} is not one of the "
                                 f"designs {names}")
    return names, (baseline if len(names) > 1 else None)


def morris_rows(prob: dict, unit: np.ndarray, means: dict[str, pd.DataFrame], levels: int,
                seed: int) -> tuple[list[dict], dict[str, dict[str, str]]]:
    from SALib.analyze import morris

    rows, skipped = [], {}
    for label, frame in means.items():
        ok, why = runs.finite_columns(frame)
        skipped[label] = why
        for outcome in ok:
            res = morris.analyze(prob, unit, frame[outcome].to_numpy(float), num_levels=levels,
                                 conf_level=0.95, num_resamples=200, seed=seed)
            for j, name in enumerate(prob["names"]):
                rows.append(dict(parameter=name, outcome=outcome, design=label, method="morris",
                                 index="mu_star", value=float(res["mu_star"][j]),
                                 conf=float(res["mu_star_conf"][j])))
                rows.append(dict(parameter=name, outcome=outcome, design=label, method="morris",
                                 index="sigma", value=float(res["sigma"][j]), conf=math.nan))
                rows.append(dict(parameter=name, outcome=outcome, design=label, method="morris",
                                 index="mu", value=float(res["mu"][j]), conf=math.nan))
    return rows, skipped


def noise_rows(noise: dict[str, pd.Series], levels: int) -> list[dict]:
    """What seed noise alone contributes to an elementary effect: the difference of two seed
    means (standard error sqrt(2) x se) over the Morris step (levels / (2 (levels - 1)))."""
    delta = levels / (2 * (levels - 1))
    return [dict(parameter=SEED_NOISE, outcome=o, design=label, method="morris",
                 index="mu_star", value=float(math.sqrt(2) * se / delta), conf=math.nan)
            for label, series in noise.items() for o, se in series.items() if np.isfinite(se)]


def sobol_rows(prob: dict, means: dict[str, pd.DataFrame], seed: int
               ) -> tuple[list[dict], dict[str, dict[str, str]]]:
    from SALib.analyze import sobol

    rows, skipped = [], {}
    for label, frame in means.items():
        ok, why = runs.finite_columns(frame)
        skipped[label] = why
        for outcome in ok:
            with warnings.catch_warnings():  # a design whose subsets are constant: said by NaN
                warnings.simplefilter("ignore", UserWarning)
                res = sobol.analyze(prob, frame[outcome].to_numpy(float),
                                    calc_second_order=False, num_resamples=200,
                                    conf_level=0.95, seed=seed)
            for j, name in enumerate(prob["names"]):
                for index in ("S1", "ST"):
                    rows.append(dict(parameter=name, outcome=outcome, design=label,
                                     method="sobol", index=index, value=float(res[index][j]),
                                     conf=float(res[f"{index}_conf"][j])))
    return rows, skipped


def top_parameters(table: pd.DataFrame, outcomes: list[str], k: int) -> list[str]:
    """The k parameters with the largest Morris mu*, each mu* relative to the largest for its
    outcome and design, maximised over the given outcomes and every design."""
    m = table[(table["method"] == "morris") & (table["index"] == "mu_star")
              & (table["parameter"] != SEED_NOISE) & table["outcome"].isin(outcomes)]
    if m.empty:
        return []
    top = m.groupby(["outcome", "design"])["value"].transform("max")
    score = (m["value"] / top.where(top > 0)).fillna(0).groupby(m["parameter"]).max()
    return list(score.sort_values(ascending=False, kind="stable").index[:k])


def run(cfg: DictConfig, out: Path) -> dict:
    """The sensitivity analysis of a composed configuration into the folder ``out``."""
    started = time.perf_counter()
    exp = cfg.experiment
    space_ = space.uncertainties(list(exp.parameters) or None)
    designs, baseline = _designs(cfg)
    prob = problem(space_)
    from SALib.sample import morris as morris_sample

    unit = morris_sample.sample(prob, N=int(exp.n_trajectories), num_levels=int(exp.morris_levels),
                                seed=int(cfg.seed))
    arms, point_of, design_of = design_arms(space_, unit, designs)
    log.info("sensitivity: Morris over %d parameters: %d points x %d designs x %d seeds",
             len(space_), len(unit), len(designs), exp.n_seeds)
    table_runs = runs.run_arms(cfg, out, "morris", arms)
    outcomes = runs.outcome_columns(table_runs)
    means = runs.point_means(table_runs, point_of, design_of, outcomes, designs, baseline)
    rows, skipped = morris_rows(prob, unit, means, int(exp.morris_levels), int(cfg.seed))
    noise = {d: runs.seed_noise(table_runs, point_of, design_of, outcomes, d) for d in designs}
    rows += noise_rows(noise, int(exp.morris_levels))
    table = pd.DataFrame(rows, columns=COLUMNS)
    stages = {"morris": dict(parameters=len(space_), points=len(unit), runs=len(table_runs))}
    headline = [o for o in exp.outcomes if o in outcomes]
    top = top_parameters(table, headline, int(exp.top_k))
    if top and int(exp.n_base) > 0:
        sub_space = [u for u in space_ if u.name in top]
        sub_prob = problem(sub_space)
        from SALib.sample import sobol as sobol_sample

        sub_unit = sobol_sample.sample(sub_prob, int(exp.n_base), calc_second_order=False,
                                       seed=int(cfg.seed))
        arms, point_of, design_of = design_arms(sub_space, sub_unit, designs)
        log.info("sensitivity: Sobol over the top %d: %d points x %d designs x %d seeds",
                 len(sub_space), len(sub_unit), len(designs), exp.n_seeds)
        sobol_runs = runs.run_arms(cfg, out, "sobol", arms)
        means = runs.point_means(sobol_runs, point_of, design_of, outcomes, designs, baseline)
        srows, _ = sobol_rows(sub_prob, means, int(cfg.seed))
        table = pd.concat([table, pd.DataFrame(srows, columns=COLUMNS)], ignore_index=True)
        stages["sobol"] = dict(parameters=len(sub_space), points=len(sub_unit),
                               runs=len(sobol_runs))
    common.write_parquet(table, out / "sensitivity.parquet")
    figures = draw(table, headline, list(means), out) if exp.figures else []
    info = dict(space=space_, designs=designs, baseline=baseline, stages=stages, top=top,
                skipped=skipped, headline=headline, figures=figures,
                seconds=time.perf_counter() - started)
    common.write_text(out / "summary.md", render(cfg, table, info))
    common.write_record(out, cfg, "sensitivity", started, dict(stages=stages, top=top))
    return info


# --- figures and report ------------------------------------------------------------------------

def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _grid(n: int) -> tuple[Figure, Iterator[Axes]]:
    """A figure of ``n`` panels, three to a row, and its axes in order (the spare ones hidden)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.9 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def draw(table: pd.DataFrame, outcomes: list[str], labels: list[str], out: Path) -> list[str]:
    """mu*–sigma per outcome and S1/ST with intervals, one figure per design or difference."""
    written = []
    for label in labels:
        m = table[(table["method"] == "morris") & (table["design"] == label)
                  & table["outcome"].isin(outcomes)]
        shown = [o for o in outcomes if o in set(m[m["index"] == "sigma"]["outcome"])]
        if shown:
            fig, axes = _grid(len(shown))
            for ax, o in zip(axes, shown, strict=False):
                d = m[m["outcome"] == o].pivot_table(index="parameter", columns="index",
                                                     values="value")
                noise = d.loc[SEED_NOISE, "mu_star"] if SEED_NOISE in d.index else None
                d = d.drop(index=SEED_NOISE, errors="ignore")
                ax.scatter(d["mu_star"], d["sigma"], s=12, color="#23395d")
                for p in d["mu_star"].nlargest(5).index:
                    ax.annotate(_short(p), (d.loc[p, "mu_star"], d.loc[p, "sigma"]),
                                fontsize=7, xytext=(3, 2), textcoords="offset points")
                if noise is not None and np.isfinite(noise):
                    ax.axvline(noise, color="#b03a2e", lw=0.8, ls="--", label="seed noise")
                    ax.legend(fontsize=7, loc="upper left")
                ax.set_title(OUTCOMES[o].label if o in OUTCOMES else o, fontsize=8)
                ax.set_xlabel("μ* (per unit of the range's quantile)", fontsize=7)
                ax.set_ylabel("σ", fontsize=7)
                ax.tick_params(labelsize=7)
            fig.suptitle(f"Morris screening: {label}", fontsize=10)
            name = f"morris_{runs.file_label(label)}"
            common.save_figure(fig, out / "figures" / f"{name}.png")
            written.append(name)
        s = table[(table["method"] == "sobol") & (table["design"] == label)
                  & table["outcome"].isin(outcomes)]
        shown = [o for o in outcomes if o in set(s["outcome"])]
        if shown:
            fig, axes = _grid(len(shown))
            for ax, o in zip(axes, shown, strict=False):
                d = s[s["outcome"] == o]
                params = list(d[d["index"] == "ST"].sort_values("value")["parameter"])
                y = np.arange(len(params))
                for off, index, color in ((-0.2, "S1", "#7f8c8d"), (0.2, "ST", "#23395d")):
                    e = d[d["index"] == index].set_index("parameter").reindex(params)
                    ax.barh(y + off, e["value"], height=0.38, xerr=e["conf"], color=color,
                            label=index, error_kw=dict(lw=0.7))
                ax.set_yticks(y, [_short(p) for p in params], fontsize=6)
                ax.set_title(OUTCOMES[o].label if o in OUTCOMES else o, fontsize=8)
                ax.legend(fontsize=7, loc="lower right")
                ax.tick_params(labelsize=7)
            fig.suptitle(f"Sobol indices with 95 % intervals: {label}", fontsize=10)
            name = f"sobol_{runs.file_label(label)}"
            common.save_figure(fig, out / "figures" / f"{name}.png")
            written.append(name)
    return written


def render(cfg: DictConfig, table: pd.DataFrame, info: dict) -> str:
    """summary.md of a sensitivity job: setup, the most influential parameters per headline
    outcome (Morris mu*, and Sobol ST where run), what could not be analysed, figures."""
    exp = cfg.experiment
    st = info["stages"]
    lines = ["# sensitivity: summary", "",
             f"**Question.** {exp.description}" if exp.description else "", "",
             "## Sensitivity", "",
             f"- Scenario `{cfg.scenario.name}`, {cfg.years} years; designs "
             f"{', '.join(f'`{d}`' for d in info['designs'])}"
             + (f"; paired differences against `{info['baseline']}` (same world and seed)."
                if info["baseline"] else "."),
             f"- Morris: {st['morris']['parameters']} parameters over their plausible ranges "
             f"(priors of helsesim.config), {exp.n_trajectories} trajectories, "
             f"{exp.morris_levels} levels: {st['morris']['points']} points, "
             f"{st['morris']['runs']} runs ({exp.n_seeds} paired seeds per point; runner job "
             "`morris/`)."]
    if "sobol" in st:
        lines.append(f"- Sobol (Saltelli sampling, first and total order): the top "
                     f"{st['sobol']['parameters']} by Morris μ*, N = {exp.n_base}: "
                     f"{st['sobol']['points']} points, {st['sobol']['runs']} runs (job "
                     "`sobol/`); the other parameters at their defaults.")
    lines += [f"- Time: {info['seconds']:.0f} s. Every index of every outcome: "
              "`sensitivity.parquet`.",
              "- μ* is the mean absolute elementary effect per unit of the range's quantile "
              f"(the whole range = 1); the row `{SEED_NOISE}` is what seed noise alone gives "
              f"({exp.n_seeds} seeds): parameters near it are not distinguishable from noise.",
              ""]
    not_sampled = space.not_sampled()
    if not_sampled:
        lines += [f"Not varied (lists of weights): {', '.join(f'`{p}`' for p in not_sampled)}.",
                  ""]
    m = table[(table["method"] == "morris") & (table["index"] == "mu_star")]
    s = table[(table["method"] == "sobol") & (table["index"] == "ST")]
    for label in dict.fromkeys(table["design"]):
        rows = []
        for o in info["headline"]:
            d = m[(m["design"] == label) & (m["outcome"] == o)].set_index("parameter")["value"]
            if d.empty:
                continue
            noise = d.get(SEED_NOISE, math.nan)
            d = d.drop(index=SEED_NOISE, errors="ignore").nlargest(5)
            top = ", ".join(f"`{_short(p)}` {common.num(v)}" for p, v in d.items())
            e = s[(s["design"] == label) & (s["outcome"] == o)].set_index("parameter")["value"]
            sob = ", ".join(f"`{_short(p)}` {common.num(v, 2)}" for p, v in e.nlargest(3).items())
            rows.append([OUTCOMES[o].label if o in OUTCOMES else o, top, common.num(noise),
                         sob or "–"])
        if rows:
            lines += [f"### {label}", "",
                      common.md_table(["Outcome", "Largest Morris μ*", "seed noise",
                                       "Largest Sobol ST"], rows), ""]
    skipped = {(lab, o): why for lab, d in info["skipped"].items() for o, why in d.items()
               if o in info["headline"]}
    if skipped:
        lines += ["Not analysed by Morris (headline outcomes): " + "; ".join(
            f"{o} ({lab}): {why}" for (lab, o), why in skipped.items()), ""]
    if info["figures"]:
        lines += ["## Figures", ""]
        lines += [f"![{n}](figures/{n}.png)" for n in info["figures"]]
        lines.append("")
    return "\n".join(lines)
