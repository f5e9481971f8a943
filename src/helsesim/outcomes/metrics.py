"""Outcome metrics as pure functions over arrays (formulas: research/anchors-domain.md §5).

Notation: benefit g_i and population p_i of unit i; per-capita benefit y_i = g_i / p_i;
population share pi_i = p_i / sum(p); benefit share s_i = g_i / sum(g).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike


def _arrays(values: ArrayLike, weights: ArrayLike | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.shape != w.shape:
        raise ValueError("values and weights must have the same shape")
    return x, w


def _shares(values: ArrayLike, weights: ArrayLike | None
            ) -> tuple[np.ndarray, np.ndarray, float]:
    """Values, weights normalised to sum 1, and the weighted mean (0 when undefined)."""
    x, w = _arrays(values, weights)
    if x.size == 0 or w.sum() <= 0:
        return x, w, 0.0
    w = w / w.sum()
    return x, w, float(np.sum(w * x))


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Population-weighted Gini: (1 / 2 mu) sum_ij pi_i pi_j |y_i - y_j|.

    Without weights, the plain Gini sum_ij |x_i - x_j| / (2 n^2 mu). 0 when all values are
    equal (or all zero); 1 - 1/n when one of n equal-weight units holds everything.
    """
    x, w, mu = _shares(values, weights)
    if mu <= 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    cxw = np.cumsum(x * w)
    # sum_ij w_i w_j |x_i - x_j| = 2 sum_i w_i (x_i F_i - C_i) with F, C the cumulative sums
    total = 2.0 * np.sum(w * (x * cw - cxw))
    return float(min(max(total / (2.0 * mu), 0.0), 1.0))  # clip rounding noise


def theil(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Population-weighted Theil T: sum_i pi_i (y_i / mu) ln(y_i / mu), with 0 ln 0 = 0."""
    x, w, mu = _shares(values, weights)
    if mu <= 0:
        return 0.0
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return float(max(0.0, np.sum(w * terms)))


def hoover(benefit: ArrayLike, population: ArrayLike) -> float:
    """Hoover (Robin Hood) index: half the sum of |s_i - pi_i|, the share of money to move."""
    g, p = _arrays(benefit, population)
    if g.sum() <= 0 or p.sum() <= 0:
        return 0.0
    return float(min(0.5 * np.abs(g / g.sum() - p / p.sum()).sum(), 1.0))


def representation_ratio(benefit: ArrayLike, population: ArrayLike, members: ArrayLike
                         ) -> float:
    """Benefit share of a group over its population share (1 = proportional).

    NaN when the group is empty or nobody received anything.
    """
    g, p = _arrays(benefit, population)
    m = np.asarray(members, dtype=bool)
    if not m.any() or g.sum() <= 0:
        return float("nan")
    return float((g[m].sum() / g.sum()) / (p[m].sum() / p.sum()))


def shares(labels: Iterable[str], categories: Iterable[str]) -> dict[str, float]:
    """Share of each category among labels (0 for all when labels is empty)."""
    labels = list(labels)
    n = len(labels)
    return {c: (sum(1 for x in labels if x == c) / n if n else 0.0) for c in categories}


def vacancy_rate(positions: ArrayLike, filled: ArrayLike) -> float:
    """Unfilled share of positions: 1 - sum(filled) / sum(positions)."""
    pos = float(np.sum(positions))
    return float(1.0 - np.sum(filled) / pos) if pos > 0 else 0.0


def concentration(weights: ArrayLike) -> float:
    """Herfindahl index of influence weights: sum of squared shares (1 = one holds all)."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum((w / w.sum()) ** 2)) if w.sum() > 0 else 0.0


# -- the same indices for many groups at once (one pass over arrays; equal to the above) --------

def _group_sums(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(groups, weights=values, minlength=n)


def _group_shares(values: ArrayLike, weights: ArrayLike, groups: ArrayLike, n_groups: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values, group index, weights normalised within each group, and each group's mean."""
    x, w = _arrays(values, weights)
    g = np.asarray(groups, dtype=np.int64)
    wsum = _group_sums(g, w, n_groups)
    wn = w / np.where(wsum[g] > 0, wsum[g], 1.0)
    return x, g, wn, _group_sums(g, wn * x, n_groups)


def gini_by_group(values: ArrayLike, weights: ArrayLike, groups: ArrayLike, n_groups: int
                  ) -> np.ndarray:
    """``gini(values[g], weights[g])`` for every group g = 0..n_groups-1 (0 for empty groups)."""
    x, g, wn, mu = _group_shares(values, weights, groups, n_groups)
    order = np.lexsort((x, g))
    x, wn, g = x[order], wn[order], g[order]
    cw, cxw = np.cumsum(wn), np.cumsum(wn * x)
    start = np.searchsorted(g, np.arange(n_groups))  # first row of each group
    before_w = np.concatenate([[0.0], cw])[start]
    before_xw = np.concatenate([[0.0], cxw])[start]
    cw -= before_w[g]
    cxw -= before_xw[g]
    total = 2.0 * _group_sums(g, wn * (x * cw - cxw), n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mu > 0, total / (2.0 * mu), 0.0)
    return np.clip(out, 0.0, 1.0)


def theil_by_group(values: ArrayLike, weights: ArrayLike, groups: ArrayLike, n_groups: int
                   ) -> np.ndarray:
    """``theil(values[g], weights[g])`` for every group."""
    x, g, wn, mu = _group_shares(values, weights, groups, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(mu[g] > 0, x / mu[g], 0.0)
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return np.maximum(_group_sums(g, wn * terms, n_groups), 0.0)


def hoover_by_group(benefit: ArrayLike, population: ArrayLike, groups: ArrayLike,
                    n_groups: int) -> np.ndarray:
    """``hoover(benefit[g], population[g])`` for every group."""
    b, p = _arrays(benefit, population)
    g = np.asarray(groups, dtype=np.int64)
    bs, ps = _group_sums(g, b, n_groups), _group_sums(g, p, n_groups)
    ok = (bs[g] > 0) & (ps[g] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(ok, np.abs(b / bs[g] - p / ps[g]), 0.0)
    return np.minimum(0.5 * _group_sums(g, d, n_groups), 1.0)


def representation_ratio_by_group(benefit: ArrayLike, population: ArrayLike,
                                  members: ArrayLike, groups: ArrayLike,
                                  n_groups: int) -> np.ndarray:
    """``representation_ratio`` of the members within every group (NaN where undefined)."""
    b, p = _arrays(benefit, population)
    g = np.asarray(groups, dtype=np.int64)
    m = np.asarray(members, dtype=bool)
    bs, ps = _group_sums(g, b, n_groups), _group_sums(g, p, n_groups)
    bm, pm = _group_sums(g, b * m, n_groups), _group_sums(g, p * m, n_groups)
    has = _group_sums(g, m.astype(float), n_groups) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (bm / bs) / (pm / ps)
    return np.where(has & (bs > 0), out, np.nan)
