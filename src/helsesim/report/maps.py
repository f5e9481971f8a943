"""Maps: where the money went and who worked together (the data from a job's tables, and the
figure), and in the national experiment which design wins in each health community.

The map data are computed from the tables in parts (the last year's benefits, one run's
municipalities, the projects in batches), so that a sweep's report does not hold its
municipalities or projects tables in memory. Positions are the shipped municipality positions
(:func:`helsesim.data.municipalities`: the mean of each municipality's boundary vertices).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from helsesim.outcomes import outcome_info
from helsesim.report.plots import arm_colors, finish, grid, wrap
from helsesim.runner import results

#: The columns each figure reads (a sweep's tables are read in part, not whole): the map's
#: values of every run, and the municipalities' attributes of one run.
MAP_COLUMNS = ["arm", "municipality_id", "benefit_per_capita"]
STATIC_COLUMNS = ["municipality_id", "name", "community", "population"]
TIE_COLUMNS = ["arm", "lead_id", "partners", "trust_party", "community"]
ATTRIBUTION = ("Municipalities at their 2024 positions (Kartverket), sized by population "
               "(SSB 2024).")


# --- data ---------------------------------------------------------------------------------------

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


def project_ties(projects: pd.DataFrame | pa.Table | Iterable[pd.DataFrame | pa.Table],
                 n_runs: pd.Series) -> pd.DataFrame:
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


# --- figures ------------------------------------------------------------------------------------

def _frame(points: pd.DataFrame, panel_w: float) -> tuple[float, float]:
    """The aspect that keeps distances true at the points' mean latitude (1 degree of latitude
    is 1/cos(lat) times as long as 1 degree of longitude) and the height of a panel of width
    ``panel_w`` (inches)."""
    lon, lat = points["lon"].to_numpy(float), points["lat"].to_numpy(float)
    aspect = 1 / math.cos(math.radians(float(np.nanmean(lat))))
    w, h = np.ptp(lon) + 0.6, (np.ptp(lat) + 0.6) * aspect
    return aspect, float(np.clip(0.7 * panel_w * h / max(w, 1e-9), 2.0, 8.0)) + 0.8


def _axes(ax: Axes, aspect: float, title: str) -> None:
    ax.set_aspect(aspect)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("Longitude (°E)", fontsize=8)
    ax.set_ylabel("Latitude (°N)", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(labelsize=7)
    ax.autoscale_view()


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
    panel_w = 5.5 if big else 3.6
    aspect, panel_h = _frame(munis, panel_w)
    fig, axs = grid(len(arms), ncols=ncols, panel=(panel_w, panel_h), extra_h=0.6,
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
        _axes(ax, aspect, arm)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axs), shrink=0.9, aspect=30,
                 label=wrap("RS benefit received over the run (NOK per inhabitant, median "
                             "of runs)", 40))
    handles = [Line2D([], [], ls="", marker="o", ms=math.sqrt(size(p)), mfc="white",
                      mec="black", label=f"{p:,.0f} inhabitants")
               for p in (1_000, 10_000, 50_000, 500_000) if p <= pmax * 1.2]
    handles.append(Line2D([], [], ls="", marker="s", ms=8, color="#d62728", mec="black",
                          label=wrap("health trust (drawn beside the largest municipality)", 28)))
    for wt in sorted({min(1.0, wmax), wmax}):
        handles.append(Line2D([], [], color="#303030", alpha=0.6, lw=float(width(wt)),
                              label=f"tie: {wt:.2g} joint funded project"
                                    f"{'' if wt == 1 else 's'} per run"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8.5, labelspacing=1.2,
               borderpad=0.8)
    note = (note + " " if note else "") + ATTRIBUTION + (
        " Ties: lead-partner pairs of funded projects, mean count per run.")
    return finish(fig, title or "Where the money went and who worked together", note)


def _community_labels(ax: Axes, munis: pd.DataFrame) -> None:
    """Each community's name at its population-weighted centre."""
    from helsesim.report.communities import community_name

    w = munis.assign(wx=munis["lon"] * munis["population"], wy=munis["lat"] * munis["population"])
    centre = w.groupby("community")[["wx", "wy", "population"]].sum()
    for key, r in centre.iterrows():
        ax.annotate(community_name(str(key)), (r["wx"] / r["population"],
                                               r["wy"] / r["population"]),
                    fontsize=6, ha="center", va="center", color="#222222", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.6))


#: Fill of a community where no design is best (equal medians, e.g. a Gini of one municipality).
TIE_COLOR = "#d0d0d0"


def plot_winner_map(munis: pd.DataFrame, winners: pd.DataFrame, outcomes: list[str],
                    arms: list[str], baseline: str | None = None, title: str = "",
                    note: str = "") -> Figure:
    """One panel per outcome: every municipality coloured by the design that is best in its
    health community (median over seeds); a filled dot where that design beats every other in
    at least 80 % of the paired seeds, a ring where the lead is within seed noise.

    Args:
        munis: one row per municipality: ``lon``, ``lat``, ``population``, ``community``.
        winners: one row per community and outcome: ``community``, ``outcome``, ``winner``
            (an arm, or None for a tie) and ``clear`` (bool).
    """
    colors = arm_colors(arms, baseline)
    outcomes = [o for o in outcomes if o in set(winners["outcome"])]
    aspect, panel_h = _frame(munis, 4.2)
    fig, axs = grid(max(len(outcomes), 1), ncols=min(len(outcomes), 3) or 1,
                    panel=(4.2, panel_h), extra_h=0.9, extra_w=2.6)
    pmax = float(munis["population"].max())
    size = 3 + 110 * np.sqrt(munis["population"].to_numpy(float) / pmax)
    for ax, key in zip(axs, outcomes, strict=False):
        w = winners[winners["outcome"] == key].set_index("community")
        arm = munis["community"].map(w["winner"])
        clear = munis["community"].map(w["clear"]).fillna(False).to_numpy(bool)
        col = np.array([colors.get(a, TIE_COLOR) if isinstance(a, str) else TIE_COLOR
                        for a in arm], dtype=object)
        filled = clear | ~arm.map(lambda a: isinstance(a, str)).to_numpy(bool)
        ax.scatter(munis["lon"][filled], munis["lat"][filled], s=size[filled],
                   c=list(col[filled]), edgecolors="black", linewidths=0.3, zorder=2)
        ax.scatter(munis["lon"][~filled], munis["lat"][~filled], s=size[~filled],
                   facecolors="white", edgecolors=list(col[~filled]), linewidths=1.1, zorder=2)
        info = outcome_info(key)
        _axes(ax, aspect, wrap(f"{info.label} ({info.better} is better)", 44))
        ax.title.set_fontsize(9)
        if ax is axs[0]:
            _community_labels(ax, munis)
    handles = [Line2D([], [], ls="", marker="o", ms=8, mfc=colors[a], mec="black", label=a)
               for a in arms if (winners["winner"] == a).any()]
    handles += [Line2D([], [], ls="", marker="o", ms=8, mfc="#888888", mec="black",
                       label=wrap("filled: best, and better than every other design in "
                                  "≥ 80 % of paired seeds", 30)),
                Line2D([], [], ls="", marker="o", ms=8, mfc="white", mec="#888888", mew=1.5,
                       label=wrap("ring: best median, but within seed noise", 30))]
    if winners["winner"].isna().any():
        handles.append(Line2D([], [], ls="", marker="o", ms=8, mfc=TIE_COLOR, mec="black",
                              label=wrap("grey: no design differs, or the outcome is "
                                         "undefined there", 30)))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8.5, labelspacing=1.0,
               title="Best design in the community", title_fontsize=9)
    note = (note + " " if note else "") + (
        "Every municipality takes the colour of its health community's best design on the "
        "outcome (median over seeds, final year). " + ATTRIBUTION)
    return finish(fig, title or "Which design is best in each health community", note)
