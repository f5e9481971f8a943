"""Figures of the app's own: the locator map of Norway. Pure matplotlib on tables the adapter
gives (no helsesim import)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

HIGHLIGHT = "#d95f02"
OTHER = "#c8c8c8"


def locator_map(positions: pd.DataFrame, community: str, title: str = "") -> Figure:
    """Norway's 357 municipalities as dots sized by population; the chosen health community's
    (all of them for ``norway``) in colour.

    Args:
        positions: ``lon``, ``lat``, ``population`` and ``community`` (key) per municipality.
        community: the key to highlight, or ``norway``.
    """
    fig = Figure(figsize=(3.1, 3.6), layout="constrained")
    ax = fig.subplots()
    chosen = (np.ones(len(positions), bool) if community == "norway"
              else (positions["community"] == community).to_numpy())
    size = 2 + 60 * np.sqrt(positions["population"].to_numpy(float)
                            / positions["population"].max())
    ax.scatter(positions["lon"][~chosen], positions["lat"][~chosen], s=size[~chosen], c=OTHER,
               linewidths=0)
    ax.scatter(positions["lon"][chosen], positions["lat"][chosen], s=size[chosen], c=HIGHLIGHT,
               edgecolors="black", linewidths=0.3, zorder=3)
    ax.set_aspect(1 / math.cos(math.radians(65.0)))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
