"""Figures of an experiment: functions that take DataFrames and return matplotlib Figures.

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
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

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


def _label_width(labels: list[str]) -> float:
    """Inches taken by the longest tick label (at ~9 pt)."""
    return 0.075 * max((len(x) for x in labels), default=0)


def _wrap(text: str, width: int = 44) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _axis_label(key: str, prefix: str = "") -> str:
    info = outcome_info(key)
    unit = f"{prefix}{info.display_unit}" if info.display_unit else prefix.rstrip(", ")
    if info.better != "neither":
        unit += f"; {info.better} is better"
    return unit


def _grid(n: int, ncols: int = 3, panel: tuple[float, float] = (4.6, 3.2),
          extra_h: float = 1.2, extra_w: float = 0.0) -> tuple[Figure, np.ndarray]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel[0] * ncols + extra_w, panel[1] * nrows + extra_h),
                 layout="constrained")
    axs = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axs[n:]:
        ax.set_visible(False)
    return fig, axs[:n]


def _finish(fig: Figure, title: str, note: str) -> Figure:
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    if note:
        fig.supxlabel(_wrap(note, 150), fontsize=8.5, color="#333333")
    return fig


def _values(df: pd.DataFrame, key: str) -> np.ndarray:
    v = df[key].to_numpy(float) * outcome_info(key).scale
    return v[~np.isnan(v)]


# --- distributions ----------------------------------------------------------------------------

def plot_outcome_distributions(runs: pd.DataFrame, outcomes: list[str], arms: list[str],
                               baseline: str | None = None, title: str = "",
                               note: str = "") -> Figure:
    """One panel per outcome: box plots of the end-of-run values by arm, with every run."""
    colors = arm_colors(arms, baseline)
    fig, axs = _grid(len(outcomes), panel=(4.2, 0.45 * len(arms) + 1.6),
                     extra_w=_label_width(arms))
    jitter = np.random.default_rng(0)  # fixed: the same data gives the same picture
    for k, (ax, key) in enumerate(zip(axs, outcomes, strict=True)):
        info = outcome_info(key)
        data = [_values(runs[runs["arm"] == a], key) for a in arms]
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
        ax.set_title(_wrap(f"{info.theme + ': ' if info.theme else ''}{info.label}"),
                     fontsize=10)
        ax.set_xlabel(_axis_label(key), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="x", alpha=0.3)
    note = (note + " " if note else "") + (
        f"Dots: single runs; box: quartiles; thick line: median; whiskers: {PCT}.")
    return _finish(fig, title or "End-of-run outcomes by arm", note)


def plot_paired_differences(diffs: pd.DataFrame, outcomes: list[str], arms: list[str],
                            baseline: str, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: median and 90 % interval of (arm - baseline) over paired seeds."""
    others = [a for a in arms if a != baseline]
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in set(diffs["outcome"])]
    fig, axs = _grid(max(len(outcomes), 1), panel=(4.2, 0.42 * len(others) + 1.7),
                     extra_w=_label_width(others))
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
        ax.set_title(_wrap(f"{info.theme + ': ' if info.theme else ''}{info.label}"),
                     fontsize=10)
        ax.set_xlabel(_wrap(_axis_label(key, prefix=f"difference to {baseline}, "), 60),
                      fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="x", alpha=0.3)
    note = (note + " " if note else "") + (
        f"Each seed is run under every arm; difference = arm minus {baseline} for the same seed. "
        f"Dot: median difference; line: {PCT} of the differences. Dashed line: no difference.")
    return _finish(fig, title or f"Paired differences against {baseline}", note)


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
    ax.set_xlabel(f"{xi.label} [{_axis_label(x)}]")
    ax.set_ylabel(_wrap(f"{yi.label} [{_axis_label(y)}]", 60))
    ax.grid(alpha=0.3)
    ax.legend(title="Arm (median)", fontsize=9, title_fontsize=9, loc="best")
    note = (note + " " if note else "") + (
        f"Small dots: single runs; large dot: median of the arm; lines: {PCT} on each axis. "
        "Bottom left is better on both.")
    return _finish(fig, title or "Trade-off between equity and recruitment", note)


def plot_time_series(years: pd.DataFrame, outcomes: list[str], arms: list[str],
                     baseline: str | None = None, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: yearly median over runs with a 90 % band, by arm."""
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in years]
    fig, axs = _grid(len(outcomes), ncols=2, panel=(6.0, 3.6), extra_h=1.0, extra_w=2.0)
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
        ax.set_title(_wrap(info.label.replace(" (final year)", ""), 60), fontsize=10)
        ax.set_xlabel("Year (0 = start)")
        ax.set_ylabel(_wrap(_axis_label(key), 30), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colors[a], lw=2, label=a) for a in arms]
    fig.legend(handles=handles, loc="outside right upper", title="Arm", fontsize=9)
    note = (note + " " if note else "") + f"Line: median over runs; band: {PCT}."
    return _finish(fig, title or "Outcomes over time", note)


# --- per community --------------------------------------------------------------------------

def plot_communities(final: pd.DataFrame, outcomes: list[str], arms: list[str],
                     baseline: str | None = None, title: str = "", note: str = "") -> Figure:
    """One panel per outcome: each community's median and 90 % interval by arm (final year)."""
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in final]
    comms = sorted(final["community"].unique(), reverse=True)
    fig, axs = _grid(len(outcomes), ncols=len(outcomes), panel=(4.6, 0.32 * len(comms) + 1.8),
                     extra_w=2.0)
    off = np.linspace(-0.3, 0.3, len(arms)) if len(arms) > 1 else np.zeros(1)
    for k, (ax, key) in enumerate(zip(axs, outcomes, strict=True)):
        info = outcome_info(key)
        for j, arm in enumerate(arms):
            sel = final[final["arm"] == arm]
            for i, c in enumerate(comms):
                v = _values(sel[sel["community"] == c], key)
                if not v.size:
                    continue
                q = np.quantile(v, (0.5, *QUANTILES))
                ax.plot(q[1:], [i + off[j]] * 2, color=colors[arm], lw=1.2)
                ax.plot(q[0], i + off[j], "o", color=colors[arm], ms=3.5,
                        label=arm if i == 0 else None)
        ax.set_yticks(range(len(comms)), [c.replace("_", " ") for c in comms] if k == 0
                      else [""] * len(comms))
        ax.set_title(_wrap(info.label, 40), fontsize=10)
        ax.set_xlabel(_axis_label(key), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color=colors[a], marker="o", lw=1.2, label=a) for a in arms]
    fig.legend(handles=handles, loc="outside right upper", title="Arm", fontsize=9)
    note = (note + " " if note else "") + (
        f"Per health community, final year. Dot: median over runs; line: {PCT}.")
    return _finish(fig, title or "Outcomes by health community", note)


# --- map ------------------------------------------------------------------------------------

def plot_map(munis: pd.DataFrame, ties: pd.DataFrame, arms: list[str], title: str = "",
             note: str = "", label_largest: int = 3) -> Figure:
    """Municipalities at their positions, sized by population and coloured by RS benefit per
    inhabitant; lines are collaboration ties (joint funded projects). One panel per arm.

    Args:
        munis: one row per arm and node: ``arm``, ``node``, ``name``, ``kind``
            (``municipality`` or ``trust``), ``lon``, ``lat``, ``population``,
            ``benefit_per_capita`` (NOK per inhabitant; NaN for trusts).
        ties: ``arm``, ``a``, ``b`` (node ids) and ``weight`` (joint projects per run).
    """
    n_nodes = int((munis["kind"] == "municipality").sum() / max(len(arms), 1))
    big = n_nodes > 100  # the whole country: fewer, larger panels and smaller markers
    if big:
        ncols = min(len(arms), 3)
    else:
        ncols = len(arms) if len(arms) <= 5 else math.ceil(len(arms) / 2)
    lon, lat = munis["lon"].to_numpy(float), munis["lat"].to_numpy(float)
    # 1 degree of latitude is 1/cos(lat) times as long as 1 degree of longitude
    aspect = 1 / math.cos(math.radians(float(np.nanmean(lat))))
    w, h = np.ptp(lon) + 0.6, (np.ptp(lat) + 0.6) * aspect
    panel_w = 5.5 if big else 3.6
    panel_h = float(np.clip(0.7 * panel_w * h / max(w, 1e-9), 2.0, 8.0)) + 0.8
    fig, axs = _grid(len(arms), ncols=ncols, panel=(panel_w, panel_h), extra_h=0.6,
                     extra_w=3.5)  # room for the colour bar and the legend
    m = munis[munis["kind"] == "municipality"]
    vmax = float(np.nanquantile(m["benefit_per_capita"], 0.98)) if len(m) else 1.0
    norm = Normalize(vmin=0.0, vmax=vmax if vmax > 0 else 1.0)
    cmap = colormaps["viridis"]
    pmax = float(m["population"].max()) if len(m) else 1.0

    smax = 160 if big else 420
    wmax = float(ties["weight"].max()) if len(ties) else 1.0

    def size(pop: ArrayLike) -> np.ndarray:
        return 4 + smax * np.sqrt(np.asarray(pop, float) / pmax)

    def width(w: ArrayLike) -> np.ndarray:
        # sqrt: the many weak ties stay visible beside the strong ones
        return 0.3 + 3.5 * np.sqrt(np.asarray(w, float) / wmax)

    for ax, arm in zip(axs, arms, strict=True):
        nodes = munis[munis["arm"] == arm].set_index("node")
        t = ties[ties["arm"] == arm]
        t = t[t["a"].isin(nodes.index) & t["b"].isin(nodes.index)]
        if len(t):
            segs = np.stack([nodes.loc[t["a"], ["lon", "lat"]].to_numpy(float),
                             nodes.loc[t["b"], ["lon", "lat"]].to_numpy(float)], axis=1)
            ax.add_collection(LineCollection(
                segs, linewidths=width(t["weight"].to_numpy(float)),
                colors="#303030", alpha=0.45, zorder=1))
        mm = nodes[nodes["kind"] == "municipality"]
        ax.scatter(mm["lon"], mm["lat"], s=size(mm["population"]),
                   c=cmap(norm(mm["benefit_per_capita"].to_numpy(float))),
                   edgecolors="black", linewidths=0.4, zorder=2)
        tr = nodes[nodes["kind"] == "trust"]
        ax.scatter(tr["lon"], tr["lat"], s=30 if big else 70, marker="s", color="#d62728",
                   edgecolors="black", linewidths=0.6, zorder=3)
        if label_largest:
            for _, r in mm.nlargest(label_largest, "population").iterrows():
                ax.annotate(r["name"], (r["lon"], r["lat"]), xytext=(5, 4),
                            textcoords="offset points", fontsize=8)
        ax.set_aspect(aspect)
        ax.set_title(arm, fontsize=11)
        ax.set_xlabel("Longitude (°E)", fontsize=8)
        ax.set_ylabel("Latitude (°N)", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(labelsize=7)
        ax.autoscale_view()
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axs), shrink=0.9, aspect=30,
                 label=_wrap("RS benefit received over the run (NOK per inhabitant, median "
                             "of runs)", 40))
    handles = [Line2D([], [], ls="", marker="o", ms=math.sqrt(size(p)), mfc="white",
                      mec="black", label=f"{p:,.0f} inhabitants")
               for p in (1_000, 10_000, 50_000, 500_000) if p <= pmax * 1.2]
    handles.append(Line2D([], [], ls="", marker="s", ms=8, color="#d62728", mec="black",
                          label=_wrap("health trust (drawn beside the largest municipality)", 28)))
    for wt in sorted({min(1.0, wmax), wmax}):
        handles.append(Line2D([], [], color="#303030", alpha=0.6, lw=float(width(wt)),
                              label=f"tie: {wt:.2g} joint funded project"
                                    f"{'' if wt == 1 else 's'} per run"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8.5, labelspacing=1.2,
               borderpad=0.8)
    note = (note + " " if note else "") + (
        "Municipalities at their 2024 positions (Kartverket), sized by population (SSB 2024). "
        "Ties: lead-partner pairs of funded projects, mean count per run.")
    return _finish(fig, title or "Where the money went and who worked together", note)
