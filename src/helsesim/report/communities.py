"""Per-community answers (the national experiment): in each health community, how each design
does against the baseline in the same seed, in how many seeds each design is the best, and which
design is best and whether its lead is beyond seed noise.

The rules are the decision brief's (:mod:`helsesim.brief`): a design is *better* than another
when it is so in at least :data:`~helsesim.brief.WIN_SHARE` of the paired seeds. The best design
of a community is the one with the best median over seeds (final year); its lead is *clear* when
it is better than every other design in that share of the paired seeds, else it is within noise.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from helsesim import data
from helsesim.brief import WIN_SHARE, change, level, pct
from helsesim.outcomes import outcome_info
from helsesim.runner.summaries import QUANTILES

#: Columns of ``community_differences.parquet``: one row per community, outcome and arm.
COLUMNS = ["community", "outcome", "arm", "baseline", "n_pairs", "value", "median", "q05", "q95",
           "share_higher", "share_lower", "share_better", "seeds_best", "n_seeds", "winner",
           "clear"]
#: The table's file name in a report folder.
TABLE = "community_differences"


def community_outcomes(outcomes: Iterable[str], columns: Iterable[str]) -> list[str]:
    """The outcomes (in order) that the communities table has and that have a better
    direction."""
    have = set(columns)
    return [o for o in outcomes if o in have and outcome_info(o).better in ("lower", "higher")]


def _quantiles(d: np.ndarray) -> tuple[float, float, float]:
    if not d.size:
        return (np.nan,) * 3
    q = np.quantile(d, (0.5, *QUANTILES))
    return float(q[0]), float(q[1]), float(q[2])


def _one(values: pd.DataFrame, arms: list[str], baseline: str, sign: float) -> list[dict]:
    """Rows of one community and outcome from its values (seeds x arms)."""
    v = values.reindex(columns=arms).astype(float)
    tol = 1e-12 * max(1.0, float(np.nanmax(np.abs(v.to_numpy()), initial=0.0)))
    good = (v * sign).dropna()  # higher is better; seeds where every arm has a value
    best = good.max(axis=1)
    is_best = good.ge(best - tol, axis=0)
    single = is_best.sum(axis=1) == 1  # a seed where two designs tie has no best
    seeds_best = is_best[single].sum()
    med = (v.median() * sign).dropna()
    top = med.max() if len(med) else np.nan
    leaders = [a for a in med.index if abs(med[a] - top) <= tol]
    winner = leaders[0] if len(leaders) == 1 else None
    clear = winner is not None and len(good) > 0 and all(
        (good[winner] > good[a] + tol).mean() >= WIN_SHARE for a in arms if a != winner)
    rows = []
    for a in arms:
        pair = v[[a, baseline]].dropna()
        d = (pair[a] - pair[baseline]).to_numpy(float)
        d = np.where(np.abs(d) <= tol, 0.0, d)  # rounding, not a difference (one municipality)
        mid, lo, hi = _quantiles(d) if a != baseline else (np.nan,) * 3
        higher = float((d > 0).mean()) if d.size and a != baseline else np.nan
        lower = float((d < 0).mean()) if d.size and a != baseline else np.nan
        rows.append(dict(arm=a, baseline=baseline, n_pairs=int(d.size) if a != baseline else 0,
                         value=float(v[a].median()), median=mid, q05=lo, q95=hi,
                         share_higher=higher, share_lower=lower,
                         share_better=higher if sign > 0 else lower,
                         seeds_best=int(seeds_best.get(a, 0)), n_seeds=len(good),
                         winner=a == winner, clear=bool(clear and a == winner)))
    return rows


def community_differences(final: pd.DataFrame, outcomes: list[str], arms: list[str],
                          baseline: str) -> pd.DataFrame:
    """Per community, outcome and arm: the arm's median, its paired differences against the
    baseline (median, 90 % interval, share of seeds higher, lower and better), the seeds in
    which it is the best of all arms, and whether it is the community's best design (and
    clearly so).

    Args:
        final: the final year of each finished run's communities: ``arm``, ``seed``,
            ``community`` and the outcome columns.
    """
    frames = []
    for o in community_outcomes(outcomes, final.columns):
        sign = -1.0 if outcome_info(o).better == "lower" else 1.0
        wide = final.set_index(["community", "seed", "arm"])[o].unstack("arm")
        for community, values in wide.groupby(level="community", sort=True):
            rows = _one(values.droplevel("community"), arms, baseline, sign)
            frames.append(pd.DataFrame(rows).assign(community=community, outcome=o))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def winners(table: pd.DataFrame) -> pd.DataFrame:
    """One row per community and outcome: ``winner`` (an arm, None for a tie) and ``clear``."""
    keys = table[["community", "outcome"]].drop_duplicates()
    won = table[table["winner"]][["community", "outcome", "arm", "clear"]].rename(
        columns={"arm": "winner"})
    out = keys.merge(won, on=["community", "outcome"], how="left")
    out["clear"] = out["clear"].fillna(False).astype(bool)
    out["winner"] = out["winner"].astype(object).where(out["winner"].notna(), None)
    return out


def community_name(key: str) -> str:
    """The health community's name (``more_og_romsdal`` -> ``Møre og Romsdal``)."""
    names = data.municipalities().groupby("community")["health_community"].first()
    return str(names.get(key, key.replace("_", " ")))


def municipalities_of(communities: Iterable[str]) -> pd.DataFrame:
    """Position, population and community of the municipalities of these communities."""
    m = data.municipalities()
    m = m[m["community"].isin(set(communities))]
    return m[["municipality_id", "community", "lon", "lat", "population_2024"]].rename(
        columns={"population_2024": "population"})


# --- summary.md --------------------------------------------------------------------------------

def _best_cell(rows: pd.DataFrame) -> str:
    won = rows[rows["winner"]]
    if rows["value"].isna().all():
        return "– (undefined here, e.g. no small municipalities)"
    if won.empty:
        return "no design differs (a tie)"
    r = won.iloc[0]
    info = outcome_info(str(r["outcome"]))
    return (f"`{r['arm']}` ({level(float(r['value']), info)}; best in {int(r['seeds_best'])} "
            f"of {int(r['n_seeds'])} seeds)")


def _share_worse(r: pd.Series | pd.DataFrame) -> float | pd.Series:
    """Share of paired seeds in which the arm is worse than the baseline."""
    lower_better = outcome_info(str(r["outcome"] if isinstance(r, pd.Series)
                                    else r["outcome"].iloc[0])).better == "lower"
    return r["share_higher"] if lower_better else r["share_lower"]


def _difference_cell(r: pd.Series) -> str:
    if not r["n_pairs"]:
        return "–"
    info = outcome_info(str(r["outcome"]))
    n = int(r["n_pairs"])
    k = round(float(r["share_better"]) * n)
    mark = (" ✓" if r["share_better"] >= WIN_SHARE else
            " ✗" if _share_worse(r) >= WIN_SHARE else "")
    return (f"{change(float(r['median']), info)} [{change(float(r['q05']), info, False)}, "
            f"{change(float(r['q95']), info, False)}], better in {k} of {n}{mark}")


def _counts(rows: pd.DataFrame, baseline: str, arms: list[str]) -> str:
    """In how many communities each arm beats (or loses to) the baseline, by the brief's
    rule."""
    n = rows["community"].nunique()
    parts = []
    for a in arms:
        r = rows[(rows["arm"] == a) & (rows["n_pairs"] > 0)]
        if a == baseline or r.empty:
            continue
        better = int((r["share_better"] >= WIN_SHARE).sum())
        worse = int((_share_worse(r) >= WIN_SHARE).sum())
        parts.append(f"`{a}` better in {better} of {n}, worse in {worse}")
    return "; ".join(parts)


def section(table: pd.DataFrame, arms: list[str], baseline: str, figure: str | None) -> str:
    """The section of summary.md: per outcome, a sentence of counts and a table of the
    communities."""
    if table.empty:
        return ""
    n = table["community"].nunique()
    out = ["## Per health community", "",
           f"In each of the {n} health communities, final year: the best design (median over "
           f"seeds) and in how many seeds it is the best of all; **clear** when it is better "
           f"than every other design in at least {pct(WIN_SHARE)} of the paired seeds, else "
           f"within noise. Then each design against `{baseline}` in the same seed: median "
           f"difference [5th, 95th percentile] and in how many seeds it is better (✓: in at "
           f"least {pct(WIN_SHARE)}, ✗: worse in as many). Table: `{TABLE}.parquet`."
           + (f" Map: `figures/{figure}.png`." if figure else ""), ""]
    others = [a for a in arms if a != baseline]
    for o, rows in table.groupby("outcome", sort=False):
        info = outcome_info(str(o))
        w = winners(rows)
        tally = w["winner"].value_counts()
        clear = w[w["clear"]]["winner"].value_counts()
        best = "; ".join(f"`{a}` in {int(tally[a])} of {n} communities (clearly in "
                         f"{int(clear.get(a, 0))})" for a in arms if a in tally.index)
        undefined = set(rows.groupby("community")["value"].apply(lambda x: x.isna().all())
                        .pipe(lambda b: b[b].index))
        ties = int(w["winner"].isna().sum()) - len(undefined)
        out += [f"**{info.label}** ({info.better} is better). Best design: {best}"
                + (f"; no design differs in {ties}" if ties else "")
                + (f"; undefined in {len(undefined)}" if undefined else "") + ". Against "
                f"`{baseline}` (in at least {pct(WIN_SHARE)} of seeds): "
                + _counts(rows, baseline, arms) + ".", ""]
        header = ["Community", "Best design", "Clear?", *[f"`{a}` − `{baseline}`"
                                                           for a in others]]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for c, cr in rows.groupby("community", sort=True):
            won = cr[cr["winner"]]
            verdict = ("–" if won.empty else "clear" if bool(won["clear"].iloc[0])
                       else "within noise")
            cells = [community_name(str(c)), _best_cell(cr), verdict]
            by_arm = cr.set_index("arm")
            cells += [_difference_cell(by_arm.loc[a]) if a in by_arm.index else "–"
                      for a in others]
            lines.append("| " + " | ".join(cells) + " |")
        out += [*lines, ""]
    return "\n".join(out)
