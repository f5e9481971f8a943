"""The brief's money and cost-effectiveness: what each arm had, granted, left and lapsed, and
what its gains in municipal staff and equity cost against the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helsesim.brief.findings import WIN_SHARE, Line
from helsesim.brief.words import arm_name, mnok, num, pct, signed

#: money granted are compared "at the same money".
SAME_MONEY = 0.01
#: Columns of the runs table for the money lines: role -> column (NOK over the run, except the
#: share spent and the ratio asked/offered). A line appears only when its columns exist.
MONEY_COLUMNS = {
    "available": "total_budget",
    "spent": "total_funded",
    "spent_share": "spent_share",
    "oversubscription": "oversubscription",
}
#: Columns of the years table whose final-year difference is the money left at the end of a run.
LEFT_COLUMNS = ("money_available", "funded_amount")
#: Filled municipal positions at the end of the run (FTE): the denominator of NOK per FTE gained.
STAFF_COLUMN = "staff_fte_municipal"
#: The inequality index whose points (0.01) price NOK per point of Gini.
GINI_COLUMN = "gini_benefit_per_capita"


def left_at_end(years: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per run (``run_id``, ``arm``): money available in the final year minus money granted in
    it, which carries over to the next year; None without the columns."""
    if years is None or not set(LEFT_COLUMNS) <= set(years.columns) or not len(years):
        return None
    last = years[years["year"] == years.groupby("run_id")["year"].transform("max")]
    return pd.DataFrame({"run_id": last["run_id"].to_numpy(), "arm": last["arm"].to_numpy(),
                         "left": (last[LEFT_COLUMNS[0]] - last[LEFT_COLUMNS[1]]).to_numpy(float)})


def money_lines(runs: pd.DataFrame, arms: list[str], left: pd.DataFrame | None) -> list[Line]:
    """Per arm: money available over the run, granted to projects, left at the end (with the
    years table) and lapsed, and how oversubscribed its open calls were."""
    cols = {role: c for role, c in MONEY_COLUMNS.items() if c in runs}
    if not ({"available", "spent"} <= set(cols)):
        return []
    if "run_id" not in runs:
        left = None
    runs = runs.assign(_rest=runs[cols["available"]] - runs[cols["spent"]])
    if left is not None:
        runs = runs.merge(left[["run_id", "left"]], on="run_id", how="left")
        runs["_rest"] -= runs["left"]  # what is neither granted nor left: lapsed
    med = runs.groupby("arm")[[*cols.values(), "_rest", *(["left"] if left is not None
                                                           else [])]].median()
    present = [a for a in arms if a in med.index]
    avail = med.loc[present, cols["available"]]
    years = int(runs["years"].median()) if "years" in runs else None
    note = "Over the run" + (f" ({years} years)" if years else "") + ", medians over seeds."
    if left is not None:
        note += (" Left at the end: money available in the final year but not granted; it "
                 "carries over to the year after.")
    if len(present) > 1:
        note += (f" Every arm had the same grant ({mnok(float(avail.iloc[0]))}): they are "
                 "compared on the same money." if np.allclose(avail, avail.iloc[0], rtol=1e-9)
                 else " The arms had different grants.")
    source = "runs: median of " + ", ".join(cols.values()) + " per arm" + (
        "; years: money_available - funded_amount in the final year" if left is not None
        else "")
    out = [Line("note", note, source)]
    for arm in present:
        m = med.loc[arm]
        words = [f"{mnok(m[cols['available']])} available",
                 f"{mnok(m[cols['spent']])} granted to projects"
                 + (f" ({pct(m[cols['spent_share']])})" if "spent_share" in cols else "")]
        if left is not None:
            words.append(f"{mnok(m['left'])} left at the end")
            if abs(m["_rest"]) > 1e-6 * max(abs(m[cols["available"]]), 1.0):
                words.append(f"{mnok(m['_rest'])} lapsed")
        else:
            words.append(f"{mnok(m['_rest'])} not granted by the end")
        ratio = m[cols["oversubscription"]] if "oversubscription" in cols else np.nan
        if np.isfinite(ratio):
            words.append(f"its open calls were asked for {num(ratio)} times the money they "
                         "offered")
        out.append(Line("money", f"{arm_name(arm)}: " + "; ".join(words) + ".", source))
    return out


def _paired(runs: pd.DataFrame, arm: str, baseline: str, columns: list[str]) -> pd.DataFrame:
    """(arm - baseline) per paired seed for each column."""
    a = runs[runs["arm"] == arm].set_index("seed")[columns]
    b = runs[runs["arm"] == baseline].set_index("seed")[columns]
    seeds = a.index.intersection(b.index)
    return a.loc[seeds].astype(float) - b.loc[seeds].astype(float)


def _fte_words(gain: float) -> str:
    if abs(gain) < 1e-9:
        return "the same municipal FTE filled at the end"
    return f"{signed(gain)} municipal FTE filled at the end"


def _gini_words(gain: float) -> str:
    if abs(gain) < 1e-9:
        return "the same Gini"
    return f"a Gini {num(abs(gain))} points {'lower' if gain > 0 else 'higher'}"


#: Cost-effectiveness: (column, gain per unit of the column's change, the mean gain in words,
#: the unit a NOK figure is per).
EFFECTS = (
    (STAFF_COLUMN, 1.0, _fte_words, "FTE gained"),
    (GINI_COLUMN, -100.0, _gini_words, "point of Gini"),
)


def cost_lines(runs: pd.DataFrame, baseline: str, others: list[str]) -> list[Line]:
    spent = MONEY_COLUMNS["spent"]
    effects = [e for e in EFFECTS if e[0] in runs]
    if spent not in runs or not effects:
        return []
    base_money = float(runs.loc[runs["arm"] == baseline, spent].median())
    out = [Line("note", f"Against {arm_name(baseline)}: means over the paired seeds of the "
                "difference in money granted to projects and in the outcome (a point of Gini "
                f"is 0.01 of the index). Arms within {pct(SAME_MONEY)} of "
                f"{arm_name(baseline)}'s money are compared at the same money; a price per unit is "
                f"given only for a gain seen in at least {pct(WIN_SHARE)} of the seeds.",
                "runs")]
    for arm in others:
        d = _paired(runs, arm, baseline, [spent, *(e[0] for e in effects)])
        if d.empty:
            continue
        n, dm = len(d), float(d[spent].mean())
        same = abs(dm) <= SAME_MONEY * abs(base_money)
        parts = []
        for column, factor, words, per in effects:
            gain = factor * d[column]
            k = int((gain > 0).sum())
            what = words(float(gain.mean()))
            if same or dm <= 0 or k < WIN_SHARE * n:
                parts.append(f"{what} (better in {k} of {n})")
            else:
                parts.append(f"{what} (better in {k} of {n}): **{mnok(dm / float(gain.mean()))} "
                             f"per {per}**")
        if same:
            lead = f"with the same money (difference {signed(dm / 1e6)} MNOK)"
        elif dm > 0:
            lead = f"with {mnok(dm)} more"
        else:
            lead = f"with {mnok(-dm)} less"
        out.append(Line("cost", f"{arm_name(arm)}, {lead}: " + "; ".join(parts) + ".",
                        f"runs: {n} paired differences of {spent}, "
                        + ", ".join(e[0] for e in effects)))
    return out
