"""Figures of an experiment: functions that take DataFrames and return matplotlib Figures (the
maps are in :mod:`helsesim.report.maps`, the dose-response curves in
:mod:`helsesim.report.dose`).

No model runs and no file I/O here (the report saves the figures). Figures are built with
``matplotlib.figure.Figure`` rather than pyplot, so no GUI backend and no global figure state
are involved. Every figure has a title, axis labels with units and a legend, and a note saying
what the points, lines and intervals are.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from helsesim.outcomes import outcome_info
from helsesim.runner.summaries import QUANTILES

BASELINE_COLOR = "#4d4d4d"
PCT = f"{int(QUANTILES[0] * 100)}th-{int(QUANTILES[1] * 100)}th percentile"


def arm_colors(arms: list[str], baseline: str | None = None) -> dict[str, str]:
    """A fixed colour per arm; the baseline is dark grey."""
    cmap = colormaps["tab10" if len(arms) <= 10 else "tab20"]
    others = [a for a in arms if a != baseline]
    out = {a: cmap(i % cmap.N) for i, a in enumerate(others)}
    if baseline in arms:
        out[baseline] = BASELINE_COLOR
    return out


def label_width(labels: list[str]) -> float:
    """Inches taken by the longest tick label (at ~9 pt)."""
    return 0.075 * max((len(x) for x in labels), default=0)


def wrap(text: str, width: int = 44) -> str:
    return "\n".join(textwrap.wrap(text, width))


def axis_label(key: str, prefix: str = "") -> str:
    info = outcome_info(key)
    unit = f"{prefix}{info.display_unit}" if info.display_unit else prefix.rstrip(", ")
    if info.better != "neither":
        unit += f"; {info.better} is better"
    return unit


def grid(n: int, ncols: int = 3, panel: tuple[float, float] = (4.6, 3.2),
          extra_h: float = 1.2, extra_w: float = 0.0) -> tuple[Figure, np.ndarray]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel[0] * ncols + extra_w, panel[1] * nrows + extra_h),
                 layout="constrained")
    axs = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axs[n:]:
        ax.set_visible(False)
    return fig, axs[:n]


def finish(fig: Figure, title: str, note: str) -> Figure:
    """The title above and the note below, wrapped to the figure's width (~15 characters of
    8.5 pt text per inch)."""
    width = int(fig.get_figwidth() * 15)
    if title:
        fig.suptitle(wrap(title, int(width * 0.75)), fontsize=13, fontweight="bold")
    if note:
        fig.supxlabel(wrap(note, min(width, 170)), fontsize=8.5, color="#333333")
    return fig


def values(df: pd.DataFrame, key: str) -> np.ndarray:
    v = df[key].to_numpy(float) * outcome_info(key).scale
    return v[~np.isnan(v)]


# --- distributions ----------------------------------------------------------------------------

def plot_outcome_distributions(runs: pd.DataFrame, outcomes: list[str], arms: list[str],
                               baseline: str | None = None, title: str = "",
                               note: str = "") -> Figure:
    """One panel per outcome: box plots of the end-of-run values by arm, with every run."""
    colors = arm_colors(arms, baseline)
    fig, axs = grid(len(outcomes), panel=(4.2, 0.45 * len(arms) + 1.6),
                     extra_w=label_width(arms))
    jitter = np.random.default_rng(0)  # fixed: the same data gives the same picture
    for k, (ax, key) in enumerate(zip(axs, outcomes, strict=True)):
        info = outcome_info(key)
        data = [values(runs[runs["arm"] == a], key) for a in arms]
        pos = np.arange(len(arms))[::-1]
        ok = [i for i, d in enumerate(data) if d.size]
        if ok:
            bp = ax.boxplot([data[i] for i in ok], positions=pos[ok], orientation="horizontal",
                            widths=0.6, whis=(QUANTILES[0] * 100, QUANTILES[1] * 100),
                            showfliers=False, patch_artist=True,
                            medianprops=dict(color="black", linewidth=1.6))
            for patch, i in zip(bp["boxes"], ok, strict=True):
                patch.set_facecolor(colors[arms[i]])
                patch.set_alpha(0.35)
        for i, d in enumerate(data):
            ax.scatter(d, pos[i] + jitter.uniform(-0.18, 0.18, d.size), s=9,
                       color=colors[arms[i]], alpha=0.7, linewidths=0, zorder=3)
        ax.set_yticks(pos, arms if k % 3 == 0 else [""] * len(arms))
        ax.set_title(wrap(f"{info.theme + ': ' if info.theme else ''}{info.label}"),
                     fontsize=10)
        ax.set_xlabel(axis_label(key), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="x", alpha=0.3)
    note = (note + " " if note else "") + (
        f"Dots: single runs; box: quartiles; thick line: median; whiskers: {PCT}.")
    return finish(fig, title or "End-of-run outcomes by arm", note)


def plot_paired_differences(diffs: pd.DataFrame, outcomes: list[str], arms: list[str],
                            baseline: str, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: median and 90 % interval of (arm - baseline) over paired seeds."""
    others = [a for a in arms if a != baseline]
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in set(diffs["outcome"])]
    fig, axs = grid(max(len(outcomes), 1), panel=(4.2, 0.42 * len(others) + 1.7),
                     extra_w=label_width(others))
    for k, (ax, key) in enumerate(zip(axs, outcomes, strict=False)):
        info = outcome_info(key)
        pos = np.arange(len(others))[::-1]
        for i, arm in enumerate(others):
            row = diffs[(diffs["arm"] == arm) & (diffs["outcome"] == key)]
            if row.empty or not row["n_pairs"].iloc[0]:
                continue
            r = row.iloc[0]
            s = info.scale
            ax.plot([r["q05"] * s, r["q95"] * s], [pos[i]] * 2, color=colors[arm], lw=2.2,
                    solid_capstyle="round")
            ax.plot(r["median"] * s, pos[i], "o", color=colors[arm], ms=7, mec="black",
                    mew=0.6, zorder=3)
        ax.axvline(0, color="black", lw=0.9, ls="--")
        ax.set_yticks(pos, others if k % 3 == 0 else [""] * len(others))
        ax.set_title(wrap(f"{info.theme + ': ' if info.theme else ''}{info.label}"),
                     fontsize=10)
        ax.set_xlabel(wrap(axis_label(key, prefix=f"difference to {baseline}, "), 60),
                      fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="x", alpha=0.3)
    note = (note + " " if note else "") + (
        f"Each seed is run under every arm; difference = arm minus {baseline} for the same seed. "
        f"Dot: median difference; line: {PCT} of the differences. Dashed line: no difference.")
    return finish(fig, title or f"Paired differences against {baseline}", note)


def plot_tradeoff(runs: pd.DataFrame, arms: list[str], x: str, y: str,
                  baseline: str | None = None, title: str = "", note: str = "") -> Figure:
    """Scatter of two outcomes, one dot per run, with each arm's median and 90 % intervals."""
    colors = arm_colors(arms, baseline)
    fig = Figure(figsize=(8.5, 6.2), layout="constrained")
    ax = fig.subplots()
    xi, yi = outcome_info(x), outcome_info(y)
    for arm in arms:
        sel = runs[runs["arm"] == arm][[x, y]].dropna()
        if sel.empty:
            continue
        xv, yv = sel[x].to_numpy(float) * xi.scale, sel[y].to_numpy(float) * yi.scale
        ax.scatter(xv, yv, s=16, color=colors[arm], alpha=0.35, linewidths=0)
        qx, qy = np.quantile(xv, (0.5, *QUANTILES)), np.quantile(yv, (0.5, *QUANTILES))
        ax.plot(qx[1:], [qy[0]] * 2, color=colors[arm], lw=1.8)
        ax.plot([qx[0]] * 2, qy[1:], color=colors[arm], lw=1.8)
        ax.plot(qx[0], qy[0], "o", ms=10, color=colors[arm], mec="black", mew=0.8,
                label=arm, zorder=4)
    ax.set_xlabel(f"{xi.label} [{axis_label(x)}]")
    ax.set_ylabel(wrap(f"{yi.label} [{axis_label(y)}]", 60))
    ax.grid(alpha=0.3)
    ax.legend(title="Arm (median)", fontsize=9, title_fontsize=9, loc="best")
    note = (note + " " if note else "") + (
        f"Small dots: single runs; large dot: median of the arm; lines: {PCT} on each axis. "
        "Bottom left is better on both.")
    return finish(fig, title or "Trade-off between equity and recruitment", note)


def plot_time_series(years: pd.DataFrame, outcomes: list[str], arms: list[str],
                     baseline: str | None = None, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: yearly median over runs with a 90 % band, by arm."""
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in years]
    fig, axs = grid(len(outcomes), ncols=2, panel=(6.0, 3.6), extra_h=1.0, extra_w=2.0)
    for ax, key in zip(axs, outcomes, strict=True):
        info = outcome_info(key)
        for arm in arms:
            sel = years[years["arm"] == arm]
            if sel.empty:
                continue
            g = sel.groupby("year")[key]
            q = g.quantile([0.5, *QUANTILES]).unstack() * info.scale
            ax.fill_between(q.index, q[QUANTILES[0]], q[QUANTILES[1]], color=colors[arm],
                            alpha=0.15, linewidth=0)
            ax.plot(q.index, q[0.5], color=colors[arm], lw=2, label=arm)
        ax.set_title(wrap(info.label.replace(" (final year)", ""), 60), fontsize=10)
        ax.set_xlabel("Year (0 = start)")
        ax.set_ylabel(wrap(axis_label(key), 30), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colors[a], lw=2, label=a) for a in arms]
    fig.legend(handles=handles, loc="outside right upper", title="Arm", fontsize=9)
    note = (note + " " if note else "") + f"Line: median over runs; band: {PCT}."
    return finish(fig, title or "Outcomes over time", note)


# --- per community --------------------------------------------------------------------------

def plot_communities(final: pd.DataFrame, outcomes: list[str], arms: list[str],
                     baseline: str | None = None, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: each community's median and 90 % interval by arm (final year)."""
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in final]
    comms = sorted(final["community"].unique(), reverse=True)
    fig, axs = grid(len(outcomes), ncols=len(outcomes), panel=(4.6, 0.32 * len(comms) + 1.8),
                     extra_w=2.0)
    off = np.linspace(-0.3, 0.3, len(arms)) if len(arms) > 1 else np.zeros(1)
    for k, (ax, key) in enumerate(zip(axs, outcomes, strict=True)):
        info = outcome_info(key)
        for j, arm in enumerate(arms):
            sel = final[final["arm"] == arm]
            for i, c in enumerate(comms):
                v = values(sel[sel["community"] == c], key)
                if not v.size:
                    continue
                q = np.quantile(v, (0.5, *QUANTILES))
                ax.plot(q[1:], [i + off[j]] * 2, color=colors[arm], lw=1.2)
                ax.plot(q[0], i + off[j], "o", color=colors[arm], ms=3.5,
                        label=arm if i == 0 else None)
        ax.set_yticks(range(len(comms)), [c.replace("_", " ") for c in comms] if k == 0
                      else [""] * len(comms))
        ax.set_title(wrap(info.label, 40), fontsize=10)
        ax.set_xlabel(axis_label(key), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color=colors[a], marker="o", lw=1.2, label=a) for a in arms]
    fig.legend(handles=handles, loc="outside right upper", title="Arm", fontsize=9)
    note = (note + " " if note else "") + (
        f"Per health community, final year. Dot: median over runs; line: {PCT}.")
    return finish(fig, title or "Outcomes by health community", note)
