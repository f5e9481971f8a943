"""What a calibration shows: the posterior marginals and pairs, the posterior predictive check
(figures), and ``calibration.md`` (:func:`render`). :mod:`helsesim.analysis.calibration` runs
the ABC and calls these with its tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from helsesim.analysis import common, space


def draw(post: pd.DataFrame, summary: pd.DataFrame, ppc: pd.DataFrame,
         params: list[space.Uncertainty], out: Path) -> list[str]:
    """The figures of a calibration in ``out/figures``; returns their names."""
    import matplotlib.pyplot as plt

    from helsesim.analysis.sensitivity import _grid

    written = []
    last = post[post["generation"] == post["generation"].max()]
    fig, axes = _grid(len(params))
    s = summary.set_index("parameter")
    for ax, u in zip(axes, params, strict=False):
        lo, hi = u.interval(0.999) if not u.prior.startswith("beta") else (0.0, 1.0)
        ax.hist(last[u.name], bins=20, weights=last["weight"], density=True, color="#23395d",
                alpha=0.8, range=(min(lo, last[u.name].min()), max(hi, last[u.name].max())))
        grid = np.linspace(lo, hi, 200)
        ax.plot(grid, u.distribution().pdf(grid), color="#7f8c8d", lw=1, label="prior")
        ax.axvspan(s.loc[u.name, "q05"], s.loc[u.name, "q95"], color="#f5b041", alpha=0.25,
                   label="90 % interval")
        if "truth" in s.columns:
            ax.axvline(s.loc[u.name, "truth"], color="#b03a2e", lw=1.2, label="truth")
        ax.set_title(u.short, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.suptitle("Posterior marginals (last generation)", fontsize=10)
    common.save_figure(fig, out / "figures" / "marginals.png")
    written.append("marginals")
    if len(params) > 1:
        import pyabc

        df = last[[u.name for u in params]].rename(columns={u.name: u.short for u in params})
        arr = pyabc.visualization.plot_kde_matrix(df, last["weight"].to_numpy(float),
                                                  height=1.8, numx=40, numy=40)
        fig = np.asarray(arr).flat[0].get_figure()
        fig.suptitle("Posterior pairs (weighted KDE)", fontsize=10)
        common.save_figure(fig, out / "figures" / "pairs.png")
        written.append("pairs")
    if len(ppc):
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(ppc) + 1.2), layout="constrained")
        y = np.arange(len(ppc))
        scale = np.where(np.isfinite(ppc["tolerance"]), ppc["tolerance"], 1.0)
        centre = ppc["value"].where(ppc["kind"] == "value")
        ref = np.where(np.isfinite(centre.astype(float)), centre.astype(float), 0.0)
        for i, r in enumerate(ppc.itertuples()):
            lo = r.low if r.kind != "value" else r.value - r.tolerance
            hi = r.high if r.kind != "value" else r.value + r.tolerance
            lo = -10 if lo is None or not np.isfinite(lo) else (lo - ref[i]) / scale[i]
            hi = 10 if hi is None or not np.isfinite(hi) else (hi - ref[i]) / scale[i]
            ax.plot([lo, hi], [i, i], color="#f5b041", lw=6, alpha=0.6, solid_capstyle="butt")
            ax.plot([(r.q05 - ref[i]) / scale[i], (r.q95 - ref[i]) / scale[i]], [i, i],
                    color="#23395d", lw=1.5)
            ax.plot((r.median - ref[i]) / scale[i], i, "o", color="#23395d" if r.met else
                    "#b03a2e", ms=4)
        ax.set_yticks(y, [f"{r.target} ({r.design}, {r.role})" for r in ppc.itertuples()],
                      fontsize=7)
        ax.set_xlim(-10, 10)
        ax.set_xlabel("statistic, in tolerances (orange: the target; line: 90 % predictive "
                      "interval; dot: median, red if missed)", fontsize=7)
        ax.set_title("Posterior predictive check", fontsize=10)
        common.save_figure(fig, out / "figures" / "predictive_check.png")
        written.append("predictive_check")
    return written


def render(cfg: DictConfig, info: dict) -> str:
    """calibration.md from what :func:`helsesim.analysis.calibration.run` gathered."""
    exp = cfg.experiment
    syn = info["synthetic"]
    lines = ["# calibrate: ABC-SMC", "",
             f"**Question.** {exp.description}" if exp.description else "", "",
             f"- Scenario `{cfg.scenario.name}`, {cfg.years} years; designs "
             f"{', '.join(f'`{d}`' for d in info['designs'])}; targets `{cfg.targets.name}`"
             + (f" (made from a known parameter set over {cfg.targets.truth_seeds} seeds: "
                "recovery)" if syn else "") + ".",
             f"- pyabc ABC-SMC: {exp.population_size} particles, {info['generations']} "
             f"generations, {info['evaluations']} model evaluations of {exp.n_seeds} seeds "
             f"each (seeds drawn anew for every particle); distance: the p = 2 norm of the "
             f"targets' terms (distance to value or interval / tolerance); {info['seconds']:.0f}"
             " s. Database `abc.db` (the same command resumes it).",
             "- Priors: the plausible ranges of helsesim.config. Posterior: "
             "`posterior.parquet` (every generation); medians as a configuration: "
             "`calibrated.yaml`.", "",
             "## Posterior", "",
             "Weighted median and 90 % interval of the last generation; *width* is the 90 % "
             "interval's width over the prior's (near 1: the targets say little about it).", ""]
    s = info["summary"]
    head = ["parameter", "default", "prior 90 %", "median", "posterior 90 %", "width"]
    if syn:
        head += ["truth", "truth in 90 %"]
    rows = []
    for r in s.itertuples():
        row = [f"`{r.parameter}`", common.num(r.default),
               f"[{common.num(r.prior_q05)}, {common.num(r.prior_q95)}]", common.num(r.median),
               f"[{common.num(r.q05)}, {common.num(r.q95)}]", common.num(r.width_ratio, 2)]
        if syn:
            row += [common.num(r.truth), "yes" if r.truth_in_90 else "**no**"]
        rows.append(row)
    lines += [common.md_table(head, rows), ""]
    if syn:
        k = int(s["truth_in_90"].sum())
        lines += [f"Recovery: the true value lies in the 90 % interval for {k} of {len(s)} "
                  f"parameters ({k / len(s):.0%}).", ""]
    lines += ["## Targets", "", "Used in the distance:", ""]
    lines += [common.md_table(["target", "design", "value or bounds", "status", "source"],
                              [[t.name, t.design, t.describe(), t.status, t.source or "–"]
                               for t in info["used"]]), ""]
    if info["skipped"]:
        lines += ["Left out (not silently):", ""]
        lines += [f"- `{n}`: {why}" for n, why in info["skipped"]]
        lines.append("")
    ppc = info["ppc"]
    if len(ppc):
        lines += ["## Posterior predictive check", "",
                  f"{exp.n_predictive} posterior particles run again, each with new seeds of "
                  f"its own ({exp.n_seeds} each; runner jobs `predictive/q...`): the median and "
                  "90 % "
                  "interval of each statistic over the particles, the share of particles that "
                  "meet the target, and whether the median meets it.", ""]
        rows = [[r.target, r.design, r.role, r.target_text, common.num(r.median),
                 f"[{common.num(r.q05)}, {common.num(r.q95)}]", f"{r.share_met:.0%}",
                 "yes" if r.met else "**no**"] for r in ppc.itertuples()]
        lines += [common.md_table(["target", "design", "role", "value or bounds", "median",
                                   "90 %", "met by", "met"], rows), ""]
        lines += [f"Met: {int(ppc['met'].sum())} of {len(ppc)} targets.", ""]
    if info["figures"]:
        lines += ["## Figures", ""] + [f"![{n}](figures/{n}.png)" for n in info["figures"]]
        lines.append("")
    return "\n".join(lines)
